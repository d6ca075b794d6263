// Keys: the admin credential creates a key; it works for a completion and a streamed completion
// through the official SDK; no key, a wrong key and a deleted key are refused; upstream, the
// provider saw the provider key and never the client's key.
import { afterAll, beforeAll, describe, expect, type TestContext } from 'vitest';
import type { KeyApi } from '../scripts/profiles/types.ts';
import { cause, check } from './lib/check.ts';
import { notApplicableNote, suiteContext } from './lib/context.ts';
import { describe as describeRes, http, NoAnswer, orNoAnswer } from './lib/http.ts';
import { AdminRefused, type ClientKey, createKey, deleteKey, openai } from './lib/keys.ts';
import { clearJournal, fingerprint, fingerprintsIn, readJournal } from './lib/mock-journal.ts';
import { type Endpoint, watchRevocation } from './lib/revocation.ts';

const { target, capabilities } = suiteContext();
const api = capabilities.keys as KeyApi;
const completionPath = '/v1/chat/completions';
const prompt = [{ role: 'user' as const, content: 'Say hello to the smoke test.' }];
// Every pod when there are several (each may cache keys on its own), else the gateway's one URL.
const endpoints: Endpoint[] =
  target.replicas && target.replicas.length > 1 ? target.replicas.map((r) => ({ name: r.pod, url: r.url })) : [{ name: 'the gateway', url: target.baseUrl }];

let key: ClientKey | undefined;
let createError: Error | undefined;

beforeAll(async () => {
  if (target.mock) await clearJournal(target.mock.url);
  try {
    key = await createKey(api, target);
  } catch (err) {
    createError = err as Error;
  }
});

afterAll(async () => {
  // A key the test did not delete itself is removed so reruns start clean.
  if (key && !deleted) await deleteKey(api, target, key).catch(() => undefined);
});

let deleted = false;

/**
 * An SDK call; when it gets no answer, the cause is recorded with the provider's side of it (the
 * newest chat request in the mock's journal: `aborted` is an answer the gateway cut off while the
 * provider was still sending it), so a cut-off is told from a gateway that never called upstream.
 */
async function answered<T>(ctx: TestContext, what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await orNoAnswer(what, call);
  } catch (err) {
    if (err instanceof NoAnswer) {
      const last = target.mock ? (await readJournal(target.mock.url).catch(() => [])).filter((e) => e.endpoint === 'chat').at(-1) : undefined;
      cause(ctx, 'no-answer', err.message, { providerOutcome: last?.outcome ?? 'not seen by the provider', ...(last?.stream === undefined ? {} : { stream: last.stream }) });
    }
    throw err;
  }
}

/** A refusal is 401 or 403; anything else is recorded as the cause before the assertion fails. */
function refusal(ctx: TestContext, what: string, status: number): void {
  if (status !== 401 && status !== 403) cause(ctx, 'status', `${what} was answered ${status}, not refused (401/403)`, { expected: [401, 403], got: status });
}

function requireKey(): ClientKey {
  if (!key) {
    const auth = createError instanceof AdminRefused;
    throw new Error(
      `${auth ? 'Admin auth is broken' : 'Key generation failed'}: ${createError?.message ?? 'no key'}` +
        (auth ? ' — check that the master key/management token the chart configures is the one the gateway resolves.' : ''),
    );
  }
  return key;
}

describe('keys', () => {
  check('keys.create', 'the admin credential creates a key', () => {
    expect(requireKey().key.length).toBeGreaterThan(8);
  });

  check('keys.wrong-admin-refused', 'a wrong admin credential is refused', async (ctx) => {
    const res = await http('POST', `${target.baseUrl}${api.flavour === 'litellm' ? api.generatePath : '/manage/projects'}`, {
      token: 'sk-wrong-admin-credential-000',
      body: api.flavour === 'litellm' ? { key_alias: 'must-not-exist' } : { name: 'must-not-exist', api_key: 'x' },
    });
    refusal(ctx, 'a wrong admin credential', res.status);
    expect([401, 403], `a wrong admin credential must be refused; got ${describeRes(res)}`).toContain(res.status);
  });

  check('keys.sdk-completion', 'the key completes a chat request through the OpenAI SDK', async (ctx) => {
    const res = await answered(ctx, 'the completion', () => openai(target, requireKey().key).chat.completions.create({ model: target.model, messages: prompt }));
    expect(res.choices[0]?.message.content, 'the completion came back empty').toBeTruthy();
    expect(res.usage?.total_tokens ?? 0).toBeGreaterThan(0);
  });

  check('keys.sdk-stream', 'the key streams a chat completion through the OpenAI SDK', async (ctx) => {
    let chunks = 0;
    let text = '';
    await answered(ctx, 'the streamed completion', async () => {
      const stream = await openai(target, requireKey().key).chat.completions.create({ model: target.model, messages: prompt, stream: true });
      for await (const chunk of stream) {
        chunks++;
        text += chunk.choices[0]?.delta?.content ?? '';
      }
    });
    expect(chunks, 'a streamed completion should arrive in more than one chunk').toBeGreaterThan(1);
    expect(text, 'the streamed completion carried no text').not.toBe('');
  });

  check('keys.missing-key-refused', 'a request without a key is refused', async (ctx) => {
    const res = await http('POST', `${target.baseUrl}${completionPath}`, { body: { model: target.model, messages: prompt } });
    refusal(ctx, 'a request without a key', res.status);
    expect([401, 403], `no key must be refused; got ${describeRes(res)}`).toContain(res.status);
  });

  check('keys.wrong-key-refused', 'a wrong key is refused', async (ctx) => {
    const res = await http('POST', `${target.baseUrl}${completionPath}`, {
      token: 'sk-this-key-was-never-issued-1234',
      body: { model: target.model, messages: prompt },
    });
    refusal(ctx, 'a wrong key', res.status);
    expect([401, 403], `a wrong key must be refused; got ${describeRes(res)}`).toContain(res.status);
  });

  check('keys.provider-key-upstream', 'upstream saw the provider key, never the client key', async (ctx) => {
    if (!target.mock) return ctx.skip(notApplicableNote('the harness does not run the provider for this target, so it cannot see upstream'));
    const client = requireKey().key;
    const entries = (await readJournal(target.mock.url)).filter((e) => e.path.endsWith('/chat/completions'));
    expect(entries.length, 'the mock provider saw no chat completion: the gateway did not forward the requests').toBeGreaterThan(0);
    const provider = fingerprint(target.mock.providerKey);
    for (const e of entries) {
      const fps = fingerprintsIn(e);
      expect(fps, `upstream request ${e.id} carried the client's key: the gateway leaks client keys to the provider`).not.toContain(fingerprint(client));
      expect(fps, `upstream request ${e.id} did not carry the provider key`).toContain(provider);
    }
  });

  // Two keys, because gateways validate them differently: llm-proxy, for one, re-checks a limited
  // token against its store on every request but serves an unlimited one from a cache.
  for (const kind of ['unlimited', 'rate-limited'] as const) {
    check(kind === 'unlimited' ? 'keys.revoked-refused' : 'keys.revoked-limited-refused', `a deleted ${kind} key is refused`, async (ctx) => {
      const k = kind === 'unlimited' ? requireKey() : await createKey(api, target, { limit: 1000 });
      const send = async (e: Endpoint) =>
        (await http('POST', `${e.url}${completionPath}`, { token: k.key, body: { model: target.model, messages: prompt } })).status;
      // The key works on every replica before it is deleted, so each may have it cached, and a
      // refusal from all of them afterwards means the deletion reached every one.
      for (const e of endpoints) {
        const before = await http('POST', `${e.url}${completionPath}`, { token: k.key, body: { model: target.model, messages: prompt } });
        expect(before.status, `the ${kind} key did not work on ${e.name} before deletion: ${describeRes(before)}`).toBe(200);
      }
      await deleteKey(api, target, k);
      if (kind === 'unlimited') deleted = true;
      const outcome = await watchRevocation(endpoints, send, { deadlineMs: 15_000, quietMs: 5_000, intervalMs: 250 });
      if (!outcome.complete) cause(ctx, 'status', `a deleted ${kind} key was still accepted 15 s after deletion`, { summary: outcome.summary });
      expect(
        outcome.complete,
        `a deleted ${kind} key was still accepted 15 s after deletion: ${outcome.summary} — revocation does not take effect everywhere (a key-validation cache per replica or worker that deletion does not invalidate?)`,
      ).toBe(true);
    });
  }
});
