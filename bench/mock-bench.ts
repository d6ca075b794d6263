// Benchmark: the mock's /v1/chat/completions against a bare node:http server that answers the same
// JSON bytes, with the same load generator (autocannon) and settings, in one run, alternating.
// Gate (exit 1): mock below 80% of bare requests/s, or adding 1 ms or more at p99.
//
//   node bench/mock-bench.ts [--duration 10] [--warmup 2] [--connections 10] [--rounds 3]
//
// Each server runs in its own child process so the load generator (this process) does not share an
// event loop with it. Latency percentiles are computed from every response time autocannon reports
// (sub-millisecond), not its integer-millisecond histogram.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

type Result = { requests: { total: number }; duration: number; non2xx: number; errors: number; timeouts: number };
type Instance = { on(event: 'response', fn: (client: unknown, status: number, bytes: number, ms: number) => void): void };
type Autocannon = (opts: Record<string, unknown>, cb: (err: Error | null, result: Result) => void) => Instance;

const MIN_RATIO = 0.8;
const MAX_P99_ADDED_MS = 1;
const MOCK_MAIN = fileURLToPath(new URL('../mock/main.ts', import.meta.url));
const SELF = fileURLToPath(import.meta.url);

// The request both servers get: a small, typical chat completion with a bearer key (so the mock's
// masking and fingerprinting are on the measured path).
const REQUEST = {
  method: 'POST',
  path: '/v1/chat/completions',
  headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench-provider-key-0123456789' },
  body: JSON.stringify({
    model: 'mock-gpt',
    messages: [
      { role: 'system', content: 'You are a terse assistant.' },
      { role: 'user', content: 'Say hello to the benchmark, please.' },
    ],
  }),
};

// ------------------------------------------------------------------------------ bare server mode

if (process.argv[2] === '--serve-bare') {
  const body = Buffer.from(process.env.MOCK_BENCH_BODY_B64 ?? '', 'base64');
  const headers = { 'content-type': 'application/json', 'content-length': body.length };
  const srv = createServer((_req, res) => {
    res.writeHead(200, headers);
    res.end(body);
  });
  srv.keepAliveTimeout = 65_000;
  srv.listen(0, '127.0.0.1', () => {
    process.stdout.write(`bare listening on http://127.0.0.1:${(srv.address() as { port: number }).port}\n`);
  });
  process.on('SIGTERM', () => srv.close(() => process.exit(0)));
} else {
  await main();
}

// ------------------------------------------------------------------------------ orchestration

function startChild(args: string[], env: Record<string, string>, pattern: RegExp): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start within 15 s`)), 15_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = pattern.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]! });
      }
    });
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited early with code ${code}`)));
  });
}

/** CPU seconds (user + system) a child has used, from /proc; NaN where there is no /proc. */
function cpuSeconds(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th of those.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return NaN;
  }
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

type Run = { server: string; round: number; rps: number; p50: number; p99: number; n: number; cpuUs: number };

async function load(autocannon: Autocannon, url: string, seconds: number, connections: number): Promise<{ rps: number; p50: number; p99: number; n: number }> {
  const times: number[] = [];
  const result = await new Promise<Result>((resolve, reject) => {
    const inst = autocannon({ url: url + REQUEST.path, method: REQUEST.method, headers: REQUEST.headers, body: REQUEST.body, connections, duration: seconds }, (err, res) =>
      err ? reject(err) : resolve(res),
    );
    inst.on('response', (_c, _status, _bytes, ms) => times.push(ms));
  });
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
    throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`);
  }
  const sorted = Float64Array.from(times).sort();
  return { rps: result.requests.total / seconds, p50: percentile(sorted, 50), p99: percentile(sorted, 99), n: result.requests.total };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      connections: { type: 'string', default: '10' },
      rounds: { type: 'string', default: '3' },
    },
  });
  const duration = Number(values.duration);
  const warmup = Number(values.warmup);
  const connections = Number(values.connections);
  const rounds = Number(values.rounds);
  for (const [k, v] of Object.entries({ duration, warmup, connections, rounds })) {
    if (!Number.isFinite(v) || v < (k === 'warmup' ? 0 : 1)) {
      process.stderr.write(`mock-bench: --${k} must be a positive number\n`);
      process.exit(2);
    }
  }
  // autocannon is CommonJS without bundled types; a local signature of the part used here.
  const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

  const children: ChildProcess[] = [];
  const stopAll = () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  };
  process.on('exit', stopAll);
  try {
    const mock = await startChild([MOCK_MAIN, '--port', '0', '--quiet'], {}, /mock listening on (\S+)\n/);
    children.push(mock.child);
    // The bare server answers exactly the bytes the mock answers to the benchmark request.
    const sample = await fetch(mock.url + REQUEST.path, { method: REQUEST.method, headers: REQUEST.headers, body: REQUEST.body });
    if (sample.status !== 200) throw new Error(`mock answered ${sample.status} to the benchmark request`);
    const bytes = Buffer.from(await sample.arrayBuffer());
    const bare = await startChild([SELF, '--serve-bare'], { MOCK_BENCH_BODY_B64: bytes.toString('base64') }, /bare listening on (\S+)\n/);
    children.push(bare.child);

    const targets = { mock: mock.url, bare: bare.url };
    const pids = { mock: mock.child.pid, bare: bare.child.pid };
    process.stdout.write(
      `mock-bench: ${connections} connections, ${warmup}s warm-up + ${duration}s per run, ${rounds} round(s) alternating; ` +
        `response ${bytes.length} bytes\n\n`,
    );
    process.stdout.write(`${'server'.padEnd(8)}${'round'.padStart(6)}${'req/s'.padStart(10)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'requests'.padStart(10)}${'cpu us/req'.padStart(12)}\n`);
    const runs: Run[] = [];
    for (let round = 1; round <= rounds; round++) {
      // Alternate who goes first so a slow phase of the shared machine does not always hit one side.
      const order: (keyof typeof targets)[] = round % 2 === 1 ? ['bare', 'mock'] : ['mock', 'bare'];
      for (const server of order) {
        if (warmup > 0) await load(autocannon, targets[server], warmup, connections);
        const cpu0 = cpuSeconds(pids[server]);
        const r = await load(autocannon, targets[server], duration, connections);
        // Server CPU per request: a figure that the machine's other load disturbs far less than req/s.
        const cpuUs = ((cpuSeconds(pids[server]) - cpu0) / r.n) * 1e6;
        runs.push({ server, round, ...r, cpuUs });
        process.stdout.write(
          `${server.padEnd(8)}${String(round).padStart(6)}${r.rps.toFixed(0).padStart(10)}${r.p50.toFixed(3).padStart(9)}${r.p99.toFixed(3).padStart(9)}${String(r.n).padStart(10)}${cpuUs.toFixed(1).padStart(12)}\n`,
        );
      }
    }

    // Best round of each side (the least disturbed by other work on the machine), judged alike.
    const best = (server: string) => {
      const mine = runs.filter((r) => r.server === server);
      return {
        rps: Math.max(...mine.map((r) => r.rps)),
        p50: Math.min(...mine.map((r) => r.p50)),
        p99: Math.min(...mine.map((r) => r.p99)),
        cpuUs: Math.min(...mine.map((r) => r.cpuUs)),
      };
    };
    const m = best('mock');
    const b = best('bare');
    const ratio = m.rps / b.rps;
    const added = m.p99 - b.p99;
    const ratioOk = ratio >= MIN_RATIO;
    const p99Ok = added < MAX_P99_ADDED_MS;
    process.stdout.write('\nbest of rounds   req/s    p50 ms   p99 ms  cpu us/req\n');
    for (const [name, x] of [['mock', m], ['bare', b]] as const) {
      process.stdout.write(`${name.padEnd(12)}${x.rps.toFixed(0).padStart(9)}${x.p50.toFixed(3).padStart(9)}${x.p99.toFixed(3).padStart(9)}${x.cpuUs.toFixed(1).padStart(12)}\n`);
    }
    process.stdout.write(`\nmock/bare req/s: ${(ratio * 100).toFixed(1)}% (need >= ${MIN_RATIO * 100}%) ${ratioOk ? 'ok' : 'FAIL'}\n`);
    process.stdout.write(`p99 added by the mock: ${added >= 0 ? '+' : ''}${added.toFixed(3)} ms (need < ${MAX_P99_ADDED_MS} ms) ${p99Ok ? 'ok' : 'FAIL'}\n`);
    process.exitCode = ratioOk && p99Ok ? 0 : 1;
  } catch (err) {
    process.stderr.write(`mock-bench: ${(err as Error).message}\n`);
    process.exitCode = 2;
  } finally {
    stopAll();
  }
}
