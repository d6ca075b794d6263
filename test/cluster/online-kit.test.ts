// The online kit, proven on a machine with no registry access by simulation: the real CNCF
// distribution registry on this machine stands in for Docker Hub and ghcr.io. Into it go the node
// image as kindest/node:v1.34.4 (the air-gapped image re-tagged; its digest is given through
// GATEWAY_SMOKE_NODE_IMAGE, since kind's published digest cannot be had here) and llm-proxy's chart
// image under the name its chart gives (llm-proxy:latest, i.e. docker.io/library/llm-proxy; the
// stand-in re-tagged). Only in this test, GATEWAY_SMOKE_REGISTRY_MIRRORS points docker.io and
// ghcr.io at it. Then the real harness runs on a fresh cluster and the test asserts: nothing was
// compiled (the run's own Go build cache stays empty; no build.sh step), no DOCKER-USER rule for the cluster's bridge, a node pulled the chart's image from the
// registry, and the run reached its verdict; it prints the time from no cluster to verdict.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { KIT_NETWORKS } from '../../scripts/cluster/kit-setup.ts';
import type { RunReport } from '../../scripts/report/model.ts';
import { cacheDir, isExecutable } from '../../scripts/tools.ts';
import { requireInCI } from '../prerequisite.ts';
import { freePort } from '../free-port.ts';
import { checkManifest } from '../../scripts/cluster/manifest.ts';

const CLUSTER = process.env['GATEWAY_SMOKE_ONLINE_TEST_CLUSTER'] ?? 'gs-kit';
const REGISTRY_BIN = join(cacheDir(), 'bin', 'registry');
const NODE_IMAGE = 'gateway-smoke/kind-node:v1.34.4';
const CHART_IMAGE_STAND_IN = 'gateway-smoke/llm-proxy:v0.1.3';

const haveRegistry = requireInCI('the CNCF distribution registry', isExecutable(REGISTRY_BIN), 'run `bash scripts/setup-ci-tools.sh registry`');
const haveMirror = requireInCI('a chart mirror (GATEWAY_SMOKE_CHART_MIRROR)', Boolean(process.env['GATEWAY_SMOKE_CHART_MIRROR']), 'point it at ../shared/charts as .ci/run does');
const haveImages =
  (await execa('docker', ['image', 'inspect', NODE_IMAGE, CHART_IMAGE_STAND_IN], { reject: false })).exitCode === 0 ||
  !requireInCI(`the images ${NODE_IMAGE} and ${CHART_IMAGE_STAND_IN}`, false, 'run `bash scripts/airgap/build.sh` and `bash scripts/images/build-images.sh`');


/** Every file under a folder (Go writes its build cache as <2 hex digits>/<hash>-a|-d files). */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

async function clusterDown(): Promise<void> {
  await execa('bash', ['scripts/airgap/cluster-down.sh', CLUSTER], { reject: false });
}

describe.runIf(haveRegistry && haveMirror && haveImages)('online kit, simulated with a local registry', () => {
  let registry: ChildProcess | undefined;
  let work: string;
  let port: number;
  let registryLog = '';
  const pushed: string[] = [];

  beforeAll(async () => {
    await clusterDown(); // a fresh cluster: the figure is from no cluster to verdict
    work = await mkdtemp(join(tmpdir(), 'gs-online-kit-'));
    port = await freePort();
    // on every address: this machine pushes on loopback (Docker treats 127.0.0.1 as insecure-allowed),
    // the nodes pull at the kind network's gateway
    await writeFile(
      join(work, 'config.yml'),
      `version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n    rootdirectory: ${join(work, 'data')}\nhttp:\n  addr: 0.0.0.0:${port}\n`,
    );
    // (no OpenTelemetry collector here: its trace exporter would log an error every few seconds)
    registry = spawn(REGISTRY_BIN, ['serve', join(work, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OTEL_TRACES_EXPORTER: 'none' } });
    for (const s of [registry.stdout, registry.stderr]) s?.on('data', (b: Buffer) => (registryLog += b.toString()));
    for (let i = 0; i < 50 && !(await fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.ok, () => false)); i++) await new Promise((r) => setTimeout(r, 200));
  }, 120_000);

  afterAll(async () => {
    await clusterDown();
    if (registry?.pid) process.kill(registry.pid, 'SIGTERM');
    for (const ref of pushed) await execa('docker', ['rmi', ref], { reject: false }); // only the tags; the layers are the originals'
    if (work) await rm(work, { recursive: true, force: true });
  }, 300_000);

  /** Tags and pushes a local image into the registry; returns the pushed manifest's digest. */
  async function push(local: string, name: string): Promise<string> {
    const ref = `127.0.0.1:${port}/${name}`;
    await execa('docker', ['tag', local, ref]);
    pushed.push(ref);
    const r = await execa('docker', ['push', ref]);
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(r.stdout)?.[1];
    if (!digest) throw new Error(`docker push ${ref} printed no digest:\n${r.stdout}`);
    return digest;
  }

  test('no cluster to verdict with nothing compiled, no egress rule, --images auto taking the chart image the registry serves and pulling it from the mirror', async () => {
    const nodeDigest = await push(NODE_IMAGE, 'kindest/node:v1.34.4');
    await push(CHART_IMAGE_STAND_IN, 'library/llm-proxy:latest'); // llm-proxy's chart: repository llm-proxy, tag = appVersion latest
    // The run gets a Go build cache of its own, empty: anything compiled during the run lands there
    // (the machine's shared cache would also see the other builds running on it).
    const goCache = join(work, 'go-build');
    const mirrors = `docker.io=http://127.0.0.1:${port},ghcr.io=http://127.0.0.1:${port}`;
    const reportDir = join(work, 'report');
    const t0 = Date.now();
    const r = await execa(
      process.execPath,
      ['scripts/cli.ts', '--chart', 'llm-proxy', '--suites', 'health', '--images', 'auto', '--cluster-name', CLUSTER, '--keep', 'always', '--report-dir', reportDir],
      {
        reject: false,
        all: true,
        timeout: 30 * 60_000,
        env: {
          FORCE_COLOR: '0',
          GOCACHE: goCache,
          GATEWAY_SMOKE_KIT: 'online',
          GATEWAY_SMOKE_NODE_IMAGE: `127.0.0.1:${port}/kindest/node:v1.34.4@${nodeDigest}`,
          GATEWAY_SMOKE_REGISTRY_MIRRORS: mirrors,
        },
      },
    );
    const seconds = Math.round((Date.now() - t0) / 1000);
    const out = r.all ?? '';
    const report = JSON.parse(await readFile(join(reportDir, 'report.json'), 'utf8')) as RunReport;

    // the run reached its verdict, on the online kit
    expect(report.error, out.slice(-4000)).toBeUndefined();
    expect(report.outcome, out.slice(-4000)).toMatch(/^(VERIFIED|INCOMPLETE|FAILED)$/);
    expect(report.suites.flatMap((s) => s.checks).find((c) => c.id === 'health.live')?.verdict, out.slice(-4000)).toBe('pass');
    expect(report.fingerprint?.['cluster kit']).toBe('online: GATEWAY_SMOKE_KIT=online');
    // --images auto asked the registry (through the mirror) and took the chart's own image: it is served
    expect(report.fingerprint?.['app image']).toMatch(/^the chart's own llm-proxy:latest \(its manifest is present \(/);
    expect(report.provenance?.unproven ?? []).toEqual([]);
    // ...and a tag the registry does not have would have been refused the same way, by name
    const missing = await checkManifest('llm-proxy:no-such-tag', { env: { ...process.env, GATEWAY_SMOKE_REGISTRY_MIRRORS: mirrors } });
    expect(missing.kind, missing.detail).toBe('manifest unknown');

    // nothing compiled: no build.sh step ran, Go's build cache untouched
    expect(out).toContain('online kit: node image');
    // scripts/airgap/build.sh logs every step it runs or finds cached as `[hh:mm:ss] start|skip  <step>`
    expect(out).not.toMatch(/\[\d\d:\d\d:\d\d\] (start|skip) +(go|pause|node-rootfs|base-rootfs|images|node-base|node-image)\b/);
    expect(out).not.toMatch(/building it from source/);
    expect(await filesUnder(goCache), `Go compiled during the run (GOCACHE=${goCache})`).toEqual([]);

    // the nodes are on the online kit's network, and no DOCKER-USER rule covers its bridge
    const net = KIT_NETWORKS.online;
    const nodes = (await execa('docker', ['ps', '--filter', `label=io.x-k8s.kind.cluster=${CLUSTER}`, '--format', '{{.Names}}'])).stdout.split('\n').filter(Boolean);
    expect(nodes).toHaveLength(3);
    const nodeNets = (await execa('docker', ['inspect', '-f', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}', ...nodes])).stdout;
    for (const line of nodeNets.split('\n')) expect(line.trim()).toBe(net);
    const id = (await execa('docker', ['network', 'inspect', '-f', '{{.Id}}', net])).stdout.trim();
    const bridge = `br-${id.slice(0, 12)}`;
    const rules = (await execa('iptables', ['-S', 'DOCKER-USER'])).stdout;
    expect(rules.split('\n').filter((l) => l.includes(bridge))).toEqual([]);

    // a node pulled the chart's image through the mirror: the manifest GET, from the kind network
    const subnet = (await execa('docker', ['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}} {{end}}', net])).stdout.trim().split(/\s+/)[0]!;
    const prefix = subnet.split('.').slice(0, 2).join('.');
    // containerd resolves the tag (HEAD), then GETs the manifest by digest and its blobs, naming the
    // registry it mirrors (?ns=docker.io)
    const fromNodes = registryLog.split('\n').filter((l) => l.startsWith(`${prefix}.`));
    const manifestGets = fromNodes.filter((l) => /"GET \/v2\/library\/llm-proxy\/manifests\/\S+\?ns=docker\.io HTTP\/1\.1" 200/.test(l));
    const blobGets = fromNodes.filter((l) => /"GET \/v2\/library\/llm-proxy\/blobs\/sha256:[0-9a-f]{64}\?ns=docker\.io HTTP\/1\.1" 200/.test(l));
    expect(manifestGets.length, registryLog.slice(-3000)).toBeGreaterThan(0);
    expect(blobGets.length, registryLog.slice(-3000)).toBeGreaterThan(0);

    console.log(`online kit (simulated registry): no cluster → verdict in ${seconds}s (${report.outcome})`);
  }, 35 * 60_000);
});
