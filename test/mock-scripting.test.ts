// Every scripted behaviour of the mock, by header and over the admin API, each checked so that the
// test fails if the behaviour breaks. Plain fetch here: these are wire-level facts.
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { describe, expect, test } from 'vitest';
import { fingerprint, maskedBearer } from '../mock/fingerprint.ts';
import { startMock } from '../mock/server.ts';
import { useMock } from './mock-fixture.ts';

const mock = useMock();

const CHAT = { model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] };
type ErrorEnvelope = { error: { message: string; type: string; param: string | null; code: string | null } };

async function post(path: string, headers: Record<string, string> = {}, body: unknown = CHAT) {
  const r = await fetch(`${mock().url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, headers: r.headers, text, json: <T = Record<string, unknown> & ErrorEnvelope>() => JSON.parse(text) as T };
}
const chat = (headers: Record<string, string> = {}, body: unknown = CHAT) => post('/v1/chat/completions', headers, body);

async function admin(method: string, path: string, body?: unknown) {
  const r = await fetch(`${mock().url}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> & ErrorEnvelope };
}

/** Raw SSE read with node:http: each socket read and when it arrived, plus how the stream ended. */
function readStream(headers: Record<string, string>, body: unknown = { ...CHAT, stream: true }) {
  return new Promise<{ events: { t: number; data: string }[]; error?: Error }>((resolve) => {
    const events: { t: number; data: string }[] = [];
    let buf = '';
    const req = request(`${mock().url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          events.push({ t: performance.now(), data: buf.slice(0, i).replace(/^data: /, '') });
          buf = buf.slice(i + 2);
        }
      });
      res.on('end', () => resolve({ events }));
      res.on('error', (error) => resolve({ events, error }));
    });
    req.on('error', (error) => resolve({ events, error }));
    req.end(JSON.stringify(body));
  });
}
const contentEvents = (events: { data: string }[]) =>
  events.filter((e) => e.data !== '[DONE]').map((e) => JSON.parse(e.data)).filter((c) => c.choices[0]?.delta?.content);

describe('scripting by request header', () => {
  test('x-mock-status: 2xx keeps the normal body, 4xx gets the matching OpenAI envelope', async () => {
    const ok = await chat({ 'x-mock-status': '201' });
    expect(ok.status).toBe(201);
    expect(ok.json().object).toBe('chat.completion');
    const unauth = await chat({ 'x-mock-status': '401' });
    expect(unauth.status).toBe(401);
    expect(unauth.json().error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_api_key' });
    const teapot = await chat({ 'x-mock-status': '418' });
    expect(teapot.status).toBe(418);
    expect(teapot.json().error.type).toBe('invalid_request_error');
  });

  test('x-mock-headers adds response headers and may override content-type', async () => {
    const r = await chat({ 'x-mock-headers': JSON.stringify({ 'x-ratelimit-remaining-tokens': '42', 'content-type': 'application/vnd.test+json' }) });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-ratelimit-remaining-tokens')).toBe('42');
    expect(r.headers.get('content-type')).toBe('application/vnd.test+json');
  });

  test('x-mock-body replaces the body byte for byte, with x-mock-status', async () => {
    const r = await chat({ 'x-mock-body': '{"custom" :  true}', 'x-mock-status': '202' });
    expect(r.status).toBe(202);
    expect(r.text).toBe('{"custom" :  true}');
  });

  test('x-mock-content sets the reply text and its usage', async () => {
    const r = await chat({ 'x-mock-content': 'exactly this, sixteen' });
    const j = r.json<{ choices: { message: { content: string } }[]; usage: { completion_tokens: number } }>();
    expect(j.choices[0]!.message.content).toBe('exactly this, sixteen');
    expect(j.usage.completion_tokens).toBe(6); // ceil(21 / 4)
  });

  test('x-mock-latency-ms delays the answer', async () => {
    const t0 = performance.now();
    const r = await chat({ 'x-mock-latency-ms': '250' });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(240);
    expect(r.status).toBe(200);
    expect(mock().journal.last()!.durationMs).toBeGreaterThanOrEqual(240);
  });

  test('x-mock-stream-chunks sets the number of content chunks', async () => {
    const { events } = await readStream({ 'x-mock-stream-chunks': '7', 'x-mock-stream-interval-ms': '0' });
    const chunks = contentEvents(events);
    expect(chunks).toHaveLength(7);
    expect(chunks.map((c) => c.choices[0].delta.content).join('')).toMatch(/^This is a mock reply to: hi( mock)*$/);
    expect(events.at(-1)!.data).toBe('[DONE]');
  });

  test('x-mock-stream-interval-ms spaces the chunks on the wire', async () => {
    const spread = async (interval: number) => {
      const { events } = await readStream({ 'x-mock-stream-chunks': '4', 'x-mock-stream-interval-ms': String(interval) });
      const times = events.filter((e) => e.data !== '[DONE]' && JSON.parse(e.data).choices[0]?.delta?.content).map((e) => e.t);
      expect(times).toHaveLength(4);
      return times.at(-1)! - times[0]!;
    };
    expect(await spread(80)).toBeGreaterThanOrEqual(3 * 80 * 0.8);
    expect(await spread(0)).toBeLessThan(60);
  });

  test('x-mock-stream-usage forces or suppresses the usage chunk', async () => {
    const hasUsage = (events: { data: string }[]) => events.some((e) => e.data !== '[DONE]' && JSON.parse(e.data).usage);
    const always = await readStream({ 'x-mock-stream-usage': 'always', 'x-mock-stream-interval-ms': '0' });
    expect(hasUsage(always.events)).toBe(true);
    const usageChunk = JSON.parse(always.events.at(-2)!.data);
    expect(usageChunk.choices).toEqual([]);
    const never = await readStream({ 'x-mock-stream-usage': 'never', 'x-mock-stream-interval-ms': '0' }, { ...CHAT, stream: true, stream_options: { include_usage: true } });
    expect(hasUsage(never.events)).toBe(false);
    const auto = await readStream({ 'x-mock-stream-interval-ms': '0' }, { ...CHAT, stream: true, stream_options: { include_usage: true } });
    expect(hasUsage(auto.events)).toBe(true);
  });

  test('x-mock-reset-after-chunks cuts the stream with a reset mid-way', async () => {
    const { events, error } = await readStream({ 'x-mock-stream-chunks': '5', 'x-mock-reset-after-chunks': '2', 'x-mock-stream-interval-ms': '20' });
    expect(error).toBeDefined();
    expect(contentEvents(events).length).toBeLessThanOrEqual(2);
    expect(events.some((e) => e.data === '[DONE]')).toBe(false);
    expect(mock().journal.last()).toMatchObject({ outcome: 'reset', status: 200 });
  });

  test('x-mock-scenario: rate-limit is a 429 with Retry-After (default 1) and the rate_limit_error envelope', async () => {
    const r = await chat({ 'x-mock-scenario': 'rate-limit' });
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('1');
    expect(r.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(r.json().error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded', param: null });
    expect(r.json().error.message).toContain('mock-gpt');
    const r2 = await chat({ 'x-mock-scenario': 'rate-limit', 'x-mock-retry-after': '30' });
    expect(r2.headers.get('retry-after')).toBe('30');
  });

  test('x-mock-scenario: server-error is a 500 (or the scripted 5xx)', async () => {
    const r = await chat({ 'x-mock-scenario': 'server-error' });
    expect(r.status).toBe(500);
    expect(r.json().error.type).toBe('server_error');
    expect((await chat({ 'x-mock-scenario': 'server-error', 'x-mock-status': '502' })).status).toBe(502);
  });

  test('x-mock-retry-after adds Retry-After to any scripted status', async () => {
    const r = await chat({ 'x-mock-status': '503', 'x-mock-retry-after': '5' });
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('5');
  });

  test('x-mock-scenario: reset destroys the connection', async () => {
    await expect(chat({ 'x-mock-scenario': 'reset' })).rejects.toThrow(/fetch failed/);
    expect(mock().journal.last()).toMatchObject({ outcome: 'reset', status: null });
  });

  test('x-mock-scenario: hang never answers, until the client gives up', async () => {
    const t0 = performance.now();
    await expect(
      fetch(`${mock().url}/v1/chat/completions`, { method: 'POST', headers: { 'x-mock-scenario': 'hang' }, body: JSON.stringify(CHAT), signal: AbortSignal.timeout(300) }),
    ).rejects.toThrow(/aborted|timeout/i);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(280);
    await expect.poll(() => mock().journal.last()?.durationMs ?? null).not.toBeNull(); // the disconnect was seen
    expect(mock().journal.last()).toMatchObject({ outcome: 'hang', status: null });
  });

  test('close() ends hanging requests instead of waiting for them', async () => {
    const other = await startMock({ quiet: true });
    const pending = fetch(`${other.url}/v1/chat/completions`, { method: 'POST', headers: { 'x-mock-scenario': 'hang' }, body: JSON.stringify(CHAT) });
    await expect.poll(() => other.journal.size).toBe(1);
    const t0 = performance.now();
    await other.close();
    await expect(pending).rejects.toThrow();
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  test('a malformed or unknown x-mock header is a loud 400 mock_invalid_script', async () => {
    const bad = [
      [{ 'x-mock-headers': 'not json' }, 'x-mock-headers'],
      [{ 'x-mock-status': 'abc' }, 'x-mock-status'],
      [{ 'x-mock-scenario': 'explode' }, 'x-mock-scenario'],
      [{ 'x-mock-latency-ms': '-5' }, 'x-mock-latency-ms'],
      [{ 'x-mock-statuss': '500' }, 'x-mock-statuss'],
    ] as const;
    for (const [headers, param] of bad) {
      const r = await chat(headers);
      expect(r.status, param).toBe(400);
      expect(r.json().error, param).toMatchObject({ type: 'mock_invalid_script', param });
    }
  });
});

describe('expectations on the incoming request', () => {
  test('x-mock-expect-path: match passes, mismatch fails loudly', async () => {
    expect((await chat({ 'x-mock-expect-path': '/v1/chat/completions' })).status).toBe(200);
    const r = await chat({ 'x-mock-expect-path': '/chat/completions' });
    expect(r.status).toBe(400);
    expect(r.headers.get('x-mock-expectation-failed')).toBe('path');
    expect(r.json().error).toMatchObject({ type: 'mock_expectation_failed', code: 'mock_expectation_failed' });
    // with a query string, the query is compared too
    expect((await post('/v1/chat/completions?api-version=1', { 'x-mock-expect-path': '/v1/chat/completions?api-version=1' })).status).toBe(200);
    expect((await post('/v1/chat/completions?api-version=2', { 'x-mock-expect-path': '/v1/chat/completions?api-version=1' })).status).toBe(400);
  });

  test('x-mock-expect-headers: exact values, presence and absence', async () => {
    const exp = JSON.stringify({ 'x-tenant': 'acme', 'x-trace': true, 'x-debug': false });
    expect((await chat({ 'x-mock-expect-headers': exp, 'x-tenant': 'acme', 'x-trace': '1' })).status).toBe(200);
    const r = await chat({ 'x-mock-expect-headers': exp, 'x-tenant': 'other', 'x-debug': '1' });
    expect(r.status).toBe(400);
    expect(r.headers.get('x-mock-expectation-failed')).toBe('header:x-tenant, header:x-trace, header:x-debug');
    expect(r.json().error.message).toContain('header x-tenant: expected "acme", got "other"');
    const entry = mock().journal.last()!;
    expect(entry.status).toBe(400);
    expect(entry.expectationFailures).toHaveLength(3);
  });

  test('secret header expectations compare by fingerprint and never echo the secret', async () => {
    const provider = 'sk-provider-0123456789';
    // The raw value, or its masked form (so a suite need not send the secret through a gateway).
    for (const expected of [`Bearer ${provider}`, maskedBearer(provider)]) {
      const exp = JSON.stringify({ authorization: expected });
      expect((await chat({ 'x-mock-expect-headers': exp, authorization: `Bearer ${provider}` })).status).toBe(200);
      const r = await chat({ 'x-mock-expect-headers': exp, authorization: 'Bearer sk-client-999' });
      expect(r.status).toBe(400);
      expect(r.headers.get('x-mock-expectation-failed')).toBe('header:authorization');
      expect(r.text).toContain(`Bearer ***fp:${fingerprint('sk-client-999')}`);
      expect(r.text).toContain(`Bearer ***fp:${fingerprint(provider)}`);
      expect(r.text).not.toContain('sk-client-999');
      expect(r.text).not.toContain(provider);
    }
    const journal = JSON.stringify((await admin('GET', '/__mock/journal')).json);
    expect(journal).not.toContain(provider);
    expect(journal).not.toContain('sk-client-999');
  });

  test('x-mock-absent-headers: present ones fail, named in the response header', async () => {
    expect((await chat({ 'x-mock-absent-headers': 'x-client-key, cookie' })).status).toBe(200);
    const r = await chat({ 'x-mock-absent-headers': 'x-client-key, cookie', 'x-client-key': 'ck-secret-1' });
    expect(r.status).toBe(400);
    expect(r.headers.get('x-mock-expectation-failed')).toBe('absent:x-client-key');
    expect(r.text).not.toContain('ck-secret-1');
    expect(r.text).toContain(`***fp:${fingerprint('ck-secret-1')}`);
  });
});

describe('scripting over the admin API', () => {
  test('rules apply to the next N matching requests, in order, then stop', async () => {
    const added = await admin('POST', '/__mock/script', [{ match: { path: '/v1/chat/completions' }, status: 503, times: 2 }]);
    expect(added.status).toBe(201);
    expect(added.json).toMatchObject({ pending: 1 });
    // A request to another path neither matches nor consumes the rule.
    expect((await post('/v1/embeddings', {}, { model: 'e', input: 'x' })).status).toBe(200);
    expect((await chat()).status).toBe(503);
    // The path matches with or without /v1 (gateways strip it).
    expect((await post('/chat/completions')).status).toBe(503);
    expect((await chat()).status).toBe(200);
    const id = (added.json.added as { id: number }[])[0]!.id;
    expect(mock().journal.entries().map((e) => e.rule)).toEqual([null, id, id, null]);
  });

  test('match by model and endpoint; rules are consumed first-match-first', async () => {
    await admin('POST', '/__mock/script', {
      rules: [
        { match: { model: 'model-b' }, scenario: 'rate-limit', retryAfter: 9 },
        { match: { endpoint: 'chat' }, content: 'scripted reply' },
      ],
    });
    const a = await chat({}, { ...CHAT, model: 'model-a' });
    expect(a.json<{ choices: { message: { content: string } }[] }>().choices[0]!.message.content).toBe('scripted reply');
    const b = await chat({}, { ...CHAT, model: 'model-b' });
    expect(b.status).toBe(429);
    expect(b.headers.get('retry-after')).toBe('9');
    expect((await admin('GET', '/__mock/script')).json.rules).toEqual([]);
  });

  test('times: "unlimited" lasts until DELETE /__mock/script', async () => {
    await admin('POST', '/__mock/script', { scenario: 'server-error', times: 'unlimited' });
    for (let i = 0; i < 3; i++) expect((await chat()).status).toBe(500);
    expect(await admin('DELETE', '/__mock/script')).toMatchObject({ status: 200, json: { cleared: 1 } });
    expect((await chat()).status).toBe(200);
  });

  test('request headers override an admin rule field by field', async () => {
    await admin('POST', '/__mock/script', { status: 503, headers: { 'x-from': 'rule' } });
    const r = await chat({ 'x-mock-status': '202' });
    expect(r.status).toBe(202);
    expect(r.headers.get('x-from')).toBe('rule');
  });

  test('admin-scripted reset, hang-free latency, streams and expectations (for gateways that drop x-mock-* headers)', async () => {
    await admin('POST', '/__mock/script', [
      { scenario: 'reset' },
      { latencyMs: 150 },
      { streamChunks: 3, streamIntervalMs: 40 },
      { expectHeaders: { authorization: maskedBearer('sk-provider') }, absentHeaders: ['x-client-key'] },
    ]);
    await expect(chat()).rejects.toThrow(/fetch failed/);
    const t0 = performance.now();
    expect((await chat()).status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
    const { events } = await readStream({});
    const times = contentEvents(events);
    expect(times).toHaveLength(3);
    const r = await chat({ authorization: 'Bearer sk-client', 'x-client-key': 'x' });
    expect(r.status).toBe(400);
    expect(r.headers.get('x-mock-expectation-failed')).toBe('header:authorization, absent:x-client-key');
  });

  test('GET /__mock/script lists pending rules with expected secrets masked; replace=true swaps them', async () => {
    await admin('POST', '/__mock/script', { expectHeaders: { 'x-api-key': 'sk-raw-secret' }, times: 3 });
    const listed = await admin('GET', '/__mock/script');
    expect(JSON.stringify(listed.json)).not.toContain('sk-raw-secret');
    expect(listed.json.rules).toMatchObject([{ remaining: 3, expectHeaders: { 'x-api-key': `***fp:${fingerprint('sk-raw-secret')}` } }]);
    await admin('POST', '/__mock/script?replace=true', { status: 204 });
    expect(listed.json.rules).toHaveLength(1);
    expect((await admin('GET', '/__mock/script')).json.rules).toMatchObject([{ status: 204, remaining: 1 }]);
  });

  test('an invalid rule is rejected whole with the offending field named', async () => {
    const r = await admin('POST', '/__mock/script', [{ status: 200 }, { scenario: 'boom' }]);
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ type: 'mock_invalid_script', param: 'rules[1].scenario' });
    expect((await admin('POST', '/__mock/script', [{ statuss: 500 }])).json.error.param).toBe('rules[0].statuss');
    expect((await admin('POST', '/__mock/script', [{ match: { paths: '/x' } }])).json.error.param).toBe('rules[0].match.paths');
    const notJson = await fetch(`${mock().url}/__mock/script`, { method: 'POST', body: '{nope' });
    expect(notJson.status).toBe(400);
    expect((await admin('GET', '/__mock/script')).json.rules).toEqual([]);
  });
});

describe('example rule files (fixtures/mock/rules)', () => {
  const dir = new URL('../fixtures/mock/rules/', import.meta.url);
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

  test.each(files)('%s is accepted by POST /__mock/script', async (file) => {
    const r = await admin('POST', '/__mock/script', JSON.parse(readFileSync(new URL(file, dir), 'utf8')));
    expect(r.status, JSON.stringify(r.json)).toBe(201);
  });

  test('provider-key.json passes the provider key and rejects the client key', async () => {
    await admin('POST', '/__mock/script', JSON.parse(readFileSync(new URL('provider-key.json', dir), 'utf8')));
    expect((await chat({ authorization: 'Bearer sk-provider-example' })).status).toBe(200);
    const r = await chat({ authorization: 'Bearer sk-provider-example', 'x-client-key': 'ck' });
    expect(r.headers.get('x-mock-expectation-failed')).toBe('absent:x-client-key');
    expect((await chat({ authorization: 'Bearer sk-client' })).headers.get('x-mock-expectation-failed')).toBe('header:authorization');
  });
});
