// The mock LLM provider as a library: startMock() runs it in-process (tests, harness); main.ts runs
// it as a process (npm run mock, the in-cluster image). Self-contained on purpose: node:* imports
// only, nothing from the rest of the project, so mock/ can be copied into an image as-is.
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Journal, type JournalFilter, type Record_ } from './journal.ts';
import { memoise } from './memo.ts';
import {
  chatChunk,
  chatCompletion,
  chatPromptTokens,
  chatReply,
  completionReply,
  countTokens,
  DEFAULT_MODELS,
  DONE,
  embeddings,
  errorBody,
  errorForStatus,
  inputTokens,
  limitReply,
  modelList,
  modelObject,
  rateLimitBody,
  serverErrorBody,
  splitReply,
  textChunk,
  textCompletion,
  usageChunk,
  usageJson,
  type Json,
} from './openai.ts';
import { behaviourFromHeaders, checkExpectations, parseRules, ScriptError, ScriptStore, type Behaviour } from './script.ts';

export type MockOptions = {
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** Port; default 0 (a free port, see `port`/`url` of the result). */
  port?: number;
  /** No warnings on stderr (internal errors are still answered with a 500 envelope). */
  quiet?: boolean;
  /** One line per request on stdout; off by default (it costs throughput). */
  logRequests?: boolean;
  /** Journal ring size; the oldest entries are dropped beyond it. Default 10 000. */
  journalSize?: number;
  /** Ids listed by GET /v1/models. Any model name is accepted in requests regardless. */
  models?: string[];
  /** Largest request body accepted (413 above). Default 16 MiB. */
  maxBodyBytes?: number;
  /** Stream defaults when a request does not script them. */
  streamChunks?: number;
  streamIntervalMs?: number;
};

export type MockServer = {
  /** Base URL without /v1, e.g. http://127.0.0.1:8089. */
  url: string;
  host: string;
  port: number;
  journal: Journal;
  script: ScriptStore;
  server: Server;
  /** Stops listening and drops every open connection (hanging requests included). */
  close(): Promise<void>;
};

export const DEFAULT_STREAM_CHUNKS = 5;
export const DEFAULT_STREAM_INTERVAL_MS = 10;
const MAX_STORED_BODY = 1 << 20; // bigger bodies are counted in the journal, not kept
const JSON_TYPE = 'application/json';
const SSE_TYPE = 'text/event-stream; charset=utf-8';

type Endpoint = 'chat' | 'completions' | 'embeddings' | 'models' | 'model';
const METHOD_OF: Record<Endpoint, string> = { chat: 'POST', completions: 'POST', embeddings: 'POST', models: 'GET', model: 'GET' };

/**
 * Which OpenAI route a path names. Accepted prefixes: none, /v1, /openai/v1 and Azure's
 * /openai/deployments/<name> (gateways strip or rewrite the prefix). Anything else is a 404, so a
 * gateway that mangles paths fails loudly. `name` is the Azure deployment or the /models/<id>.
 */
type Route = { endpoint: Endpoint; name: string | null };

/** routeOf, memoised: gateways hit the same few paths over and over. */
const cachedRoute = memoise(1024, routeOf);

function routeOf(path: string): Route | null {
  let rest = path;
  let name: string | null = null;
  if (rest.startsWith('/v1/')) rest = rest.slice(3);
  else if (rest.startsWith('/openai/v1/')) rest = rest.slice(10);
  else if (rest.startsWith('/openai/deployments/')) {
    const slash = rest.indexOf('/', 20);
    if (slash < 0) return null;
    name = safeDecode(rest.slice(20, slash));
    rest = rest.slice(slash);
  }
  if (rest.length > 1 && rest.endsWith('/')) rest = rest.slice(0, -1);
  switch (rest) {
    case '/chat/completions':
      return { endpoint: 'chat', name };
    case '/completions':
      return { endpoint: 'completions', name };
    case '/embeddings':
      return { endpoint: 'embeddings', name };
    case '/models':
      return { endpoint: 'models', name };
  }
  if (rest.startsWith('/models/') && rest.length > 8 && rest.indexOf('/', 8) < 0) return { endpoint: 'model', name: safeDecode(rest.slice(8)) };
  return null;
}

// Gateways (and their load tests, retries and probes) send the same few request bodies over and
// over; parsing is a pure function of the text, so small bodies are parsed once. Bounded like the
// route cache. The parsed values are shared between requests: nothing may mutate them.
const UNPARSEABLE = Symbol('unparseable');
const PARSE_MEMO_MAX_BYTES = 4096;
// The memo's entry keeps its own copy of the text, so the journal retains one string, not one per request.
const parsedOnce = memoise(256, (text) => ({ text, value: parse(text) }));

/** The parsed body (UNPARSEABLE if not JSON), and the text to keep. */
function parseMemoised(text: string, size: number): { text: string; value: unknown } {
  return size > PARSE_MEMO_MAX_BYTES ? { text, value: parse(text) } : parsedOnce(text);
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return UNPARSEABLE;
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function resetSocket(socket: Socket): void {
  // A TCP RST (not a FIN) is what a crashed upstream looks like to a gateway.
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export async function startMock(opts: MockOptions = {}): Promise<MockServer> {
  const host = opts.host ?? '127.0.0.1';
  const models = opts.models ?? DEFAULT_MODELS;
  const maxBody = opts.maxBodyBytes ?? 16 << 20;
  const defaultChunks = opts.streamChunks ?? DEFAULT_STREAM_CHUNKS;
  const defaultInterval = opts.streamIntervalMs ?? DEFAULT_STREAM_INTERVAL_MS;
  const journal = new Journal(opts.journalSize ?? 10_000);
  const scripts = new ScriptStore();
  const startedAt = Date.now();
  const warn = (msg: string) => {
    if (!opts.quiet) process.stderr.write(`mock: ${msg}\n`);
  };

  /** Sends a complete response and records it. `extra` headers win over the defaults. */
  function send(res: ServerResponse, rec: Record_, status: number, body: string, extra?: Record<string, string>): void {
    rec.status = status;
    rec.outcome = 'answered';
    rec.durationMs = performance.now() - rec.t0;
    // A fresh object literal with no prior setHeader() is writeHead's fastest path (node:http
    // passes it straight to the header serialiser); this is the hot path.
    const headers: OutgoingHttpHeaders = {
      'content-type': JSON_TYPE,
      'content-length': Buffer.byteLength(body),
      'x-mock-request-id': rec.id,
    };
    if (extra) for (const k in extra) headers[k] = extra[k];
    res.writeHead(status, headers);
    res.end(body);
  }

  /** Response headers a behaviour adds: its x-mock-headers plus Retry-After when scripted. */
  function extraHeaders(b: Behaviour | undefined): Record<string, string> | undefined {
    if (!b || (b.headers === undefined && b.retryAfter === undefined)) return undefined;
    const h: Record<string, string> = {};
    if (b.retryAfter !== undefined) h['retry-after'] = b.retryAfter;
    if (b.headers) Object.assign(h, b.headers);
    return h;
  }

  function plainJson(res: ServerResponse, status: number, value: unknown): void {
    const body = JSON.stringify(value);
    res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const t0 = performance.now();
    let url = req.url ?? '/';
    if (url[0] !== '/') {
      // absolute-form (http://host/path) as sent to a forward proxy
      try {
        const u = new URL(url);
        url = u.pathname + u.search;
      } catch {
        url = '/';
      }
    }
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const search = q < 0 ? '' : url.slice(q + 1);
    if (path.startsWith('/__mock') || path === '/healthz') {
      readBody(req, maxBody, (text, size) => admin(req, res, path, search, text, size));
      return;
    }
    const rec = journal.add(req.method ?? 'GET', path, search, req.headers, t0, clientAddress(req));
    if (opts.logRequests) {
      res.once('close', () => {
        process.stdout.write(`${rec.id} ${rec.method} ${path} ${rec.status ?? rec.outcome} ${(performance.now() - t0).toFixed(1)}ms\n`);
      });
    }
    // The body, inline rather than through readBody(): one closure fewer and no array for the
    // usual single-chunk body (this is the hot path).
    let first: Buffer | undefined;
    let more: Buffer[] | undefined;
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBody) return; // drained, not kept: answered 413
      if (first === undefined) first = c;
      else (more ??= [first]).push(c);
    });
    req.on('end', () => {
      try {
        const text = size > maxBody ? null : first === undefined ? '' : more ? Buffer.concat(more, size).toString('utf8') : first.toString('utf8');
        answer(req, res, rec, path, search, text, size);
      } catch (err) {
        internalError(res, rec, err);
      }
    });
  }

  function internalError(res: ServerResponse, rec: Record_ | null, err: unknown): void {
    const msg = err instanceof Error ? err.message : String(err);
    warn(`internal error on ${rec ? `request ${rec.id}` : 'admin request'}: ${msg}`);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = errorBody(`mock internal error: ${msg}`, 'mock_internal_error');
    if (rec) send(res, rec, 500, body);
    else plainJson(res, 500, JSON.parse(body));
  }

  function answer(req: IncomingMessage, res: ServerResponse, rec: Record_, path: string, search: string, text: string | null, size: number): void {
    // ---- the request as the journal keeps it
    let body: unknown = undefined;
    let unparseable = false;
    if (text !== null && size > 0) {
      const parsed = parseMemoised(text, size);
      body = parsed.value;
      unparseable = body === UNPARSEABLE;
      text = parsed.text;
      if (size <= MAX_STORED_BODY) rec.bodyText = text;
    }
    rec.bodyBytes = size;
    const route = cachedRoute(path);
    const obj = isObject(body) ? body : null;
    const model = obj && typeof obj.model === 'string' && obj.model !== '' ? obj.model : (route?.name ?? null);
    rec.endpoint = route?.endpoint ?? null;
    rec.model = model;
    rec.stream = obj?.stream === true;

    // ---- scripted behaviour: admin rule first, request headers override it field by field
    let b: Behaviour | undefined;
    try {
      const fromHeaders = rec.hasMock ? behaviourFromHeaders(req.headers) : undefined;
      const rule = scripts.take(rec.method, path, rec.endpoint, model);
      if (rule) {
        rec.rule = rule.id;
        b = fromHeaders ? { ...rule.rule, ...fromHeaders } : rule.rule;
      } else b = fromHeaders;
    } catch (err) {
      if (!(err instanceof ScriptError)) throw err;
      send(res, rec, 400, errorBody(`mock script error: ${err.message}`, 'mock_invalid_script', err.param, 'mock_invalid_script'));
      return;
    }

    if (b && (b.expectPath !== undefined || b.expectHeaders !== undefined || b.absentHeaders !== undefined)) {
      const failures = checkExpectations(b, req.headers, path, search);
      if (failures.length > 0) {
        rec.expectationFailures = failures.map((f) => f.message);
        send(res, rec, 400, errorBody(`mock expectation failed: ${rec.expectationFailures.join('; ')}`, 'mock_expectation_failed', null, 'mock_expectation_failed'), {
          'x-mock-expectation-failed': failures.map((f) => f.tag).join(', '),
        });
        return;
      }
    }

    if (b?.latencyMs) {
      const timer = setTimeout(() => {
        try {
          respond(req, res, rec, b, route, obj, model, unparseable, text === null);
        } catch (err) {
          internalError(res, rec, err);
        }
      }, b.latencyMs);
      res.once('close', () => {
        clearTimeout(timer);
        if (rec.outcome === 'pending') rec.outcome = 'aborted';
      });
    } else respond(req, res, rec, b, route, obj, model, unparseable, text === null);
  }

  function respond(
    req: IncomingMessage,
    res: ServerResponse,
    rec: Record_,
    b: Behaviour | undefined,
    route: Route | null,
    obj: Json | null,
    model: string | null,
    unparseable: boolean,
    tooLarge: boolean,
  ): void {
    if (b) {
      switch (b.scenario) {
        case 'hang':
          // Never answer: the client's timeout, its disconnect or close() ends it.
          rec.outcome = 'hang';
          res.once('close', () => {
            rec.durationMs = performance.now() - rec.t0;
          });
          return;
        case 'reset':
          rec.outcome = 'reset';
          rec.durationMs = performance.now() - rec.t0;
          resetSocket(req.socket);
          return;
        case 'rate-limit': {
          const after = b.retryAfter ?? '1';
          send(res, rec, 429, b.body ?? rateLimitBody(model ?? 'the requested model'), {
            'x-ratelimit-limit-requests': '60',
            'x-ratelimit-remaining-requests': '0',
            'x-ratelimit-reset-requests': /^\d+$/.test(after) ? `${after}s` : after,
            ...extraHeaders(b),
            'retry-after': after,
          });
          return;
        }
        case 'server-error': {
          const status = b.status !== undefined && b.status >= 500 ? b.status : 500;
          send(res, rec, status, b.body ?? serverErrorBody(), extraHeaders(b));
          return;
        }
      }
      if (b.body !== undefined) {
        send(res, rec, b.status ?? 200, b.body, extraHeaders(b));
        return;
      }
      if (b.status !== undefined && b.status >= 400) {
        send(res, rec, b.status, errorForStatus(b.status), extraHeaders(b));
        return;
      }
    }
    const extra = extraHeaders(b);
    const method = rec.method;
    if (!route) {
      send(res, rec, 404, errorBody(`Invalid URL (${method} ${rec.path})`, 'invalid_request_error', null, 'unknown_url'), extra);
      return;
    }
    const want = METHOD_OF[route.endpoint];
    if (method !== want && !(want === 'GET' && method === 'HEAD')) {
      send(res, rec, 405, errorBody(`Method ${method} not allowed on ${rec.path}; use ${want}.`, 'invalid_request_error', null, 'method_not_allowed'), {
        allow: want,
        ...extra,
      });
      return;
    }
    if (route.endpoint === 'models') {
      send(res, rec, b?.status ?? 200, modelList(models), extra);
      return;
    }
    if (route.endpoint === 'model') {
      send(res, rec, b?.status ?? 200, JSON.stringify(modelObject(route.name ?? '')), extra);
      return;
    }
    if (tooLarge) {
      send(res, rec, 413, errorBody(`Request body too large (limit ${maxBody} bytes).`, 'invalid_request_error', null, 'request_too_large'), extra);
      return;
    }
    if (unparseable) {
      send(
        res,
        rec,
        400,
        errorBody(
          'We could not parse the JSON body of your request. (HINT: This likely means you aren\'t using your HTTP library correctly. The OpenAI API expects a JSON payload.)',
          'invalid_request_error',
        ),
        extra,
      );
      return;
    }
    if (!obj) {
      send(res, rec, 400, errorBody('The request body must be a JSON object.', 'invalid_request_error'), extra);
      return;
    }
    if (model === null || model === '') {
      send(res, rec, 400, errorBody('you must provide a model parameter', 'invalid_request_error', 'model'), extra);
      return;
    }
    const status = b?.status ?? 200;
    const created = Math.floor((performance.timeOrigin + rec.t0) / 1000);
    let n = 1;
    if (obj.n !== undefined && obj.n !== null) {
      if (typeof obj.n !== 'number' || !Number.isInteger(obj.n) || obj.n < 1 || obj.n > 128) {
        send(res, rec, 400, errorBody("'n' must be an integer from 1 to 128.", 'invalid_request_error', 'n'), extra);
        return;
      }
      n = obj.n;
    }

    switch (route.endpoint) {
      case 'chat': {
        const messages = obj.messages;
        if (!Array.isArray(messages) || messages.length === 0) {
          send(res, rec, 400, errorBody("'messages' must be a non-empty array.", 'invalid_request_error', 'messages'), extra);
          return;
        }
        const reply = b?.content ?? chatReply(messages);
        const prompt = chatPromptTokens(messages);
        if (obj.stream === true) {
          stream(req, res, rec, b, 'chat', status, model, reply, prompt, obj, created);
          return;
        }
        const { text, finish } = limitReply(reply, obj);
        send(res, rec, status, chatCompletion(`chatcmpl-mock-${rec.id}`, created, model, text, finish, n, usageJson(prompt, countTokens(text) * n)), extra);
        return;
      }
      case 'completions': {
        const p = obj.prompt ?? '';
        if (typeof p !== 'string' && !Array.isArray(p)) {
          send(res, rec, 400, errorBody("'prompt' must be a string or an array.", 'invalid_request_error', 'prompt'), extra);
          return;
        }
        const reply = b?.content ?? completionReply(p);
        const prompt = inputTokens(p);
        if (obj.stream === true) {
          stream(req, res, rec, b, 'text', status, model, reply, prompt, obj, created);
          return;
        }
        const { text, finish } = limitReply(reply, obj);
        send(res, rec, status, textCompletion(`cmpl-mock-${rec.id}`, created, model, text, finish, n, usageJson(prompt, countTokens(text) * n)), extra);
        return;
      }
      case 'embeddings': {
        const r = embeddings(obj, model);
        send(res, rec, r.ok ? status : r.status, r.body, extra);
        return;
      }
    }
  }

  /** SSE: headers (+ the role chunk) now, then one write per piece every interval, then finish/usage/[DONE]. */
  function stream(
    req: IncomingMessage,
    res: ServerResponse,
    rec: Record_,
    b: Behaviour | undefined,
    kind: 'chat' | 'text',
    status: number,
    model: string,
    reply: string,
    prompt: number,
    obj: Json,
    created: number,
  ): void {
    const chunks = b?.streamChunks ?? defaultChunks;
    const interval = b?.streamIntervalMs ?? defaultInterval;
    const limited = limitReply(reply, obj);
    const { text, pieces } = splitReply(limited.text, chunks);
    const so = obj.stream_options;
    const asked = isObject(so) && so.include_usage === true;
    const mode = b?.streamUsage ?? 'auto';
    const wantUsage = mode === 'always' || (mode === 'auto' && asked);
    const u = usageJson(prompt, countTokens(text));
    const id = kind === 'chat' ? `chatcmpl-mock-${rec.id}` : `cmpl-mock-${rec.id}`;
    const object = kind === 'chat' ? 'chat.completion.chunk' : 'text_completion';
    const resetAfter = b?.resetAfterChunks;
    const piece = (p: string, finish: string | null) =>
      kind === 'chat' ? chatChunk(id, created, model, finish ? {} : { content: p }, finish, wantUsage) : textChunk(id, created, model, p, finish, wantUsage);

    rec.status = status;
    res.writeHead(status, {
      'content-type': SSE_TYPE,
      'cache-control': 'no-cache',
      'x-mock-request-id': rec.id,
      ...extraHeaders(b),
    });
    if (kind === 'chat') res.write(chatChunk(id, created, model, { role: 'assistant', content: '', refusal: null }, null, wantUsage));
    else res.flushHeaders();

    let i = 0;
    let timer: NodeJS.Timeout | undefined;
    const reset = () => {
      rec.outcome = 'reset';
      rec.durationMs = performance.now() - rec.t0;
      resetSocket(req.socket);
    };
    const finish = () => {
      res.write(piece('', limited.finish));
      if (wantUsage) res.write(usageChunk(id, created, model, object, u));
      rec.outcome = 'answered';
      rec.durationMs = performance.now() - rec.t0;
      res.end(DONE);
    };
    // One res.write per piece, spaced by `interval`: a gateway that buffers the stream shows up as
    // chunks arriving together at the client.
    const next = (): void => {
      timer = undefined;
      do {
        res.write(piece(pieces[i++]!, null));
        if (resetAfter !== undefined && i >= resetAfter) return reset();
      } while (interval === 0 && i < pieces.length);
      if (i < pieces.length) timer = setTimeout(next, interval);
      else finish();
    };
    res.once('close', () => {
      if (timer) clearTimeout(timer);
      if (rec.outcome === 'pending') {
        rec.outcome = 'aborted';
        rec.durationMs = performance.now() - rec.t0;
      }
    });
    if (resetAfter === 0) reset();
    else if (interval === 0) next();
    else timer = setTimeout(next, interval);
  }

  // ------------------------------------------------------------------------------------ admin API

  function admin(req: IncomingMessage, res: ServerResponse, path: string, search: string, text: string | null, size: number): void {
    try {
      adminRoute(req, res, path, search, text, size);
    } catch (err) {
      internalError(res, null, err);
    }
  }

  function adminError(res: ServerResponse, status: number, message: string, param: string | null = null): void {
    plainJson(res, status, { error: { message, type: 'mock_admin_error', param, code: null } });
  }

  function adminRoute(req: IncomingMessage, res: ServerResponse, path: string, search: string, text: string | null, size: number): void {
    const method = req.method ?? 'GET';
    const key = `${method} ${path}`;
    switch (key) {
      case 'GET /healthz':
      case 'GET /__mock/health':
        return plainJson(res, 200, {
          status: 'ok',
          uptimeS: Math.round((Date.now() - startedAt) / 1000),
          journal: { size: journal.size, lastId: journal.lastId, capacity: journal.capacity },
          scriptRules: scripts.rules.length,
        });
      case 'GET /__mock/journal': {
        const filter: JournalFilter = {};
        for (const [k, v] of new URLSearchParams(search)) {
          switch (k) {
            case 'since':
            case 'status':
            case 'limit': {
              const n = Number(v);
              if (v === '' || !Number.isInteger(n) || n < 0) return adminError(res, 400, `${k} must be a non-negative integer`, k);
              filter[k] = n;
              break;
            }
            case 'path':
            case 'endpoint':
            case 'method':
            case 'model':
              filter[k] = v;
              break;
            default:
              return adminError(res, 400, `unknown journal filter ${k} (known: since, path, endpoint, method, model, status, limit)`, k);
          }
        }
        return plainJson(res, 200, {
          entries: journal.entries(filter),
          lastId: journal.lastId,
          size: journal.size,
          capacity: journal.capacity,
          dropped: journal.dropped,
        });
      }
      case 'DELETE /__mock/journal':
        return plainJson(res, 200, { cleared: journal.clear(), lastId: journal.lastId });
      case 'GET /__mock/script':
        return plainJson(res, 200, { rules: scripts.list() });
      case 'POST /__mock/script': {
        if (text === null) return adminError(res, 413, `body over ${maxBody} bytes`);
        let input: unknown;
        try {
          input = JSON.parse(size > 0 ? text : '');
        } catch {
          return adminError(res, 400, 'body must be JSON: a rule, an array of rules, or {"rules": [...]}');
        }
        let parsed;
        try {
          parsed = parseRules(input);
        } catch (err) {
          if (err instanceof ScriptError) {
            return plainJson(res, 400, { error: { message: `mock script error: ${err.message}`, type: 'mock_invalid_script', param: err.param, code: 'mock_invalid_script' } });
          }
          throw err;
        }
        if (new URLSearchParams(search).get('replace') === 'true') scripts.clear();
        const added = scripts.add(parsed.rules);
        return plainJson(res, 201, { added: added.map((r) => ({ id: r.id, remaining: r.remaining })), pending: scripts.rules.length });
      }
      case 'DELETE /__mock/script':
        return plainJson(res, 200, { cleared: scripts.clear() });
      case 'POST /__mock/reset':
        return plainJson(res, 200, { journalCleared: journal.clear(), scriptsCleared: scripts.clear() });
    }
    const known = ['/healthz', '/__mock/health', '/__mock/journal', '/__mock/script', '/__mock/reset'];
    if (known.includes(path)) return adminError(res, 405, `method ${method} not allowed on ${path}`);
    return adminError(res, 404, `unknown admin path ${path} (known: ${known.join(', ')})`);
  }

  // ------------------------------------------------------------------------------------ lifecycle

  const server = createServer(handle);
  // Proxies pool upstream connections for up to ~60 s; a shorter server idle timeout races them
  // and shows up as spurious 503s in gateway tests.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => warn(`server error: ${err.message}`));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : (opts.port ?? 0);
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    host,
    port,
    journal,
    script: scripts,
    server,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** Reads a request body as UTF-8; `text` is null when it exceeded `max` (the rest is drained). */
function readBody(req: IncomingMessage, max: number, done: (text: string | null, size: number) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size <= max) chunks.push(c);
  });
  req.on('end', () => {
    if (size > max) return done(null, size);
    done(size === 0 ? '' : chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8'), size);
  });
}

/** The peer address without the IPv4-mapped prefix, so it matches a pod IP as Kubernetes reports it. */
function clientAddress(req: IncomingMessage): string | null {
  const a = req.socket.remoteAddress;
  return a ? a.replace(/^::ffff:/, '') : null;
}
