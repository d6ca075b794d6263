// The suites' HTTP layer against real servers: a request without a complete answer fails as
// NoAnswer, named by method and path, in the words reports use (CONNECTION_CLOSED), also through
// the OpenAI SDK, whose own message is only "terminated" or "Connection error.".
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Target } from '../scripts/targets/types.ts';
import { CONNECTION_CLOSED, http, NoAnswer, orNoAnswer, transportFailure } from '../suites/lib/http.ts';
import { openai } from '../suites/lib/keys.ts';

let server: Server;
let base = '';

beforeAll(async () => {
  // Every answer starts (200, headers, a first event) and then the connection is cut.
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}\n\n');
      setTimeout(() => res.socket?.destroy(), 20);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('suites/lib/http', () => {
  test('an answer cut off after its headers fails as NoAnswer, naming the request', async () => {
    const err = await http('POST', `${base}/v1/chat/completions?x=1`, { body: { stream: true } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoAnswer);
    expect((err as Error).message).toMatch(new RegExp(`^POST /v1/chat/completions: ${CONNECTION_CLOSED} \\(.+\\)$`));
  });

  test('a port nobody listens on is named as such', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const err = await http('GET', `http://127.0.0.1:${port}/ready`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoAnswer);
    expect((err as Error).message).toMatch(/^GET \/ready: nothing accepted the connection \(.*ECONNREFUSED.*\): the gateway, or the tunnel to it, is not listening there$/);
  });

  test('an error that is not about the transport is left as it is', () => {
    expect(transportFailure(new Error('expected 200 to be 429'))).toBeUndefined();
    expect(transportFailure(new TypeError('terminated', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) }))).toBe(
      `${CONNECTION_CLOSED} (other side closed)`,
    );
  });

  test('a stream the OpenAI SDK reads when the connection is cut fails in the same words', async () => {
    const target = { baseUrl: base } as Target;
    let chunks = 0;
    const err = await orNoAnswer('the streamed completion', async () => {
      const stream = await openai(target, 'sk-test').chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true });
      for await (const _ of stream) chunks++;
    }).catch((e: unknown) => e);
    expect(chunks).toBe(1);
    expect(err).toBeInstanceOf(NoAnswer);
    expect((err as Error).message).toMatch(new RegExp(`^the streamed completion: ${CONNECTION_CLOSED} \\(.+\\)$`));
  });
});
