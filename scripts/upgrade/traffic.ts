// Traffic that looks like production while a release is upgraded: a bounded number of concurrent
// clients through the gateway, mixing plain and streamed completions with the OpenAI SDK. The mock
// is told by x-mock-* headers to answer slowly (streams last seconds), so streams are in flight
// while pods terminate. Every request is recorded; which pod served it is added afterwards from
// the mock's journal (x-mock-tag → the client address the mock saw → the pod with that IP).
import OpenAI from 'openai';
import type { JournalEntry } from '../../mock/journal.ts';

export interface TrafficRecord {
  /** x-mock-tag sent with the request: finds it in the mock's journal. */
  tag: string;
  stream: boolean;
  /** Epoch ms. */
  start: number;
  end: number;
  /** HTTP status of the answer; null when none came (connection refused or reset before headers). */
  status: number | null;
  /** Plain: a 2xx with a body. Stream: `[DONE]` and a usage chunk arrived. */
  complete: boolean;
  /** Streams: content chunks received before the end (a cut-off shows how far it got). */
  chunks?: number;
  sawDone?: boolean;
  sawUsage?: boolean;
  /** What the client saw when it was not complete (the SDK's error, or "ended without [DONE]"). */
  error?: string;
  /** The mock's journal id, when the gateway passed its x-mock-request-id answer header on. */
  mockId?: number;
  /** The address the gateway's upstream request came from, and the pod holding it (when known). */
  clientAddress?: string;
  pod?: string;
}

export interface TrafficOptions {
  /** Gateway base URL without /v1. */
  baseUrl: string;
  apiKey: string;
  model: string;
  /** Concurrent clients (default 8). */
  clients?: number;
  /** Every n-th request of a client is streamed (default 2: half of them). */
  streamEvery?: number;
  /** The mock's time to first byte (default 300 ms). */
  latencyMs?: number;
  /** Stream pieces and the delay between them (default 20 × 150 ms: a 3 s stream). */
  streamChunks?: number;
  streamIntervalMs?: number;
  /** Pause between one client's requests (default 100 ms). */
  pauseMs?: number;
  /** A request that takes longer is recorded as failed (default 60 s). */
  requestTimeoutMs?: number;
  /** Unique per run: prefixes the tags. */
  runTag?: string;
}

export interface Traffic {
  /** Records so far (complete ones only; in-flight requests are added when they end). */
  readonly records: readonly TrafficRecord[];
  /** Stops starting requests, waits for those in flight, returns every record by start time. */
  stop(): Promise<TrafficRecord[]>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A fetch that watches the bytes of a streamed answer for the `[DONE]` sentinel: the SDK consumes
 * it silently, and a stream cut off without it must not pass for a complete one.
 */
function watchingFetch(onDone: (url: string, tag: string) => void): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    const tag = new Headers(init?.headers).get('x-mock-tag') ?? '';
    if (!res.body || !(res.headers.get('content-type') ?? '').includes('text/event-stream')) return res;
    const decoder = new TextDecoder();
    let tail = '';
    const watch = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        tail = (tail + decoder.decode(chunk, { stream: true })).slice(-64);
        if (/data: \[DONE\]/.test(tail)) onDone(String(input), tag);
        controller.enqueue(chunk);
      },
    });
    return new Response(res.body.pipeThrough(watch), { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}

function describeError(err: unknown): { status: number | null; error: string } {
  if (err instanceof OpenAI.APIError) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return { status: err.status ?? null, error: `${err.message}${cause}`.slice(0, 300) };
  }
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const cause = e?.cause?.code ?? e?.cause?.message;
  return { status: null, error: `${e?.message ?? String(err)}${cause ? ` (${cause})` : ''}`.slice(0, 300) };
}

function noteMockId(rec: TrafficRecord, response: Response): void {
  const id = Number(response.headers.get('x-mock-request-id'));
  if (Number.isInteger(id) && id > 0) rec.mockId = id;
}

export function startTraffic(o: TrafficOptions): Traffic {
  const clients = o.clients ?? 8;
  const streamEvery = o.streamEvery ?? 2;
  const runTag = o.runTag ?? `up-${Date.now().toString(36)}`;
  const records: TrafficRecord[] = [];
  const done = new Set<string>();
  const sdk = new OpenAI({
    apiKey: o.apiKey,
    baseURL: `${o.baseUrl}/v1`,
    maxRetries: 0,
    timeout: o.requestTimeoutMs ?? 60_000,
    fetch: watchingFetch((_url, tag) => done.add(tag)),
  });
  const mockHeaders = {
    'x-mock-latency-ms': String(o.latencyMs ?? 300),
    'x-mock-stream-chunks': String(o.streamChunks ?? 20),
    'x-mock-stream-interval-ms': String(o.streamIntervalMs ?? 150),
  };
  let stopped = false;
  let n = 0;

  async function one(stream: boolean): Promise<TrafficRecord> {
    const tag = `${runTag}-${++n}`;
    const rec: TrafficRecord = { tag, stream, start: Date.now(), end: 0, status: null, complete: false };
    const headers = { ...mockHeaders, 'x-mock-tag': tag };
    const messages = [{ role: 'user' as const, content: `upgrade traffic ${tag}` }];
    try {
      if (stream) {
        const { data, response } = await sdk.chat.completions
          .create({ model: o.model, messages, stream: true, stream_options: { include_usage: true } }, { headers })
          .withResponse();
        rec.status = response.status;
        noteMockId(rec, response);
        rec.chunks = 0;
        rec.sawUsage = false;
        for await (const chunk of data) {
          if (chunk.choices.some((c) => c.delta?.content)) rec.chunks++;
          if (chunk.usage) rec.sawUsage = true;
        }
        rec.sawDone = done.has(tag);
        rec.complete = rec.sawDone && rec.sawUsage;
        if (!rec.complete) rec.error = `the stream ended after ${rec.chunks} chunks without ${[rec.sawDone ? '' : '[DONE]', rec.sawUsage ? '' : 'usage'].filter(Boolean).join(' and ')}`;
      } else {
        const { data, response } = await sdk.chat.completions.create({ model: o.model, messages }, { headers }).withResponse();
        rec.status = response.status;
        noteMockId(rec, response);
        rec.complete = (data.choices?.length ?? 0) > 0;
        if (!rec.complete) rec.error = 'the answer had no choices';
      }
    } catch (err) {
      const d = describeError(err);
      if (d.status !== null) rec.status = d.status;
      rec.error = d.error;
      if (stream) rec.sawDone = done.has(tag);
    }
    rec.end = Date.now();
    done.delete(tag);
    return rec;
  }

  async function client(index: number): Promise<void> {
    for (let i = index; !stopped; i++) {
      records.push(await one(i % streamEvery === 0));
      if (!stopped) await sleep(o.pauseMs ?? 100);
    }
  }

  const running = Array.from({ length: clients }, (_, i) => client(i));
  return {
    records,
    async stop() {
      stopped = true;
      await Promise.all(running);
      return [...records].sort((a, b) => a.start - b.start);
    },
  };
}

/**
 * Adds the serving address and pod to each record from the mock's journal (the entry carrying its
 * x-mock-tag, or the id the mock answered with). `podByIp` holds every pod IP seen during the run, old pods' included.
 */
export function attributePods(records: TrafficRecord[], journal: readonly JournalEntry[], podByIp: ReadonlyMap<string, string>): TrafficRecord[] {
  const byTag = new Map<string, JournalEntry>();
  const byId = new Map<number, JournalEntry>();
  for (const e of journal) {
    const tag = e.headers['x-mock-tag'];
    if (tag) byTag.set(tag, e);
    byId.set(e.id, e);
  }
  return records.map((r) => {
    // the tag when the gateway forwards client headers upstream, else the id it passed back
    const entry = byTag.get(r.tag) ?? (r.mockId !== undefined ? byId.get(r.mockId) : undefined);
    const client = entry?.client ?? undefined;
    if (!client) return r;
    const pod = podByIp.get(client);
    return { ...r, clientAddress: client, ...(pod ? { pod } : {}) };
  });
}
