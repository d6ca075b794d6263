// The cluster kits' decisions that need no cluster: which node image for which kind and Kubernetes
// version, which version the air-gapped kit builds, the mirrors' containerd configuration, and where
// the online kit's tools come from (real executables on a real PATH; a real HTTP server for downloads).
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { airgapKubernetes, checkCgroup, imageKubernetesVersion, kitFromEnv } from '../scripts/cluster/cluster-kit.ts';
import { hostsToml, nodeReachableUrl, writeKindConfig } from '../scripts/cluster/kind-config.ts';
import { type Download, type KitToolName, resolveKitTools } from '../scripts/cluster/kit-tools.ts';
import { libDefault } from '../scripts/cluster/kit-setup.ts';
import { parseKubernetesVersion } from '../scripts/cluster/kubernetes-version.ts';
import { KIND_NODE_IMAGES, kindRelease, nodeImageFor } from '../scripts/cluster/node-images.ts';
import { parseRegistryMirrors } from '../scripts/cluster/registry-mirrors.ts';
import { UserError } from '../scripts/errors.ts';
import { buildPlan, type RawOptions } from '../scripts/plan.ts';

function userError(fn: () => unknown): UserError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return err as UserError;
  }
  throw new Error('expected a UserError');
}

describe('node-image table', () => {
  test("every row is a kindest/node image pinned by digest, tagged with its row's version", () => {
    for (const rows of Object.values(KIND_NODE_IMAGES)) {
      for (const r of rows) {
        expect(r.image).toMatch(/^kindest\/node:v1\.\d+\.\d+@sha256:[0-9a-f]{64}$/);
        expect(imageKubernetesVersion(r.image)).toBe(r.kubernetes);
      }
    }
  });

  test('the kind release in use picks its rows: newest by default, a minor its newest patch, an exact release itself', () => {
    expect(kindRelease('kind v0.30.0 go1.26.8 linux/amd64')).toBe('v0.30.0');
    expect(nodeImageFor('v0.30.0', undefined).kubernetes).toBe('v1.34.0');
    expect(nodeImageFor('v0.30.0', parseKubernetesVersion('1.33')).kubernetes).toBe('v1.33.4');
    expect(nodeImageFor('v0.31.0', parseKubernetesVersion('v1.33.7')).image).toMatch(/^kindest\/node:v1\.33\.7@sha256:d26ef333/);
    expect(nodeImageFor('v0.31.0', undefined).kubernetes).toBe('v1.35.0');
  });

  test('a version the kind release has no image for is exit 2, naming the versions it has', () => {
    const e = userError(() => nodeImageFor('v0.30.0', parseKubernetesVersion('1.35')));
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain('v1.34.0, v1.33.4, v1.32.8, v1.31.12');
    expect(userError(() => nodeImageFor('v0.29.0', undefined)).message).toMatch(/kind v0\.29\.0 is not in the node-image table .*v0\.30\.0/);
  });
});

describe('--kubernetes-version', () => {
  test('a minor or an exact release, with or without v; anything else is exit 2', () => {
    expect(parseKubernetesVersion('1.33')).toEqual({ major: 1, minor: 33 });
    expect(parseKubernetesVersion('v1.33.4')).toEqual({ major: 1, minor: 33, patch: 4 });
    for (const bad of ['latest', '1', '2.0', '1.33.4.1', 'v1.x']) expect(userError(() => parseKubernetesVersion(bad)).exitCode).toBe(2);
  });

  test('the air-gapped kit builds its pin by default, a known patch for another minor, an exact release as asked', async () => {
    const pinned = await libDefault('K8S_VERSION', {});
    expect(pinned).toBe('v1.34.4');
    expect(airgapKubernetes(undefined, pinned)).toBe('v1.34.4');
    expect(airgapKubernetes(parseKubernetesVersion('1.34'), pinned)).toBe('v1.34.4');
    expect(airgapKubernetes(parseKubernetesVersion('1.33'), pinned)).toBe('v1.33.7');
    expect(airgapKubernetes(parseKubernetesVersion('1.32.2'), pinned)).toBe('v1.32.2');
    expect(userError(() => airgapKubernetes(parseKubernetesVersion('1.20'), pinned)).message).toMatch(/knows releases of .*v1\.33/);
  });

  test('1.35+ on a cgroup v1 host is refused with the reason; fine on cgroup v2', () => {
    expect(userError(() => checkCgroup('v1.35.0', false)).message).toMatch(/needs a cgroup v2 host/);
    expect(() => checkCgroup('v1.35.0', true)).not.toThrow();
    expect(() => checkCgroup('v1.34.4', false)).not.toThrow();
  });

  test('the plan takes it for the kind target only, and checks the kit environment early', async () => {
    const base: RawOptions = { chart: 'llm-proxy', target: 'kind', suites: 'health', keep: 'on-failure', clusterName: 'gs', model: 'mock-gpt' };
    expect((await buildPlan({ ...base, kubernetesVersion: '1.33' }, {})).kubernetesVersion).toEqual({ major: 1, minor: 33 });
    await expect(buildPlan({ ...base, target: 'local', kubernetesVersion: '1.33' }, {})).rejects.toThrow(/belongs to --target kind/);
    await expect(buildPlan({ ...base, kubernetesVersion: 'newest' }, {})).rejects.toMatchObject({ exitCode: 2 });
    await expect(buildPlan(base, { GATEWAY_SMOKE_KIT: 'cloud' })).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/online .* or airgap/) });
    await expect(buildPlan(base, { GATEWAY_SMOKE_REGISTRY_MIRRORS: 'docker.io' })).rejects.toMatchObject({ exitCode: 2 });
    expect(kitFromEnv({ GATEWAY_SMOKE_KIT: 'online' })).toBe('online');
  });
});

describe('registry mirrors', () => {
  test('host=url pairs; anything else is exit 2', () => {
    expect([...parseRegistryMirrors('docker.io=http://127.0.0.1:5001, ghcr.io=https://cache.example/')]).toEqual([
      ['docker.io', 'http://127.0.0.1:5001'],
      ['ghcr.io', 'https://cache.example'],
    ]);
    expect(parseRegistryMirrors('').size).toBe(0);
    for (const bad of ['docker.io', 'docker.io=ftp://x', 'https://docker.io=http://x', 'docker.io=http://x/v2', 'a=http://x,a=http://y']) {
      expect(userError(() => parseRegistryMirrors(bad)).exitCode).toBe(2);
    }
  });

  test('a loopback mirror is reached at the kind network gateway; others stay as given', () => {
    expect(nodeReachableUrl('http://127.0.0.1:5001', '172.18.0.1')).toBe('http://172.18.0.1:5001');
    expect(nodeReachableUrl('http://localhost:5001', '172.18.0.1')).toBe('http://172.18.0.1:5001');
    expect(nodeReachableUrl('https://cache.example', '172.18.0.1')).toBe('https://cache.example');
    expect(hostsToml('docker.io', 'http://172.18.0.1:5001')).toMatch(/server = "https:\/\/registry-1\.docker\.io"\n\n\[host\."http:\/\/172\.18\.0\.1:5001"\]\n {2}capabilities = \["pull", "resolve"\]/);
  });

  test('the kind config mounts a hosts.toml per registry into every node and sets containerd config_path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gs-kindcfg-'));
    try {
      const path = await writeKindConfig({ dir, mirrors: parseRegistryMirrors('docker.io=http://127.0.0.1:5001,ghcr.io=http://127.0.0.1:5001'), gateway: '172.30.0.1' });
      const config = parse(await readFile(path, 'utf8')) as { nodes: { role: string; extraMounts: { containerPath: string; hostPath: string }[] }[]; containerdConfigPatches: string[] };
      expect(config.nodes.map((n) => n.role)).toEqual(['control-plane', 'worker', 'worker']);
      for (const n of config.nodes) {
        expect(n.extraMounts.map((m) => m.containerPath)).toEqual([
          '/etc/containerd/certs.d/docker.io',
          '/etc/containerd/certs.d/ghcr.io',
          '/etc/systemd/system/containerd.service.d/20-gateway-smoke-mirrors.conf',
        ]);
      }
      expect(config.containerdConfigPatches.at(-1)).toContain('config_path = "/etc/containerd/certs.d"');
      expect(config.containerdConfigPatches[0]).toContain('restrict_oom_score_adj'); // the project's patches stay
      expect(await readFile(join(dir, 'certs.d/ghcr.io/hosts.toml'), 'utf8')).toContain('[host."http://172.30.0.1:5001"]');
      expect(await readFile(join(dir, 'containerd-mirrors.conf'), 'utf8')).toMatch(/NO_PROXY=localhost,127\.0\.0\.1,172\.30\.0\.1/);
      expect(await writeKindConfig({ dir, mirrors: new Map() })).toMatch(/\/kind-config\.yaml$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("the online kit's tools", () => {
  let root: string;
  let server: Server;
  let base: string;
  const served = new Map<string, Buffer>();

  /** A real executable printing `out` for any arguments. */
  async function fakeTool(dir: string, name: string, out: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, name), `#!/bin/sh\necho '${out}'\n`);
    await chmod(join(dir, name), 0o755);
  }
  const script = (out: string) => Buffer.from(`#!/bin/sh\necho '${out}'\n`);
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'gs-kittools-'));
    server = createServer((req, res) => {
      const body = served.get(req.url ?? '');
      res.writeHead(body ? 200 : 404).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.close();
    await rm(root, { recursive: true, force: true });
  });

  function downloads(): Record<KitToolName, Download> {
    return {
      kind: { url: `${base}/kind`, sha256Url: `${base}/kind.sha256sum` },
      kubectl: { url: `${base}/kubectl`, sha256Url: `${base}/kubectl.sha256` },
      helm: { url: `${base}/helm`, sha256Url: `${base}/helm.sha256sum` },
    };
  }

  test('supported tools on PATH are used; an unsupported kind is downloaded (checksum checked); the log says which and why', async () => {
    const path = join(root, 'a', 'path');
    await fakeTool(path, 'kind', 'kind v0.29.0 go1.24 linux/amd64'); // no row in the table
    await fakeTool(path, 'kubectl', 'Client Version: v1.34.1');
    await fakeTool(path, 'helm', 'v3.19.0+g3d8990f');
    const kind = script('kind v0.30.0 go1.24 linux/amd64');
    served.set('/kind', kind);
    served.set('/kind.sha256sum', Buffer.from(`${sha(kind)}  kind-linux-amd64\n`));
    const lines: string[] = [];
    let built = false;
    const tools = await resolveKitTools({
      log: (l) => lines.push(l),
      env: { PATH: `${path}:/usr/bin:/bin`, GATEWAY_SMOKE_CACHE: join(root, 'a', 'cache') },
      downloads: downloads(),
      kubernetes: 'v1.34.0',
      build: async () => void (built = true),
    });
    expect(built).toBe(false);
    expect(tools.kind).toMatchObject({ how: 'download', version: '0.30.0', path: join(root, 'a', 'cache', 'bin', 'online', 'kind') });
    expect(tools.kubectl).toMatchObject({ how: 'PATH', version: '1.34.1' });
    expect(tools.helm).toMatchObject({ how: 'PATH', version: '3.19.0' });
    expect(lines.join('\n')).toMatch(/kind 0\.30\.0: downloaded http:\/\/127\.0\.0\.1:\d+\/kind \(sha256 checked\)/);
  });

  test('a download whose checksum differs is refused; with nothing else left the tools are built, and the log says why', async () => {
    const cache = join(root, 'b', 'cache');
    served.set('/kubectl', script('Client Version: v1.34.4'));
    served.set('/kubectl.sha256', Buffer.from('0'.repeat(64)));
    const lines: string[] = [];
    const tools = await resolveKitTools({
      log: (l) => lines.push(l),
      env: { PATH: '/nonexistent', GATEWAY_SMOKE_CACHE: cache },
      downloads: downloads(),
      probe: async (url) => (url.endsWith('/helm') ? { reachable: false, detail: `GET ${url} failed: ENOTFOUND` } : { reachable: true, detail: 'HTTP 200' }),
      kubernetes: 'v1.34.4',
      // stands in for scripts/airgap/build.sh go: leaves the binaries where the build puts them
      build: async () => {
        await fakeTool(join(cache, 'airgap', 'bin'), 'kubectl', 'Client Version: v1.34.4');
        await fakeTool(join(cache, 'airgap', 'bin'), 'helm', 'v3.19.0');
      },
    });
    expect(tools.kind.how).toBe('download');
    expect(tools.kubectl).toMatchObject({ how: 'build' });
    expect(tools.kubectl.why).toMatch(/sha256 [0-9a-f]{64} is not the published 0{64}/);
    expect(tools.helm.why).toMatch(/release download unreachable \(GET .*\/helm failed: ENOTFOUND\)/);
    expect(lines.some((l) => /^kubectl: none usable .* building it from source$/.test(l))).toBe(true);
  }, 30_000);
});
