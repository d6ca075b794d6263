// The real LiteLLM proxy (PyPI litellm[proxy] 1.81.x, from the venv setup-local.sh builds) on
// loopback, with a config.yaml and env the way a chart deploys it: what the chart sets is the
// profile's data (`localProcess`: master key env, config defaults, env, ...), passed in as options.
//
// Facts that shape this (evidence in fixtures/local/FINDINGS.md):
// - LITELLM_LOCAL_MODEL_COST_MAP=True: otherwise it fetches the model cost map from the internet
//   at import time (and logs a warning when that fails).
// - The venv's bin must be on PATH, as in the image: LiteLLM runs `prisma` as a subprocess when
//   DATABASE_URL is set.
// - With DATABASE_URL set and no generated Prisma client (Prisma's engines come only from
//   Prisma's CDN, or from a folder given with --prisma-engines), LiteLLM 1.81.16 does not start at
//   all ("Unable to find Prisma binaries"). startLiteLLM then throws EnvironmentBlockedError with
//   the exact reason. With engines, `prismaEnv` points prisma-client-py at them.
// - The router's per-deployment `rpm` is only enforced with routing_strategy
//   usage-based-routing-v2, and then lets rpm-1 requests through per calendar minute (it skips a
//   deployment when current+1 >= rpm); with num_retries > 0 the router waits (up to ~60 s) and
//   retries instead of answering 429.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { request } from 'undici';
import { getFreePort, startProcess, ProcessError, type ManagedProcess } from './process.ts';
import { localPaths, prismaStatus, requireComponent } from './paths.ts';
import type { LocalLiteLLMProcess } from '../profiles/types.ts';

export type LiteLLMModel = {
  /** model_name clients ask for, e.g. "mock-gpt". */
  name: string;
  /** litellm_params.model; default `openai/<name>`. */
  model?: string;
  /** litellm_params.rpm / tpm (router-level deployment limits). */
  rpm?: number;
  tpm?: number;
  /** Override the provider key for this deployment (default: providerKey). */
  apiKey?: string;
};

/**
 * What the chart sets (a profile's `localProcess`, e.g. `...getProfile('routeiq').localProcess`);
 * none of it given: the minimum (model_list, master key from LITELLM_MASTER_KEY, optional prometheus).
 */
export type LiteLLMOptions = LocalLiteLLMProcess & {
  /** Virtualenv; default $CACHE/litellm-venv (throws "run scripts/setup-local.sh" when missing). */
  venv?: string;
  /** Default: a free loopback port. */
  port?: number;
  /** Provider base URL, e.g. http://127.0.0.1:8089 (api_base gets /v1 appended when missing). */
  mockUrl: string;
  /** The master key value, put into the env var `masterKeyEnv`. */
  masterKey: string;
  /** The provider key LiteLLM sends upstream (litellm_params.api_key). */
  providerKey: string;
  models?: LiteLLMModel[];
  /** Shorthand for models: [{ name: model }] (used when `models` is not given). */
  model?: string;
  /** litellm_settings.callbacks: ["prometheus"] (and /metrics). Default true; routeiq's chart default is false. */
  prometheus?: boolean;
  /**
   * general_settings.master_key as written in the config; default `os.environ/<masterKeyEnv>`.
   * Pass routeiq's default `env/LITELLM_MASTER_KEY` to reproduce its defect (the literal string
   * becomes the master key).
   */
  masterKeyRef?: string;
  /** Sets DATABASE_URL (+ general_settings.database_url). Needs a generated Prisma client. */
  databaseUrl?: string;
  /** Prisma engine variables (scripts/prisma-engines.ts `env`): what a database needs at run time. */
  prismaEnv?: Record<string, string>;
  /** router_settings.redis_host/port(/password): shared rate-limit state across workers/instances. */
  redis?: { host: string; port: number; password?: string };
  /** uvicorn workers (--num_workers); default 1. >1 also sets PROMETHEUS_MULTIPROC_DIR. */
  workers?: number;
  /** Also run LiteLLM's separate health app (what the image's entrypoint does for SEPARATE_HEALTH_APP=1). */
  healthApp?: boolean;
  workDir: string;
  logFile: string;
  /**
   * Deep-merged over the rendered config, last. A key set to null is removed, e.g.
   * { litellm_settings: { callbacks: null } } or { router_settings: { routing_strategy: 'usage-based-routing-v2' } }.
   */
  extraConfig?: Record<string, unknown>;
  /** Extra env for the proxy. */
  env?: Record<string, string>;
  /**
   * Default 240 s + 120 s per extra worker: LiteLLM imports for 10-40 s on 2 idle cores, and each
   * uvicorn worker imports it again; on a loaded machine 2 workers took over 180 s.
   */
  readyTimeoutMs?: number;
};

export type LiteLLMHandle = {
  baseUrl: string;
  /** e.g. "litellm 1.81.16" (from /health/readiness). */
  version: string;
  metricsUrl: string;
  /** Separate health app base URL when `healthApp` was set. */
  healthUrl?: string;
  port: number;
  pid: number;
  configPath: string;
  config: Record<string, unknown>;
  process: ManagedProcess;
  healthProcess?: ManagedProcess;
  stop(): Promise<void>;
};

/** Thrown when this machine cannot run what was asked (e.g. Prisma engines unobtainable). */
export class EnvironmentBlockedError extends Error {
  readonly reason: string;
  constructor(reason: string, detail?: string) {
    super(`environment: ${reason}${detail ? `\n${detail}` : ''}`);
    this.name = 'EnvironmentBlockedError';
    this.reason = reason;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge; arrays and scalars replace; null deletes. */
export function mergeConfig(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k];
    else if (isPlainObject(v) && isPlainObject(out[k])) out[k] = mergeConfig(out[k] as Record<string, unknown>, v);
    else out[k] = v;
  }
  return out;
}

export function apiBase(mockUrl: string): string {
  const u = mockUrl.replace(/\/+$/, '');
  return u.endsWith('/v1') ? u : `${u}/v1`;
}

export function masterKeyEnvName(opts: Pick<LiteLLMOptions, 'masterKeyEnv'>): string {
  return opts.masterKeyEnv ?? 'LITELLM_MASTER_KEY';
}

/** Whether PROMETHEUS_MULTIPROC_DIR is set: several workers share one registry through it, or the chart sets it. */
export function usesPrometheusMultiprocDir(opts: Pick<LiteLLMOptions, 'workers' | 'prometheusMultiproc'>): boolean {
  return (opts.workers ?? 1) > 1 || opts.prometheusMultiproc === true;
}

/** Whether LiteLLM's migrations run as a separate process before the proxy (the chart's hook; only with a database). */
export function runsMigrationsFirst(opts: Pick<LiteLLMOptions, 'migrationsFirst' | 'databaseUrl'>): boolean {
  return opts.migrationsFirst === true && !!opts.databaseUrl;
}

/** The config.yaml content as an object (pure: no files, no processes). */
export function renderLiteLLMConfig(opts: Omit<LiteLLMOptions, 'workDir' | 'logFile'>): Record<string, unknown> {
  const keyEnv = masterKeyEnvName(opts);
  const models = opts.models ?? (opts.model ? [{ name: opts.model }] : []);
  if (models.length === 0) throw new Error('startLiteLLM: give `models` (or `model`)');
  const model_list = models.map((m) => {
    const params: Record<string, unknown> = {
      model: m.model ?? `openai/${m.name}`,
      api_base: apiBase(opts.mockUrl),
      api_key: m.apiKey ?? opts.providerKey,
    };
    if (m.rpm !== undefined) params.rpm = m.rpm;
    if (m.tpm !== undefined) params.tpm = m.tpm;
    return { model_name: m.name, litellm_params: params };
  });
  const general_settings: Record<string, unknown> = { master_key: opts.masterKeyRef ?? `os.environ/${keyEnv}` };
  if (opts.databaseUrl) general_settings.database_url = 'os.environ/DATABASE_URL';
  // the chart's defaults (a copy: the profile's data is shared), under what is wired below
  const defaults = structuredClone(opts.configDefaults ?? {});
  Object.assign(general_settings, defaults.general_settings);
  const litellm_settings: Record<string, unknown> = { ...defaults.litellm_settings };
  const router_settings: Record<string, unknown> = { ...defaults.router_settings };
  if (opts.prometheus ?? true) {
    litellm_settings.callbacks = ['prometheus'];
    // exists in 1.81.x (default false); explicit so /metrics answers without a key
    litellm_settings.require_auth_for_metrics_endpoint = false;
  }
  if (opts.redis) {
    // The router's own state (deployment rpm/tpm) and, through a Redis cache, the proxy's usage
    // cache, which the per-key limiter shares across workers and replicas. mode default_off: no
    // response is served from the cache unless a request asks for it.
    const password = opts.redis.password ? { password: 'os.environ/REDIS_PASSWORD' } : {};
    router_settings.redis_host = opts.redis.host;
    router_settings.redis_port = String(opts.redis.port);
    if (opts.redis.password) router_settings.redis_password = 'os.environ/REDIS_PASSWORD';
    litellm_settings.cache = true;
    litellm_settings.cache_params = { type: 'redis', host: opts.redis.host, port: opts.redis.port, ...password, mode: 'default_off' };
  }
  let config: Record<string, unknown> = { model_list, general_settings, litellm_settings };
  if (Object.keys(router_settings).length > 0) config.router_settings = router_settings;
  if (opts.extraConfig) config = mergeConfig(config, opts.extraConfig);
  return config;
}

export function litellmEnv(opts: LiteLLMOptions, venv: string, promDir: string | undefined): Record<string, string> {
  const paths = localPaths();
  const env: Record<string, string> = {
    PATH: `${join(venv, 'bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    HOME: opts.workDir,
    TZ: 'UTC',
    LANG: 'C.UTF-8',
    NO_PROXY: '127.0.0.1,localhost,::1',
    no_proxy: '127.0.0.1,localhost,::1',
    PYTHONUNBUFFERED: '1',
    LITELLM_LOCAL_MODEL_COST_MAP: 'True', // no startup download of the cost map
    PRISMA_HOME_DIR: paths.prismaHome, // the Prisma CLI setup-local.sh cached (if any)
    [masterKeyEnvName(opts)]: opts.masterKey,
  };
  // what the chart's Deployment sets
  if (opts.saltKeyEnv) env[opts.saltKeyEnv] = `sk-salt-${randomBytes(12).toString('hex')}`;
  Object.assign(env, opts.chartEnv);
  if (opts.redis) Object.assign(env, opts.chartEnvWithCache);
  if (promDir) env.PROMETHEUS_MULTIPROC_DIR = promDir;
  if (opts.databaseUrl) env.DATABASE_URL = opts.databaseUrl;
  Object.assign(env, opts.prismaEnv);
  if (opts.redis?.password) env.REDIS_PASSWORD = opts.redis.password;
  return { ...env, ...opts.env };
}

/** The chart's migration hook as a process: runs to completion or throws with its log tail. */
async function runMigrations(litellm: string, env: Record<string, string>, secretEnv: string[], opts: LiteLLMOptions): Promise<void> {
  const mig = await startProcess({
    name: 'litellm migrations',
    command: litellm,
    args: ['--skip_server_startup'],
    env,
    secretEnv,
    redact: [opts.providerKey],
    cwd: opts.workDir,
    logFile: opts.logFile.replace(/(\.log)?$/, '.migrations.log'),
  });
  const done = await Promise.race([mig.exitPromise.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 300_000))]);
  await mig.stop(2_000).catch(() => undefined); // (also forgets the exited process group)
  if (!done || mig.exitCode !== 0) {
    throw new ProcessError(`LiteLLM's migrations (litellm --skip_server_startup) ${done ? mig.describeExit() : 'did not finish in 300s'}`, mig.tailLog());
  }
}

const PRISMA_FAILURE = /Unable to find Prisma binaries|Client hasn't been generated yet|prisma generate/i;

export async function startLiteLLM(opts: LiteLLMOptions): Promise<LiteLLMHandle> {
  const paths = localPaths();
  const venv = opts.venv ?? (requireComponent('litellm', paths), paths.litellmVenv);
  const port = opts.port ?? (await getFreePort());
  const workers = opts.workers ?? 1;
  mkdirSync(opts.workDir, { recursive: true });
  let promDir: string | undefined;
  if (usesPrometheusMultiprocDir(opts)) {
    promDir = join(opts.workDir, 'prometheus_multiproc');
    rmSync(promDir, { recursive: true, force: true }); // stale counters would survive restarts
    mkdirSync(promDir, { recursive: true });
  }
  const config = renderLiteLLMConfig(opts);
  const configPath = join(opts.workDir, 'config.yaml');
  writeFileSync(configPath, stringify(config));
  const env = litellmEnv(opts, venv, promDir);
  const secretEnv = [masterKeyEnvName(opts), opts.saltKeyEnv ?? 'LITELLM_SALT_KEY', 'DATABASE_URL', 'REDIS_PASSWORD'];
  const args = ['--config', configPath, '--host', '127.0.0.1', '--port', String(port)];
  if (workers > 1) args.push('--num_workers', String(workers));
  if (runsMigrationsFirst(opts)) {
    // A chart whose pods run with DISABLE_SCHEMA_UPDATE=true applies the migrations first in a hook
    // (LiteLLM's prisma_migration.py: `litellm --skip_server_startup`). Same here.
    await runMigrations(join(venv, 'bin', 'litellm'), { ...env, DISABLE_SCHEMA_UPDATE: 'false' }, secretEnv, opts);
  }
  const proc = await startProcess({
    name: 'litellm',
    command: join(venv, 'bin', 'litellm'),
    args,
    env,
    secretEnv,
    redact: [opts.providerKey],
    cwd: opts.workDir,
    logFile: opts.logFile,
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  let healthProcess: ManagedProcess | undefined;
  let healthUrl: string | undefined;
  const readyTimeoutMs = opts.readyTimeoutMs ?? 240_000 + 120_000 * (workers - 1);
  try {
    await proc.waitForHttp({ url: `${baseUrl}/health/liveliness`, timeoutMs: readyTimeoutMs, intervalMs: 500 });
    if (opts.healthApp) {
      const hp = await getFreePort();
      healthUrl = `http://127.0.0.1:${hp}`;
      healthProcess = await startProcess({
        name: 'litellm-health-app',
        command: join(venv, 'bin', 'uvicorn'),
        args: ['litellm.proxy.health_endpoints.health_app_factory:build_health_app', '--factory', '--host', '127.0.0.1', `--port=${hp}`],
        env: { ...env, SEPARATE_HEALTH_APP: '1', SEPARATE_HEALTH_PORT: String(hp) },
        secretEnv,
        redact: [opts.providerKey],
        cwd: opts.workDir,
        logFile: opts.logFile.replace(/(\.log)?$/, '.health.log'),
      });
      await healthProcess.waitForHttp({ url: `${healthUrl}/health/liveliness`, timeoutMs: readyTimeoutMs, intervalMs: 500 });
    }
  } catch (err) {
    await Promise.allSettled([proc.stop(2_000), healthProcess?.stop(2_000)]);
    if (opts.databaseUrl && err instanceof ProcessError && PRISMA_FAILURE.test(err.logTail)) {
      const st = prismaStatus(paths);
      const why = !opts.prismaEnv
        ? 'no Prisma engines were given'
        : st && !st.ok
          ? `\`${st.command}\` failed: ${st.error}`
          : 'the Prisma client is not generated';
      throw new EnvironmentBlockedError(`Prisma engines unavailable: LiteLLM does not start with DATABASE_URL set (${why})`, err.message);
    }
    throw err;
  }
  const stop = async () => {
    await Promise.all([proc.stop(), healthProcess?.stop()]);
  };
  let version = 'litellm (version unknown)';
  try {
    const res = await request(`${baseUrl}/health/readiness`, { headersTimeout: 10_000, bodyTimeout: 10_000 });
    const v = ((await res.body.json()) as { litellm_version?: unknown }).litellm_version;
    if (v) version = `litellm ${String(v)}`;
  } catch {
    /* informative only */
  }
  return {
    baseUrl,
    version,
    metricsUrl: `${baseUrl}/metrics/`,
    healthUrl,
    port,
    pid: proc.pid,
    configPath,
    config,
    process: proc,
    healthProcess,
    stop,
  };
}
