// What every check of a cluster run must end as, pinned per chart: a check that changes verdict fails
// CI with its id. A suite decided before it ran (no checks) is pinned under its suite name. The one
// intermittent defect (llm-proxy cutting off a streamed answer) may turn a check listed as `mayBeCutOff`
// to fail, and only when the provider's journal proves the gateway aborted the answer (test/cut-off.ts).
import { expect } from 'vitest';
import type { RunReport, Verdict } from '../../scripts/report/model.ts';
import { isCutOff } from '../cut-off.ts';

export type VerdictTable = Record<string, Verdict>;

/** `id → verdict` (or `suite → verdict` for a suite with no checks) as the run ended. */
export function verdictsOf(report: RunReport): VerdictTable {
  return Object.fromEntries(report.suites.flatMap((s) => (s.checks.length ? s.checks.map((c) => [c.id, c.verdict] as const) : [[s.suite, s.verdict] as const])));
}

export function expectVerdicts(report: RunReport, expected: VerdictTable, opts: { mayBeCutOff?: string[]; unpinned?: string[]; out?: string } = {}): void {
  // an unpinned check's verdict is asserted by the caller (e.g. one an intermittent defect decides)
  const actual = Object.fromEntries(Object.entries(verdictsOf(report)).filter(([id]) => !(opts.unpinned ?? []).includes(id)));
  const checks = new Map(report.suites.flatMap((s) => s.checks.map((c) => [c.id, c] as const)));
  const allowed = Object.fromEntries(
    Object.entries(actual).map(([id, v]) => {
      const cutOff = v === 'fail' && expected[id] === 'pass' && (opts.mayBeCutOff ?? []).includes(id) && isCutOff(checks.get(id));
      return [id, cutOff ? 'pass' : v];
    }),
  );
  const diff = [...new Set([...Object.keys(expected), ...Object.keys(actual)])]
    .filter((id) => expected[id] !== allowed[id])
    .map((id) => `${id}: expected ${expected[id] ?? '(no such check)'}, got ${actual[id] ?? '(missing)'}${checks.get(id)?.message ? ` — ${checks.get(id)!.message!.slice(0, 400)}` : ''}`);
  expect(diff, `checks that changed verdict:\n${diff.join('\n')}\n${(opts.out ?? '').slice(-2000)}`).toEqual([]);
}

/** llm-proxy on kind: two replicas on Postgres, the stand-in image (Docker Hub has no llm-proxy:latest). */
export const LLM_PROXY_ON_KIND: VerdictTable = {
  'health.live': 'pass',
  'health.ready': 'pass',
  'health.ready-reports-dependency': 'not-applicable',
  'keys.create': 'pass',
  'keys.wrong-admin-refused': 'pass',
  'keys.sdk-completion': 'pass',
  'keys.sdk-stream': 'pass',
  'keys.missing-key-refused': 'pass',
  'keys.wrong-key-refused': 'pass',
  'keys.provider-key-upstream': 'pass',
  'keys.revoked-refused': 'fail',
  'keys.revoked-limited-refused': 'pass',
  'ratelimit.burst-answered': 'pass',
  'ratelimit.burst-exact': 'pass',
  'ratelimit.429-shape': 'pass',
  'ratelimit.remaining-headers': 'not-applicable',
  'ratelimit.other-user-unaffected': 'not-applicable',
  'ratelimit.no-header-unlimited': 'not-applicable',
  'ratelimit.shared-across-replicas': 'pass',
  'metrics.series-exist': 'pass',
  'metrics.requests-counted': 'pass',
  'metrics.failures-counted': 'pass',
  'metrics.documented-names': 'not-applicable',
  'metrics.monotonic': 'pass',
  netpol: 'not-applicable',
};
