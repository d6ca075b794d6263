// An upgrade run on a cluster (--upgrade-from), around the normal install: the previous release is
// installed and waited for, state is seeded through the gateway's own key API, traffic starts
// through an in-cluster relay, then the normal install (`helm upgrade --install` of the candidate)
// becomes the upgrade. finish() waits out the rollout, lets the traffic settle, stops it and judges
// it (scripts/upgrade/analysis.ts); suite `upgrade` (suites/upgrade.test.ts) reports the result.
// The harness adds nothing to the chart's rollout: no preStop hook, no PodDisruptionBudget, no
// surge settings; the chart's own decide.
import { readJournal } from '../../suites/lib/mock-journal.ts';
import { type ClientKey, createKey, deleteKey } from '../../suites/lib/keys.ts';
import { prepareDependencies } from '../cluster/chart-source.ts';
import { effectiveValues, readChartMeta, type Values } from '../cluster/values.ts';
import type { Kube } from '../kube/client.ts';
import { Tunnel } from '../kube/tunnel.ts';
import { waitForWorkloads } from '../kube/wait.ts';
import type { RunPlan } from '../plan.ts';
import { isNotApplicable, type MockWiring } from '../profiles/types.ts';
import type { RunContext } from '../run-context.ts';
import { notYet, retry, RetryTimeout } from '../retry.ts';
import { registerSecret } from '../secrets.ts';
import type { Target } from '../targets/types.ts';
import { analyseUpgrade, formatCounts, type PodTimes, type UpgradeCounts } from './analysis.ts';
import { watchPods } from './pods.ts';
import { createRelay, RELAY_NAME, RELAY_PORT } from './relay.ts';
import { refuseIdenticalUpgrade } from './source.ts';
import { attributePods, startTraffic, type Traffic, type TrafficRecord } from './traffic.ts';
import type { CheckResult } from '../report/model.ts';

/** How long the traffic goes on after the rollout is over. */
export const SETTLE_MS = 10_000;
/** How long old pods may take to go once the new ones are Ready. */
const OLD_PODS_GONE_MS = 180_000;
/** A partly used quota: this many of the limit are spent before the upgrade. */
export const QUOTA = { limit: 4, used: 2 } as const;

/** What the upgrade hands to suite `upgrade` (through the target; keys are registered secrets). */
export interface UpgradeOutcome {
  from: string;
  to: string;
  checks: CheckResult[];
  counts: UpgradeCounts;
  window: { upgradeStart: number; rolloutEnd: number };
  pods: PodTimes[];
  records: TrafficRecord[];
  /** Seeded before the upgrade; absent when the chart has no key API. */
  keys?: { kept: ClientKey; limited: ClientKey & { limit: number; used: number }; deleted: ClientKey };
  /** Where the profile says a quota survives an upgrade; absent: the quota check does not apply. */
  quotaPersists?: string;
}

export interface UpgradeHooks {
  plan: RunPlan;
  ctx: RunContext;
  k: Kube;
  namespace: string;
  release: string;
  /** The candidate chart folder as resolved (pinned source, mirror or --chart-dir). */
  candidateChart: string;
  /** The candidate's image reference, when the chart has an app image. */
  candidateImage?: string;
  wiring: MockWiring;
  /** The candidate's value layers (wiring, stand-in image, corrections). */
  values: Values[];
  mockService: string;
  mockPort: number;
  mockImage: string;
  /** helm upgrade --install of a chart folder with these layers (and values files), watched. */
  install: (chart: string, values: Values[], valuesFiles: string[]) => Promise<void>;
  /** Loads a local image into the cluster's nodes (kind), when the previous release runs one. */
  loadImage?: (ref: string) => Promise<void>;
  findService: () => Promise<string>;
  /** The helm binary: the previous chart's dependencies are made installable as the candidate's are. */
  helm: string;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason as Error);
    });
  });

/** The values layer that sets the previous release's image: a full reference, or a tag of the candidate's. */
export function imageLayer(valuesPath: string, image: string): Values {
  const ref = image.split('@')[0]!;
  const colon = ref.indexOf(':', ref.lastIndexOf('/') + 1);
  // a bare version (no registry path, no tag separator) is a tag of the candidate's repository
  const leaf: Values = ref.includes('/') || colon >= 0 ? { repository: colon >= 0 ? ref.slice(0, colon) : ref, tag: colon >= 0 ? ref.slice(colon + 1) : 'latest', pullPolicy: 'IfNotPresent' } : { tag: ref };
  return valuesPath
    .split('.')
    .reverse()
    .reduce<Values>((inner, key) => ({ [key]: inner }), leaf);
}

export class UpgradeRun {
  private readonly h: UpgradeHooks;
  private traffic: Traffic | undefined;
  private pods: ReturnType<typeof watchPods> | undefined;
  private keys: UpgradeOutcome['keys'];
  private upgradeStart = 0;

  constructor(h: UpgradeHooks) {
    this.h = h;
  }

  /** Before the candidate's install: the previous release, its state, the traffic. */
  async before(): Promise<void> {
    const { plan, ctx, k, namespace, release } = this.h;
    const from = plan.upgradeFrom!;
    await refuseIdenticalUpgrade(from, { chartDir: this.h.candidateChart, image: this.h.candidateImage });
    const layers = [...this.h.values];
    if (from.image) {
      const valuesPath = plan.profile.app?.valuesPath;
      if (!valuesPath) throw new Error(`--upgrade-from-image ${from.image}: the ${plan.profile.name} profile names no app image values path to set it at`);
      const layer = imageLayer(valuesPath, from.image);
      layers.push(layer);
      const ref = refOf(layer, valuesPath, this.h.candidateImage);
      if (ref && this.h.loadImage) await this.h.loadImage(ref);
    }
    const files = [...(plan.valuesFile ? [plan.valuesFile] : []), ...(from.valuesFile ? [from.valuesFile] : [])];
    try {
      await ctx.phase(`install the previous release ${release} from ${from.chartDir}`, async () => {
        const meta = await readChartMeta(from.chartDir);
        const chart = await prepareDependencies({
          chart: { path: from.chartDir, origin: 'chart-dir', label: `previous release ${from.chartDir}`, meta, notes: [] },
          values: await effectiveValues(from.chartDir, layers, files),
          helm: this.h.helm,
          ctx,
        });
        await this.h.install(chart.path, layers, files);
        await waitForWorkloads(k, namespace, { labelSelector: `app.kubernetes.io/instance=${release}`, timeoutMs: 300_000, what: `previous release ${release}`, signal: ctx.signal, onProgress: (l) => ctx.log.info(l) });
      });
    } catch (err) {
      throw new Error(`the previous release did not install: ${(err as Error).message}`);
    }

    const service = await this.h.findService();
    const port = plan.profile.service.port;
    await ctx.phase('start the upgrade traffic relay', async () => {
      await createRelay(k, { namespace, image: this.h.mockImage, service, port });
      await waitForWorkloads(k, namespace, { labelSelector: `app.kubernetes.io/name=${RELAY_NAME}`, timeoutMs: 120_000, what: 'the upgrade traffic relay', signal: ctx.signal });
    });
    // pinned to the relay pod, which never rolls
    const relay = new Tunnel(k, { namespace, service: { name: RELAY_NAME, port: RELAY_PORT }, probePath: '/', log: (l) => ctx.log.warn(l) });
    const baseUrl = await relay.open();
    ctx.defer('close the upgrade relay tunnel', () => relay.close());
    const target: Target = {
      kind: plan.target,
      chart: plan.profile.name,
      baseUrl,
      adminKey: this.h.wiring.adminKey,
      model: plan.model,
      mock: { url: '', providerKey: this.h.wiring.providerKey },
      standIn: false,
      environment: {},
    };

    const keyApi = plan.profile.capabilities.keys;
    let trafficKey = this.h.wiring.adminKey;
    if (!isNotApplicable(keyApi)) {
      this.keys = await ctx.phase('seed state on the previous release (keys, a partly used quota, a deleted key)', async () => {
        const kept = await createKey(keyApi, target);
        const limited = await createKey(keyApi, target, { limit: QUOTA.limit });
        // a deleted key with a limit: llm-proxy re-checks those at once (see its knownDefects)
        const deleted = await createKey(keyApi, target, { limit: 100 });
        for (const key of [kept, limited, deleted]) registerSecret(key.key);
        for (let i = 0; i < QUOTA.used; i++) {
          const res = await fetch(`${baseUrl}/v1/chat/completions`, {
            method: 'POST',
            headers: { authorization: `Bearer ${limited.key}`, 'content-type': 'application/json' },
            body: JSON.stringify({ model: plan.model, messages: [{ role: 'user', content: 'seed' }] }),
          });
          await res.text();
          if (res.status !== 200) throw new Error(`spending the seeded quota: request ${i + 1} of ${QUOTA.used} answered HTTP ${res.status}`);
        }
        await deleteKey(keyApi, target, deleted);
        return { kept, limited: { ...limited, limit: QUOTA.limit, used: QUOTA.used }, deleted };
      });
      const traffic = await createKey(keyApi, target);
      registerSecret(traffic.key);
      trafficKey = traffic.key;
    }

    this.pods = watchPods(k, namespace, `app.kubernetes.io/instance=${release}`, (l) => ctx.log.warn(l));
    this.traffic = startTraffic({ baseUrl, apiKey: trafficKey, model: plan.model });
    ctx.defer('stop the upgrade traffic', async () => {
      await this.traffic?.stop();
      await this.pods?.stop();
    });
    await sleep(5_000, ctx.signal); // some traffic on the previous release first: the "before" counts
    this.upgradeStart = Date.now();
    ctx.log.info(`upgrading ${release} to the candidate under traffic (${this.traffic.records.length} requests so far)`);
  }

  /** After the candidate's install and readiness wait: the rollout's end, the settle, the verdict. */
  async finish(): Promise<UpgradeOutcome> {
    const { plan, ctx, k, namespace } = this.h;
    const pods = this.pods!;
    const traffic = this.traffic!;
    // over when the old pods are gone from the API, not merely terminating: in their grace period
    // they may still be serving the connections they hold
    const rolloutEnd = await ctx.phase('wait for the old pods to go', async () => {
      await retry('the old pods to go', { timeoutMs: OLD_PODS_GONE_MS, intervalMs: 1000, signal: ctx.signal }, () => {
        const old = pods.log.listed().filter((p) => p.created < this.upgradeStart);
        if (old.length > 0) throw notYet(`${old.length} old pod(s) still listed`);
      }).catch((err: unknown) => {
        // old pods that stay are no reason to stop here: the analysis judges the rollout from the pods' lives
        if (!(err instanceof RetryTimeout)) throw err;
      });
      return Date.now();
    });
    await ctx.phase(`settle (${SETTLE_MS / 1000} s of traffic on the upgraded release)`, () => sleep(SETTLE_MS, ctx.signal));
    const records = await traffic.stop();
    await pods.stop();
    const mock = new Tunnel(k, { namespace, service: { name: this.h.mockService, port: this.h.mockPort }, probePath: '/__mock/health', log: (l) => ctx.log.warn(l) });
    const journal = await readJournal(await mock.open()).finally(() => mock.close());
    const attributed = attributePods(records, journal, pods.log.byIp());
    const times = pods.log.times();
    const window = { upgradeStart: this.upgradeStart, rolloutEnd };
    const analysis = analyseUpgrade({ records: attributed, pods: times, window });
    ctx.log.info(`upgrade traffic: ${formatCounts(analysis.counts)}; replaced ${analysis.replaced.join(', ') || 'no pod'}`);
    const upgrade = plan.profile.capabilities.upgrade;
    const quotaPersists = upgrade && !isNotApplicable(upgrade) ? upgrade.quotaPersists : undefined;
    return {
      from: plan.upgradeFrom!.chartDir + (plan.upgradeFrom!.image ? ` (image ${plan.upgradeFrom!.image})` : ''),
      to: this.h.candidateChart + (this.h.candidateImage ? ` (image ${this.h.candidateImage})` : ''),
      checks: analysis.checks,
      counts: analysis.counts,
      window,
      pods: times,
      records: attributed,
      ...(this.keys ? { keys: this.keys } : {}),
      ...(quotaPersists ? { quotaPersists } : {}),
    };
  }
}

/** The full image reference a layer sets, given the candidate's for a bare tag. */
function refOf(layer: Values, valuesPath: string, candidate: string | undefined): string | undefined {
  let v: unknown = layer;
  for (const key of valuesPath.split('.')) v = (v as Values)[key];
  const leaf = v as { repository?: string; tag?: string };
  if (leaf.repository) return `${leaf.repository}:${leaf.tag}`;
  if (!candidate) return undefined;
  const slash = candidate.lastIndexOf('/');
  const colon = candidate.indexOf(':', slash + 1);
  return `${colon >= 0 ? candidate.slice(0, colon) : candidate}:${leaf.tag}`;
}
