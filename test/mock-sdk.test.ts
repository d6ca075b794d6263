// The official openai SDK as the first client of the mock: if the SDK is happy, gateways that speak
// OpenAI upstream will be too.
import OpenAI, { AzureOpenAI, APIConnectionError, APIConnectionTimeoutError, BadRequestError, InternalServerError, RateLimitError } from 'openai';
import { beforeAll, describe, expect, test } from 'vitest';
import { fingerprint } from '../mock/fingerprint.ts';
import { useMock } from './mock-fixture.ts';

const mock = useMock();
let client: OpenAI;

beforeAll(() => {
  client = new OpenAI({ baseURL: `${mock().url}/v1`, apiKey: 'sk-test-client', maxRetries: 0, timeout: 10_000 });
});

/** What the SDK threw (fails the test if it did not throw). */
async function thrown(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

describe('openai SDK against the mock', () => {
  test('lists models', async () => {
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toEqual(['mock-gpt', 'mock-gpt-mini', 'mock-embed']);
    const one = await client.models.retrieve('any-model-name');
    expect(one).toMatchObject({ id: 'any-model-name', object: 'model' });
  });

  test('non-streaming chat completion echoes the model and the user message, with usage', async () => {
    const r = await client.chat.completions.create({
      model: 'gpt-4o-anything',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hello there' },
      ],
    });
    expect(r.object).toBe('chat.completion');
    expect(r.model).toBe('gpt-4o-anything');
    expect(r.choices).toHaveLength(1);
    expect(r.choices[0]!.message).toMatchObject({ role: 'assistant', content: 'This is a mock reply to: hello there' });
    expect(r.choices[0]!.finish_reason).toBe('stop');
    // 3 priming + (4 + ceil(8/4)) + (4 + ceil(11/4)) = 3 + 6 + 7
    expect(r.usage).toMatchObject({ prompt_tokens: 16, completion_tokens: 9, total_tokens: 25 });
  });

  test('usage is deterministic for the same request and grows with the prompt', async () => {
    const req = { model: 'mock-gpt', messages: [{ role: 'user' as const, content: 'determinism please' }] };
    const a = await client.chat.completions.create(req);
    const b = await client.chat.completions.create(req);
    expect(b.usage).toEqual(a.usage);
    expect(b.choices[0]!.message.content).toBe(a.choices[0]!.message.content);
    const longer = await client.chat.completions.create({ ...req, messages: [{ role: 'user', content: 'determinism please '.repeat(20) }] });
    expect(longer.usage!.prompt_tokens).toBeGreaterThan(a.usage!.prompt_tokens + 50);
  });

  test('max_tokens cuts the reply and finishes with "length"', async () => {
    const r = await client.chat.completions.create({ model: 'mock-gpt', max_tokens: 2, messages: [{ role: 'user', content: 'a long question indeed' }] });
    expect(r.choices[0]!.finish_reason).toBe('length');
    expect(r.usage!.completion_tokens).toBe(2);
  });

  test('streams: chunks arrive over time, then a usage chunk and [DONE]', async () => {
    const chunks = 5;
    const interval = 60;
    const stream = await client.chat.completions.create(
      { model: 'mock-gpt', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'stream me' }] },
      { headers: { 'x-mock-stream-chunks': String(chunks), 'x-mock-stream-interval-ms': String(interval) } },
    );
    const arrivals: number[] = [];
    let text = '';
    let usage;
    let finish;
    for await (const c of stream) {
      const delta = c.choices[0]?.delta.content;
      if (delta) {
        arrivals.push(performance.now());
        text += delta;
      }
      if (c.choices[0]?.finish_reason) finish = c.choices[0].finish_reason;
      if (c.usage) usage = c.usage;
    }
    expect(text).toBe('This is a mock reply to: stream me');
    expect(finish).toBe('stop');
    expect(arrivals).toHaveLength(chunks);
    // Separate writes spaced by the interval, not one buffered write (allow timer jitter).
    expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThanOrEqual((chunks - 1) * interval * 0.8);
    // Same usage as the non-streaming answer to the same request.
    const plain = await client.chat.completions.create({ model: 'mock-gpt', messages: [{ role: 'user', content: 'stream me' }] });
    expect(usage).toEqual(plain.usage);
  });

  test('streams without include_usage send no usage chunk', async () => {
    const stream = await client.chat.completions.create({ model: 'mock-gpt', stream: true, messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-mock-stream-interval-ms': '0' } });
    const seen = [];
    for await (const c of stream) seen.push(c);
    expect(seen.some((c) => c.usage)).toBe(false);
    expect(seen.every((c) => c.choices.length === 1)).toBe(true);
  });

  test('legacy completions, plain and streamed', async () => {
    const r = await client.completions.create({ model: 'mock-instruct', prompt: 'Once upon a time' });
    expect(r.object).toBe('text_completion');
    expect(r.choices[0]!.text).toBe(' and this is a mock completion of: Once upon a time');
    expect(r.usage).toMatchObject({ prompt_tokens: 4, completion_tokens: 13, total_tokens: 17 });
    const stream = await client.completions.create(
      { model: 'mock-instruct', prompt: 'Once upon a time', stream: true, stream_options: { include_usage: true } },
      { headers: { 'x-mock-stream-chunks': '3', 'x-mock-stream-interval-ms': '1' } },
    );
    let text = '';
    let usage;
    for await (const c of stream) {
      text += c.choices[0]?.text ?? '';
      if (c.usage) usage = c.usage;
    }
    expect(text).toBe(r.choices[0]!.text);
    expect(usage).toEqual(r.usage);
  });

  test('embeddings: deterministic unit vectors, base64 (SDK default) and float, with dimensions', async () => {
    const a = await client.embeddings.create({ model: 'mock-embed', input: ['alpha', 'beta'] });
    expect(a.data).toHaveLength(2);
    const [va, vb] = [a.data[0]!.embedding, a.data[1]!.embedding];
    expect(va).toHaveLength(64);
    expect(Math.hypot(...va)).toBeCloseTo(1, 5);
    expect(va).not.toEqual(vb);
    expect(a.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 }); // ceil(5/4) + ceil(4/4)
    const f = await client.embeddings.create({ model: 'mock-embed', input: 'alpha', encoding_format: 'float' });
    // Same input, same vector, whichever the wire encoding.
    expect(f.data[0]!.embedding).toEqual(va);
    const d = await client.embeddings.create({ model: 'mock-embed', input: 'alpha', dimensions: 256 });
    expect(d.data[0]!.embedding).toHaveLength(256);
  });

  test('also serves the routes without the /v1 prefix, and under /openai/v1', async () => {
    const bare = new OpenAI({ baseURL: mock().url, apiKey: 'k', maxRetries: 0 });
    const r = await bare.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
    expect(r.choices[0]!.message.content).toBe('This is a mock reply to: x');
    const e = await bare.embeddings.create({ model: 'm', input: 'x' });
    expect(e.data).toHaveLength(1);
    const prefixed = new OpenAI({ baseURL: `${mock().url}/openai/v1`, apiKey: 'k', maxRetries: 0 });
    await prefixed.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
    expect(mock().journal.entries().map((j) => j.path)).toEqual(['/chat/completions', '/embeddings', '/openai/v1/chat/completions']);
  });

  test('the Azure flavour: deployment paths, api-version query, api-key header (masked)', async () => {
    const azure = new AzureOpenAI({ endpoint: mock().url, apiKey: 'azure-secret-key', apiVersion: '2024-10-21', deployment: 'my-gpt', maxRetries: 0 });
    const r = await azure.chat.completions.create({ model: '', messages: [{ role: 'user', content: 'hi azure' }] });
    expect(r.choices[0]!.message.content).toBe('This is a mock reply to: hi azure');
    const e = mock().journal.last()!;
    expect(e.path).toBe('/openai/deployments/my-gpt/chat/completions');
    expect(e.query).toEqual({ 'api-version': '2024-10-21' });
    expect(e.model).toBe('my-gpt'); // the deployment stands in for the empty body model
    expect(e.headers['api-key']).toBe(`***fp:${fingerprint('azure-secret-key')}`);
  });

  test('429 surfaces as RateLimitError with Retry-After', async () => {
    const err = await thrown(
      client.chat.completions.create({ model: 'mock-gpt', messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-mock-scenario': 'rate-limit', 'x-mock-retry-after': '3' } }),
    );
    expect(err).toBeInstanceOf(RateLimitError);
    const e = err as RateLimitError;
    expect(e.status).toBe(429);
    expect(e.headers.get('retry-after')).toBe('3');
    expect(e.type).toBe('rate_limit_error');
    expect(e.code).toBe('rate_limit_exceeded');
    expect(mock().journal.entries()).toHaveLength(1); // maxRetries: 0, one request
  });

  test('server-error surfaces as InternalServerError, with a scripted 5xx status', async () => {
    const err = await thrown(
      client.chat.completions.create({ model: 'mock-gpt', messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-mock-scenario': 'server-error', 'x-mock-status': '503' } }),
    );
    expect(err).toBeInstanceOf(InternalServerError);
    expect((err as InternalServerError).status).toBe(503);
    expect((err as InternalServerError).type).toBe('server_error');
  });

  test('reset surfaces as a connection error (not a timeout)', async () => {
    const err = await thrown(client.chat.completions.create({ model: 'mock-gpt', messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-mock-scenario': 'reset' } }));
    expect(err).toBeInstanceOf(APIConnectionError);
    expect(err).not.toBeInstanceOf(APIConnectionTimeoutError);
    expect(mock().journal.last()).toMatchObject({ outcome: 'reset', status: null });
  });

  test('hang surfaces as a timeout with a short client timeout', async () => {
    const started = performance.now();
    const err = await thrown(
      client.chat.completions.create({ model: 'mock-gpt', messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-mock-scenario': 'hang' }, timeout: 300 }),
    );
    expect(err).toBeInstanceOf(APIConnectionTimeoutError);
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    expect(mock().journal.last()).toMatchObject({ outcome: 'hang', status: null });
  });

  test('an expectation mismatch is a recognisable BadRequestError', async () => {
    const err = await thrown(
      client.chat.completions.create({ model: 'mock-gpt', messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-mock-expect-path': '/v1/embeddings' } }),
    );
    expect(err).toBeInstanceOf(BadRequestError);
    const e = err as BadRequestError;
    expect(e.type).toBe('mock_expectation_failed');
    expect(e.headers.get('x-mock-expectation-failed')).toBe('path');
    expect(e.message).toContain('expected "/v1/embeddings", got "/v1/chat/completions"');
  });

  test('a malformed JSON body is a 400 in the OpenAI envelope, not a crash', async () => {
    const r = await fetch(`${mock().url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model": ' });
    expect(r.status).toBe(400);
    const body = (await r.json()) as { error: Record<string, unknown> };
    expect(body.error).toMatchObject({ type: 'invalid_request_error', param: null, code: null });
    expect(String(body.error.message)).toMatch(/could not parse the JSON body/);
    expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+/); // no stack trace
  });

  test('invalid requests get OpenAI-style 400/404/405 envelopes', async () => {
    const noModel = await thrown(client.chat.completions.create({ messages: [{ role: 'user', content: 'x' }] } as never));
    expect(noModel).toBeInstanceOf(BadRequestError);
    expect((noModel as BadRequestError).param).toBe('model');
    const noMessages = await thrown(client.chat.completions.create({ model: 'm', messages: [] }));
    expect((noMessages as BadRequestError).param).toBe('messages');
    const r404 = await fetch(`${mock().url}/v2/chat/completions`, { method: 'POST', body: '{}' });
    expect(r404.status).toBe(404);
    expect(await r404.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'unknown_url' } });
    const r405 = await fetch(`${mock().url}/v1/chat/completions`);
    expect(r405.status).toBe(405);
    expect(r405.headers.get('allow')).toBe('POST');
  });
});
