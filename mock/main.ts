// `node mock/main.ts` (npm run mock): the mock provider as a process, for loopback use and the
// in-cluster image. Prints `mock listening on <url>` once ready, so callers can wait for that line.
import { parseArgs } from 'node:util';
import { startMock } from './server.ts';

const USAGE = `usage: node mock/main.ts [--host H] [--port P] [--quiet] [--log-requests] [--journal-size N] [--models a,b]
  --host           interface to bind (env MOCK_HOST; default 127.0.0.1, use 0.0.0.0 in a container)
  --port           port (env MOCK_PORT; default 8089; 0 picks a free one)
  --quiet          no shutdown line or warnings; the listening line is always printed (env MOCK_QUIET=1)
  --log-requests   one line per request on stdout (env MOCK_LOG_REQUESTS=1)
  --journal-size   journal ring size (env MOCK_JOURNAL_SIZE; default 10000)
  --models         ids listed by GET /v1/models (env MOCK_MODELS; default mock-gpt,mock-gpt-mini,mock-embed)`;

function fail(msg: string): never {
  process.stderr.write(`mock: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

function int(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < min || n > max) fail(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return n;
}

const flag = (v: string | undefined) => v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';

let args;
try {
  args = parseArgs({
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      quiet: { type: 'boolean' },
      'log-requests': { type: 'boolean' },
      'journal-size': { type: 'string' },
      models: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }).values;
} catch (err) {
  fail((err as Error).message);
}
if (args.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const env = process.env;
const quiet = args.quiet ?? flag(env.MOCK_QUIET);
const port = int('port', args.port ?? env.MOCK_PORT ?? '8089', 0, 65535);
const journalSize = int('journal-size', args['journal-size'] ?? env.MOCK_JOURNAL_SIZE ?? '10000', 1, 10_000_000);
const modelsArg = args.models ?? env.MOCK_MODELS;
const models = modelsArg ? modelsArg.split(',').map((s) => s.trim()).filter(Boolean) : undefined;

let mock;
try {
  mock = await startMock({
    host: args.host ?? env.MOCK_HOST ?? '127.0.0.1',
    port,
    quiet,
    logRequests: args['log-requests'] ?? flag(env.MOCK_LOG_REQUESTS),
    journalSize,
    models,
  });
} catch (err) {
  // e.g. EADDRINUSE: one clear line, no stack trace
  process.stderr.write(`mock: cannot listen: ${(err as Error).message}\n`);
  process.exit(1);
}
// Always printed (even with --quiet): it is how a parent process learns the port.
process.stdout.write(`mock listening on ${mock.url}\n`);

let stopping = false;
const stop = (signal: string) => {
  if (stopping) {
    // a second signal while draining: give up waiting
    process.exit(1);
  }
  stopping = true;
  mock.close().then(
    () => {
      if (!quiet) process.stdout.write(`mock stopped (${signal})\n`);
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`mock: error while stopping: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
