// The decisions the cluster provisioner makes before it creates anything: which node image, which
// app image, which pod states are terminal. Only the choice between the online and air-gapped
// paths can be exercised on this machine, so the choice is what is tested, against the real
// reachability probe where the network allows it.
import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, test } from 'vitest';
import { chartImageRef, decideAppImage } from '../scripts/cluster/app-image.ts';
import { dependencyEnabled } from '../scripts/cluster/chart-source.ts';
import { chooseClusterKit } from '../scripts/cluster/cluster-kit.ts';
import { probeRegistry, registryOf } from '../scripts/cluster/registry.ts';
import { missingReference, TerminalTracker } from '../scripts/kube/terminal.ts';

const unreachable = { reachable: false, detail: 'GET https://ghcr.io/v2/ failed: ENOTFOUND' };
const reachable = { reachable: true, detail: 'GET https://ghcr.io/v2/ answered HTTP 401' };

describe('cluster kit', () => {
  const image = 'kindest/node:v1.34.0@sha256:7416a61b42b1662ca6ca89f02028ac133a309a2a30ba309614e8ec94d976dc5a';

  test("a machine that can pull kind's node image uses the online kit and says why", () => {
    expect(chooseClusterKit({ nodeImage: image, served: reachable })).toEqual({ kit: 'online', why: `${image} can be pulled (${reachable.detail})` });
  });

  test('a machine that cannot falls back to the air-gapped build and says why', () => {
    const kit = chooseClusterKit({ nodeImage: image, served: unreachable });
    expect(kit.kit).toBe('airgap');
    expect(kit.why).toMatch(/cannot be pulled here \(.*ENOTFOUND/);
  });

  test('GATEWAY_SMOKE_KIT forces a kit; GATEWAY_SMOKE_NODE_IMAGE picks by the image it names', () => {
    expect(chooseClusterKit({ forced: 'airgap', nodeImage: image, served: reachable }).kit).toBe('airgap');
    expect(chooseClusterKit({ forced: 'online', nodeImage: image, served: unreachable }).kit).toBe('online');
    expect(chooseClusterKit({ override: 'my/node:1', nodeImage: image, served: unreachable })).toEqual({ kit: 'online', why: 'GATEWAY_SMOKE_NODE_IMAGE=my/node:1' });
    expect(chooseClusterKit({ override: 'gateway-smoke/kind-node:v1.34.4', nodeImage: image, served: reachable }).kit).toBe('airgap');
  });

  test('the real probe of this machine decides one way or the other, with its evidence', async () => {
    const probe = await probeRegistry('docker.io', 3000);
    expect(probe.detail).toMatch(/^GET https:\/\/registry-1\.docker\.io\/v2\/ (answered HTTP \d+|failed: \S+)/);
    expect(chooseClusterKit({ nodeImage: image, served: probe }).kit).toBe(probe.reachable ? 'online' : 'airgap');
  });
});

describe('app image', () => {
  const facts = { chart: 'routeiq', chartImage: 'ghcr.io/baladithyab/litellm-llm-router:1.81.3', hasStandIn: true, onEveryNode: false, registryHost: 'ghcr.io' };

  test("the chart's image ref comes from its values, the tag defaulting to appVersion", () => {
    expect(chartImageRef({ image: { repository: 'ghcr.io/baladithyab/litellm-llm-router', tag: '' } }, 'image', '1.81.3')).toBe(facts.chartImage);
    expect(chartImageRef({ image: { repository: 'llm-proxy', tag: 'v0.1.3' } }, 'image', 'latest')).toBe('llm-proxy:v0.1.3');
    expect(chartImageRef({ image: { repository: 'r', digest: 'sha256:ab' } }, 'image', '1')).toBe('r@sha256:ab');
    expect(registryOf('ghcr.io/x/y:1')).toBe('ghcr.io');
    expect(registryOf('llm-proxy:latest')).toBe('docker.io');
    expect(registryOf('localhost:5000/x:1')).toBe('localhost:5000');
  });

  test('auto picks the local stand-in only when the image cannot be pulled, and says why', () => {
    const local = decideAppImage('auto', { ...facts, registry: unreachable });
    expect(local.use).toBe('local');
    expect(local.why).toBe(`the chart's image ${facts.chartImage} cannot be pulled here: ghcr.io is unreachable (${unreachable.detail})`);
    expect(decideAppImage('auto', { ...facts, registry: reachable }).use).toBe('chart');
    expect(decideAppImage('auto', { ...facts, onEveryNode: true, registry: unreachable })).toMatchObject({ use: 'chart', why: `${facts.chartImage} is already on every node` });
  });

  test('chart and local are obeyed; local without a stand-in is a user error', () => {
    expect(decideAppImage('chart', { ...facts, registry: unreachable }).use).toBe('chart');
    expect(decideAppImage('local', { ...facts, registry: reachable }).use).toBe('local');
    expect(() => decideAppImage('local', { ...facts, hasStandIn: false, registry: reachable })).toThrow(/has no local stand-in/);
  });
});

describe('chart dependencies', () => {
  test("a dependency's condition is read from the effective values as Helm reads it", () => {
    expect(dependencyEnabled('postgresql.enabled', { postgresql: { enabled: false } })).toEqual({ enabled: false, because: 'postgresql.enabled=false' });
    expect(dependencyEnabled('a.enabled,b.enabled', { b: { enabled: true } })).toEqual({ enabled: true, because: 'b.enabled=true' });
    expect(dependencyEnabled(undefined, {})).toEqual({ enabled: true, because: 'it has no condition' });
  });
});

describe('terminal pod states', () => {
  const pod = (reason: string, message = '', job?: string): V1Pod => ({
    metadata: { name: 'p-1', uid: 'u1', ...(job ? { ownerReferences: [{ kind: 'Job', name: job, apiVersion: 'batch/v1', uid: 'j1' }] } : {}) },
    spec: { containers: [{ name: 'app', image: 'ghcr.io/x/app:1' }] },
    status: { containerStatuses: [{ name: 'app', image: 'ghcr.io/x/app:1', ready: false, restartCount: 0, imageID: '', state: { waiting: { reason, message } } }] },
  });

  test('ImagePullBackOff and CrashLoopBackOff end the wait at once; ErrImagePull and config errors after a short grace', () => {
    expect(new TerminalTracker().check([pod('ImagePullBackOff')], 0)).toMatchObject({ reason: 'ImagePullBackOff', image: 'ghcr.io/x/app:1' });
    expect(new TerminalTracker().check([pod('CrashLoopBackOff')], 0)?.reason).toBe('CrashLoopBackOff');
    const t = new TerminalTracker();
    expect(t.check([pod('ErrImagePull')], 0)).toBeUndefined();
    expect(t.check([pod('ErrImagePull')], 5_000)?.reason).toBe('ErrImagePull');
    const c = new TerminalTracker();
    expect(c.check([pod('CreateContainerConfigError', 'secret "postgresql-app" not found', 'migrate')], 0)).toBeUndefined();
    expect(c.check([pod('CreateContainerConfigError', 'secret "postgresql-app" not found', 'migrate')], 9_000)).toMatchObject({ job: 'migrate' });
    expect(new TerminalTracker().check([pod('ContainerCreating')], 99_000)).toBeUndefined();
  });

  const unschedulable = (message = '0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient cpu.', uid = 'u2'): V1Pod => ({
    metadata: { name: 'gw-1', uid },
    spec: { containers: [{ name: 'app', image: 'gw:1', resources: { requests: { cpu: '1k', memory: '64Mi' } } }, { name: 'side', image: 's:1', resources: { requests: { cpu: '100m' } } }] },
    status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message }] },
  });

  test('a pod the scheduler cannot place ends the wait once that has lasted 8s, with the reason and the requests', () => {
    const t = new TerminalTracker();
    expect(t.check([unschedulable()], 0)).toBeUndefined();
    expect(t.check([unschedulable()], 7_000)).toBeUndefined();
    expect(t.check([unschedulable()], 8_500)).toMatchObject({
      pod: 'gw-1',
      reason: 'Unschedulable',
      message: '0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient cpu.',
      requests: 'cpu 1k + 100m, memory 64Mi',
      forMs: 8_500,
    });
  });

  test('being unschedulable for a moment (a claim binding, a node freed) never counts', () => {
    const t = new TerminalTracker();
    const bound: V1Pod = { ...unschedulable(), status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }] } };
    expect(t.check([unschedulable('0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims.')], 0)).toBeUndefined();
    expect(t.check([bound], 5_000)).toBeUndefined();
    // the same pod unschedulable again later starts a new grace, not the old one
    expect(t.check([unschedulable()], 20_000)).toBeUndefined();
    expect(t.check([unschedulable()], 27_000)).toBeUndefined();
    // PodScheduled=False for another reason (the scheduler's own error), or a pod being deleted: not this
    const other: V1Pod = { ...unschedulable(), status: { conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulerError' }] } };
    const deleting: V1Pod = { ...unschedulable('x', 'u3'), metadata: { name: 'old', uid: 'u3', deletionTimestamp: new Date(0) } };
    const u = new TerminalTracker();
    expect(u.check([other, deleting], 0)).toBeUndefined();
    expect(u.check([other, deleting], 60_000)).toBeUndefined();
  });

  test("the missing Secret or key is named in the kubelet's words", () => {
    expect(missingReference('secret "postgresql-app" not found')).toBe('Secret "postgresql-app"');
    expect(missingReference("couldn't find key password in Secret gs-1/valkey")).toBe('key password of Secret gs-1/valkey');
    expect(missingReference('something else')).toBeUndefined();
  });
});
