// Rate limiting: an exact burst (limit + k, no client retries) on a fresh key gives exactly
// `limit` successes, then 429s in the profile's shape. A fresh key per run, so re-runs never share
// a window. Where the limit is promised across replicas, the burst is spread over every pod, and the
// mock's journal (which pod IP called the provider) proves each replica really served its share.
import { beforeAll, describe, expect, test } from 'vitest';
import type { KeyApi, RateLimitCapability } from '../scripts/profiles/types.ts';
import type { Replica } from '../scripts/targets/types.ts';
import type { JournalEntry } from '../mock/journal.ts';
import { environmentNote, notApplicableNote, suiteContext } from './lib/context.ts';
import { type HttpResult, http, NoAnswer } from './lib/http.ts';
import { createKey, runId } from './lib/keys.ts';
import { readJournal } from './lib/mock-journal.ts';

const { target, capabilities } = suiteContext();
const limit = capabilities.ratelimit as RateLimitCapability;
const EXTRA = 2;

interface Shot {
  atMs: number;
  index: number;
  url: string;
  stream: boolean;
  /** The gateway's answer; absent when the request got none (then `error` says what happened). */
  res?: HttpResult;
  error?: string;
}

type Answered = Shot & { res: HttpResult };
/** The shots that got an answer with this status (a request without an answer has none). */
const withStatus = (shots: Shot[], code: number): Answered[] => shots.filter((s): s is Answered => s.res?.status === code);

/**
 * Sends `size` requests one after another, alternating streamed and plain, round-robin over urls.
 * Over R endpoints the burst is limit×R+EXTRA, so each endpoint alone could pass `limit`: a limit
 * that is not shared then shows as limit×R successes, a shared one as exactly `limit`.
 */
async function burst(urls: string[], size: number, credential: { token?: string; headers?: Record<string, string> }): Promise<Shot[]> {
  const shots: Shot[] = [];
  const start = Date.now();
  for (let i = 0; i < size; i++) {
    const url = urls[i % urls.length]!;
    const stream = i % 2 === 1;
    // One request without an answer is a finding about the gateway, not the end of the burst.
    let res: HttpResult | undefined;
    let error: string | undefined;
    try {
      res = await http('POST', `${url}/v1/chat/completions`, {
        ...credential,
        body: { model: target.model, messages: [{ role: 'user', content: `burst ${i}` }], stream },
      });
    } catch (err) {
      if (!(err instanceof NoAnswer)) throw err;
      error = err.message;
    }
    shots.push({ atMs: Date.now() - start, index: i, url, stream, res, error });
  }
  return shots;
}

/**
 * Envoy adds x-ratelimit-limit to every success the rate-limit service answered: a success without
 * it got no answer (the call failed or timed out) and was let through by the filter's fail-open mode.
 */
function failedOpen(shots: Shot[]): string {
  if (limit.flavour !== 'envoy-global') return '';
  const ok = withStatus(shots, 200);
  const bare = ok.filter((s) => !s.res.headers['x-ratelimit-limit']);
  if (!bare.length) return '';
  return (
    ` — ${bare.length} of the ${ok.length} successes (${bare.map((s) => `#${s.index}`).join(', ')}) carry no x-ratelimit-limit: Envoy had no answer ` +
    `from the rate-limit service for them and let them through (fail-open), so the shared count was never asked (Envoy's stats in the chart findings say why)`
  );
}

function table(shots: Shot[]): string {
  return shots.map((s) => `#${s.index}${s.stream ? ' (stream)' : ''} → ${s.res ? s.res.status : 'no answer'}`).join(', ');
}

/**
 * Requests the gateway never answered, with the provider's side of it: a journal entry the mock
 * could not finish ("aborted") is an answer the gateway cut off while the provider was still sending.
 */
function noAnswers(shots: Shot[], upstream: JournalEntry[]): string {
  const lost = shots.filter((s) => s.error);
  if (!lost.length) return '';
  const cut = upstream.filter((e) => e.outcome === 'aborted');
  const provider = cut.length
    ? `; the provider's journal shows the gateway cutting off ${cut.length} answer(s) it was still sending (${cut.map((e) => `${e.stream ? 'streamed, ' : ''}after ${Math.round(e.durationMs ?? 0)} ms`).join('; ')})`
    : '';
  return ` — ${lost.length} request(s) got no answer, neither a success nor a 429: ${lost.map((s) => `#${s.index}${s.stream ? ' (stream)' : ''}: ${s.error}`).join('; ')}${provider}`;
}

async function credential(): Promise<{ token?: string; headers?: Record<string, string> }> {
  if (limit.flavour === 'envoy-global') return { headers: { [limit.userHeader]: runId() } };
  const keyLimit = limit.keyLimit === undefined ? limit.limit : limit.keyLimit;
  const key = await createKey(capabilities.keys as KeyApi, target, keyLimit === null ? {} : { limit: keyLimit });
  return { token: key.key };
}

describe('ratelimit', () => {
  let shots: Shot[] = [];
  let upstream: JournalEntry[] = [];
  const replicas: Replica[] = target.replicas && target.replicas.length > 1 ? target.replicas : [];
  const urls = replicas.length ? replicas.map((r) => r.url) : [target.baseUrl];
  const size = limit.limit * urls.length + EXTRA;

  beforeAll(async () => {
    const cred = await credential();
    const before = target.mock ? Math.max(0, ...(await readJournal(target.mock.url)).map((e) => e.id)) : 0;
    shots = await burst(urls, size, cred);
    if (target.mock) upstream = (await readJournal(target.mock.url)).filter((e) => e.id > before && e.endpoint === 'chat');
  });

  test(`an exact burst of ${urls.length > 1 ? `limit×${urls.length}` : 'limit'}+${EXTRA} gives exactly limit successes, then 429s`, (ctx) => {
    ctx.task.meta.evidence = {
      rateLimitBurst: shots.map((s) => ({ index: s.index, status: s.res?.status ?? 0, stream: s.stream, atMs: s.atMs, endpoint: `#${urls.indexOf(s.url) + 1}` })),
    };
    const ok = withStatus(shots, 200);
    const limited = withStatus(shots, 429);
    expect(
      { successes: ok.length, limited: limited.length },
      `limit ${limit.limit}, ${shots.length} requests over ${urls.length} endpoint(s): ${table(shots)}${failedOpen(shots)}${noAnswers(shots, upstream)}`,
    ).toEqual({ successes: limit.limit, limited: size - limit.limit });
    // The successes come first: a limiter that lets a later request through after a 429 is broken.
    expect(shots.slice(0, limit.limit).every((s) => s.res?.status === 200), `${table(shots)}${noAnswers(shots, upstream)}`).toBe(true);
  });

  test('the 429 has the promised shape', () => {
    const limited = withStatus(shots, 429);
    expect(limited.length, `no 429 in the burst: ${table(shots)}`).toBeGreaterThan(0);
    for (const s of limited) {
      const where = `request #${s.index}${s.stream ? ' (streamed)' : ''}`;
      if (limit.flavour === 'litellm-window') {
        expect(Number(s.res.headers['retry-after']), `${where}: a windowed 429 must carry Retry-After; headers ${Object.keys(s.res.headers).join(', ')}`).toBeGreaterThan(0);
        expect(s.res.text, `${where}: the message should say the key's rate limit was exceeded`).toMatch(/rate limit/i);
      } else if (limit.flavour === 'lifetime-quota') {
        expect(s.res.json, `${where}: the quota 429 body`).toMatchObject({ code: 'rate_limit_exceeded' });
        expect(s.res.headers['retry-after'], `${where}: a lifetime quota never resets, so no Retry-After`).toBeUndefined();
      } else {
        expect(s.res.headers['x-envoy-ratelimited'], `${where}: Envoy marks its 429; headers ${Object.keys(s.res.headers).join(', ')}`).toBe('true');
        expect(s.res.text, `${where}: Envoy's rate-limit 429 has an empty body`).toBe('');
      }
    }
  });

  test('successes carry the remaining-requests headers', (ctx) => {
    if (limit.flavour === 'envoy-global') {
      // Envoy's rate-limit filter (draft-03 headers): one shared count, so remaining counts down across replicas
      const ok = withStatus(shots, 200);
      const seen = ok.map((s) => `#${s.index}: limit ${s.res.headers['x-ratelimit-limit'] ?? '-'}, remaining ${s.res.headers['x-ratelimit-remaining'] ?? '-'}`).join('; ');
      expect(ok.map((s) => s.res.headers['x-ratelimit-remaining']), seen).toEqual(ok.map((_, i) => String(limit.limit - 1 - i)));
      for (const s of ok) expect(s.res.headers['x-ratelimit-limit'], seen).toMatch(new RegExp(`^${limit.limit}(,|$)`));
      return;
    }
    if (limit.flavour !== 'litellm-window') return ctx.skip(`not applicable: the ${limit.flavour} limiter sends no x-ratelimit headers`);
    const ok = withStatus(shots, 200);
    expect(ok.length).toBeGreaterThan(0);
    for (const s of ok) {
      const names = Object.keys(s.res.headers);
      expect(names.some((n) => /^x-ratelimit-.*remaining-requests$/.test(n)), `request #${s.index}${s.stream ? ' (streamed)' : ''}: headers ${names.join(', ')}`).toBe(true);
      expect(names.some((n) => /^x-ratelimit-.*limit-requests$/.test(n)), `request #${s.index}${s.stream ? ' (streamed)' : ''}: headers ${names.join(', ')}`).toBe(true);
    }
  });

  test('another user id is not limited by the first one’s burst', async (ctx) => {
    if (limit.flavour !== 'envoy-global') return ctx.skip(`not applicable: the ${limit.flavour} limit is per key, not per user header`);
    const other = runId();
    const res = await http('POST', `${urls[0]}/v1/chat/completions`, {
      headers: { [limit.userHeader]: other },
      body: { model: target.model, messages: [{ role: 'user', content: 'another user' }] },
    });
    expect(res.status, `${limit.userHeader}: ${other} right after the burst of another user id: HTTP ${res.status} ${res.text.slice(0, 200)}`).toBe(200);
  });

  test('requests without the user header are never limited (what the chart promises)', async (ctx) => {
    if (limit.flavour !== 'envoy-global') return ctx.skip(`not applicable: the ${limit.flavour} limit has no user header`);
    // the chart's rule selects on the header (Distinct): without it no descriptor, no limit
    const statuses: number[] = [];
    for (let i = 0; i < limit.limit + EXTRA; i++) {
      const res = await http('POST', `${urls[i % urls.length]}/v1/chat/completions`, {
        body: { model: target.model, messages: [{ role: 'user', content: `anonymous ${i}` }] },
      });
      statuses.push(res.status);
    }
    expect(statuses, `${limit.limit + EXTRA} requests without ${limit.userHeader}`).toEqual(statuses.map(() => 200));
  });

  test('the limit holds across every replica and worker', (ctx) => {
    if (!limit.sharedAcrossReplicas) return ctx.skip(notApplicableNote('the profile promises a per-process limit only'));
    if (replicas.length < 2) return ctx.skip(environmentNote('only one replica or worker was reachable, so a shared limit could not be proven'));
    if (!target.mock) return ctx.skip(environmentNote('no mock journal, so which replica served a request cannot be told'));
    // From the gateway side: each replica's own IP in the provider's journal proves it served calls.
    const rows = replicas.map((r) => ({
      pod: r.pod,
      sent: shots.filter((s) => s.url === r.url).length,
      successes: withStatus(shots, 200).filter((s) => s.url === r.url).length,
      upstreamCalls: upstream.filter((e) => e.client === r.ip).length,
    }));
    const per = rows.map((r) => `${r.pod}: ${r.sent} sent, ${r.successes} succeeded, ${r.upstreamCalls} provider call(s) from its IP`).join('; ');
    const silent = rows.filter((r) => r.upstreamCalls === 0).map((r) => r.pod);
    expect(silent, `replicas whose IP never called the provider, so they did not serve this burst: ${per}`).toEqual([]);
    const total = rows.reduce((n, r) => n + r.successes, 0);
    // successes Envoy let through unasked say the limit failed open, not that it is per replica
    const unshared =
      failedOpen(shots) ||
      noAnswers(shots, upstream) ||
      (total === limit.limit * replicas.length ? ` — successes = limit × replicas (${limit.limit} × ${replicas.length}): each replica counts on its own, the limit is not shared (no shared store such as Redis?)` : '');
    expect(total, `total successes across ${replicas.length} replicas, for a limit of ${limit.limit}: ${per}${unshared}`).toBe(limit.limit);
  });
});
