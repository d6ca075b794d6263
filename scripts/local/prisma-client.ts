// LiteLLM's Prisma client in the local venv, generated with the engines the run was given. The
// generation itself is setup-local.sh's `prisma` step (one recipe for setup and for runs); this
// runs it when the venv's client was generated without these engines, and says why it could not.
import { join } from 'node:path';
import { execa } from 'execa';
import type { PrismaEngines } from '../prisma-engines.ts';
import { localPaths, prismaClientGeneratedWith, prismaStatus } from './paths.ts';

const SETUP = join(import.meta.dirname, '..', 'setup-local.sh');

/**
 * Ensures the venv's client matches `engines`; undefined when it does, else the reason (one line,
 * for an `environment` verdict). Output goes to `logFile` (progress lines to `log`).
 */
export async function ensurePrismaClient(engines: PrismaEngines, o: { log: (l: string) => void; signal?: AbortSignal; paths?: ReturnType<typeof localPaths> }): Promise<string | undefined> {
  const paths = o.paths ?? localPaths();
  if (prismaClientGeneratedWith(engines.hash, paths)) return undefined;
  o.log(`generating LiteLLM's Prisma client with the engines in ${engines.dir} (bash scripts/setup-local.sh prisma)`);
  const run = execa('bash', [SETUP, 'prisma'], {
    env: { GATEWAY_SMOKE_PRISMA_ENGINES: engines.dir, PRISMA_RETRY: '1', GATEWAY_SMOKE_CACHE: paths.cache },
    reject: false,
    all: true,
    ...(o.signal ? { cancelSignal: o.signal } : {}),
  });
  run.all?.on('data', (b: Buffer) => {
    for (const line of b.toString().split('\n')) if (line.startsWith('[setup-local')) o.log(`  ${line}`);
  });
  const r = await run;
  if (prismaClientGeneratedWith(engines.hash, paths)) return undefined;
  const st = prismaStatus(paths);
  const why = st?.error ?? `setup-local.sh prisma exited ${r.exitCode}: ${String(r.all ?? '').split('\n').slice(-3).join(' ')}`;
  return `Prisma engines unavailable: \`prisma generate\` with the engines in ${engines.dir} failed: ${why}`;
}
