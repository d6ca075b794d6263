// One round of the cut-off bench against one proxy: a plain chat completion, then a streamed one on
// the same keep-alive client, and what the client saw of the stream. A stream is "cut off" when its
// answer started (or was due) but the connection closed, or the body ended, before `data: [DONE]`.
import { Agent, request } from 'undici';

export type Target = {
  /** Shown in the table, e.g. "llm-proxy v0.1.3". */
  name: string;
  baseUrl: string;
  /** The bearer the client sends to the proxy. */
  bearer: string;
  /** The key the mock sees from this proxy (llm-proxy swaps in its project key): attributes journal entries. */
  upstreamKey: string;
  agent: Agent;
  /** Sent with every request (tests script the mock with x-mock-* headers). */
  extraHeaders?: Record<string, string>;
};

export type StreamResult =
  | { kind: 'complete'; mockId: string | undefined }
  /** What the client saw, e.g. "UND_ERR_SOCKET: other side closed" or "body ended without data: [DONE]". */
  | { kind: 'cut-off'; saw: string; mockId: string | undefined; afterBytes: number }
  /** Not a cut-off: a refusal, a timeout, the plain request failing. The bench's own setup is then suspect. */
  | { kind: 'error'; saw: string };

const TIMEOUT_MS = 30_000;
const DONE = 'data: [DONE]';

const body = (stream: boolean) =>
  JSON.stringify({ model: 'mock-gpt', stream, messages: [{ role: 'user', content: 'Say hello to the cut-off bench.' }] });

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e?.code ?? e?.cause?.code;
  const msg = e?.message ?? String(err);
  return code ? `${code}: ${msg}` : msg;
}

/** undici's names for a connection that closed under a request (not a timeout, not a refusal). */
const CLOSED_CODES = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE', 'UND_ERR_CLOSED']);
const closedUnder = (err: unknown) => {
  const e = err as { code?: string; cause?: { code?: string }; message?: string };
  return CLOSED_CODES.has(e?.code ?? '') || CLOSED_CODES.has(e?.cause?.code ?? '') || e?.message === 'terminated';
};

function post(t: Target, stream: boolean) {
  return request(`${t.baseUrl}/v1/chat/completions`, {
    method: 'POST',
    dispatcher: t.agent,
    headers: { ...t.extraHeaders, authorization: `Bearer ${t.bearer}`, 'content-type': 'application/json' },
    body: body(stream),
    headersTimeout: TIMEOUT_MS,
    bodyTimeout: TIMEOUT_MS,
  });
}

export async function plainThenStream(t: Target, plainFirst: boolean): Promise<StreamResult> {
  if (plainFirst) {
    try {
      const res = await post(t, false);
      const text = await res.body.text();
      if (res.statusCode !== 200) return { kind: 'error', saw: `plain request: HTTP ${res.statusCode} ${text.slice(0, 200)}` };
    } catch (err) {
      return { kind: 'error', saw: `plain request: ${describe(err)}` };
    }
  }
  let res;
  try {
    res = await post(t, true);
  } catch (err) {
    // no status line at all: the answer was due and the connection closed (or it timed out)
    return closedUnder(err) ? { kind: 'cut-off', saw: `before the status line: ${describe(err)}`, mockId: undefined, afterBytes: 0 } : { kind: 'error', saw: `stream: ${describe(err)}` };
  }
  const mockId = typeof res.headers['x-mock-request-id'] === 'string' ? res.headers['x-mock-request-id'] : undefined;
  let text = '';
  try {
    for await (const chunk of res.body) text += (chunk as Buffer).toString('utf8');
  } catch (err) {
    if (closedUnder(err)) return { kind: 'cut-off', saw: describe(err), mockId, afterBytes: Buffer.byteLength(text) };
    return { kind: 'error', saw: `stream body: ${describe(err)}` };
  }
  if (res.statusCode !== 200) return { kind: 'error', saw: `stream: HTTP ${res.statusCode} ${text.slice(0, 200)}` };
  if (!text.includes(DONE)) return { kind: 'cut-off', saw: `body ended without ${DONE}`, mockId, afterBytes: Buffer.byteLength(text) };
  return { kind: 'complete', mockId };
}
