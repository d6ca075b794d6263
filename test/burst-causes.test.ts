// The burst's two checks, run for real (the ratelimit suite through the harness's suite runner)
// against a real HTTP server that behaves like a broken gateway: it cuts off one streamed answer and
// lets more requests through than the limit. Both checks must fail, each with its own cause, and a
// waiver on the answer check (cause no-answer) must leave the count check failing.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { getProfile } from '../scripts/profiles/index.ts';
import { outcome, type RunReport } from '../scripts/report/model.ts';
import { runSuites } from '../scripts/suite-runner.ts';
import type { Target } from '../scripts/targets/types.ts';
import { applyWaivers, parseWaivers } from '../scripts/waivers.ts';

const CUT_OFF = 1; // the burst's second request, a streamed one

/** A gateway whose limiter lets everything through and which drops one stream half-way. */
function brokenGateway(): Server {
  const seen = new Map<string, number>();
  return createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const user = String(req.headers['x-user-id'] ?? '');
      const n = seen.get(user) ?? 0;
      seen.set(user, n + 1);
      const stream = (JSON.parse(body || '{}') as { stream?: boolean }).stream === true;
      if (user && n === CUT_OFF) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: {"choices":[{"delta":{"content":"hel"}}]}\n\n');
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      }
      const limits = user ? { 'x-ratelimit-limit': '3', 'x-ratelimit-remaining': String(Math.max(0, 2 - n)) } : {};
      if (stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream', ...limits });
        res.end('data: {"choices":[{"delta":{"content":"hello"}}]}\n\ndata: [DONE]\n\n');
      } else {
        res.writeHead(200, { 'content-type': 'application/json', ...limits });
        res.end(JSON.stringify({ choices: [{ message: { role: 'assistant', content: 'hello' } }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }));
      }
    });
  });
}

describe('a burst with one cut-off answer and a wrong count', () => {
  const server = brokenGateway();
  let report: RunReport;

  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const target: Target = { kind: 'url', chart: 'ai-gateway-core', baseUrl: `http://127.0.0.1:${port}`, model: 'mock-gpt', standIn: false, environment: {} };
    const profile = getProfile('ai-gateway-core');
    const suites = await runSuites({ suites: ['ratelimit'], target, capabilities: profile.capabilities, features: profile.features, log: () => undefined, echo: false });
    report = { chart: 'ai-gateway-core', chartTitle: '', target: 'url', startedAt: '', durationMs: 0, phases: [], suites, fingerprint: {}, knownDefects: [] };
  }, 120_000);
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const checkOf = (id: string) => report.suites[0]!.checks.find((c) => c.id === id);

  test('fails both checks, each with its own cause and evidence', () => {
    const answered = checkOf('ratelimit.burst-answered');
    expect(answered?.verdict).toBe('fail');
    expect(answered?.causes).toEqual([
      expect.objectContaining({ kind: 'no-answer', evidence: expect.objectContaining({ index: CUT_OFF, stream: true, providerOutcome: 'not seen by the provider' }) }),
    ]);
    const exact = checkOf('ratelimit.burst-exact');
    expect(exact?.verdict).toBe('fail');
    expect(exact?.causes?.map((c) => c.kind)).toEqual(['count']);
    expect(exact?.causes?.[0]?.evidence).toMatchObject({ limit: 3, successes: 4, lostBeforeLimit: 1 });
  });

  test('a waiver on the answer check (cause no-answer) leaves the count check failing, so the run still fails', () => {
    applyWaivers(report, parseWaivers('- {id: ratelimit.burst-answered, cause: no-answer, reason: "cut-offs, tracked upstream", until: 2099-12-31}', 'w.yaml'), '2026-12-07');
    expect(checkOf('ratelimit.burst-answered')?.verdict).toBe('waived');
    expect(checkOf('ratelimit.burst-exact')?.verdict).toBe('fail');
    expect(outcome(report)).toBe('FAILED');
  });
});
