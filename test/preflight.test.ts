// Bad input is refused before anything is provisioned: the real CLI, one row per bad input, each
// asserting the exit code, the paragraph's key words, no stack trace, and that nothing was created
// (no phase started, no report folder, no process, no kind cluster or node container), in seconds.
// Rows that need helm or a cluster are in test/cluster/preflight-cluster.test.ts.
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type DockerFacts, dockerProblem } from '../scripts/preflight/docker.ts';
import { reportDirProblems } from '../scripts/preflight/files.ts';
import { locateSync } from '../scripts/tools.ts';

const CLUSTER = 'gs-preflight';

interface Dirs {
  root: string;
  kubeconfig: string;
  refusedPort: number;
  hangPort: number;
}

interface Row {
  name: string;
  args: (d: Dirs) => string[];
  env?: (d: Dirs) => Record<string, string>;
  exit: 2 | 3;
  /** Key words of the paragraph, in order of the problems. */
  says: (d: Dirs) => RegExp[];
  /** How many problems the paragraph lists. */
  problems?: number;
  maxSeconds?: number;
}

// --keep never: should a row ever get past preflight, its interrupted run deletes what it made.
const kind = (...args: string[]) => ['--target', 'kind', '--cluster-name', CLUSTER, '--keep', 'never', ...args];
const existing = (...args: string[]) => ['--target', 'existing', ...args];
const hasDocker = locateSync('docker') !== undefined;

const ROWS: Row[] = [
  {
    name: 'malformed values YAML',
    args: (d) => kind('--values', join(d.root, 'bad.yaml')),
    exit: 2,
    says: (d) => [new RegExp(`--values ${esc(join(d.root, 'bad.yaml'))} is not valid YAML at line 4, column 8 \\(Nested mappings are not allowed in compact mappings\\); fix that line`)],
  },
  {
    name: 'values that are a list, not a mapping',
    args: (d) => kind('--values', join(d.root, 'list.yaml')),
    exit: 2,
    says: () => [/list\.yaml holds a list \(from line 1\), not a mapping; Helm values are "key: value" pairs/],
  },
  {
    name: 'chart-dir that is not a chart',
    args: (d) => kind('--chart-dir', join(d.root, 'not-a-chart')),
    exit: 2,
    says: () => [/not-a-chart holds no Chart\.yaml, so it is not a Helm chart; give the folder of the routeiq-gateway chart/],
  },
  {
    name: 'chart-dir one level above the chart',
    args: (d) => kind('--chart-dir', join(d.root, 'checkout')),
    exit: 2,
    says: (d) => [new RegExp(`its subfolder ${esc(join(d.root, 'checkout', 'routeiq-gateway'))} holds the routeiq-gateway chart, so pass that folder`)],
  },
  {
    name: "chart-dir holding another profile's chart",
    args: (d) => kind('--chart', 'routeiq', '--chart-dir', join(d.root, 'llm-proxy-chart')),
    exit: 2,
    says: () => [/holds the chart "llm-proxy" 1\.0\.0, but the routeiq profile tests "routeiq-gateway"; .*or test this chart with --chart llm-proxy/],
  },
  {
    name: 'chart-dir holding a chart no profile tests',
    args: (d) => kind('--chart', 'llm-proxy', '--chart-dir', join(d.root, 'my-gateway')),
    exit: 2,
    says: () => [/holds the chart "my-gateway" 1\.2\.3, but the llm-proxy profile tests "llm-proxy"; point --chart-dir at a llm-proxy checkout\./],
  },
  {
    name: 'bad waivers file',
    args: (d) => kind('--waivers', join(d.root, 'waivers-bad.yaml')),
    exit: 2,
    says: () => [
      /Waivers file .*waivers-bad\.yaml has mistakes \(entry 1 field "until" \(line 3\) is "2025-02-30", not a calendar date .*entry 2 \(line 4\) has no "reason"/,
    ],
  },
  {
    name: 'waivers file that is not a list',
    args: (d) => kind('--waivers', join(d.root, 'waivers-map.yaml')),
    exit: 2,
    says: () => [/waivers-map\.yaml holds a mapping, not a list/],
  },
  {
    name: 'missing chart mirror folder (flag)',
    args: (d) => kind('--chart-mirror', join(d.root, 'no-mirror')),
    exit: 2,
    says: () => [/--chart-mirror .*no-mirror does not exist; give a folder holding one folder per chart/],
  },
  {
    name: 'chart mirror that is a single chart',
    args: (d) => kind('--chart-mirror', join(d.root, 'my-gateway')),
    exit: 2,
    says: () => [/my-gateway holds no chart folders .*; it is a single chart, so give its parent folder, or pass it with --chart-dir/],
  },
  {
    name: 'missing chart mirror folder (environment variable)',
    args: () => kind(),
    env: (d) => ({ GATEWAY_SMOKE_CHART_MIRROR: join(d.root, 'no-mirror') }),
    exit: 3,
    says: () => [/GATEWAY_SMOKE_CHART_MIRROR .*no-mirror does not exist/],
  },
  {
    name: 'missing prisma engines folder (flag)',
    args: (d) => kind('--chart', 'litellm-proxy', '--prisma-engines', join(d.root, 'no-engines')),
    exit: 2,
    says: () => [/--prisma-engines .*no-engines does not exist; give a folder with the Prisma query-engine and schema-engine/],
  },
  {
    name: 'prisma engines folder lacking an engine and with a wrong checksum',
    args: (d) => kind('--chart', 'litellm-proxy', '--prisma-engines', join(d.root, 'engines-broken')),
    exit: 2,
    says: () => [/engines-broken is not usable \(query-engine does not match its SHA256SUMS line; schema-engine is missing\)/],
  },
  {
    name: 'missing prisma engines folder (environment variable)',
    args: () => kind('--chart', 'litellm-proxy'),
    env: (d) => ({ GATEWAY_SMOKE_PRISMA_ENGINES: join(d.root, 'no-engines') }),
    exit: 3,
    says: () => [/GATEWAY_SMOKE_PRISMA_ENGINES .*no-engines does not exist/],
  },
  {
    name: 'report dir below a file',
    args: (d) => kind('--report-dir', join(d.root, 'a-file', 'reports')),
    exit: 2,
    says: (d) => [new RegExp(`--report-dir ${esc(join(d.root, 'a-file', 'reports'))} cannot be created because ${esc(join(d.root, 'a-file'))} is a file`)],
  },
  {
    // root "may write" /proc by its permission bits, yet no file can be made there
    name: 'report dir under /proc',
    args: () => kind('--report-dir', '/proc/xyz'),
    exit: 2,
    says: () => [/--report-dir \/proc\/xyz cannot be created: \/proc (does not take new files \(creating one failed: ENOENT\)|is not writable by this user \(EACCES\))/],
  },
  {
    name: 'report dir that is a file',
    args: (d) => kind('--report-dir', join(d.root, 'a-file')),
    exit: 2,
    says: () => [/a-file is a file, not a folder; pass --report-dir with a folder this user can write/],
  },
  {
    name: '--target existing --context nope',
    args: () => existing('--context', 'nope'),
    env: (d) => ({ KUBECONFIG: d.kubeconfig }),
    exit: 2,
    says: (d) => [new RegExp(`--context nope is not in the kubeconfig ${esc(d.kubeconfig)} \\(the contexts there: kind-down, staging\\); pass one of those`)],
  },
  {
    name: '--target existing, API server refuses the connection',
    args: () => existing('--context', 'kind-down'),
    env: (d) => ({ KUBECONFIG: d.kubeconfig }),
    exit: 3,
    says: (d) => [new RegExp(`The API server https://127\\.0\\.0\\.1:${d.refusedPort} of context kind-down .* does not answer \\(connect ECONNREFUSED`)],
  },
  {
    name: '--target existing, API server accepts but never answers',
    args: () => existing('--context', 'staging'),
    env: (d) => ({ KUBECONFIG: d.kubeconfig }),
    exit: 3,
    says: (d) => [new RegExp(`The API server https://127\\.0\\.0\\.1:${d.hangPort} of context staging .* does not answer \\(no answer within 5s\\)`)],
    maxSeconds: 15,
  },
  {
    name: '--target existing with no kubeconfig file',
    args: () => existing('--context', 'staging'),
    env: (d) => ({ KUBECONFIG: join(d.root, 'no-kubeconfig') }),
    exit: 3,
    says: () => [/--target existing reads the kubeconfig .*no-kubeconfig, which does not exist; set KUBECONFIG/],
  },
  {
    name: 'kind with SKIP_HOST_PREP and no docker binary',
    args: () => kind(),
    env: (d) => ({ SKIP_HOST_PREP: '1', PATH: join(d.root, 'empty-path'), GATEWAY_SMOKE_CACHE: join(d.root, 'empty-cache') }),
    exit: 3,
    says: () => [/There is no docker binary and SKIP_HOST_PREP is set, so nothing will install it for --target kind; install Docker/],
  },
  {
    name: 'kind with SKIP_HOST_PREP and a docker daemon that does not answer',
    args: () => kind(),
    env: (d) => ({ SKIP_HOST_PREP: '1', DOCKER_HOST: `unix://${join(d.root, 'no-docker.sock')}` }),
    exit: 3,
    says: () => [hasDocker ? /Docker at \S+ does not answer \(it says: .*\) and SKIP_HOST_PREP is set, so nothing will start it for --target kind; start the daemon/ : /no docker binary/],
  },
  {
    name: 'several problems at once',
    args: (d) => [
      ...existing('--context', 'nope', '--chart', 'routeiq'),
      '--values', join(d.root, 'bad.yaml'),
      '--chart-dir', join(d.root, 'llm-proxy-chart'),
      '--waivers', join(d.root, 'waivers-bad.yaml'),
      '--chart-mirror', join(d.root, 'no-mirror'),
      '--report-dir', join(d.root, 'a-file', 'reports'),
    ],
    env: (d) => ({ KUBECONFIG: d.kubeconfig }),
    exit: 2,
    says: () => [/\(1\) --values .*bad\.yaml is not valid YAML/, /\(2\) --chart-dir .*holds the chart "llm-proxy"/, /\(3\) Waivers file/, /\(4\) --chart-mirror/, /\(5\) --report-dir/, /\(6\) --context nope/],
    // --target existing also needs helm and kubectl: on a machine without them they are named too.
    problems: 6 + (['helm', 'kubectl'] as const).filter((t) => !locateSync(t)).length,
  },
];

function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

let dirs: Dirs;
let clusterBefore = false;
const servers: Server[] = [];
const sockets: Socket[] = [];

async function listen(onConnection: (s: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(onConnection);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as { port: number }).port };
}

/** A chart as small as helm accepts: its Chart.yaml. */
async function chart(dir: string, name: string, version: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'Chart.yaml'), `apiVersion: v2\nname: ${name}\nversion: ${version}\n`);
}

async function clusterExists(): Promise<boolean> {
  const kindBin = locateSync('kind');
  if (!kindBin) return false;
  const clusters = await execa(kindBin, ['get', 'clusters'], { reject: false });
  return clusters.stdout.split('\n').includes(CLUSTER);
}

beforeAll(async () => {
  clusterBefore = await clusterExists();
  const root = await mkdtemp(join(tmpdir(), 'gs-preflight-'));
  await writeFile(join(root, 'bad.yaml'), 'replicaCount: 1\nimage:\n  repository: gateway\n  tag: v1: broken\nservice:\n  port: 80\n');
  await writeFile(join(root, 'list.yaml'), '- replicaCount: 1\n- image: x\n');
  await mkdir(join(root, 'not-a-chart'));
  await writeFile(join(root, 'not-a-chart', 'system.journal'), 'not a chart\n');
  await mkdir(join(root, 'my-gateway'));
  await writeFile(join(root, 'my-gateway', 'Chart.yaml'), 'apiVersion: v2\nname: my-gateway\nversion: 1.2.3\n');
  await mkdir(join(root, 'checkout'));
  await chart(join(root, 'charts', 'routeiq-gateway'), 'routeiq-gateway', '0.1.0');
  await symlink(join(root, 'charts', 'routeiq-gateway'), join(root, 'checkout', 'routeiq-gateway'));
  await chart(join(root, 'llm-proxy-chart'), 'llm-proxy', '1.0.0');
  await writeFile(join(root, 'waivers-bad.yaml'), '- id: ratelimit.burst-exact\n  reason: upstream limiter is down\n  until: 2025-02-30\n- id: netpol.matrix\n  until: 2030-01-01\n');
  await writeFile(join(root, 'waivers-map.yaml'), 'id: ratelimit.burst-exact\nreason: r\nuntil: 2030-01-01\n');
  await writeFile(join(root, 'waivers-good.yaml'), '- id: ratelimit.burst-exact\n  reason: upstream limiter is down\n  until: 2030-01-31\n');
  await writeFile(join(root, 'a-file'), 'a file, not a folder\n');
  await mkdir(join(root, 'empty-path'));
  // Engines with the right shape: two executables and the SHA256SUMS that matches them.
  for (const [name, broken] of [['engines-good', false], ['engines-broken', true]] as const) {
    const dir = join(root, name);
    await mkdir(dir);
    const sums: string[] = [];
    for (const engine of ['query-engine', 'schema-engine']) {
      if (broken && engine === 'schema-engine') continue;
      const body = `#!/bin/sh\necho ${engine}\n`;
      await writeFile(join(dir, engine), body);
      await chmod(join(dir, engine), 0o755);
      sums.push(`${createHash('sha256').update(broken ? 'other bytes' : body).digest('hex')}  ${engine}`);
    }
    await writeFile(join(dir, 'SHA256SUMS'), `${sums.join('\n')}\n`);
  }
  await mkdir(join(root, 'mirror-good'));
  await symlink(join(root, 'llm-proxy-chart'), join(root, 'mirror-good', 'llm-proxy'));
  await writeFile(join(root, 'values-good.yaml'), 'replicaCount: 2\nimage:\n  tag: v0.1.3\n');

  // A real port nobody listens on, and a real server that accepts and then says nothing.
  const refused = await listen(() => {});
  await new Promise((r) => refused.server.close(r));
  const hang = await listen((s) => sockets.push(s));
  servers.push(hang.server);
  const kubeconfig = join(root, 'kubeconfig');
  await writeFile(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'current-context: kind-down',
      'clusters:',
      `- name: down\n  cluster: { server: "https://127.0.0.1:${refused.port}", insecure-skip-tls-verify: true }`,
      `- name: hang\n  cluster: { server: "https://127.0.0.1:${hang.port}", insecure-skip-tls-verify: true }`,
      'contexts:',
      '- name: kind-down\n  context: { cluster: down, user: u }',
      '- name: staging\n  context: { cluster: hang, user: u }',
      'users:',
      '- name: u\n  user: { token: not-a-real-token }',
      '',
    ].join('\n'),
  );
  dirs = { root, kubeconfig, refusedPort: refused.port, hangPort: hang.port };
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  // No row may have got as far as a cluster: none named gs-preflight, no node container of it.
  if (clusterBefore) return; // someone's own cluster of that name: not this file's to judge or delete
  const created = await clusterExists();
  if (created) await execa('bash', ['scripts/airgap/cluster-down.sh', CLUSTER], { reject: false });
  expect(created, `a row created the kind cluster ${CLUSTER} (deleted again)`).toBe(false);
  if (hasDocker) {
    const ps = await execa('docker', ['ps', '-a', '--filter', `name=^${CLUSTER}-`, '--format', '{{.Names}}'], { reject: false });
    if (ps.exitCode === 0) expect(ps.stdout.trim()).toBe('');
  }
});

/** Processes still running whose command line carries this row's folder: there must be none. */
async function processesMentioning(marker: string): Promise<string[]> {
  const out: string[] = [];
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(marker)) out.push(`${pid}: ${cmd.replaceAll('\0', ' ')}`);
  }
  return out;
}

async function cli(args: string[], env: Record<string, string>, reportDir: string) {
  const withReportDir = args.includes('--report-dir') ? args : [...args, '--report-dir', reportDir];
  const started = Date.now();
  const r = await execa(process.execPath, ['scripts/cli.ts', ...withReportDir], {
    reject: false,
    env: { FORCE_COLOR: '0', ...env },
    // Should a row ever get past preflight, it must not provision for long (SIGTERM: it cleans up).
    timeout: 30_000,
  });
  return { ...r, seconds: (Date.now() - started) / 1000 };
}

describe('bad input is refused before anything is created', () => {
  test.each(ROWS.map((r) => [r.name, r] as const))('%s', async (_name, row) => {
    const marker = join(dirs.root, `run-${ROWS.indexOf(row)}`);
    const reportDir = join(marker, 'reports');
    const r = await cli(row.args(dirs), row.env?.(dirs) ?? {}, reportDir);
    const stderr = r.stderr.trim();
    expect(r.exitCode, stderr).toBe(row.exit);
    // One paragraph, nothing before it: no phase started, no stack trace.
    expect(stderr.split('\n'), stderr).toHaveLength(1);
    expect(stderr).toMatch(/^gateway-smoke: Nothing was created: the input check found (a problem|\d+ problems)\. /);
    expect(stderr).not.toMatch(/\s+at \S+ \(|▶|provision|Setup failed|internal error/);
    let from = 0;
    for (const word of row.says(dirs)) {
      const m = word.exec(stderr.slice(from));
      expect(m, `${word} in: ${stderr}`).not.toBeNull();
      from += (m?.index ?? 0) + (m?.[0].length ?? 0);
    }
    if (row.problems) expect(stderr).toContain(`found ${row.problems} problems`);
    expect(r.seconds, stderr).toBeLessThan(row.maxSeconds ?? 10);
    // Nothing created: not even the report folder.
    expect(await stat(reportDir).then(() => 'exists', () => 'absent')).toBe('absent');
    expect(await processesMentioning(marker)).toEqual([]);
  });

  test('good input passes preflight: the run starts (and fails on the gateway that is down, exit 1)', async () => {
    const reportDir = join(dirs.root, 'good-run');
    const r = await cli(
      [
        '--chart', 'llm-proxy',
        '--target', 'url',
        '--base-url', `http://127.0.0.1:${dirs.refusedPort}`,
        '--suites', 'health',
        '--values', join(dirs.root, 'values-good.yaml'),
        '--chart-dir', join(dirs.root, 'llm-proxy-chart'),
        '--waivers', join(dirs.root, 'waivers-good.yaml'),
        '--chart-mirror', join(dirs.root, 'mirror-good'),
        '--prisma-engines', join(dirs.root, 'engines-good'),
      ],
      {},
      reportDir,
    );
    expect(r.stderr).not.toContain('Nothing was created');
    expect(r.exitCode, r.stderr).toBe(1);
    expect((await stat(join(reportDir, 'junit.xml'))).isFile()).toBe(true);
  });
});

describe('docker for --target kind: a problem now, or left to cluster-up.sh (scripts/airgap/host-prep.sh)', () => {
  const base: DockerFacts = { dockerPath: '/usr/bin/docker', answers: true, root: true, skipHostPrep: false, canGetDockerd: true, clusterExists: false };
  const cases: [string, Partial<DockerFacts>, RegExp | undefined][] = [
    ['docker answers, root', {}, undefined],
    ['docker answers, not root, SKIP_HOST_PREP set', { root: false, skipHostPrep: true }, undefined],
    ['docker answers, not root, cluster exists (cluster-up.sh does not run)', { root: false, clusterExists: true }, undefined],
    ['docker answers, not root, cluster to create: host-prep.sh would die', { root: false }, /needs root; docker already answers, so set SKIP_HOST_PREP=1/],
    ['no docker binary, root: host-prep.sh installs docker.io', { dockerPath: undefined, answers: false }, undefined],
    ['no docker binary, root, no apt-get and no dockerd', { dockerPath: undefined, answers: false, canGetDockerd: false }, /no \/usr\/sbin\/dockerd and no apt-get/],
    ['daemon stopped, root: host-prep.sh starts it', { answers: false, said: 'Cannot connect' }, undefined],
    ['daemon stopped, dockerd process runs: host-prep.sh would only wait', { answers: false, dockerdPid: 42 }, /dockerd \(pid 42\) runs but docker does not answer.*kill 42/],
    ['daemon stopped, not root', { answers: false, root: false }, /does not answer, and .*host-prep\.sh, .* needs root/],
    ['daemon stopped, SKIP_HOST_PREP set', { answers: false, skipHostPrep: true }, /does not answer and SKIP_HOST_PREP is set/],
    ['no docker binary, SKIP_HOST_PREP set', { dockerPath: undefined, answers: false, skipHostPrep: true }, /no docker binary and SKIP_HOST_PREP is set/],
  ];
  test.each(cases)('%s', (_name, facts, expected) => {
    const p = dockerProblem({ ...base, ...facts }, CLUSTER);
    if (expected === undefined) expect(p).toBeUndefined();
    else {
      expect(p?.kind).toBe('environment');
      expect(p?.text).toMatch(expected);
    }
  });
});

describe('the report folder is checked by making a file in it', () => {
  test('/proc/xyz is refused although root passes the permission bits of /proc', async () => {
    const problems = await reportDirProblems('/proc/xyz');
    expect(problems.map((p) => p.text)).toEqual([expect.stringMatching(/^--report-dir \/proc\/xyz cannot be created: \/proc (does not take new files|is not writable)/)]);
  });

  test('a writable folder passes, and the probe leaves it as it was', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gs-report-probe-'));
    await writeFile(join(dir, 'kept'), 'x');
    expect(await reportDirProblems(join(dir, 'reports', 'llm-proxy'))).toEqual([]);
    expect(await reportDirProblems(dir)).toEqual([]);
    expect(await readdir(dir)).toEqual(['kept']);
  });
});
