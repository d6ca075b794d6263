// What the harness reads out of Envoy's /stats when a global rate limit lets too much through.
// The stats lines are Envoy 1.38.3's own, from the fresh-clone run on kind (2026-12-01) whose burst
// over two Envoy pods passed 6 for a limit of 3 under Envoy's default 20 ms rate-limit timeout.
import { describe, expect, test } from 'vitest';
import { type EnvoyEvidence, failOpenCounts, parseStats, rateLimitFailOpenFinding } from '../scripts/cluster/envoy-evidence.ts';

const ROUTE = 'cluster.httproute/gs-ai-gateway-core-mx4mwbse36ac/mock-gpt/rule/0';

function pod(name: string, lines: string[]): EnvoyEvidence {
  const statsText = lines.join('\n');
  return { pod: name, stats: parseStats(statsText), statsText, log: '' };
}

// the fresh-clone run's two Envoy pods (diagnostics/envoy/*.stats.txt)
const failedRun = [
  pod('envoy-…-5pvjg', [
    `${ROUTE}.ratelimit.error: 2`,
    `${ROUTE}.ratelimit.failure_mode_allowed: 2`,
    `${ROUTE}.ratelimit.ok: 3`,
    `${ROUTE}.ratelimit.over_limit: 1`,
    'cluster.ratelimit_cluster.http2.tx_reset: 2',
    'cluster.ratelimit_cluster.internal.upstream_rq_504: 2',
    'cluster.ratelimit_cluster.upstream_rq_timeout: 2',
    'cluster.ratelimit_cluster.upstream_rq_time: P0(nan,3.033333333333333) P25(nan,3.033333333333333) P50(nan,3.066666666666667) P100(nan,14.5)',
  ]),
  pod('envoy-…-qmhln', [
    `${ROUTE}.ratelimit.error: 3`,
    `${ROUTE}.ratelimit.failure_mode_allowed: 3`,
    `${ROUTE}.ratelimit.ok: 1`,
    `${ROUTE}.ratelimit.over_limit: 1`,
    'cluster.ratelimit_cluster.upstream_rq_504: 3',
    'cluster.ratelimit_cluster.upstream_rq_timeout: 3',
  ]),
];

describe('Envoy rate-limit fail-open evidence', () => {
  test('counts per pod the requests let through unanswered, the errors and the timeouts', () => {
    expect(failOpenCounts(failedRun)).toEqual([
      { pod: 'envoy-…-5pvjg', allowed: 2, errors: 2, timeouts: 2 },
      { pod: 'envoy-…-qmhln', allowed: 3, errors: 3, timeouts: 3 },
    ]);
  });

  test('the finding says the limit failed open on timeouts, with every pod’s numbers, and not that it is per replica', () => {
    const said = rateLimitFailOpenFinding(failedRun, '2s');
    expect(said).toMatch(/^Envoy let 5 requests through without a rate-limit decision: its calls to the rate-limit service failed \(5 timed out after 2s\) and/);
    expect(said).toMatch(/fails open/);
    expect(said).toMatch(/not a per-replica limit/);
    expect(said).toContain('envoy-…-5pvjg: ratelimit.error = 2, ratelimit.failure_mode_allowed = 2, ratelimit_cluster.upstream_rq_timeout = 2');
    expect(said).toContain('envoy-…-qmhln: ratelimit.error = 3, ratelimit.failure_mode_allowed = 3, ratelimit_cluster.upstream_rq_timeout = 3');
  });

  test('with Redis paused for a minute (a kind run, 2s timeout), timeouts and fast errors are told apart', () => {
    const paused = [
      pod('qsbkx', [`${ROUTE}.ratelimit.error: 5`, `${ROUTE}.ratelimit.failure_mode_allowed: 5`, `${ROUTE}.ratelimit.ok: 1`, 'cluster.ratelimit_cluster.upstream_rq_timeout: 2']),
      pod('t5ngd', [`${ROUTE}.ratelimit.error: 4`, `${ROUTE}.ratelimit.failure_mode_allowed: 4`, `${ROUTE}.ratelimit.ok: 1`, 'cluster.ratelimit_cluster.upstream_rq_timeout: 4']),
    ];
    expect(rateLimitFailOpenFinding(paused, '2s')).toMatch(/^Envoy let 9 requests through without a rate-limit decision: its calls to the rate-limit service failed \(6 timed out after 2s\) and/);
  });

  test('an error that is not a timeout is named as a failed call', () => {
    const refused = [pod('p', [`${ROUTE}.ratelimit.error: 1`, `${ROUTE}.ratelimit.failure_mode_allowed: 1`, 'cluster.ratelimit_cluster.upstream_rq_timeout: 0', 'cluster.ratelimit_cluster.upstream_cx_connect_fail: 1'])];
    expect(rateLimitFailOpenFinding(refused, '2s')).toMatch(/^Envoy let 1 request through without a rate-limit decision: its calls to the rate-limit service failed and/);
  });

  test('no finding when every call was answered (the limit held, or was really per replica)', () => {
    const held = [
      pod('a', [`${ROUTE}.ratelimit.ok: 4`, `${ROUTE}.ratelimit.over_limit: 3`, `${ROUTE}.ratelimit.error: 0`, `${ROUTE}.ratelimit.failure_mode_allowed: 0`, 'cluster.ratelimit_cluster.upstream_rq_timeout: 0']),
      pod('b', [`${ROUTE}.ratelimit.ok: 1`, `${ROUTE}.ratelimit.over_limit: 2`]),
    ];
    expect(rateLimitFailOpenFinding(held, '2s')).toBeUndefined();
    expect(rateLimitFailOpenFinding([], '2s')).toBeUndefined();
  });

  test('histogram lines are not counters', () => {
    expect(parseStats('cluster.ratelimit_cluster.upstream_rq_time: P0(nan,2.05) P100(nan,12.5)\nserver.live: 1').get('cluster.ratelimit_cluster.upstream_rq_time')).toBeUndefined();
  });
});
