// Upgrade (--upgrade-from): what the rollout under traffic showed (judged by
// scripts/upgrade/analysis.ts while it happened), and what survived it: a key made before still
// works, the key deleted before is still refused, a partly used quota was not reset (where the
// profile says the chart keeps it).
import { expect, type TestContext } from 'vitest';
import { upgradeEvidence } from '../scripts/upgrade/analysis.ts';
import type { UpgradeOutcome } from '../scripts/upgrade/run.ts';
import type { CheckId } from '../scripts/report/check-ids.ts';
import { cause, check } from './lib/check.ts';
import { notApplicableNote, suiteContext } from './lib/context.ts';
import { http } from './lib/http.ts';

const { target, capabilities } = suiteContext();
const upgrade = target.upgrade;
if (!upgrade) throw new Error('suite upgrade runs only on an upgrade run (--upgrade-from): the target carries no upgrade result');
const completionPath = '/v1/chat/completions';

/** The analysis's own verdict, reported as this check's: causes as data, the message as the failure. */
function judged(id: CheckId, title: string): void {
  check(id, title, (ctx) => {
    // the timeline and counts go to the report with the first check, whatever its verdict
    if (id === 'upgrade.rollout') ctx.task.meta.evidence = { upgrade: upgradeEvidence(upgrade!) };
    const c = upgrade!.checks.find((x) => x.id === id);
    if (!c) throw new Error(`the upgrade analysis made no ${id} check`);
    for (const k of c.causes ?? []) cause(ctx, k.kind, k.detail, k.evidence);
    if (c.verdict !== 'pass') throw new Error(c.message ?? c.verdict);
  });
}

judged('upgrade.rollout', 'the upgrade replaced the gateway pods (a rollout happened)');
judged('upgrade.no-failed-requests', 'no request failed across the upgrade');
judged('upgrade.no-cut-streams', 'no stream was cut off across the upgrade');
judged('upgrade.no-restarts', 'no pod of the old or the new release restarted');

async function complete(key: string): Promise<number> {
  const res = await http('POST', `${target.baseUrl}${completionPath}`, { token: key, body: { model: target.model, messages: [{ role: 'user', content: 'after the upgrade' }] } });
  return res.status;
}

function needKeys(ctx: TestContext): NonNullable<UpgradeOutcome['keys']> {
  if (!upgrade!.keys) {
    ctx.skip(notApplicableNote(`the chart has no key API to seed (${(capabilities.keys as { notApplicable?: string }).notApplicable ?? 'none'})`));
  }
  return upgrade!.keys!;
}

check('upgrade.keys-survive', 'a key made before the upgrade still works', async (ctx) => {
  const keys = needKeys(ctx);
  const status = await complete(keys.kept.key);
  if (status !== 200) cause(ctx, 'status', `the key made before the upgrade was answered ${status}`, { expected: 200, got: status });
  expect(status).toBe(200);
});

check('upgrade.deleted-key-refused', 'the key deleted before the upgrade is still refused', async (ctx) => {
  const keys = needKeys(ctx);
  const status = await complete(keys.deleted.key);
  if (status !== 401 && status !== 403) cause(ctx, 'status', `the key deleted before the upgrade was answered ${status}, not refused`, { expected: [401, 403], got: status });
  expect([401, 403]).toContain(status);
});

check('upgrade.quota-kept', 'a partly used quota was not reset by the upgrade', async (ctx) => {
  const keys = needKeys(ctx);
  if (!upgrade!.quotaPersists) return ctx.skip(notApplicableNote(`the ${target.chart} profile does not say its chart keeps a quota across an upgrade`));
  const { limit, used } = keys.limited;
  const statuses: number[] = [];
  for (let i = 0; i < limit - used + 1; i++) statuses.push(await complete(keys.limited.key));
  const want = [...Array<number>(limit - used).fill(200), 429];
  if (statuses.join() !== want.join()) {
    cause(ctx, 'count', `with ${used} of ${limit} spent before the upgrade, ${limit - used} more should pass and the next be refused (${upgrade!.quotaPersists})`, { expected: want, got: statuses });
  }
  expect(statuses).toEqual(want);
});
