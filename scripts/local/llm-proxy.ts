// The real llm-proxy (sofatutor/llm-proxy v0.1.3) on loopback, configured the way its Helm chart
// configures the container (deploy/helm/llm-proxy values `env`): SQLite DB, in-memory event bus,
// metrics on, JSON logs, MANAGEMENT_TOKEN from a secret, OPENAI_API_URL at the mock.
//
// Facts from its source that shape this (see fixtures/local/FINDINGS.md):
// - No API providers file is mounted by the chart, so the server falls back to a built-in OpenAI
//   config whose base URL is OPENAI_API_URL (scheme+host; the request path /v1/... is kept).
// - SQLite schema comes from scripts/schema.sql found next to the binary's parent dir
//   (setup-local.sh lays the cache out like the image's /app).
// - It reads ./.env and writes ./data/audit.log relative to its cwd: it runs in `workDir`.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { getFreePort, startProcess, type ManagedProcess } from './process.ts';
import { localPaths, requireComponent } from './paths.ts';

export type LlmProxyOptions = {
  /** Binary; default $CACHE/bin/llm-proxy (throws "run scripts/setup-local.sh" when missing). */
  bin?: string;
  /** Default: a free loopback port. */
  port?: number;
  /** The provider base URL, e.g. http://127.0.0.1:8089 (a trailing /v1 is dropped: llm-proxy keeps the path). */
  mockUrl: string;
  managementToken: string;
  /** Scratch dir: SQLite DB, audit log (created). */
  workDir: string;
  logFile: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Extra env (e.g. HTTP_CACHE_ENABLED=false, LLM_PROXY_API_KEY_CACHE_TTL). */
  env?: Record<string, string>;
  readyTimeoutMs?: number;
};

export type LlmProxyHandle = {
  baseUrl: string;
  /** e.g. "llm-proxy v0.1.3 (GET /health says 0.1.0)": the module version built and what it reports. */
  version: string;
  /** Prometheus text format (GET /metrics is JSON). */
  metricsUrl: string;
  port: number;
  pid: number;
  process: ManagedProcess;
  stop(): Promise<void>;
};

/** OPENAI_API_URL wants scheme+host[:port]; llm-proxy appends the client's /v1/... path itself. */
/** The Go module version setup-local.sh builds (kept in step with LLM_PROXY_VERSION there). */
export const LLM_PROXY_MODULE_VERSION = 'v0.1.3';

export function upstreamBase(mockUrl: string): string {
  return mockUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
}

export function llmProxyEnv(opts: LlmProxyOptions & { port: number }): Record<string, string> {
  const data = join(opts.workDir, 'data');
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: opts.workDir,
    TZ: 'UTC',
    NO_PROXY: '127.0.0.1,localhost,::1',
    // the chart's values.yaml `env`
    LISTEN_ADDR: `127.0.0.1:${opts.port}`,
    LOG_LEVEL: opts.logLevel ?? 'info',
    LOG_FORMAT: 'json',
    LOG_FILE: '',
    ENABLE_METRICS: 'true',
    METRICS_PATH: '/metrics',
    DB_DRIVER: 'sqlite',
    DATABASE_PATH: join(data, 'llm-proxy.db'),
    LLM_PROXY_EVENT_BUS: 'in-memory',
    // secret + mock wiring
    MANAGEMENT_TOKEN: opts.managementToken,
    OPENAI_API_URL: upstreamBase(opts.mockUrl),
    // keep everything inside workDir
    AUDIT_LOG_FILE: join(data, 'audit.log'),
    API_CONFIG_PATH: join(opts.workDir, 'config', 'api_providers.yaml'), // absent, as in the chart
    ENV: join(opts.workDir, '.env'), // absent: no stray .env is loaded
    ...opts.env,
  };
}

export async function startLlmProxy(opts: LlmProxyOptions): Promise<LlmProxyHandle> {
  const bin = opts.bin ?? requireComponent('llm-proxy', localPaths());
  const port = opts.port ?? (await getFreePort());
  mkdirSync(join(opts.workDir, 'data'), { recursive: true });
  const proc = await startProcess({
    name: 'llm-proxy',
    command: bin,
    args: ['server'],
    env: llmProxyEnv({ ...opts, port }),
    secretEnv: ['MANAGEMENT_TOKEN'],
    cwd: opts.workDir,
    logFile: opts.logFile,
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await proc.waitForHttp({ url: `${baseUrl}/ready`, timeoutMs: opts.readyTimeoutMs ?? 60_000 });
  } catch (err) {
    await proc.stop(2_000).catch(() => {});
    throw err;
  }
  let reported = 'unknown';
  try {
    const res = await request(`${baseUrl}/health`, { headersTimeout: 5_000, bodyTimeout: 5_000 });
    reported = String(((await res.body.json()) as { version?: unknown }).version ?? 'unknown');
  } catch {
    /* version is informative only */
  }
  return {
    baseUrl,
    version: `llm-proxy ${opts.bin ? '(custom binary)' : LLM_PROXY_MODULE_VERSION} (GET /health says ${reported})`,
    metricsUrl: `${baseUrl}/metrics/prometheus`,
    port,
    pid: proc.pid,
    process: proc,
    stop: () => proc.stop(),
  };
}
