// Scripted behaviour: what the next response should do, from x-mock-* request headers or from rules
// posted to /__mock/script (for gateways that do not forward client headers upstream). Both sources
// go through one validator, so a header and a rule field accept exactly the same values.
import { validateHeaderName, validateHeaderValue, type IncomingHttpHeaders } from 'node:http';
import { maskHeaderValue, maskSearch, maskSecret } from './fingerprint.ts';

export const SCENARIOS = ['rate-limit', 'server-error', 'reset', 'hang'] as const;
export type Scenario = (typeof SCENARIOS)[number];
export type StreamUsage = 'auto' | 'always' | 'never';

export type Behaviour = {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  content?: string;
  latencyMs?: number;
  streamChunks?: number;
  streamIntervalMs?: number;
  streamUsage?: StreamUsage;
  resetAfterChunks?: number;
  scenario?: Scenario;
  retryAfter?: string;
  expectPath?: string;
  /** name → exact value, a masked form (`Bearer ***fp:…`), true (present) or false (absent). */
  expectHeaders?: Record<string, string | boolean>;
  absentHeaders?: string[];
};

export type Match = { path?: string; endpoint?: string; model?: string; method?: string };
export type Rule = Behaviour & { match?: Match; times?: number | 'unlimited' };
export type StoredRule = { id: number; rule: Behaviour; match: Match; remaining: number | 'unlimited' };

/** A bad script (malformed header or rule): answered with 400 mock_invalid_script, never a crash. */
export class ScriptError extends Error {
  param: string;
  constructor(param: string, message: string) {
    super(`${param}: ${message}`);
    this.param = param;
  }
}

const MAX_DELAY_MS = 600_000;
const MAX_CHUNKS = 10_000;

// Header name → behaviour field. x-mock-tag is a free label for suites (kept in the journal only).
const HEADER_FIELDS: Record<string, keyof Behaviour | null> = {
  'x-mock-status': 'status',
  'x-mock-headers': 'headers',
  'x-mock-body': 'body',
  'x-mock-content': 'content',
  'x-mock-latency-ms': 'latencyMs',
  'x-mock-stream-chunks': 'streamChunks',
  'x-mock-stream-interval-ms': 'streamIntervalMs',
  'x-mock-stream-usage': 'streamUsage',
  'x-mock-reset-after-chunks': 'resetAfterChunks',
  'x-mock-scenario': 'scenario',
  'x-mock-retry-after': 'retryAfter',
  'x-mock-expect-path': 'expectPath',
  'x-mock-expect-headers': 'expectHeaders',
  'x-mock-absent-headers': 'absentHeaders',
  'x-mock-tag': null,
  'x-mock-request-id': null,
};
const FIELD_HEADER = Object.fromEntries(Object.entries(HEADER_FIELDS).filter(([, f]) => f).map(([h, f]) => [f, h])) as Record<
  keyof Behaviour,
  string
>;

function int(param: string, v: unknown, min: number, max: number): number {
  const n = typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new ScriptError(param, `expected an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return n;
}

function jsonValue(param: string, v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    throw new ScriptError(param, 'expected JSON');
  }
}

function stringMap(param: string, v: unknown): Record<string, string> {
  const o = jsonValue(param, v);
  if (!o || typeof o !== 'object' || Array.isArray(o)) throw new ScriptError(param, 'expected a JSON object of header name to value');
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(o)) {
    const s = typeof val === 'number' ? String(val) : val;
    if (typeof s !== 'string') throw new ScriptError(param, `header ${k}: expected a string value`);
    try {
      validateHeaderName(k);
      validateHeaderValue(k, s);
    } catch {
      throw new ScriptError(param, `header ${JSON.stringify(k)} is not a valid HTTP header`);
    }
    out[k.toLowerCase()] = s;
  }
  return out;
}

/** Validates one field; `param` names it in error messages (header name or rule path). */
function setField(b: Behaviour, field: keyof Behaviour, v: unknown, param: string): void {
  switch (field) {
    case 'status':
      b.status = int(param, v, 200, 599); // 1xx are not final responses
      return;
    case 'latencyMs':
      b.latencyMs = int(param, v, 0, MAX_DELAY_MS);
      return;
    case 'streamIntervalMs':
      b.streamIntervalMs = int(param, v, 0, MAX_DELAY_MS);
      return;
    case 'streamChunks':
      b.streamChunks = int(param, v, 1, MAX_CHUNKS);
      return;
    case 'resetAfterChunks':
      b.resetAfterChunks = int(param, v, 0, MAX_CHUNKS);
      return;
    case 'headers':
      b.headers = stringMap(param, v);
      return;
    case 'body':
    case 'content':
    case 'expectPath':
      if (typeof v !== 'string') throw new ScriptError(param, 'expected a string');
      b[field] = v;
      return;
    case 'retryAfter': {
      const s = typeof v === 'number' ? String(v) : v;
      if (typeof s !== 'string' || s === '') throw new ScriptError(param, 'expected seconds or an HTTP date');
      b.retryAfter = s;
      return;
    }
    case 'scenario':
      if (!SCENARIOS.includes(v as Scenario)) throw new ScriptError(param, `expected one of ${SCENARIOS.join(', ')}, got ${JSON.stringify(v)}`);
      b.scenario = v as Scenario;
      return;
    case 'streamUsage':
      if (v !== 'auto' && v !== 'always' && v !== 'never') throw new ScriptError(param, `expected auto, always or never`);
      b.streamUsage = v;
      return;
    case 'expectHeaders': {
      const o = jsonValue(param, v);
      if (!o || typeof o !== 'object' || Array.isArray(o)) throw new ScriptError(param, 'expected a JSON object of header name to expected value');
      const out: Record<string, string | boolean> = {};
      for (const [k, val] of Object.entries(o)) {
        if (typeof val !== 'string' && typeof val !== 'boolean') throw new ScriptError(param, `header ${k}: expected a string, true or false`);
        out[k.toLowerCase()] = val;
      }
      b.expectHeaders = out;
      return;
    }
    case 'absentHeaders': {
      const list = typeof v === 'string' ? v.split(',') : v;
      if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) throw new ScriptError(param, 'expected a comma-separated list of header names');
      b.absentHeaders = list.map((x) => x.trim().toLowerCase()).filter((x) => x !== '');
      return;
    }
  }
}

/** The behaviour scripted by x-mock-* request headers, or undefined when there are none. */
export function behaviourFromHeaders(headers: IncomingHttpHeaders): Behaviour | undefined {
  let b: Behaviour | undefined;
  for (const name in headers) {
    if (!name.startsWith('x-mock-')) continue;
    const field = HEADER_FIELDS[name];
    if (field === undefined) {
      throw new ScriptError(name, `unknown mock header (known: ${Object.keys(HEADER_FIELDS).join(', ')})`);
    }
    if (field === null) continue;
    const raw = headers[name];
    b ??= {};
    setField(b, field, Array.isArray(raw) ? raw.join(',') : raw, name);
  }
  return b;
}

const RULE_KEYS = new Set<string>([...Object.keys(FIELD_HEADER), 'match', 'times']);
const MATCH_KEYS = new Set(['path', 'endpoint', 'model', 'method']);

/** Validates the body of POST /__mock/script: an array of rules, one rule, or {rules: [...]}. */
export function parseRules(input: unknown): { rules: Rule[] } {
  let list: unknown = input;
  if (input && typeof input === 'object' && !Array.isArray(input) && 'rules' in input) list = (input as { rules: unknown }).rules;
  if (list && typeof list === 'object' && !Array.isArray(list)) list = [list];
  if (!Array.isArray(list) || list.length === 0) throw new ScriptError('rules', 'expected a non-empty JSON array of rules');
  const rules = list.map((raw, i): Rule => {
    const at = `rules[${i}]`;
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ScriptError(at, 'expected an object');
    const r: Rule = {};
    for (const [k, v] of Object.entries(raw)) {
      if (!RULE_KEYS.has(k)) throw new ScriptError(`${at}.${k}`, `unknown field (known: ${[...RULE_KEYS].join(', ')})`);
      if (k === 'match') {
        if (!v || typeof v !== 'object' || Array.isArray(v)) throw new ScriptError(`${at}.match`, 'expected an object');
        const m: Match = {};
        for (const [mk, mv] of Object.entries(v)) {
          if (!MATCH_KEYS.has(mk)) throw new ScriptError(`${at}.match.${mk}`, `unknown field (known: ${[...MATCH_KEYS].join(', ')})`);
          if (typeof mv !== 'string' || mv === '') throw new ScriptError(`${at}.match.${mk}`, 'expected a non-empty string');
          m[mk as keyof Match] = mk === 'method' ? mv.toUpperCase() : mv;
        }
        r.match = m;
      } else if (k === 'times') {
        r.times = v === 'unlimited' ? 'unlimited' : int(`${at}.times`, v, 1, 1_000_000);
      } else {
        setField(r, k as keyof Behaviour, v, `${at}.${k}`);
      }
    }
    return r;
  });
  return { rules };
}

/** "/v1/chat/completions" and "/chat/completions" name the same route (gateways often strip /v1). */
function samePath(a: string, b: string): boolean {
  if (a === b) return true;
  const strip = (p: string) => (p.startsWith('/v1/') ? p.slice(3) : p);
  return strip(a) === strip(b);
}

/** Rules posted over the admin API, consumed in order by the requests they match. */
export class ScriptStore {
  rules: StoredRule[] = [];
  nextId = 1;

  add(rules: Rule[]): StoredRule[] {
    const added = rules.map(({ match, times, ...rule }) => ({ id: this.nextId++, rule, match: match ?? {}, remaining: times ?? 1 }));
    this.rules.push(...added);
    return added;
  }

  clear(): number {
    const n = this.rules.length;
    this.rules = [];
    return n;
  }

  /** The first rule matching this request, with one use consumed; undefined if none. */
  take(method: string, path: string, endpoint: string | null, model: string | null): StoredRule | undefined {
    if (this.rules.length === 0) return undefined; // the hot path when nothing is scripted
    for (let i = 0; i < this.rules.length; i++) {
      const r = this.rules[i]!;
      const m = r.match;
      if (m.method !== undefined && m.method !== method) continue;
      if (m.path !== undefined && !samePath(m.path, path)) continue;
      if (m.endpoint !== undefined && m.endpoint !== endpoint) continue;
      if (m.model !== undefined && m.model !== model) continue;
      if (r.remaining !== 'unlimited') {
        r.remaining -= 1;
        if (r.remaining <= 0) this.rules.splice(i, 1);
      }
      return r;
    }
    return undefined;
  }

  /** Pending rules for GET /__mock/script, with expected secret values masked. */
  list(): unknown[] {
    return this.rules.map((r) => ({ id: r.id, match: r.match, remaining: r.remaining, ...maskBehaviour(r.rule) }));
  }
}

/** A copy of a behaviour safe to show: expected values of secret headers are masked. */
export function maskBehaviour(b: Behaviour): Behaviour {
  if (!b.expectHeaders) return b;
  return { ...b, expectHeaders: maskExpected(b.expectHeaders) };
}

export function maskExpected(exp: Record<string, string | boolean>): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  for (const [k, v] of Object.entries(exp)) out[k] = typeof v === 'string' && !v.includes('***fp:') ? maskHeaderValue(k, v) : v;
  return out;
}

/** The journal's copy of the x-mock-expect-headers header: secret expected values masked. */
export function maskExpectHeadersValue(raw: string): string {
  try {
    const o = JSON.parse(raw) as unknown;
    if (o && typeof o === 'object' && !Array.isArray(o)) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(o)) {
        out[k] = typeof v === 'string' && !v.includes('***fp:') ? maskHeaderValue(k.toLowerCase(), v) : v;
      }
      return JSON.stringify(out);
    }
  } catch {
    // fall through: unparseable, so it cannot be masked entry by entry
  }
  return maskSecret(raw, false);
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** What to show for a header value in a failure message: masked if the header is a secret one. */
function shown(name: string, value: string): string {
  return JSON.stringify(value.includes('***fp:') ? value : maskHeaderValue(name, value));
}

/**
 * Checks the incoming request against the expectations of a behaviour. Returns one
 * {tag, message} per mismatch (tag goes in the x-mock-expectation-failed header).
 */
export function checkExpectations(
  b: Behaviour,
  headers: IncomingHttpHeaders,
  path: string,
  search: string,
): { tag: string; message: string }[] {
  const failures: { tag: string; message: string }[] = [];
  if (b.expectPath !== undefined) {
    // Compare with the query string only when the expectation names one.
    const withQuery = b.expectPath.includes('?');
    const actual = withQuery && search !== '' ? `${path}?${search}` : path;
    if (actual !== b.expectPath) {
      const got = withQuery && search !== '' ? `${path}?${maskSearch(search)}` : path;
      failures.push({ tag: 'path', message: `path: expected ${JSON.stringify(b.expectPath)}, got ${JSON.stringify(got)}` });
    }
  }
  if (b.expectHeaders) {
    for (const [name, exp] of Object.entries(b.expectHeaders)) {
      const actual = headerValue(headers, name);
      if (exp === true || exp === false) {
        if ((actual !== undefined) !== exp) {
          failures.push({ tag: `header:${name}`, message: `header ${name}: expected ${exp ? 'present' : 'absent'}, was ${actual === undefined ? 'absent' : 'present'}` });
        }
        continue;
      }
      if (actual === undefined) {
        failures.push({ tag: `header:${name}`, message: `header ${name}: expected ${shown(name, exp)}, was absent` });
      } else if (exp.includes('***fp:')) {
        // A masked expectation (`Bearer ***fp:…`): compare fingerprints, so no secret need be scripted.
        const got = maskSecret(actual, /^\S+ \*\*\*fp:/.test(exp));
        if (got !== exp) failures.push({ tag: `header:${name}`, message: `header ${name}: expected ${JSON.stringify(exp)}, got ${JSON.stringify(got)}` });
      } else if (actual !== exp) {
        failures.push({ tag: `header:${name}`, message: `header ${name}: expected ${shown(name, exp)}, got ${shown(name, actual)}` });
      }
    }
  }
  if (b.absentHeaders) {
    for (const name of b.absentHeaders) {
      const actual = headerValue(headers, name);
      if (actual !== undefined) failures.push({ tag: `absent:${name}`, message: `header ${name}: expected absent, was present with ${shown(name, actual)}` });
    }
  }
  return failures;
}
