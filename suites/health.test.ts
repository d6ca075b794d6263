// Health: liveness and readiness answer as the profile says, without credentials; readiness
// reports a dependency it checks going away, where the profile says it does. A Gateway-API chart
// (no app, no probe) is healthy when its Gateway is Programmed, its Envoy Deployment available and
// a completion goes through the listener.
import { describe, expect } from 'vitest';
import type { TestContext } from 'vitest';
import type { GatewayHealthCapability, HealthCapability, HttpExpectation } from '../scripts/profiles/types.ts';
import { isNotApplicable } from '../scripts/profiles/types.ts';
import { cause, check } from './lib/check.ts';
import { environmentNote, suiteContext } from './lib/context.ts';
import { describeConditions, envoyDeployments, gatewayConditions } from './lib/gateway-status.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe as describeRes, field, http, type HttpResult } from './lib/http.ts';

const { target, capabilities } = suiteContext();
const isGateway = (c: unknown): c is GatewayHealthCapability => (c as GatewayHealthCapability)?.flavour === 'gateway-api';
const health = capabilities.health as HealthCapability;
const READY_REPORTS = { postgres: 'health.ready-reports-postgres', redis: 'health.ready-reports-redis', none: 'health.ready-reports-dependency' } as const;

async function expectProbe(ctx: TestContext, name: string, exp: HttpExpectation): Promise<void> {
  const res = await http('GET', `${target.baseUrl}${exp.path}`);
  if (res.status !== exp.status) cause(ctx, 'status', `${name} GET ${exp.path} answered ${res.status}, not ${exp.status}`, { path: exp.path, expected: exp.status, got: res.status });
  expect(res.status, `${name} GET ${exp.path} without credentials should answer ${exp.status}; got ${describeRes(res)}`).toBe(exp.status);
  for (const f of exp.jsonFields ?? []) {
    expect(field(res.json, f), `${name} GET ${exp.path} should report the field "${f}"; got ${describeRes(res)}`).toBeDefined();
  }
  if (exp.bodyIncludes) {
    expect(res.text, `${name} GET ${exp.path} should say "${exp.bodyIncludes}"; got ${describeRes(res)}`).toContain(exp.bodyIncludes);
  }
}

// (vitest lists the tests of a skipped describe as bare skips, which fail: only one of the two is declared)
if (!isGateway(capabilities.health)) describe.skipIf(isNotApplicable(capabilities.health))('health', () => {
  check('health.live', 'liveness answers without credentials', async (ctx) => {
    await expectProbe(ctx, 'liveness', health.live);
  });

  check('health.ready', 'readiness answers without credentials', async (ctx) => {
    await expectProbe(ctx, 'readiness', health.ready);
  });

  for (const dep of health.readyReportsDependencies ?? [{ dependency: 'none', field: '' }]) {
    check(READY_REPORTS[dep.dependency], `readiness reports ${dep.dependency === 'none' ? 'its dependencies' : dep.dependency} going away`, async (ctx) => {
      // what readiness said, in a few words: the status and the field that reports the dependency
      const brief = (r: HttpResult) => `HTTP ${r.status} ${dep.field}=${JSON.stringify(field(r.json, dep.field)) ?? r.text.slice(0, 80)}`;
      const readiness = () =>
        http('GET', `${target.baseUrl}${health.ready.path}`).catch((e: Error): HttpResult => ({ status: 0, text: `no answer: ${e.message}`, json: undefined, headers: {} }));
      if (dep.dependency === 'none') throw new Error('the profile claims a readiness that reports a dependency, but names none in readyReportsDependencies');
      const blocked = target.environment[`health.${dep.dependency}`];
      if (blocked) return ctx.skip(environmentNote(blocked));
      const control = target.control;
      // The provisioner says why a dependency cannot be stopped (target.environment); silence is a defect.
      if (!control?.dependencies.includes(dep.dependency)) {
        throw new Error(`the ${target.kind} target offers no control over ${dep.dependency} and gave no reason: a harness defect`);
      }
      const before = await http('GET', `${target.baseUrl}${health.ready.path}`);
      expect(before.status, `readiness before stopping ${dep.dependency}: ${describeRes(before)}`).toBe(health.ready.status);
      // The harness answers once the action is done (a cluster scales a Deployment: tens of seconds).
      const say = (action: string) => http('POST', `${control.url}/dependency/${dep.dependency}/${action}`, { token: control.token, timeoutMs: 180_000 });
      const stopped = await say('stop');
      expect(stopped.status, `the harness could not stop ${dep.dependency}: ${describeRes(stopped)}`).toBe(200);
      const withinMs = dep.withinMs ?? 30_000; // (dep is a real dependency here)
      let last = before;
      let noticed = false;
      try {
        // Readiness must notice: a non-ready status (or no answer), or the dependency's field changing.
        for (const deadline = Date.now() + withinMs; !noticed && Date.now() < deadline; ) {
          await sleep(2_000);
          last = await readiness();
          noticed = last.status !== health.ready.status || JSON.stringify(field(last.json, dep.field)) !== JSON.stringify(field(before.json, dep.field));
        }
      } finally {
        const started = await say('start');
        expect(started.status, `the harness could not start ${dep.dependency} again: ${describeRes(started)}`).toBe(200);
      }
      // Recovery is awaited before any verdict, so the suites after this one start on a gateway that
      // is back (or the failure says it never came back).
      let recovered = last;
      for (const deadline = Date.now() + withinMs + 60_000; recovered.status !== health.ready.status && Date.now() < deadline; ) {
        await sleep(2_000);
        recovered = await readiness();
      }
      // Back for real: what needs the dependency works again, not only readiness.
      const use = () =>
        http(dep.usedBy!.method, `${target.baseUrl}${dep.usedBy!.path}`, { token: target.adminKey }).catch((e: Error): HttpResult => ({ status: 0, text: `no answer: ${e.message}`, json: undefined, headers: {} }));
      const t0 = Date.now();
      let used: HttpResult | undefined;
      if (dep.usedBy) {
        used = await use();
        for (const deadline = t0 + withinMs + 60_000; used.status !== 200 && Date.now() < deadline; ) {
          await sleep(2_000);
          used = await use();
        }
      }
      expect(
        noticed,
        `readiness never reported ${dep.dependency} going away within ${withinMs / 1000}s${dep.why ? ` (${dep.why})` : ''}: ` +
          `before: ${brief(before)}; last: ${brief(last)}`,
      ).toBe(true);
      expect(recovered.status, `readiness did not recover after ${dep.dependency} came back: ${describeRes(recovered)}`).toBe(health.ready.status);
      if (dep.usedBy && used) {
        expect(used.status, `${dep.usedBy.method} ${dep.usedBy.path} still failed ${Math.round((Date.now() - t0) / 1000)}s after ${dep.dependency} came back (readiness said ready): ${describeRes(used)}`).toBe(200);
      }
    }, 3 * (('withinMs' in dep && dep.withinMs) || 30_000) + 300_000);
  }
});

if (isGateway(capabilities.health)) describe('health', () => {
  const gw = capabilities.health as GatewayHealthCapability;
  const facts = target.cluster && target.gateway ? { cluster: target.cluster, gateway: target.gateway } : undefined;
  const noFacts = environmentNote(`the ${target.kind} target gives no access to the Gateway object, so its status cannot be read`);

  // A Gateway API chart has no app probe: its profile leaves health.probes unclaimed (with gw.noAppProbe as the reason).
  check('health.probes', 'liveness and readiness probes', () => {
    throw new Error(`the profile claims health.probes, but the chart has no app probe: ${gw.noAppProbe}`);
  });

  check('health.gateway-programmed', 'the Gateway is Programmed', async (ctx) => {
    if (!facts) return ctx.skip(noFacts);
    const cs = await gatewayConditions(facts.cluster, facts.gateway);
    const programmed = cs.find((c) => c.type === 'Programmed');
    expect(programmed?.status, `Gateway ${facts.gateway.namespace}/${facts.gateway.name}: ${describeConditions(cs)}`).toBe('True');
  });

  check('health.envoy-available', "the Gateway's Envoy Deployment is available", async (ctx) => {
    if (!facts) return ctx.skip(noFacts);
    const deps = await envoyDeployments(facts.cluster, facts.gateway);
    expect(deps.length, `no Envoy Deployment labelled ${facts.gateway.envoySelector} in ${facts.gateway.envoyNamespace}`).toBe(1);
    const d = deps[0]!;
    const where = `Deployment ${facts.gateway.envoyNamespace}/${d.name}: ${d.available}/${d.replicas} available; ${describeConditions(d.conditions)}`;
    expect(d.conditions.find((c) => c.type === 'Available')?.status, where).toBe('True');
    expect(d.available, where).toBe(d.replicas);
  });

  check('health.completion', 'a completion succeeds through the listener', async (ctx) => {
    const res = await http('POST', `${target.baseUrl}/v1/chat/completions`, {
      body: { model: target.model, messages: [{ role: 'user', content: 'health check' }] },
    });
    if (res.status !== 200) cause(ctx, 'status', `the completion through the listener answered ${res.status}`, { expected: 200, got: res.status });
    expect(res.status, `POST /v1/chat/completions through the Gateway listener: ${describeRes(res)}`).toBe(200);
    expect(field(res.json, 'choices.0.message.content'), `the completion has no message content: ${describeRes(res)}`).toEqual(expect.any(String));
  });
});
