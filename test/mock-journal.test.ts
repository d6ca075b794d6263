// The journal testifies what the gateway sent upstream: it must record every request, mask every
// secret down to a fingerprint, and be queryable and clearable over the admin API.
import OpenAI from 'openai';
import { describe, expect, test } from 'vitest';
import { fingerprint, maskedBearer, maskSecret } from '../mock/fingerprint.ts';
import type { JournalEntry } from '../mock/journal.ts';
import { startMock } from '../mock/server.ts';
import { useMock } from './mock-fixture.ts';

const mock = useMock();

type JournalResponse = { entries: JournalEntry[]; lastId: number; size: number; capacity: number; dropped: number };
async function journal(query = ''): Promise<{ text: string; body: JournalResponse }> {
  const r = await fetch(`${mock().url}/__mock/journal${query}`);
  expect(r.status).toBe(200);
  const text = await r.text();
  return { text, body: JSON.parse(text) as JournalResponse };
}
const CHAT = JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] });
const chat = (headers: Record<string, string> = {}, path = '/v1/chat/completions') =>
  fetch(`${mock().url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: CHAT });

describe('fingerprints', () => {
  test('fingerprint is the first 12 hex chars of sha256 of the bare secret', () => {
    expect(fingerprint('abc')).toBe('ba7816bf8f01'); // sha256("abc") = ba7816bf8f01cfea...
    expect(maskedBearer('abc')).toBe('Bearer ***fp:ba7816bf8f01');
    expect(maskSecret('Bearer abc')).toBe('Bearer ***fp:ba7816bf8f01');
    expect(maskSecret('abc', false)).toBe('***fp:ba7816bf8f01');
    expect(maskSecret('Bearer abc', false)).toBe('Bearer ***fp:ba7816bf8f01');
  });
});

describe('request journal', () => {
  test('records the SDK request with the key masked to a fingerprint, never the raw key', async () => {
    const key = 'sk-client-SUPER-secret-0001';
    const client = new OpenAI({ baseURL: `${mock().url}/v1`, apiKey: key, maxRetries: 0 });
    await client.chat.completions.create({ model: 'gpt-x', stream: false, messages: [{ role: 'user', content: 'journal me' }] });
    const { text, body } = await journal();
    expect(text).not.toContain(key);
    expect(text).not.toContain('SUPER-secret');
    expect(body.entries).toHaveLength(1);
    const e = body.entries[0]!;
    expect(e.headers.authorization).toBe(`Bearer ***fp:${fingerprint(key)}`);
    expect(e).toMatchObject({
      method: 'POST',
      path: '/v1/chat/completions',
      endpoint: 'chat',
      model: 'gpt-x',
      stream: false,
      status: 200,
      outcome: 'answered',
      body: { model: 'gpt-x', messages: [{ role: 'user', content: 'journal me' }] },
      rule: null,
      expectationFailures: [],
      // The caller's address, as the socket saw it: this is how a suite tells gateway replicas apart.
      client: '127.0.0.1',
    });
    expect(e.headers['content-type']).toBe('application/json');
    expect(Date.parse(e.time)).toBeGreaterThan(Date.now() - 60_000);
    expect(e.durationMs).toBeGreaterThanOrEqual(0);
  });

  test('masks every secret-looking header and query parameter, keeps the rest verbatim', async () => {
    const secrets = {
      'x-api-key': 'xk-1111',
      'api-key': 'azure-2222',
      'x-goog-api-key': 'goog-3333',
      'proxy-authorization': 'Basic cHJveHk6NDQ0NA==',
      'x-litellm-token': 'tok-5555',
      'x-client-secret': 'sec-6666',
      cookie: 'session=cookie-7777',
    };
    await chat({ ...secrets, 'x-tenant': 'acme', 'x-mock-expect-headers': JSON.stringify({ 'x-api-key': 'xk-1111', 'x-tenant': 'acme' }) }, '/v1/chat/completions?key=qk-8888&api-version=2024');
    const { text, body } = await journal();
    for (const raw of [...Object.values(secrets), 'cHJveHk6NDQ0NA', 'qk-8888']) expect(text).not.toContain(raw);
    const e = body.entries[0]!;
    expect(e.status).toBe(200); // the expectation held
    expect(e.headers['x-api-key']).toBe(`***fp:${fingerprint('xk-1111')}`);
    expect(e.headers['api-key']).toBe(`***fp:${fingerprint('azure-2222')}`);
    expect(e.headers['x-goog-api-key']).toBe(`***fp:${fingerprint('goog-3333')}`);
    expect(e.headers['proxy-authorization']).toBe(`Basic ***fp:${fingerprint('cHJveHk6NDQ0NA==')}`);
    expect(e.headers['x-litellm-token']).toBe(`***fp:${fingerprint('tok-5555')}`);
    expect(e.headers['x-client-secret']).toBe(`***fp:${fingerprint('sec-6666')}`);
    expect(e.headers.cookie).toBe(`***fp:${fingerprint('session=cookie-7777')}`);
    expect(e.headers['x-tenant']).toBe('acme');
    expect(JSON.parse(e.headers['x-mock-expect-headers']!)).toEqual({ 'x-api-key': `***fp:${fingerprint('xk-1111')}`, 'x-tenant': 'acme' });
    expect(e.query).toEqual({ key: `***fp:${fingerprint('qk-8888')}`, 'api-version': '2024' });
  });

  test('x-mock-request-id on every response names its journal entry', async () => {
    const responses = [
      await chat(),
      await chat({ 'x-mock-scenario': 'rate-limit' }),
      await chat({ 'x-mock-expect-path': '/nope' }),
      await chat({}, '/v1/unknown'),
      await fetch(`${mock().url}/v1/models`),
      await chat({}, '/v1/chat/completions'.replace('/v1', '')),
    ];
    const stream = await fetch(`${mock().url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ ...JSON.parse(CHAT), stream: true }) });
    await stream.text();
    responses.push(stream);
    const { body } = await journal();
    expect(body.entries).toHaveLength(responses.length);
    responses.forEach((r, i) => {
      const id = r.headers.get('x-mock-request-id');
      expect(id, `response ${i}`).not.toBeNull();
      const entry = body.entries.find((e) => e.id === Number(id))!;
      expect(entry.status, `response ${i}`).toBe(r.status);
    });
    expect(new Set(responses.map((r) => r.headers.get('x-mock-request-id'))).size).toBe(responses.length);
  });

  test('since, filters and limit select entries; DELETE clears but ids keep growing', async () => {
    await chat();
    const mark = mock().journal.lastId;
    await chat({}, '/chat/completions');
    await fetch(`${mock().url}/v1/embeddings`, { method: 'POST', body: JSON.stringify({ model: 'mock-embed', input: 'x' }) });
    await chat({ 'x-mock-status': '500' });
    expect((await journal(`?since=${mark}`)).body.entries.map((e) => e.id)).toEqual([mark + 1, mark + 2, mark + 3]);
    expect((await journal('?path=/chat/completions')).body.entries).toHaveLength(1);
    expect((await journal('?endpoint=chat')).body.entries).toHaveLength(3);
    expect((await journal('?model=mock-embed')).body.entries.map((e) => e.endpoint)).toEqual(['embeddings']);
    expect((await journal('?status=500')).body.entries).toHaveLength(1);
    expect((await journal('?method=post&limit=2')).body.entries.map((e) => e.id)).toEqual([mark + 2, mark + 3]);
    const bad = await fetch(`${mock().url}/__mock/journal?since=abc`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { param: string } }).error.param).toBe('since');
    expect((await fetch(`${mock().url}/__mock/journal?bogus=1`)).status).toBe(400);

    const del = await fetch(`${mock().url}/__mock/journal`, { method: 'DELETE' });
    expect(await del.json()).toMatchObject({ cleared: 4 });
    expect((await journal()).body.entries).toEqual([]);
    await chat();
    expect((await journal()).body.entries.map((e) => e.id)).toEqual([mark + 4]);
  });

  test('admin and health requests are not journaled; health answers 200 JSON on both paths', async () => {
    for (const path of ['/healthz', '/__mock/health']) {
      const r = await fetch(`${mock().url}${path}`);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('application/json');
      expect(await r.json()).toMatchObject({ status: 'ok' });
    }
    await fetch(`${mock().url}/__mock/script`);
    await journal();
    expect((await journal()).body.entries).toEqual([]);
    expect((await fetch(`${mock().url}/__mock/nope`)).status).toBe(404);
    // POST /__mock/reset clears the journal and the scripts at once
    await chat();
    await fetch(`${mock().url}/__mock/script`, { method: 'POST', body: '{"status": 500}' });
    const reset = await fetch(`${mock().url}/__mock/reset`, { method: 'POST' });
    expect(await reset.json()).toEqual({ journalCleared: 1, scriptsCleared: 1 });
    expect((await chat()).status).toBe(200);
    expect((await fetch(`${mock().url}/__mock/journal`, { method: 'PUT' })).status).toBe(405);
  });

  test('bodies: JSON parsed, other text kept as text, oversized ones only counted', async () => {
    const small = await startMock({ quiet: true, maxBodyBytes: 1 << 22 });
    try {
      await fetch(`${small.url}/v1/chat/completions`, { method: 'POST', body: 'plain text, not json' });
      const big = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x'.repeat(2 << 20) }] });
      const r = await fetch(`${small.url}/v1/chat/completions`, { method: 'POST', body: big });
      expect(r.status).toBe(200);
      const huge = await fetch(`${small.url}/v1/chat/completions`, { method: 'POST', body: 'x'.repeat(5 << 20) });
      expect(huge.status).toBe(413);
      const [text, large, tooLarge] = small.journal.entries();
      expect(text).toMatchObject({ body: 'plain text, not json', status: 400 });
      expect(large).toMatchObject({ body: null, bodyBytes: big.length, model: 'm', status: 200 });
      expect(tooLarge).toMatchObject({ body: null, bodyBytes: 5 << 20, status: 413 });
    } finally {
      await small.close();
    }
  });

  // Bodies and header values are memoised (parse once, keep one copy): repeats must still be
  // answered and journaled each on their own, and a bad body stays bad the second time.
  test('repeated identical requests are each answered and journaled as themselves', async () => {
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await chat({ 'x-trace': 'same' }));
    const bad = [];
    for (let i = 0; i < 2; i++) bad.push(await fetch(`${mock().url}/v1/chat/completions`, { method: 'POST', body: '{"model": "m", oops' }));
    const ids = await Promise.all(answers.map(async (r) => ((await r.json()) as { id: string }).id));
    expect(new Set(ids).size).toBe(3);
    expect(bad.map((r) => r.status)).toEqual([400, 400]);
    const entries = mock().journal.entries();
    expect(entries).toHaveLength(5);
    for (const e of entries.slice(0, 3)) {
      expect(e).toMatchObject({ status: 200, model: 'mock-gpt', headers: { 'x-trace': 'same' }, body: JSON.parse(CHAT) });
    }
    for (const e of entries.slice(3)) expect(e).toMatchObject({ status: 400, body: '{"model": "m", oops', model: null });
  });

  test('the journal is a bounded ring: oldest entries drop out', async () => {
    const small = await startMock({ quiet: true, journalSize: 3 });
    try {
      for (let i = 0; i < 5; i++) await fetch(`${small.url}/v1/models`);
      const r = (await (await fetch(`${small.url}/__mock/journal`)).json()) as JournalResponse;
      expect(r.entries.map((e) => e.id)).toEqual([3, 4, 5]);
      expect(r).toMatchObject({ size: 3, capacity: 3, dropped: 2, lastId: 5 });
    } finally {
      await small.close();
    }
  });

  test('a client that leaves before the answer is journaled as aborted', async () => {
    await expect(
      fetch(`${mock().url}/v1/chat/completions`, { method: 'POST', headers: { 'x-mock-latency-ms': '2000' }, body: CHAT, signal: AbortSignal.timeout(100) }),
    ).rejects.toThrow();
    await expect.poll(() => mock().journal.last()?.outcome).toBe('aborted');
    expect(mock().journal.last()!.status).toBeNull();
  });
});
