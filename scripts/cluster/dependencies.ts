
// What a chart needs next to it in the run namespace (the mock provider, Postgres, Redis), installed from
// the project's fixture charts with images built here. Each install waits until its workloads are
// ready and returns how the gateway reaches it.
import { join } from 'node:path';
import { DiscoveryV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { Kube } from '../kube/client.ts';
import type { DependencyControl } from '../targets/control-server.ts';
import { type HelmEnv, helmInstall } from '../kube/helm.ts';
import { watchForTerminalStates } from '../kube/terminal.ts';
import { waitForWorkloads } from '../kube/wait.ts';
import type { RunContext } from '../run-context.ts';
import { fatal, notYet, retry } from '../retry.ts';
import { newSecret } from '../secrets.ts';
import { PROJECT_ROOT } from '../project-root.ts';
import { capacityOf } from './run-namespaces.ts';

export type FixtureTarget = {
  k: Kube;
  helmEnv: HelmEnv;
  namespace: string;
  ctx: RunContext;
  /** Releases of the run, for diagnostics (helm status and values of each). */
  releases: string[];
};

/**
 * `helm install` of fixtures/charts/<chart> as `release`, then a watch until its workloads are ready.
 * A fixture pod the scheduler cannot place (a cluster full of kept runs) ends the wait in seconds.
 */
export async function installFixture(t: FixtureTarget, o: { release: string; chart: string; values: Record<string, unknown>; what: string; timeoutMs: number }): Promise<void> {
  t.releases.push(o.release);
  const stop = new AbortController();
  const signal = AbortSignal.any([stop.signal, t.ctx.signal]);
  const install = async () => {
    await helmInstall(t.helmEnv, {
      release: o.release,
      chart: join(PROJECT_ROOT, 'fixtures/charts', o.chart),
      namespace: t.namespace,
      values: [o.values],
      timeoutMs: o.timeoutMs,
      signal,
    });
    await waitForWorkloads(t.k, t.namespace, {
      labelSelector: `app.kubernetes.io/instance=${o.release}`,
      timeoutMs: o.timeoutMs,
      what: o.what,
      signal,
      onProgress: (l) => t.ctx.log.info(l),
    });
  };
  try {
    await Promise.race([install(), watchForTerminalStates(t.k, t.namespace, stop.signal, { capacity: () => capacityOf(t.k, t.namespace) }, ['Unschedulable'])]);
  } finally {
    stop.abort();
  }
}

/** Chart `image` values for a locally built image ref (`repo:tag`). */
export function imageValues(ref: string | undefined, fallbackRepository: string): { repository: string; tag: string } {
  return { repository: ref?.split(':')[0] || fallbackRepository, tag: ref?.split(':')[1] ?? '' };
}

const POSTGRES_RELEASE = 'postgres';
const REDIS_RELEASE = 'redis';

export interface PostgresInstall {
  /** DATABASE_URL for a gateway in the run namespace. */
  url: string;
  host: string;
  port: number;
  database: string;
  user: string;
  /** The Deployment, for taking the database away from the gateway and bringing it back. */
  deployment: string;
}

/** A Secret the chart reads but does not create (e.g. litellm-proxy's `postgresql-app`), with one key. */
async function createSecret(t: FixtureTarget, name: string, key: string, value: string): Promise<void> {
  await t.k.core.createNamespacedSecret({
    namespace: t.namespace,
    body: { metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'gateway-smoke' } }, type: 'Opaque', stringData: { [key]: value } },
  });
}

/**
 * Postgres (Debian's, in an image built here) with a password generated for this run, reachable
 * only inside the cluster. Its data is on a PersistentVolumeClaim, so it can be scaled to 0 and
 * back without losing the schema; `secret` also puts the password where the chart looks for it.
 */
export async function installPostgres(
  t: FixtureTarget,
  image: string | undefined,
  o: { database?: string; user?: string; secret?: { name: string; key: string } } = {},
): Promise<PostgresInstall> {
  const auth = { username: o.user ?? 'smoke', password: newSecret('pg'), database: o.database ?? 'smoke' };
  if (o.secret) await createSecret(t, o.secret.name, o.secret.key, auth.password);
  await installFixture(t, {
    release: POSTGRES_RELEASE,
    chart: 'postgres',
    values: { fullnameOverride: POSTGRES_RELEASE, image: imageValues(image, 'gateway-smoke/postgres'), auth, storage: { persistent: true } },
    what: 'Postgres',
    timeoutMs: 180_000,
  });
  const host = `${POSTGRES_RELEASE}.${t.namespace}.svc.cluster.local`;
  return {
    url: `postgresql://${auth.username}:${auth.password}@${host}:5432/${auth.database}`,
    host,
    port: 5432,
    database: auth.database,
    user: auth.username,
    deployment: POSTGRES_RELEASE,
  };
}

/** Redis (Debian's) with a per-run password; `secret` also puts it where the chart looks for it. */
export async function installRedis(t: FixtureTarget, image: string | undefined, o: { secret?: { name: string; key: string } } = {}): Promise<{ host: string; port: number; password: string }> {
  const password = newSecret('redis');
  if (o.secret) await createSecret(t, o.secret.name, o.secret.key, password);
  await installFixture(t, {
    release: REDIS_RELEASE,
    chart: 'redis',
    values: { fullnameOverride: REDIS_RELEASE, image: imageValues(image, 'gateway-smoke/redis'), password },
    what: 'Redis',
    timeoutMs: 120_000,
  });
  return { host: `${REDIS_RELEASE}.${t.namespace}.svc.cluster.local`, port: 6379, password };
}

/**
 * Takes a dependency's Deployment away (scaled to 0, its pods gone) and brings it back (scaled to
 * 1, ready): what the health suite's "readiness reports its dependencies going away" drives.
 */
export function deploymentControl(t: FixtureTarget, deployment: string, what: string): DependencyControl {
  const scale = (replicas: number) =>
    t.k.apps.patchNamespacedDeploymentScale({ name: deployment, namespace: t.namespace, body: { spec: { replicas } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  return {
    stop: async () => {
      await scale(0);
      // gone means no pod left at all, terminating ones included: they may still serve connections
      await retry(
        `${what} gone`,
        { timeoutMs: 120_000, intervalMs: 1000, onTimeout: (last) => new Error(`${what}: pods ${(last as Error).message} still there 120s after scaling ${deployment} to 0`) },
        async () => {
          const pods = await t.k.core.listNamespacedPod({ namespace: t.namespace, labelSelector: `app.kubernetes.io/instance=${deployment}` }).catch((err: Error) => {
            throw fatal(err);
          });
          if (pods.items.length > 0) throw notYet(pods.items.map((p) => p.metadata?.name).join(', '));
        },
      );
    },
    start: async () => {
      await scale(1);
      await waitForWorkloads(t.k, t.namespace, { labelSelector: `app.kubernetes.io/instance=${deployment}`, timeoutMs: 180_000, what, signal: t.ctx.signal });
      // Ready is not yet reachable: the Service must list the new pod, and every node's proxy then
      // programs it (a second or two; seen on kind: a gateway call right after Ready got
      // "Can't reach database server", the same call seconds later worked).
      const slices = t.k.kc.makeApiClient(DiscoveryV1Api);
      await retry(
        `${what} endpoints`,
        { timeoutMs: 60_000, intervalMs: 500, onTimeout: () => new Error(`${what}: the Service ${deployment} lists no ready endpoint 60s after its pod became Ready`) },
        async () => {
          const list = await slices.listNamespacedEndpointSlice({ namespace: t.namespace, labelSelector: `kubernetes.io/service-name=${deployment}` }).catch((err: Error) => {
            throw fatal(err);
          });
          if (!list.items.some((sl) => sl.endpoints?.some((e) => e.conditions?.ready))) throw notYet('no ready endpoint');
        },
      );
      await new Promise((r) => setTimeout(r, 5_000));
    },
  };
}
