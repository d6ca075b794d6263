// Rate limiting: an exact burst (limit + k, no client retries) on a fresh key gives exactly
// `limit` successes, then 429s in the profile's shape. A fresh key per run, so re-runs never share
// a window. Where the limit is promised across replicas, the burst is spread over every pod, and the
// mock's journal (which pod IP called the provider) proves each replica really served its share.
import { beforeAll, describe, expect } from 'vitest';
import type { KeyApi, RateLimitCapability } from '../scripts/profiles/types.ts';
import type { Replica } from '../scripts/targets/types.ts';
import type { JournalEntry } from '../mock/journal.ts';
import { cause, check } from './lib/check.ts';
import { environmentNote, suiteContext } from './lib/context.ts';
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

/** The provider's journal entry for a shot: the request whose prompt was this shot's (`burst <i>`). */
function upstreamOf(shot: Shot, upstream: JournalEntry[]): JournalEntry | undefined {
  const prompt = `burst ${shot.index}`;
  return upstream.find((e) => (e.body as { messages?: { content?: unknown }[] } | null)?.messages?.some((m) => m.content === prompt));
}

/** How a 429 differs from the shape the profile promises, as causes (empty when it matches). */
function shapeProblems(res: HttpResult): { kind: 'header-missing' | 'header-present' | 'shape'; detail: string }[] {
  const problems: { kind: 'header-missing' | 'header-present' | 'shape'; detail: string }[] = [];
  if (limit.flavour === 'litellm-window') {
    if (!(Number(res.headers['retry-after']) > 0)) problems.push({ kind: 'header-missing', detail: 'a windowed 429 must carry Retry-After' });
    if (!/rate limit/i.test(res.text)) problems.push({ kind: 'shape', detail: "the message does not say the key's rate limit was exceeded" });
  } else if (limit.flavour === 'lifetime-quota') {
    if ((res.json as { code?: unknown } | undefined)?.code !== 'rate_limit_exceeded') problems.push({ kind: 'shape', detail: 'the body lacks code: rate_limit_exceeded' });
    if (res.headers['retry-after'] !== undefined) problems.push({ kind: 'header-present', detail: 'a lifetime quota never resets, yet the 429 carries Retry-After' });
  } else {
    if (res.headers['x-envoy-ratelimited'] !== 'true') problems.push({ kind: 'header-missing', detail: 'Envoy marks its 429 with x-envoy-ratelimited: true' });
    if (res.text !== '') problems.push({ kind: 'shape', detail: "Envoy's rate-limit 429 has an empty body" });
  }
  return problems;
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

  check('ratelimit.burst-answered', `every request of an exact burst (${urls.length > 1 ? `limit×${urls.length}` : 'limit'}+${EXTRA}) got an answer`, (ctx) => {
    ctx.task.meta.evidence = {
      rateLimitBurst: shots.map((s) => ({ index: s.index, status: s.res?.status ?? 0, stream: s.stream, atMs: s.atMs, endpoint: `#${urls.indexOf(s.url) + 1}` })),
    };
    const lost = shots.filter((s) => s.error);
    for (const s of lost) {
      const up = upstreamOf(s, upstream);
      cause(ctx, 'no-answer', `#${s.index}${s.stream ? ' (stream)' : ''}: ${s.error}`, {
        index: s.index,
        stream: s.stream,
        // the provider's side: 'aborted' is an answer the gateway cut off while the provider was still sending
        providerOutcome: up?.outcome ?? 'not seen by the provider',
        ...(up?.durationMs == null ? {} : { providerMs: Math.round(up.durationMs) }),
      });
    }
    expect(lost.length, `${lost.length} of ${shots.length} requests got no answer, neither a success nor a 429: ${table(shots)}${noAnswers(shots, upstream)}`).toBe(0);
  });

  check('ratelimit.burst-exact', 'among the answered requests exactly limit successes, in order, then 429s', (ctx) => {
    const answered = shots.filter((s): s is Answered => s.res !== undefined);
    const ok = withStatus(shots, 200);
    const limited = withStatus(shots, 429);
    // A request lost before the first 429 may have used a slot (counted, then its answer cut off):
    // it lowers the successes expected by one, and never raises them.
    const firstLimited = limited[0]?.index ?? Number.POSITIVE_INFINITY;
    const lostBefore = shots.filter((s) => s.error && s.index < firstLimited).length;
    const fewest = Math.max(0, limit.limit - lostBefore);
    const seen = `limit ${limit.limit}, ${shots.length} requests over ${urls.length} endpoint(s), ${answered.length} answered: ${table(shots)}${failedOpen(shots)}`;
    const other = answered.filter((s) => s.res.status !== 200 && s.res.status !== 429);
    if (other.length) cause(ctx, 'status', `answers neither a success nor a 429: ${other.map((s) => `#${s.index} → ${s.res.status}`).join(', ')}`, { statuses: other.map((s) => ({ index: s.index, status: s.res.status })) });
    if (ok.length < fewest || ok.length > limit.limit) {
      cause(ctx, 'count', `${ok.length} successes for a limit of ${limit.limit}${lostBefore ? ` (${lostBefore} request(s) lost before the first 429, so at least ${fewest})` : ''}${failedOpen(shots)}`, {
        limit: limit.limit,
        successes: ok.length,
        limited: limited.length,
        answered: answered.length,
        lostBeforeLimit: lostBefore,
      });
    }
    // The successes come first: a limiter that lets a later request through after a 429 is broken.
    const lateSuccess = ok.filter((s) => s.index > firstLimited);
    if (lateSuccess.length) cause(ctx, 'order', `successes after the first 429 (#${firstLimited}): ${lateSuccess.map((s) => `#${s.index}`).join(', ')}`, { firstLimited, lateSuccesses: lateSuccess.map((s) => s.index) });
    expect(other.map((s) => s.index), `answers neither 200 nor 429 — ${seen}`).toEqual([]);
    expect(ok.length >= fewest && ok.length <= limit.limit, `${ok.length} successes, expected ${fewest === limit.limit ? limit.limit : `${fewest}–${limit.limit}`} — ${seen}`).toBe(true);
    expect(lateSuccess.map((s) => s.index), `successes after the first 429 — ${seen}`).toEqual([]);
  });

  check('ratelimit.429-shape', 'the 429 has the promised shape', (ctx) => {
    const limited = withStatus(shots, 429);
    if (!limited.length) cause(ctx, 'count', 'no 429 in the burst', { statuses: shots.map((s) => s.res?.status ?? 0) });
    expect(limited.length, `no 429 in the burst: ${table(shots)}`).toBeGreaterThan(0);
    for (const s of limited) {
      const where = `request #${s.index}${s.stream ? ' (streamed)' : ''}`;
      for (const problem of shapeProblems(s.res)) cause(ctx, problem.kind, `${where}: ${problem.detail}`, { index: s.index, headers: Object.keys(s.res.headers) });
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

  check('ratelimit.remaining-headers', 'successes carry the remaining-requests headers', (ctx) => {
    if (limit.flavour === 'envoy-global') {
      // Envoy's rate-limit filter (draft-03 headers): one shared count, so remaining counts down across replicas
      const ok = withStatus(shots, 200);
      if (ok.some((s) => s.res.headers['x-ratelimit-remaining'] === undefined)) cause(ctx, 'header-missing', 'successes without x-ratelimit-remaining', { indexes: ok.filter((s) => s.res.headers['x-ratelimit-remaining'] === undefined).map((s) => s.index) });
      const seen = ok.map((s) => `#${s.index}: limit ${s.res.headers['x-ratelimit-limit'] ?? '-'}, remaining ${s.res.headers['x-ratelimit-remaining'] ?? '-'}`).join('; ');
      expect(ok.map((s) => s.res.headers['x-ratelimit-remaining']), seen).toEqual(ok.map((_, i) => String(limit.limit - 1 - i)));
      for (const s of ok) expect(s.res.headers['x-ratelimit-limit'], seen).toMatch(new RegExp(`^${limit.limit}(,|$)`));
      return;
    }
    const ok = withStatus(shots, 200);
    expect(ok.length).toBeGreaterThan(0);
    for (const s of ok) {
      const names = Object.keys(s.res.headers);
      if (!names.some((n) => /^x-ratelimit-.*remaining-requests$/.test(n)) || !names.some((n) => /^x-ratelimit-.*limit-requests$/.test(n))) {
        cause(ctx, 'header-missing', `request #${s.index}${s.stream ? ' (streamed)' : ''} lacks x-ratelimit-*-remaining-requests / -limit-requests`, { index: s.index, stream: s.stream, headers: names });
      }
      expect(names.some((n) => /^x-ratelimit-.*remaining-requests$/.test(n)), `request #${s.index}${s.stream ? ' (streamed)' : ''}: headers ${names.join(', ')}`).toBe(true);
      expect(names.some((n) => /^x-ratelimit-.*limit-requests$/.test(n)), `request #${s.index}${s.stream ? ' (streamed)' : ''}: headers ${names.join(', ')}`).toBe(true);
    }
  });

  check('ratelimit.other-user-unaffected', 'another user id is not limited by the first one’s burst', async (ctx) => {
    if (limit.flavour !== 'envoy-global') throw new Error(`the profile claims ratelimit.per-user-header, but its ${limit.flavour} limit names no user header`);
    const other = runId();
    const res = await http('POST', `${urls[0]}/v1/chat/completions`, {
      headers: { [limit.userHeader]: other },
      body: { model: target.model, messages: [{ role: 'user', content: 'another user' }] },
    });
    if (res.status !== 200) cause(ctx, 'status', `another user id was answered ${res.status}`, { expected: 200, got: res.status });
    expect(res.status, `${limit.userHeader}: ${other} right after the burst of another user id: HTTP ${res.status} ${res.text.slice(0, 200)}`).toBe(200);
  });

  check('ratelimit.no-header-unlimited', 'requests without the user header are never limited (what the chart promises)', async (ctx) => {
    if (limit.flavour !== 'envoy-global') throw new Error(`the profile claims ratelimit.per-user-header, but its ${limit.flavour} limit names no user header`);
    // the chart's rule selects on the header (Distinct): without it no descriptor, no limit
    const statuses: number[] = [];
    for (let i = 0; i < limit.limit + EXTRA; i++) {
      const res = await http('POST', `${urls[i % urls.length]}/v1/chat/completions`, {
        body: { model: target.model, messages: [{ role: 'user', content: `anonymous ${i}` }] },
      });
      statuses.push(res.status);
    }
    if (statuses.some((st) => st !== 200)) cause(ctx, 'status', 'a request without the user header was not answered 200', { statuses });
    expect(statuses, `${limit.limit + EXTRA} requests without ${limit.userHeader}`).toEqual(statuses.map(() => 200));
  });

  check('ratelimit.shared-across-replicas', 'the limit holds across every replica and worker', (ctx) => {
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
    if (silent.length) cause(ctx, 'not-served', `replicas that served none of the burst: ${silent.join(', ')}`, { rows });
    expect(silent, `replicas whose IP never called the provider, so they did not serve this burst: ${per}`).toEqual([]);
    const total = rows.reduce((n, r) => n + r.successes, 0);
    // the same tolerance as the burst: a request lost before the first 429 may have used a slot
    const firstLimited = withStatus(shots, 429)[0]?.index ?? Number.POSITIVE_INFINITY;
    const fewest = Math.max(0, limit.limit - shots.filter((s) => s.error && s.index < firstLimited).length);
    // successes Envoy let through unasked say the limit failed open, not that it is per replica
    const unshared =
      failedOpen(shots) ||
      noAnswers(shots, upstream) ||
      (total === limit.limit * replicas.length ? ` — successes = limit × replicas (${limit.limit} × ${replicas.length}): each replica counts on its own, the limit is not shared (no shared store such as Redis?)` : '');
    if (total < fewest || total > limit.limit) cause(ctx, 'count', `${total} successes across ${replicas.length} replicas for a shared limit of ${limit.limit}${unshared}`, { limit: limit.limit, total, rows });
    expect(total >= fewest && total <= limit.limit, `total successes across ${replicas.length} replicas (${total}), for a limit of ${limit.limit}: ${per}${unshared}`).toBe(true);
  });
});
