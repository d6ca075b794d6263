// The pods' lives folded from successive looks: the first Ready and the IP stay once seen, a
// deletionTimestamp or a vanished pod ends it, restarts and their reason are kept.
import type { V1Pod } from '@kubernetes/client-node';
import { expect, test } from 'vitest';
import { analyseUpgrade } from '../scripts/upgrade/analysis.ts';
import { PodLog } from '../scripts/upgrade/pods.ts';

const t = (sec: number) => new Date(Date.UTC(2026, 11, 7, 12, 0, sec));
function pod(name: string, o: { created: number; ready?: number; ip?: string; deleting?: number; restarts?: number; reason?: string }): V1Pod {
  return {
    // as the API reports it: deletionTimestamp is when the 30 s grace period ends
    metadata: { name, uid: `uid-${name}`, creationTimestamp: t(o.created), ...(o.deleting !== undefined ? { deletionTimestamp: t(o.deleting + 30), deletionGracePeriodSeconds: 30 } : {}) },
    status: {
      ...(o.ip ? { podIP: o.ip } : {}),
      conditions: o.ready !== undefined ? [{ type: 'Ready', status: 'True', lastTransitionTime: t(o.ready) }] : [{ type: 'Ready', status: 'False' }],
      containerStatuses: [
        { name: 'app', image: 'x', imageID: 'x', ready: o.ready !== undefined, restartCount: o.restarts ?? 0, ...(o.reason ? { lastState: { terminated: { exitCode: 1, reason: o.reason } } } : {}) },
      ],
    },
  };
}

test('a rollout seen in three looks: old pods end, new ones come Ready, IPs of gone pods stay known', () => {
  const log = new PodLog();
  log.observe([pod('old-a', { created: 0, ready: 5, ip: '10.0.0.1' }), pod('old-b', { created: 0, ready: 5, ip: '10.0.0.2' })], t(20).getTime());
  log.observe(
    [pod('old-a', { created: 0, ready: 5, ip: '10.0.0.1', deleting: 31 }), pod('old-b', { created: 0, ready: 5, ip: '10.0.0.2' }), pod('new-a', { created: 30, ip: '10.0.0.3' })],
    t(32).getTime(),
  );
  log.observe([pod('new-a', { created: 30, ready: 36, ip: '10.0.0.3', restarts: 1, reason: 'Error' }), pod('new-b', { created: 37, ready: 40, ip: '10.0.0.4' })], t(41).getTime());
  const times = log.times();
  // old-a was terminating at the second look and is gone at the third: only the new pods are listed
  expect(log.listed().map((p) => p.name)).toEqual(['new-a', 'new-b']);
  expect(times.map((p) => [p.name, p.terminated && new Date(p.terminated).getUTCSeconds()])).toEqual([
    ['old-a', 31],
    ['old-b', 32],
    ['new-a', undefined],
    ['new-b', undefined],
  ]);
  expect(times.find((p) => p.name === 'new-a')).toMatchObject({ restarts: 1, restartReason: 'Error', ready: t(36).getTime() });
  expect(log.byIp()).toEqual(new Map([['10.0.0.1', 'old-a'], ['10.0.0.2', 'old-b'], ['10.0.0.3', 'new-a'], ['10.0.0.4', 'new-b']]));
  const a = analyseUpgrade({ records: [], pods: times, window: { upgradeStart: t(25).getTime(), rolloutEnd: t(41).getTime() } });
  expect(a.replaced).toEqual(['old-a', 'old-b']);
  expect(a.newPods).toEqual(['new-a', 'new-b']);
});
