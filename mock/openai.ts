// OpenAI-shaped bodies: completions, chunks, embeddings, models, errors. Everything here is a pure
// function of the request so the same request always yields the same content and usage.
import { createHash } from 'node:crypto';

export type Json = Record<string, unknown>;

export const DEFAULT_MODELS = ['mock-gpt', 'mock-gpt-mini', 'mock-embed'];
// A fixed creation time for /models keeps that listing byte-identical across runs.
const MODEL_CREATED = 1_700_000_000;
export const DEFAULT_EMBEDDING_DIMS = 64;
const MAX_EMBEDDING_DIMS = 8192;

// ------------------------------------------------------------------------------------ errors

/** OpenAI's error envelope, serialised. */
export function errorBody(message: string, type: string, param: string | null = null, code: string | null = null): string {
  return JSON.stringify({ error: { message, type, param, code } });
}

/** The envelope OpenAI sends for a given status when nothing more specific is known. */
export function errorForStatus(status: number): string {
  switch (status) {
    case 400: return errorBody('Mock bad request (scripted status 400).', 'invalid_request_error');
    case 401: return errorBody('Incorrect API key provided (scripted status 401).', 'invalid_request_error', null, 'invalid_api_key');
    case 403: return errorBody('You are not allowed to access this resource (scripted status 403).', 'permission_error');
    case 404: return errorBody('The requested resource does not exist (scripted status 404).', 'invalid_request_error', null, 'not_found');
    case 409: return errorBody('Conflict (scripted status 409).', 'invalid_request_error', null, 'conflict');
    case 413: return errorBody('Request too large (scripted status 413).', 'invalid_request_error', null, 'request_too_large');
    case 422: return errorBody('Unprocessable entity (scripted status 422).', 'invalid_request_error');
    case 429: return rateLimitBody('the requested model');
    default:
      if (status >= 500) return serverErrorBody();
      return errorBody(`Mock error (scripted status ${status}).`, 'invalid_request_error');
  }
}

export function rateLimitBody(model: string): string {
  return errorBody(
    `Rate limit reached for ${model} (mock scenario rate-limit). Please try again later.`,
    'rate_limit_error',
    null,
    'rate_limit_exceeded',
  );
}

export function serverErrorBody(): string {
  return errorBody(
    'The server had an error while processing your request. Sorry about that! (mock scenario server-error)',
    'server_error',
  );
}

// ------------------------------------------------------------------------------------ tokens

/** ~4 characters per token, like OpenAI's rule of thumb: realistic magnitudes, fully deterministic. */
export function countTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** Text of a message `content`: a string, or an array of parts of which the text ones count. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let out = '';
  for (const part of content) {
    if (part && typeof part === 'object' && typeof (part as Json).text === 'string') out += (part as Json).text as string;
  }
  return out;
}

/** Prompt tokens of a chat request: content plus the few tokens of per-message framing OpenAI bills. */
export function chatPromptTokens(messages: unknown[]): number {
  let n = 3; // every reply is primed with <|start|>assistant<|message|>
  for (const m of messages) {
    n += 4;
    if (!m || typeof m !== 'object') continue;
    const msg = m as Json;
    n += countTokens(contentText(msg.content));
    if (typeof msg.name === 'string') n += countTokens(msg.name);
    if (Array.isArray(msg.tool_calls)) n += countTokens(JSON.stringify(msg.tool_calls));
  }
  return n;
}

/** Prompt tokens of a completions/embeddings input: strings count by length, token arrays by size. */
export function inputTokens(input: unknown): number {
  if (typeof input === 'string') return countTokens(input);
  if (!Array.isArray(input)) return 0;
  if (input.every((x) => typeof x === 'number')) return input.length;
  let n = 0;
  for (const x of input) n += inputTokens(x);
  return n;
}

// The hot-path bodies below are written as string templates around JSON.stringify of the variable
// strings: several times cheaper than stringifying nested objects, with the same bytes.
const q = JSON.stringify;
const USAGE_DETAILS =
  '"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},' +
  '"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}';

/** The `usage` object, serialised. */
export function usageJson(prompt: number, completion: number): string {
  return `{"prompt_tokens":${prompt},"completion_tokens":${completion},"total_tokens":${prompt + completion},${USAGE_DETAILS}}`;
}

// ------------------------------------------------------------------------------------ replies

const ECHO_MAX = 200;

function lastUserText(messages: unknown[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as Json | null;
    if (m && typeof m === 'object' && m.role === 'user') return contentText(m.content);
  }
  return '';
}

/** The assistant's reply: an echo of the last user message, so suites can tell replies apart. */
export function chatReply(messages: unknown[]): string {
  const echo = lastUserText(messages).slice(0, ECHO_MAX);
  return echo ? `This is a mock reply to: ${echo}` : 'This is a mock reply.';
}

export function completionReply(prompt: unknown): string {
  const text = typeof prompt === 'string' ? prompt : Array.isArray(prompt) && typeof prompt[0] === 'string' ? prompt[0] : '';
  const echo = text.slice(0, ECHO_MAX);
  return echo ? ` and this is a mock completion of: ${echo}` : ' and this is a mock completion.';
}

/** Applies max_tokens / max_completion_tokens: a longer reply is cut and finishes with "length". */
export function limitReply(text: string, body: Json): { text: string; finish: 'stop' | 'length' } {
  const raw = body.max_completion_tokens ?? body.max_tokens;
  if (typeof raw === 'number' && Number.isInteger(raw) && raw > 0 && countTokens(text) > raw) {
    return { text: text.slice(0, raw * 4), finish: 'length' };
  }
  return { text, finish: 'stop' };
}

/**
 * Splits a reply into exactly `n` non-empty stream pieces on word boundaries. A reply with fewer
 * words than `n` is padded with " mock" words so a suite can ask for any number of chunks.
 */
export function splitReply(text: string, n: number): { text: string; pieces: string[] } {
  const words = text.match(/\s*\S+\s*/g) ?? ['mock'];
  while (words.length < n) {
    const last = words.length - 1;
    if (!/\s$/.test(words[last]!)) words[last] += ' ';
    words.push('mock');
  }
  const pieces: string[] = [];
  const per = Math.floor(words.length / n);
  let extra = words.length % n;
  let at = 0;
  for (let i = 0; i < n; i++) {
    const take = per + (extra > 0 ? 1 : 0);
    if (extra > 0) extra--;
    pieces.push(words.slice(at, at + take).join(''));
    at += take;
  }
  return { text: pieces.join(''), pieces };
}

export function chatCompletion(id: string, created: number, model: string, content: string, finish: string, n: number, usage: string): string {
  const tail = `"message":{"role":"assistant","content":${q(content)},"refusal":null,"annotations":[]},"logprobs":null,"finish_reason":${q(finish)}}`;
  let choices = `{"index":0,${tail}`;
  for (let i = 1; i < n; i++) choices += `,{"index":${i},${tail}`;
  return (
    `{"id":${q(id)},"object":"chat.completion","created":${created},"model":${q(model)},"choices":[${choices}],` +
    `"usage":${usage},"service_tier":"default","system_fingerprint":"fp_mock"}`
  );
}

export function textCompletion(id: string, created: number, model: string, text: string, finish: string, n: number, usage: string): string {
  const tail = `"logprobs":null,"finish_reason":${q(finish)}}`;
  let choices = '';
  for (let i = 0; i < n; i++) choices += `${i ? ',' : ''}{"text":${q(text)},"index":${i},${tail}`;
  return `{"id":${q(id)},"object":"text_completion","created":${created},"model":${q(model)},"choices":[${choices}],"usage":${usage},"system_fingerprint":"fp_mock"}`;
}

// ------------------------------------------------------------------------------------ streaming

/** One chat.completion.chunk. `usage: null` on content chunks is what OpenAI sends with include_usage. */
export function chatChunk(id: string, created: number, model: string, delta: Json, finish: string | null, withUsageField: boolean): string {
  return (
    `data: {"id":${q(id)},"object":"chat.completion.chunk","created":${created},"model":${q(model)},"service_tier":"default",` +
    `"system_fingerprint":"fp_mock","choices":[{"index":0,"delta":${q(delta)},"logprobs":null,"finish_reason":${q(finish)}}]` +
    `${withUsageField ? ',"usage":null' : ''}}\n\n`
  );
}

export function textChunk(id: string, created: number, model: string, text: string, finish: string | null, withUsageField: boolean): string {
  return (
    `data: {"id":${q(id)},"object":"text_completion","created":${created},"model":${q(model)},"system_fingerprint":"fp_mock",` +
    `"choices":[{"text":${q(text)},"index":0,"logprobs":null,"finish_reason":${q(finish)}}]${withUsageField ? ',"usage":null' : ''}}\n\n`
  );
}

/** The final usage chunk: empty `choices`, so clients that index choices[0] must guard, as with OpenAI. */
export function usageChunk(id: string, created: number, model: string, object: string, usage: string): string {
  return `data: {"id":${q(id)},"object":${q(object)},"created":${created},"model":${q(model)},"system_fingerprint":"fp_mock","choices":[],"usage":${usage}}\n\n`;
}

export const DONE = 'data: [DONE]\n\n';

// ------------------------------------------------------------------------------------ embeddings

/** A deterministic unit vector for `text`: sha256 seeds a xorshift generator. */
export function embedVector(text: string, dims: number): Float32Array {
  const seed = createHash('sha256').update(text).digest();
  let a = seed.readUInt32LE(0) | 1;
  let b = seed.readUInt32LE(4) | 1;
  const v = new Float32Array(dims);
  let norm = 0;
  for (let i = 0; i < dims; i++) {
    // xorshift64-ish over two 32-bit halves; quality is irrelevant, determinism is the point.
    let t = a;
    const s = b;
    a = s;
    t ^= t << 23;
    t ^= t >>> 17;
    t ^= s ^ (s >>> 26);
    b = t;
    const x = ((a + b) >>> 0) / 0xffffffff - 0.5;
    v[i] = x;
    norm += x * x;
  }
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < dims; i++) v[i] = v[i]! / norm;
  return v;
}

function inputItems(input: unknown): string[] | null {
  if (typeof input === 'string') return [input];
  if (!Array.isArray(input) || input.length === 0) return null;
  if (input.every((x) => typeof x === 'number')) return [input.join(',')];
  if (input.every((x) => typeof x === 'string')) return input as string[];
  if (input.every((x) => Array.isArray(x) && x.every((y) => typeof y === 'number'))) return input.map((x) => (x as number[]).join(','));
  return null;
}

export type EmbeddingResult = { ok: true; body: string } | { ok: false; status: number; body: string };

export function embeddings(body: Json, model: string): EmbeddingResult {
  const items = inputItems(body.input);
  if (!items) {
    return {
      ok: false,
      status: 400,
      body: errorBody("'input' must be a non-empty string, array of strings, or array of token arrays.", 'invalid_request_error', 'input'),
    };
  }
  let dims = DEFAULT_EMBEDDING_DIMS;
  if (body.dimensions !== undefined) {
    const d = body.dimensions;
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 1 || d > MAX_EMBEDDING_DIMS) {
      return { ok: false, status: 400, body: errorBody(`'dimensions' must be an integer between 1 and ${MAX_EMBEDDING_DIMS}.`, 'invalid_request_error', 'dimensions') };
    }
    dims = d;
  }
  const format = body.encoding_format ?? 'float';
  if (format !== 'float' && format !== 'base64') {
    return { ok: false, status: 400, body: errorBody("'encoding_format' must be 'float' or 'base64'.", 'invalid_request_error', 'encoding_format') };
  }
  const data = items.map((text, index) => {
    const v = embedVector(text, dims);
    const embedding = format === 'base64' ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') : Array.from(v);
    return { object: 'embedding', index, embedding };
  });
  const prompt = inputTokens(body.input);
  return {
    ok: true,
    body: JSON.stringify({ object: 'list', data, model, usage: { prompt_tokens: prompt, total_tokens: prompt } }),
  };
}

// ------------------------------------------------------------------------------------ models

export function modelObject(id: string): Json {
  return { id, object: 'model', created: MODEL_CREATED, owned_by: 'mock' };
}

export function modelList(ids: string[]): string {
  return JSON.stringify({ object: 'list', data: ids.map(modelObject) });
}
