// Metrics: baseline scrape, N known requests (one of them a 429), scrape again a few times;
// the profile's counters moved by exactly the right amounts and never went down.
import { beforeAll, describe, expect, type TestContext } from 'vitest';
import type { KeyApi, MetricsCapability } from '../scripts/profiles/types.ts';
import { isNotApplicable } from '../scripts/profiles/types.ts';
import { cause, check } from './lib/check.ts';
import { environmentNote, notApplicableNote, suiteContext } from './lib/context.ts';
import { authRefusal, http } from './lib/http.ts';
import { createKey } from './lib/keys.ts';
import { decreased, type Scrape, scrape, sumWhere } from './lib/metrics.ts';

const { target, capabilities } = suiteContext();
const metrics = capabilities.metrics as MetricsCapability;
const metricsUrl = target.metricsUrl ?? `${target.baseUrl}${metrics.path}`;
const SUCCESSES = 3;
/** Without the harness's mock no upstream 429 can be scripted: those checks say so (environment). */
const no429 = target.environment['metrics.upstream-429'];
const REQUESTS = SUCCESSES + (no429 ? 0 : 1);

/** A credential a client would use for completions on this chart. */
async function clientKey(): Promise<string> {
  if (isNotApplicable(capabilities.keys)) return target.adminKey ?? '';
  const keys = capabilities.keys as KeyApi;
  // LiteLLM's master key is a valid client key; llm-proxy needs a project token.
  if (keys.flavour === 'litellm' && target.adminKey) return target.adminKey;
  return (await createKey(keys, target)).key;
}

describe('metrics', () => {
  let baseline: Scrape;
  /** What the gateway's answers said in `usage`: the mock's token counts, passed through. */
  const usage = { prompt: 0, completion: 0 };
  const scrapes: Scrape[] = [];
  const token = metrics.needsAuth ? target.adminKey : undefined;
  const watched = [metrics.requestsCounter, ...(metrics.failuresCounter ? [metrics.failuresCounter] : [])];

  beforeAll(async () => {
    // A settled baseline: gateways count a request after answering it, so the suites before this
    // one may still be adding; wait (up to 10 s) until two scrapes 2 s apart agree.
    baseline = await scrape(metricsUrl, token);
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 2_000));
      const again = await scrape(metricsUrl, token);
      const same = watched.every((n) => (again.totals.get(n) ?? 0) === (baseline.totals.get(n) ?? 0));
      baseline = again;
      if (same) break;
    }
    const key = await clientKey();
    const send = (headers: Record<string, string> = {}) =>
      http('POST', `${target.baseUrl}/v1/chat/completions`, {
        token: key,
        headers,
        body: { model: target.model, messages: [{ role: 'user', content: 'count me' }] },
      });
    for (let i = 0; i < SUCCESSES; i++) {
      const r = await send();
      const u = (r.json as { usage?: { prompt_tokens?: number; completion_tokens?: number } } | undefined)?.usage;
      usage.prompt += u?.prompt_tokens ?? 0;
      usage.completion += u?.completion_tokens ?? 0;
      if (r.status !== 200) {
        const auth = authRefusal(r);
        throw new Error(
          auth
            ? `Admin auth is broken: ${auth}`
            : `request ${i + 1} of ${SUCCESSES} failed (HTTP ${r.status}), so counters cannot be checked: ${r.text.slice(0, 200)}`,
        );
      }
    }
    // The 429 comes from the provider, scripted on the mock, so it works on every chart. Gateways
    // may retry upstream (LiteLLM's client does): the rule holds until removed, so every attempt
    // of this one client request gets the 429.
    if (no429) return;
    if (!target.mock) throw new Error('the target has no mock provider and gave no reason: a harness defect');
    const script = await http('POST', `${target.mock.url}/__mock/script`, {
      body: { scenario: 'rate-limit', retryAfter: '1', times: 'unlimited', match: { endpoint: 'chat' } },
    });
    if (script.status >= 300) throw new Error(`could not script a 429 on the mock: HTTP ${script.status} ${script.text}`);
    let limited;
    try {
      limited = await send();
    } finally {
      await http('DELETE', `${target.mock.url}/__mock/script`);
    }
    if (limited.status !== 429) throw new Error(`an upstream 429 reached the client as HTTP ${limited.status}: ${limited.text.slice(0, 200)}`);
  });

  check('metrics.series-exist', 'the promised series exist', async (ctx) => {
    const s = await scrape(metricsUrl, token);
    const missing = [...watched, ...(metrics.mustExist ?? [])].filter((n) => !s.families.has(n) && !s.totals.has(n));
    if (missing.length) cause(ctx, 'count', `series missing after traffic: ${missing.join(', ')}`, { missing });
    expect(missing.join(', ') || 'none', `series missing from ${metrics.path} after traffic (is the metrics exporter/callback configured?)`).toBe('none');
  });

  /**
   * Waits (up to 15 s) for the counter to reach baseline + sent, then once more so a late increment
   * shows too, and says how far it moved: a gateway that counts each request twice is named as such.
   */
  async function movedBy(ctx: TestContext, name: string, sent: number, what: string): Promise<void> {
    const from = baseline.totals.get(name) ?? 0;
    let now = from;
    for (const deadline = Date.now() + 15_000; now < from + sent && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 1_000));
      const s = await scrape(metricsUrl, token);
      scrapes.push(s);
      now = s.totals.get(name) ?? 0;
    }
    await new Promise((r) => setTimeout(r, 2_000));
    const last = await scrape(metricsUrl, token);
    scrapes.push(last);
    now = last.totals.get(name) ?? 0;
    const moved = now - from;
    const twice = sent > 0 && moved === 2 * sent ? ': every request was counted twice' : '';
    if (moved !== sent) cause(ctx, 'count', `${name} moved by ${moved} for ${sent} ${what}${twice}`, { metric: name, expected: sent, moved, baseline: from, now });
    expect(moved, `${name} moved by ${moved} for ${sent} ${what}${twice} (baseline ${from}, now ${now})`).toBe(sent);
  }

  check('metrics.requests-counted', `${metrics.requestsCounter} moved by exactly the requests sent`, async (ctx) => {
    await movedBy(ctx, metrics.requestsCounter, REQUESTS, `request(s) sent (${SUCCESSES} successes${no429 ? '' : ' and one upstream 429'})`);
  });

  check('metrics.failures-counted', `${metrics.failuresCounter ?? 'the failures counter'} moved by exactly 1 for the 429`, async (ctx) => {
    if (!metrics.failuresCounter) return ctx.skip(notApplicableNote('the chart exports no failures counter'));
    if (no429) return ctx.skip(environmentNote(no429));
    await movedBy(ctx, metrics.failuresCounter, 1, 'upstream 429');
  });

  // What the chart tells its users to watch must exist: a dashboard or alert built from the chart's
  // own docs would otherwise stay empty. A mismatch is the chart's finding, named with its source.
  check('metrics.documented-names', 'the metric names the chart documents are exported', async (ctx) => {
    if (!metrics.documentedIn) return ctx.skip(notApplicableNote('the chart documents no metric names'));
    const doc = target.documentedMetrics;
    if (!doc) return ctx.skip(notApplicableNote(`the ${target.kind} target runs no chart, so there is no ${metrics.documentedIn.file} to read`));
    expect(doc.names.length, `${doc.source} names no ${metrics.documentedIn.prefix}* metric`).toBeGreaterThan(0);
    const s = await scrape(metricsUrl, token);
    const exported = (n: string) => ['', '_total', '_bucket', '_count', '_sum'].some((suffix) => s.families.has(n + suffix) || s.totals.has(n + suffix));
    const missing = doc.names.filter((n) => !exported(n));
    const real = [...s.families].filter((f) => f.startsWith(metrics.documentedIn!.prefix)).sort();
    if (missing.length) cause(ctx, 'count', `${doc.source} names metrics that are not exported: ${missing.join(', ')}`, { missing, source: doc.source });
    expect(
      missing,
      `chart finding: ${doc.source} tells users to watch ${missing.join(', ')}, which ${metrics.path} does not export after traffic; ` +
        `it exports ${real.slice(0, 12).join(', ')}${real.length > 12 ? ', …' : ''}`,
    ).toEqual([]);
  });

  // declared only where the profile promises token usage (GenAI histograms), so other charts' reports stay as they were
  const t = metrics.tokenUsage;
  if (t) check('metrics.token-usage', 'token usage moved by exactly the usage the mock reported', async () => {
    const read = (s: Scrape) => ({
      [`${t.family}_sum{${t.typeLabel}="${t.input}"}`]: sumWhere(s, `${t.family}_sum`, t.typeLabel, t.input),
      [`${t.family}_sum{${t.typeLabel}="${t.output}"}`]: sumWhere(s, `${t.family}_sum`, t.typeLabel, t.output),
      [`${t.family}_count{${t.typeLabel}="${t.input}"}`]: sumWhere(s, `${t.family}_count`, t.typeLabel, t.input),
      [`${t.family}_count{${t.typeLabel}="${t.output}"}`]: sumWhere(s, `${t.family}_count`, t.typeLabel, t.output),
    });
    const before = Object.values(read(baseline));
    // one observation per type for each successful completion, of the size the mock's usage said
    const moved = [usage.prompt, usage.completion, SUCCESSES, SUCCESSES];
    const want = Object.fromEntries(Object.keys(read(baseline)).map((k, i) => [k, before[i]! + moved[i]!]));
    expect(usage.completion, 'the completions reported no usage.completion_tokens, so token counts cannot be checked').toBeGreaterThan(0);
    await expect
      .poll(
        async () => {
          const s = await scrape(metricsUrl, token);
          scrapes.push(s);
          return read(s);
        },
        { timeout: 15_000, interval: 1_000, message: `token usage did not move by the mock's usage (${usage.prompt} prompt, ${usage.completion} completion tokens over ${SUCCESSES} completions)` },
      )
      .toEqual(want);
  });

  check('metrics.monotonic', 'no counter went down between scrapes', async (ctx) => {
    for (let i = 0; i < 3; i++) scrapes.push(await scrape(metricsUrl, token));
    const seq = [baseline, ...scrapes];
    const drops = seq.slice(1).flatMap((s, i) => decreased(seq[i]!, s, watched));
    if (drops.length) cause(ctx, 'count', 'counters went down between scrapes', { drops });
    expect(drops, 'counters went down between scrapes (several workers without a shared registry?)').toEqual([]);
  });
});
