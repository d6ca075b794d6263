// Health: liveness and readiness answer as the profile says, without credentials; readiness
// reports a dependency it checks going away, where the profile says it does. A Gateway-API chart
// (no app, no probe) is healthy when its Gateway is Programmed, its Envoy Deployment available and
// a completion goes through the listener.
import { describe, expect, test } from 'vitest';
import type { GatewayHealthCapability, HealthCapability, HttpExpectation } from '../scripts/profiles/types.ts';
import { isNotApplicable } from '../scripts/profiles/types.ts';
import { environmentNote, notApplicableNote, suiteContext } from './lib/context.ts';
import { describeConditions, envoyDeployments, gatewayConditions } from './lib/gateway-status.ts';
import { describe as describeRes, field, http } from './lib/http.ts';

const { target, capabilities } = suiteContext();
const isGateway = (c: unknown): c is GatewayHealthCapability => (c as GatewayHealthCapability)?.flavour === 'gateway-api';
const health = capabilities.health as HealthCapability;

async function expectProbe(name: string, exp: HttpExpectation): Promise<void> {
  const res = await http('GET', `${target.baseUrl}${exp.path}`);
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
  test('liveness answers without credentials', async () => {
    await expectProbe('liveness', health.live);
  });

  test('readiness answers without credentials', async () => {
    await expectProbe('readiness', health.ready);
  });

  for (const dep of health.readyReportsDependencies ?? [{ dependency: 'none', field: '' }]) {
    test(`readiness reports ${dep.dependency === 'none' ? 'its dependencies' : dep.dependency} going away`, async (ctx) => {
      if (dep.dependency === 'none') return ctx.skip(notApplicableNote('the chart checks no dependency in readiness'));
      const blocked = target.environment[`health.${dep.dependency}`];
      if (blocked) return ctx.skip(environmentNote(blocked));
      const control = target.control;
      // The provisioner says why a dependency cannot be stopped (target.environment); silence is a defect.
      if (!control?.dependencies.includes(dep.dependency)) {
        throw new Error(`the ${target.kind} target offers no control over ${dep.dependency} and gave no reason: a harness defect`);
      }
      const before = await http('GET', `${target.baseUrl}${health.ready.path}`);
      expect(before.status, `readiness before stopping ${dep.dependency}: ${describeRes(before)}`).toBe(health.ready.status);
      const say = (action: string) => http('POST', `${control.url}/dependency/${dep.dependency}/${action}`, { token: control.token });
      expect((await say('stop')).status).toBe(200);
      try {
        // Readiness must notice: a non-ready status, or the dependency's field changing.
        await expect
          .poll(
            async () => {
              const r = await http('GET', `${target.baseUrl}${health.ready.path}`);
              const changed = JSON.stringify(field(r.json, dep.field)) !== JSON.stringify(field(before.json, dep.field));
              return r.status !== health.ready.status || changed;
            },
            { timeout: 30_000, interval: 1_000, message: `readiness never reported ${dep.dependency} going away` },
          )
          .toBe(true);
      } finally {
        await say('start');
      }
      await expect
        .poll(async () => (await http('GET', `${target.baseUrl}${health.ready.path}`)).status, {
          timeout: 60_000,
          interval: 1_000,
          message: `readiness did not recover after ${dep.dependency} came back`,
        })
        .toBe(health.ready.status);
    });
  }
});

if (isGateway(capabilities.health)) describe('health', () => {
  const gw = capabilities.health as GatewayHealthCapability;
  const facts = target.cluster && target.gateway ? { cluster: target.cluster, gateway: target.gateway } : undefined;
  const noFacts = environmentNote(`the ${target.kind} target gives no access to the Gateway object, so its status cannot be read`);

  test('liveness and readiness probes', (ctx) => ctx.skip(notApplicableNote(gw.noAppProbe)));

  test('the Gateway is Programmed', async (ctx) => {
    if (!facts) return ctx.skip(noFacts);
    const cs = await gatewayConditions(facts.cluster, facts.gateway);
    const programmed = cs.find((c) => c.type === 'Programmed');
    expect(programmed?.status, `Gateway ${facts.gateway.namespace}/${facts.gateway.name}: ${describeConditions(cs)}`).toBe('True');
  });

  test("the Gateway's Envoy Deployment is available", async (ctx) => {
    if (!facts) return ctx.skip(noFacts);
    const deps = await envoyDeployments(facts.cluster, facts.gateway);
    expect(deps.length, `no Envoy Deployment labelled ${facts.gateway.envoySelector} in ${facts.gateway.envoyNamespace}`).toBe(1);
    const d = deps[0]!;
    const where = `Deployment ${facts.gateway.envoyNamespace}/${d.name}: ${d.available}/${d.replicas} available; ${describeConditions(d.conditions)}`;
    expect(d.conditions.find((c) => c.type === 'Available')?.status, where).toBe('True');
    expect(d.available, where).toBe(d.replicas);
  });

  test('a completion succeeds through the listener', async () => {
    const res = await http('POST', `${target.baseUrl}/v1/chat/completions`, {
      body: { model: target.model, messages: [{ role: 'user', content: 'health check' }] },
    });
    expect(res.status, `POST /v1/chat/completions through the Gateway listener: ${describeRes(res)}`).toBe(200);
    expect(field(res.json, 'choices.0.message.content'), `the completion has no message content: ${describeRes(res)}`).toEqual(expect.any(String));
  });
});
