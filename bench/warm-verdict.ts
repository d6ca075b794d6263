// Benchmark: how long a warm run takes to its verdict on a kept kind cluster, beside its floor,
// both from the same run. The floor is what no harness can save: the gateway's pods becoming ready
// plus the suites (the phases "wait for … to be ready" and "run suites" in the run's report.json).
// The verdict time is from starting the CLI to the end of the suites (the verdict is known then;
// cleanup and report writing come after and are shown apart).
//
//   npm run bench:warm -- --cluster <name> [--chart llm-proxy,routeiq] [--runs 1] [--no-warmup] [-- <more cli flags>]
//
// The cluster is made (and kept) by the warm-up run of each chart when it is not there; a warm-up
// run also puts the chart's images on the nodes. Target: verdict ≤ 1.3 × floor.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const CLI = fileURLToPath(new URL('../scripts/cli.ts', import.meta.url));
const TARGET_RATIO = 1.3;

interface Phase {
  name: string;
  startedAt: string;
  durationMs: number;
}

interface Measured {
  chart: string;
  exit: number;
  outcome: string;
  verdictMs: number;
  wallMs: number;
  readyMs: number;
  suitesMs: number;
}

const { values: opts, positionals: extra } = parseArgs({
  allowPositionals: true,
  options: {
    cluster: { type: 'string' },
    chart: { type: 'string', default: 'llm-proxy,routeiq' },
    runs: { type: 'string', default: '1' },
    'no-warmup': { type: 'boolean', default: false },
  },
});
if (!opts.cluster) {
  process.stderr.write('bench:warm: --cluster <name> is required (a kind cluster the runs keep and reuse; delete it with npm run cluster:down -- <name>)\n');
  process.exit(2);
}
const cluster = opts.cluster;
const charts = opts.chart.split(',').map((c) => c.trim()).filter(Boolean);
const runs = Number(opts.runs);

/** One CLI run; resolves with its exit code and the wall time from spawn to exit. */
function runCli(chart: string, reportDir: string, keep: string): Promise<{ exit: number; t0: number; wallMs: number }> {
  const args = [CLI, '--chart', chart, '--cluster-name', cluster, '--keep', keep, '--report-dir', reportDir, ...extra];
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    // the run's own log goes to a file beside the report dir (its step timings are worth reading)
    const log = createWriteStream(`${reportDir}.log`);
    process.stderr.write(`  log: ${reportDir}.log\n`);
    let tail = '';
    child.stdout.pipe(log, { end: false });
    child.stderr.on('data', (b: Buffer) => {
      log.write(b);
      tail = (tail + b.toString()).slice(-4000);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === null || code > 4) reject(new Error(`${chart}: the run exited ${code}: ${tail.split('\n').slice(-6).join('\n')}`));
      else resolve({ exit: code, t0, wallMs: Date.now() - t0 });
    });
  });
}

function phase(phases: Phase[], test: (name: string) => boolean, what: string): Phase {
  const p = phases.find((x) => test(x.name));
  if (!p) throw new Error(`report.json has no phase for ${what} (phases: ${phases.map((x) => x.name).join(', ')})`);
  return p;
}

async function measure(chart: string): Promise<Measured> {
  const dir = await mkdtemp(join(tmpdir(), `gs-bench-warm-${chart}-`));
  try {
    const { exit, t0, wallMs } = await runCli(chart, dir, 'on-failure');
    const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as { phases: Phase[]; outcome: string };
    const suites = phase(report.phases, (n) => n.startsWith('run suites'), 'the suites');
    // the gateway's pods: the release's readiness (helm charts) or the Envoy with extproc (Gateway-API charts)
    const ready = phase(report.phases, (n) => /^wait for .+ to be ready$/.test(n) || n.startsWith('wait for the Envoy of'), "the gateway's readiness");
    const verdictMs = Date.parse(suites.startedAt) + suites.durationMs - t0;
    return { chart, exit, outcome: report.outcome, verdictMs, wallMs, readyMs: ready.durationMs, suitesMs: suites.durationMs };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const rows: Measured[] = [];
for (const chart of charts) {
  if (!opts['no-warmup']) {
    process.stderr.write(`warm-up: ${chart} on ${cluster} (makes and keeps the cluster if missing, loads the images)\n`);
    const dir = await mkdtemp(join(tmpdir(), `gs-bench-warmup-${chart}-`));
    await runCli(chart, dir, 'always').finally(() => rm(dir, { recursive: true, force: true }));
  }
  for (let i = 1; i <= runs; i++) {
    process.stderr.write(`measuring: ${chart} run ${i} of ${runs}\n`);
    const m = await measure(chart);
    rows.push(m);
    process.stderr.write(`  ${chart}: verdict ${s(m.verdictMs)}, floor ${s(m.readyMs + m.suitesMs)} → ${((m.verdictMs) / (m.readyMs + m.suitesMs)).toFixed(2)}×\n`);
  }
}

const header = ['chart', 'outcome', 'to verdict', 'floor (ready + suites)', 'ratio', 'wall (with cleanup)'];
const table = rows.map((m) => {
  const floor = m.readyMs + m.suitesMs;
  return [m.chart, `${m.outcome} (exit ${m.exit})`, s(m.verdictMs), `${s(floor)} (${s(m.readyMs)} + ${s(m.suitesMs)})`, `${(m.verdictMs / floor).toFixed(2)}×`, s(m.wallMs)];
});
const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
for (const r of [header, ...table]) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i]!)).join('  ')}\n`);
const worst = Math.max(...rows.map((m) => m.verdictMs / (m.readyMs + m.suitesMs)));
process.stdout.write(`target ≤ ${TARGET_RATIO}× its floor: ${worst <= TARGET_RATIO ? 'met' : `not met (worst ${worst.toFixed(2)}×)`}\n`);
