// What a chart needs next to it in the run namespace (the mock provider, Postgres), installed from
// the project's fixture charts with images built here. Each install waits until its workloads are
// ready and returns how the gateway reaches it.
import { join } from 'node:path';
import type { Kube } from '../kube/client.ts';
import { type HelmEnv, helmInstall } from '../kube/helm.ts';
import { waitForWorkloads } from '../kube/wait.ts';
import type { RunContext } from '../run-context.ts';
import { newSecret } from '../secrets.ts';
import { PROJECT_ROOT } from '../project-root.ts';

export type FixtureTarget = {
  k: Kube;
  helmEnv: HelmEnv;
  namespace: string;
  ctx: RunContext;
  /** Releases of the run, for diagnostics (helm status and values of each). */
  releases: string[];
};

/** `helm install` of fixtures/charts/<chart> as `release`, then a watch until its workloads are ready. */
export async function installFixture(t: FixtureTarget, o: { release: string; chart: string; values: Record<string, unknown>; what: string; timeoutMs: number }): Promise<void> {
  t.releases.push(o.release);
  await helmInstall(t.helmEnv, {
    release: o.release,
    chart: join(PROJECT_ROOT, 'fixtures/charts', o.chart),
    namespace: t.namespace,
    values: [o.values],
    timeoutMs: o.timeoutMs,
    signal: t.ctx.signal,
  });
  await waitForWorkloads(t.k, t.namespace, {
    labelSelector: `app.kubernetes.io/instance=${o.release}`,
    timeoutMs: o.timeoutMs,
    what: o.what,
    signal: t.ctx.signal,
    onProgress: (l) => t.ctx.log.info(l),
  });
}

/** Chart `image` values for a locally built image ref (`repo:tag`). */
export function imageValues(ref: string | undefined, fallbackRepository: string): { repository: string; tag: string } {
  return { repository: ref?.split(':')[0] || fallbackRepository, tag: ref?.split(':')[1] ?? '' };
}

const POSTGRES_RELEASE = 'postgres';

/**
 * Postgres (Debian's, in an image built here) with a password generated for this run, reachable
 * only inside the cluster. Returns the DATABASE_URL a gateway in the run namespace uses.
 */
export async function installPostgres(t: FixtureTarget, image: string | undefined): Promise<string> {
  const auth = { username: 'smoke', password: newSecret('pg'), database: 'smoke' };
  await installFixture(t, {
    release: POSTGRES_RELEASE,
    chart: 'postgres',
    values: { fullnameOverride: POSTGRES_RELEASE, image: imageValues(image, 'gateway-smoke/postgres'), auth },
    what: 'Postgres',
    timeoutMs: 180_000,
  });
  return `postgresql://${auth.username}:${auth.password}@${POSTGRES_RELEASE}.${t.namespace}.svc.cluster.local:5432/${auth.database}`;
}
