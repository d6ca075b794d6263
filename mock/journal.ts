// The request journal: what the gateway sent upstream, with secrets reduced to fingerprints.
// A fixed-size ring buffer so appending is O(1) and memory stays bounded under load.
import type { IncomingHttpHeaders } from 'node:http';
import { isSecretName, maskHeaderValue } from './fingerprint.ts';
import { memoise } from './memo.ts';
import { maskExpectHeadersValue } from './script.ts';

export type Outcome = 'pending' | 'answered' | 'reset' | 'hang' | 'aborted';

/** One journaled request, as returned by GET /__mock/journal and journal.entries(). */
export type JournalEntry = {
  id: number;
  /** ISO time the request arrived. */
  time: string;
  method: string;
  /** Path without the query string. */
  path: string;
  /** Query parameters (secret-named ones masked); repeated names give arrays. */
  query: Record<string, string | string[]>;
  /** Request headers, lower-case names, secret values masked as `***fp:<fingerprint>`. */
  headers: Record<string, string>;
  /** The body parsed as JSON; the raw text if not JSON; null if empty or over the stored limit. */
  body: unknown;
  bodyBytes: number;
  /** chat | completions | embeddings | models | model | null (unknown route). */
  endpoint: string | null;
  model: string | null;
  stream: boolean;
  /** Status sent; null if none was (reset, hang, client gone first). */
  status: number | null;
  outcome: Outcome;
  durationMs: number | null;
  /** Id of the admin script rule that applied, if any. */
  rule: number | null;
  /** Expectation mismatches (x-mock-expect-*), secret values masked. Empty when all held. */
  expectationFailures: string[];
  /** The caller's IP address as the mock's socket saw it: which gateway replica sent the request. */
  client: string | null;
};

/**
 * The record kept per request. Kept small and flat on purpose: it lives for the next `capacity`
 * requests, so under load it is promoted to V8's old generation, and every object it points to costs
 * GC time. Headers are one flat array, the body stays the string it arrived as (parsed on read).
 */
export type Record_ = Omit<JournalEntry, 'time' | 'query' | 'headers' | 'body'> & {
  /** performance.now() at arrival; the wall-clock time is performance.timeOrigin + t0. */
  t0: number;
  query: Record<string, string | string[]>;
  /** [name, value, name, value, …]: lower-case names, secret values already masked. */
  headers: string[];
  /** Whether any x-mock-* header came with the request (then its behaviour must be parsed). */
  hasMock: boolean;
  /** The body text; null if empty or over the stored limit. */
  bodyText: string | null;
};

export type JournalFilter = {
  since?: number;
  path?: string;
  endpoint?: string;
  method?: string;
  model?: string;
  status?: number;
  limit?: number;
};

/**
 * Masks secret header values into a flat [name, value, …] list (one array: cheap to keep). Reads
 * `req.headers`, which node:http has already built (lower-case names, repeats joined). Sets
 * `hasMock` in `flags` when an x-mock-* header is present.
 */
export function maskHeaders(headers: IncomingHttpHeaders, flags: { hasMock: boolean }): string[] {
  const out: string[] = [];
  for (const name in headers) {
    const raw = headers[name];
    if (raw === undefined) continue;
    let v = typeof raw === 'string' ? raw : raw.join(', ');
    if (name.startsWith('x-mock-')) {
      flags.hasMock = true;
      if (name === 'x-mock-expect-headers') v = maskExpectHeadersValue(v);
    } else if (isSecretName(name)) v = maskHeaderValue(name, v);
    out.push(name, internValue(v));
  }
  return out;
}

// Header values repeat (host, content-type, user-agent …): keep one copy of each, so the journal's
// 10 000 records do not each retain their own identical strings (GC time under load).
const keptValue = memoise(4096, (v) => v);
const internValue = (v: string): string => (v.length > 256 ? v : keptValue(v));

function headersObject(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i]!;
    out[name] = flat[i + 1]!;
  }
  return out;
}

function parsedBody(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const EMPTY: Record<string, string | string[]> = Object.freeze({}) as Record<string, string | string[]>;
const NONE: string[] = Object.freeze([]) as unknown as string[];

export function parseQuery(search: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v0] of new URLSearchParams(search)) {
    // ?key=... is how some providers take API keys: mask by name like headers.
    const v = maskHeaderValue(k.toLowerCase(), v0);
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

export class Journal {
  capacity: number;
  ring: (Record_ | undefined)[];
  /** Index where the next record goes. */
  head = 0;
  size = 0;
  lastId = 0;
  /** Records pushed out of the ring since the last clear (the journal is bounded). */
  dropped = 0;

  constructor(capacity = 10_000) {
    this.capacity = Math.max(1, Math.floor(capacity));
    this.ring = new Array(this.capacity);
  }

  /** Appends a record for a request that just arrived and returns it for later updates. */
  add(method: string, path: string, search: string, reqHeaders: IncomingHttpHeaders, t0: number, client: string | null = null): Record_ {
    const id = ++this.lastId;
    const flags = { hasMock: false };
    const headers = maskHeaders(reqHeaders, flags);
    const rec: Record_ = {
      id,
      t0,
      method,
      path,
      // Parsed (and masked) now so no raw secret from a query string is ever kept.
      query: search === '' ? EMPTY : parseQuery(search),
      headers,
      hasMock: flags.hasMock,
      bodyText: null,
      bodyBytes: 0,
      endpoint: null,
      model: null,
      stream: false,
      status: null,
      outcome: 'pending',
      durationMs: null,
      rule: null,
      expectationFailures: NONE,
      client,
    };
    if (this.size === this.capacity) this.dropped++;
    else this.size++;
    this.ring[this.head] = rec;
    this.head = (this.head + 1) % this.capacity;
    return rec;
  }

  /** Empties the journal. Ids keep increasing, so a `since` taken before a clear stays valid. */
  clear(): number {
    const n = this.size;
    this.ring = new Array(this.capacity);
    this.head = 0;
    this.size = 0;
    this.dropped = 0;
    return n;
  }

  /** Entries oldest first, filtered; `limit` keeps the newest N of the matches. */
  entries(filter: JournalFilter = {}): JournalEntry[] {
    const out: JournalEntry[] = [];
    const start = (this.head - this.size + this.capacity) % this.capacity;
    for (let i = 0; i < this.size; i++) {
      const r = this.ring[(start + i) % this.capacity]!;
      if (filter.since !== undefined && r.id <= filter.since) continue;
      if (filter.path !== undefined && r.path !== filter.path) continue;
      if (filter.endpoint !== undefined && r.endpoint !== filter.endpoint) continue;
      if (filter.method !== undefined && r.method !== filter.method.toUpperCase()) continue;
      if (filter.model !== undefined && r.model !== filter.model) continue;
      if (filter.status !== undefined && r.status !== filter.status) continue;
      out.push(toEntry(r));
    }
    return filter.limit !== undefined && out.length > filter.limit ? out.slice(out.length - filter.limit) : out;
  }

  /** The newest entry, if any. */
  last(): JournalEntry | undefined {
    if (this.size === 0) return undefined;
    return toEntry(this.ring[(this.head - 1 + this.capacity) % this.capacity]!);
  }
}

// Formatting (ISO time) is done on read, keeping the per-request append cheap.
function toEntry(r: Record_): JournalEntry {
  return {
    id: r.id,
    time: new Date(performance.timeOrigin + r.t0).toISOString(),
    method: r.method,
    path: r.path,
    query: r.query,
    headers: headersObject(r.headers),
    body: parsedBody(r.bodyText),
    bodyBytes: r.bodyBytes,
    endpoint: r.endpoint,
    model: r.model,
    stream: r.stream,
    status: r.status,
    outcome: r.outcome,
    durationMs: r.durationMs,
    rule: r.rule,
    expectationFailures: r.expectationFailures,
    client: r.client,
  };
}
