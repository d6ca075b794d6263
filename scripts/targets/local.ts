// The local target: the mock provider and the chart's own gateway software as processes on
// loopback. Every process is stopped by the cleanup stack, on success, failure and Ctrl-C.
import { mkdtemp, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMock } from '../../mock/server.ts';
import { startLiteLLM } from '../local/litellm.ts';
import { startLlmProxy } from '../local/llm-proxy.ts';
import { litellmKeysBlockedReason, NotInstalledError } from '../local/paths.ts';
import { ensurePrismaClient } from '../local/prisma-client.ts';
import { checkPrismaEngines } from '../prisma-engines.ts';
import { startControlServer } from './control-server.ts';
import { EnvironmentError } from '../errors.ts';
import { startPostgres } from '../local/postgres.ts';
import type { RunPlan } from '../plan.ts';
import type { RunContext } from '../run-context.ts';
import { maskFile } from '../mask-stream.ts';
import { newSecret } from '../secrets.ts';
import { environmentFor } from './environment.ts';
import type { Diagnosis, Provisioner } from './index.ts';
import type { Provenance, ProvisionedTarget, Target } from './types.ts';

export class LocalProvisioner implements Provisioner {
  readonly tools = [] as const;
  private readonly plan: RunPlan;
  private readonly ctx: RunContext;
  /** Logs live in a private temp dir (they may hold keys) and are copied, masked, into diagnostics. */
  private logDir: string | undefined;
  readonly fingerprint: Record<string, string> = {};
  provenance: Provenance | undefined;

  constructor(plan: RunPlan, ctx: RunContext) {
    this.plan = plan;
    this.ctx = ctx;
  }

  async provision(): Promise<ProvisionedTarget> {
    try {
      const profile = this.plan.profile;
      this.provenance = {
        chart: `none (the ${profile.local} gateway software as a local process)`,
        images: profile.localIsStandIn ? 'a local stand-in process' : 'the gateway software as a local process',
        // no chart ran, and a stand-in process is not even the chart's app: a pass proves less than the chart
        unproven: [
          profile.localIsStandIn
            ? `the chart did not run, and its app neither: ${profile.local} ran as a local stand-in process (--target local)`
            : `the chart did not run: its gateway software ran as a local process (--target local)`,
        ],
      };
      return await startLocal(this.plan, this.ctx, this.fingerprint, (dir) => (this.logDir = dir));
    } catch (err) {
      // A missing install is the machine's gap, not the chart's failure: one paragraph, exit 3.
      if (err instanceof NotInstalledError) throw new EnvironmentError(err.message);
      throw err;
    }
  }

  /** Processes on loopback have no pods to be replaced under the run. */
  async changes(): Promise<string[]> {
    return [];
  }

  async diagnose(dir: string): Promise<Diagnosis | undefined> {
    if (!this.logDir) return undefined;
    await mkdir(dir, { recursive: true });
    const files = await readdir(this.logDir).catch(() => [] as string[]);
    for (const f of files) await maskFile(join(this.logDir, f), join(dir, f));
    await writeFile(join(dir, 'INDEX.txt'), files.join('\n') + '\n');
    return { path: 'diagnostics/' };
  }
}

async function startLocal(plan: RunPlan, ctx: RunContext, fingerprint: Record<string, string>, setLogDir: (dir: string) => void): Promise<ProvisionedTarget> {
  const profile = plan.profile;
  const adminKey = newSecret('sk-admin');
  const providerKey = newSecret('sk-provider');
  const work = await mkdtemp(join(tmpdir(), `gs-local-${profile.name}-`));
  const logDir = join(work, 'logs');
  await mkdir(logDir, { recursive: true });
  setLogDir(logDir);
  ctx.defer('remove local work directory', () => rm(work, { recursive: true, force: true }));

  const mock = await ctx.phase('start mock provider', () => startMock({ quiet: true }));
  ctx.defer('stop mock provider', () => mock.close());

  fingerprint['mock provider'] = mock.url;
  let control: Target['control'];
  let baseUrl: string;
  let metricsUrl: string;
  let prisma: string | undefined;
  if (profile.local === 'llm-proxy') {
    const gw = await ctx.phase('start llm-proxy (real, v0.1.3)', () =>
      startLlmProxy({ mockUrl: mock.url, managementToken: adminKey, workDir: join(work, 'llm-proxy'), logFile: join(logDir, 'llm-proxy.log') }),
    );
    ctx.defer('stop llm-proxy', () => gw.stop());
    baseUrl = gw.baseUrl;
    metricsUrl = gw.metricsUrl;
    fingerprint['gateway'] = gw.version;
  } else {
    // Keys need Postgres through Prisma's engines; where they are not given (or unusable), keys and
    // the per-key 429s are reported as environment, with the reason, and LiteLLM runs without a DB.
    const engines = await checkPrismaEngines(plan.prismaEngines);
    let blocked = litellmKeysBlockedReason(engines);
    if (!blocked && engines.ok) {
      fingerprint['prisma engines'] = `${engines.engines.dir} (hash ${engines.engines.hash})`;
      blocked = await ctx.phase("LiteLLM's Prisma client for the given engines", () =>
        ensurePrismaClient(engines.engines, { log: (l) => ctx.log.info(l), signal: ctx.signal }),
      );
    }
    let databaseUrl: string | undefined;
    if (blocked) {
      prisma = blocked;
      fingerprint['prisma engines'] = `none: ${blocked}`;
    } else {
      const pg = await ctx.phase('start PostgreSQL', () => startPostgres({ logFile: join(logDir, 'postgres.log') }));
      ctx.defer('stop PostgreSQL', () => pg.stop());
      databaseUrl = pg.url;
      // The health suite's dependency check stops and restarts this process through the control endpoint.
      const server = await startControlServer({ postgres: { stop: () => pg.pause(), start: () => pg.resume() } }, (l) => ctx.log.info(l));
      ctx.defer('close control endpoint', () => server.close());
      control = server.control;
    }
    const gw = await ctx.phase('start LiteLLM proxy (real, PyPI)', () =>
      startLiteLLM({
        mockUrl: mock.url,
        masterKey: adminKey,
        providerKey,
        model: plan.model,
        // as the chart runs LiteLLM (master key env, config defaults, env): the profile's data
        ...profile.localProcess,
        // routeiq's chart has no prometheus callback by default; its profile's correction adds it.
        prometheus: true,
        ...(databaseUrl && engines.ok ? { databaseUrl, prismaEnv: engines.engines.env } : {}),
        workDir: join(work, 'litellm'),
        logFile: join(logDir, 'litellm.log'),
      }),
    );
    ctx.defer('stop LiteLLM proxy', () => gw.stop());
    baseUrl = gw.baseUrl;
    metricsUrl = gw.metricsUrl;
    fingerprint['gateway'] = gw.version;
  }
  // LiteLLM is routeiq's proxy but not its app: what only the app has is a stand-in limit.
  const standIn = profile.localIsStandIn === true;
  return {
    target: {
      kind: 'local',
      chart: profile.name,
      baseUrl,
      adminKey,
      model: plan.model,
      metricsUrl,
      mock: { url: mock.url, providerKey },
      standIn,
      environment: environmentFor(profile, { kind: 'local', standIn, prisma, adminKey: true, mock: true, controllable: control?.dependencies ?? [] }),
      ...(control ? { control } : {}),
    },
  };
}
