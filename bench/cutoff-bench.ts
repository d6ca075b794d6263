// Reproduces llm-proxy v0.1.3's stream cut-off rate (its profile's knownDefects) on loopback, with a
// plain Go httputil.ReverseProxy in front of the same mock provider side by side in the same run:
//
//   npm run bench:cutoff -- [--streams 600] [--streams-only] [--keep-logs]
//
// Each round sends, through each proxy in turn (the order alternates per round), a plain chat
// completion and then a streamed one on the same keep-alive client, and counts the streams that
// ended without `data: [DONE]` (the connection closed, or the body ended, first). The mock's
// journal and each proxy's log say what happened on the other side; the Go proxy also logs why its
// transport gave up writing a request upstream. Needs llm-proxy installed
// (`npm run setup:local`) and Go (the baseline is built from bench/go-reverse-proxy/ into the cache).
//
// Exit 0 when every round was measured (cut-offs are the measurement, not a failure); 1 when a
// request failed otherwise (refused, timed out), which makes the figures suspect; 2 bad flags;
// 3 missing llm-proxy or Go; 130 interrupted. Every process it starts is stopped on exit and on
// Ctrl-C/SIGTERM.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { maskedBearer } from '../mock/fingerprint.ts';
import { ExitCode, oneParagraph, UserError } from '../scripts/errors.ts';
import { LLM_PROXY_MODULE_VERSION, startLlmProxy } from '../scripts/local/llm-proxy.ts';
import { startMockProcess } from '../scripts/local/mock-process.ts';
import { localPaths, NotInstalledError, requireComponent } from '../scripts/local/paths.ts';
import { stopAll } from '../scripts/local/process.ts';
import { plainThenStream, type StreamResult, type Target } from './cutoff-client.ts';
import { renderTable, type Row } from './cutoff-table.ts';
import { buildGoProxy, startGoProxy } from './go-reverse-proxy.ts';

const USAGE = `usage: npm run bench:cutoff -- [--streams N] [--streams-only] [--keep-logs]
  --streams N      streams per proxy (default 600)
  --streams-only   no plain request before each stream
  --keep-logs      keep the mock's and the proxies' logs (their folder is printed)`;

const BODY_COPY_ERROR = /ReverseProxy read error during body copy/g;
const WRITE_ERROR = /writing the request upstream failed: (.*)/g;
const MAX_DETAILS = 20;

type Options = { streams: number; plainFirst: boolean; keepLogs: boolean };

function options(argv: string[]): Options {
  let v;
  try {
    v = parseArgs({
      args: argv,
      options: { streams: { type: 'string', default: '600' }, 'streams-only': { type: 'boolean' }, 'keep-logs': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }).values;
  } catch (err) {
    throw new UserError(`${(err as Error).message}.\n${USAGE}`);
  }
  if (v.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const streams = Number(v.streams);
  if (!Number.isInteger(streams) || streams < 1 || streams > 1_000_000) throw new UserError(`--streams must be a whole number from 1 to 1000000, got ${JSON.stringify(v.streams)}.\n${USAGE}`);
  return { streams, plainFirst: !v['streams-only'], keepLogs: v['keep-logs'] ?? false };
}

// ------------------------------------------------------------------------------ cleanup

let dir = ''; // the scratch dir (logs, llm-proxy's SQLite), made by run()
const agents: Agent[] = [];
let keepLogs = false;
let cleaning: Promise<void> | undefined;
/** Stops every process this bench started (their whole process groups) and removes the scratch dir. */
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await Promise.allSettled(agents.map((a) => a.destroy()));
    await stopAll(3_000);
    if (!dir) return;
    if (keepLogs) process.stderr.write(`logs kept in ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  })();
  return cleaning;
}
let interrupted = false; // the rounds stop at once: no figures from a half-torn-down run
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    if (interrupted) process.exit(ExitCode.interrupted); // a second signal: the exit hook in process.ts SIGKILLs what is left
    interrupted = true;
    process.stderr.write(`\ncutoff-bench: ${sig}: stopping the mock, llm-proxy and the Go proxy\n`);
    void cleanup().finally(() => process.exit(ExitCode.interrupted));
  });
}

// ------------------------------------------------------------------------------ the run

async function run(opts: Options): Promise<number> {
  requireComponent('llm-proxy', localPaths()); // before anything starts: say how to install it
  dir = mkdtempSync(join(tmpdir(), 'gs-cutoff-bench-'));
  const started = Date.now();
  const load = loadavg()[0]!.toFixed(1);
  const goBuild = buildGoProxy();
  goBuild.catch(() => {}); // awaited below; not an unhandled rejection meanwhile

  // Enough journal for every request of the run (2 requests × 2 proxies per round).
  const journalSize = Math.max(10_000, opts.streams * 4 + 100);
  const mock = await startMockProcess({ logFile: join(dir, 'mock.log'), extraArgs: ['--journal-size', String(journalSize)] });
  const managementToken = `mgmt-${randomBytes(12).toString('hex')}`;
  const llmKey = `sk-bench-llm-proxy-${randomBytes(8).toString('hex')}`;
  const goKey = `sk-bench-go-proxy-${randomBytes(8).toString('hex')}`;
  const gw = await startLlmProxy({ mockUrl: mock.url, managementToken, workDir: join(dir, 'llm-proxy'), logFile: join(dir, 'llm-proxy.log') });
  const token = await llmProxyToken(gw.baseUrl, managementToken, llmKey);
  const { bin: goBin, goVersion } = await goBuild;
  const go = await startGoProxy({ bin: goBin, target: mock.url, logFile: join(dir, 'go-proxy.log') });

  const llmName = `llm-proxy ${LLM_PROXY_MODULE_VERSION}`;
  const goName = 'Go httputil.ReverseProxy';
  const targets: Target[] = [
    { name: llmName, baseUrl: gw.baseUrl, bearer: token, upstreamKey: llmKey, agent: new Agent() },
    { name: goName, baseUrl: go.url, bearer: goKey, upstreamKey: goKey, agent: new Agent() },
  ];
  agents.push(...targets.map((t) => t.agent));

  const out = process.stdout;
  out.write(
    `cutoff-bench: ${opts.streams} streams per proxy, ${opts.plainFirst ? 'each after a plain chat completion' : 'streams only (no plain request)'}, one keep-alive client per proxy, the proxies taking turns, in front of one mock provider (mock/main.ts: 5 chunks 10 ms apart)\n` +
      `machine: ${process.platform} ${process.arch}, ${availableParallelism()} cores, load average ${load} at start; node ${process.version}; ${goVersion}\n` +
      `llm-proxy: ${gw.version}, configured as its chart does (SQLite, in-memory event bus, HTTP cache on), one token without max_requests\n` +
      `Go proxy: httputil.ReverseProxy{Rewrite: SetURL(mock)} with http.DefaultTransport, failed upstream request writes logged (bench/go-reverse-proxy/main.go)\n\n`,
  );

  const results = new Map<string, { round: number; r: StreamResult }[]>(targets.map((t) => [t.name, []]));
  const step = Math.max(1, Math.round(opts.streams / 10));
  for (let round = 1; round <= opts.streams; round++) {
    if (interrupted) return ExitCode.interrupted;
    const order = round % 2 === 1 ? targets : [...targets].reverse();
    for (const t of order) {
      const r = await plainThenStream(t, opts.plainFirst);
      if (interrupted) return ExitCode.interrupted;
      results.get(t.name)!.push({ round, r });
    }
    if (round % step === 0 || round === opts.streams) {
      const cut = targets.map((t) => `${t.name} ${results.get(t.name)!.filter((x) => x.r.kind === 'cut-off').length}`).join(', ');
      process.stderr.write(`  ${round}/${opts.streams} rounds, cut off so far: ${cut}\n`);
    }
  }

  // The other side: which of each proxy's streams the mock saw aborted, and the proxies' logs.
  const journal = await request(`${mock.url}/__mock/journal?endpoint=chat&limit=${journalSize}`, { headersTimeout: 30_000, bodyTimeout: 30_000 });
  const entries = ((await journal.body.json()) as { entries: { id: number; stream: boolean; outcome: string; headers: Record<string, string> }[] }).entries;
  const outcomeById = new Map(entries.map((e) => [String(e.id), e.outcome]));
  const logText = (f: string) => {
    try {
      return readFileSync(join(dir, f), 'utf8');
    } catch {
      return '';
    }
  };
  const logs: Record<string, string> = { [llmName]: logText('llm-proxy.log'), [goName]: logText('go-proxy.log') };

  const rows: Row[] = targets.map((t) => {
    const rs = results.get(t.name)!.map((x) => x.r);
    const mine = entries.filter((e) => e.stream && e.headers.authorization === maskedBearer(t.upstreamKey));
    return {
      proxy: t.name,
      streams: rs.length,
      complete: rs.filter((r) => r.kind === 'complete').length,
      cutOff: rs.filter((r) => r.kind === 'cut-off').length,
      errors: rs.filter((r) => r.kind === 'error').length,
      mockAborted: mine.filter((e) => e.outcome === 'aborted').length,
      mockStreams: mine.length,
      logBodyCopyErrors: logs[t.name]!.match(BODY_COPY_ERROR)?.length ?? 0,
    };
  });
  out.write(`${renderTable(rows)}\n`);
  // Only the Go proxy traces its upstream writes (bench/go-reverse-proxy/main.go): why it dropped a connection.
  const writeErrors = new Map<string, number>();
  for (const m of logs[goName]!.matchAll(WRITE_ERROR)) writeErrors.set(m[1]!, (writeErrors.get(m[1]!) ?? 0) + 1);
  const written = [...writeErrors].map(([why, n]) => `${n} × "${why}"`).join(', ');
  out.write(`\n${goName} log, request writes upstream that failed: ${written || 'none'}\n`);

  const details = targets.flatMap((t) =>
    results.get(t.name)!.flatMap(({ round, r }) => {
      if (r.kind === 'cut-off') {
        const mockSide = r.mockId ? `the mock journaled request ${r.mockId} as ${outcomeById.get(r.mockId) ?? 'unknown'}` : 'no mock request id reached the client';
        return [`  round ${round}, ${t.name}: cut off after ${r.afterBytes} bytes (${r.saw}); ${mockSide}`];
      }
      return r.kind === 'error' ? [`  round ${round}, ${t.name}: not measured: ${r.saw}`] : [];
    }),
  );
  if (details.length > 0) {
    out.write(`\n${details.slice(0, MAX_DETAILS).join('\n')}\n`);
    if (details.length > MAX_DETAILS) out.write(`  … and ${details.length - MAX_DETAILS} more\n`);
  }
  out.write(`\n${Math.round((Date.now() - started) / 1000)} s, load average ${loadavg()[0]!.toFixed(1)} at the end\n`);
  return rows.some((r) => r.errors > 0) ? 1 : 0;
}

/** A project whose provider key is `providerKey`, and a token for it without a request limit. */
async function llmProxyToken(baseUrl: string, managementToken: string, providerKey: string): Promise<string> {
  const manage = async (path: string, payload: unknown) => {
    const res = await request(`${baseUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${managementToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(payload),
    });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`llm-proxy POST ${path}: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
    return JSON.parse(text) as Record<string, unknown>;
  };
  const project = await manage('/manage/projects', { name: 'cutoff-bench', api_key: providerKey });
  const tok = await manage('/manage/tokens', { project_id: project.id, duration_minutes: 24 * 60 });
  return String(tok.token);
}

let code: number;
try {
  const opts = options(process.argv.slice(2));
  keepLogs = opts.keepLogs;
  code = await run(opts);
} catch (err) {
  if (interrupted) code = ExitCode.interrupted; // what failed was the teardown under it
  else if (err instanceof UserError) {
    process.stderr.write(`cutoff-bench: ${err.exitCode === ExitCode.usage ? err.message : oneParagraph(err.message)}\n`);
    code = err.exitCode;
  } else if (err instanceof NotInstalledError) {
    process.stderr.write(`cutoff-bench: ${oneParagraph(err.message)}\n`);
    code = ExitCode.environment;
  } else {
    process.stderr.write(`cutoff-bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    code = 1;
  }
}
await cleanup();
process.exit(code);
