// What a run leaves on a cluster: the --keep decision for every way a run can end, and which
// namespaces of earlier runs a new run removes, as plain data.
import type { V1Namespace, V1Pod } from '@kubernetes/client-node';
import { describe, expect, test } from 'vitest';
import { deletesCluster, keep } from '../scripts/cluster/keep.ts';
import { capacityNote, holdingPods, runNamespaceOf, superseded, type RunNamespace } from '../scripts/cluster/run-namespaces.ts';
import type { KeepPolicy } from '../scripts/plan.ts';

const passed = { failed: false, interrupted: false };
const failed = { failed: true, interrupted: false };
// the CLI marks an interrupted run failed too; the decision must not depend on it
const interrupted = { failed: true, interrupted: true };
const interruptedEarly = { failed: false, interrupted: true };

describe('--keep', () => {
  test.each<[KeepPolicy, boolean, boolean, boolean, boolean]>([
    // policy        passed  failed  interrupted  interrupted (not yet failed)
    ['on-failure', false, true, false, false],
    ['always', false, true, true, true],
    ['never', false, false, false, false],
  ])('the run namespace with --keep %s: passed %s, failed %s, interrupted %s/%s', (policy, p, f, i, ie) => {
    expect([keep(policy, passed), keep(policy, failed), keep(policy, interrupted), keep(policy, interruptedEarly)]).toEqual([p, f, i, ie]);
  });

  test('a cluster the run created goes unless kept; an interrupt deletes it unless --keep always', () => {
    const created = (policy: KeepPolicy, end: typeof passed) => deletesCluster(policy, { ...end, created: true });
    expect([created('on-failure', passed), created('on-failure', failed), created('on-failure', interrupted), created('on-failure', interruptedEarly)]).toEqual([true, false, true, true]);
    expect([created('always', passed), created('always', failed), created('always', interrupted)]).toEqual([false, false, false]);
    expect([created('never', passed), created('never', failed), created('never', interrupted)]).toEqual([true, true, true]);
  });

  test('a reused cluster was there before the run: only --keep never deletes it, interrupted or not', () => {
    for (const end of [passed, failed, interrupted]) {
      expect(deletesCluster('on-failure', { ...end, created: false })).toBe(false);
      expect(deletesCluster('always', { ...end, created: false })).toBe(false);
      expect(deletesCluster('never', { ...end, created: false })).toBe(true);
    }
  });
});

const ns = (name: string, labels: Record<string, string>, created: string, phase = 'Active'): V1Namespace => ({
  metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'gateway-smoke', ...labels }, creationTimestamp: new Date(created) },
  status: { phase },
});

describe('namespaces of earlier runs', () => {
  const all: RunNamespace[] = [
    ns('gs-llm-proxy-1', { 'gateway-smoke/chart': 'llm-proxy', 'gateway-smoke/kept': 'failed' }, '2025-01-01T10:00:00Z'),
    ns('gs-llm-proxy-3', { 'gateway-smoke/chart': 'llm-proxy', 'gateway-smoke/kept': 'failed' }, '2025-01-01T12:00:00Z'),
    ns('gs-llm-proxy-2', { 'gateway-smoke/chart': 'llm-proxy', 'gateway-smoke/kept': 'failed' }, '2025-01-01T11:00:00Z'),
    // kept on purpose, a run still going, one already being deleted, another chart's
    ns('gs-llm-proxy-0', { 'gateway-smoke/chart': 'llm-proxy', 'gateway-smoke/kept': 'always' }, '2025-01-01T09:00:00Z'),
    ns('gs-llm-proxy-4', { 'gateway-smoke/chart': 'llm-proxy' }, '2025-01-01T08:00:00Z'),
    ns('gs-llm-proxy-5', { 'gateway-smoke/chart': 'llm-proxy', 'gateway-smoke/kept': 'failed' }, '2025-01-01T07:00:00Z', 'Terminating'),
    ns('gs-routeiq-1', { 'gateway-smoke/chart': 'routeiq', 'gateway-smoke/kept': 'failed' }, '2025-01-01T06:00:00Z'),
    ns('gs-routeiq-2', { 'gateway-smoke/chart': 'routeiq', 'gateway-smoke/kept': 'failed' }, '2025-01-01T05:00:00Z'),
  ].map(runNamespaceOf);

  test('a new run removes the older failed runs of its chart and keeps the newest', () => {
    const llm = superseded(all, 'llm-proxy');
    expect(llm.newest?.name).toBe('gs-llm-proxy-3');
    expect(llm.older.map((n) => n.name)).toEqual(['gs-llm-proxy-2', 'gs-llm-proxy-1']);
    expect(superseded(all, 'routeiq').older.map((n) => n.name)).toEqual(['gs-routeiq-2']);
  });

  test('nothing to remove with one kept namespace or none', () => {
    expect(superseded(all.slice(0, 1), 'llm-proxy')).toMatchObject({ newest: { name: 'gs-llm-proxy-1' }, older: [] });
    expect(superseded(all, 'litellm-proxy')).toEqual({ older: [] });
  });

  test('a pod that does not fit names the namespaces holding pods and the command that removes them', () => {
    const note = capacityNote(
      [
        { ns: all[0]!, pods: 3 },
        { ns: all[4]!, pods: 1 },
        { ns: all[6]!, pods: 0 }, // nothing running: not named
        { ns: all[5]!, pods: 2 }, // already going
      ],
      'kind-gs',
    );
    expect(note).toBe(
      'Namespaces of other gateway-smoke runs hold pods on this cluster: gs-llm-proxy-1 (llm-proxy, kept after a failed run, 3 pods), ' +
        'gs-llm-proxy-4 (llm-proxy, not marked kept: a run still going, or one that was killed, 1 pod). ' +
        'Remove them with: kubectl --context kind-gs delete namespace gs-llm-proxy-1 gs-llm-proxy-4',
    );
    expect(capacityNote([], 'kind-gs')).toMatch(/^No namespace of another gateway-smoke run holds pods on this cluster: lower what the pod requests/);
  });

  test('finished pods hold nothing', () => {
    const pod = (phase: string): V1Pod => ({ status: { phase } });
    expect(holdingPods([pod('Running'), pod('Pending'), pod('Succeeded'), pod('Failed')])).toBe(2);
  });
});
