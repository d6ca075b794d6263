// The decisions the cluster provisioner makes before it creates anything: which node image, which
// app image, which pod states are terminal. Only the choice between the online and air-gapped
// paths can be exercised on this machine, so the choice is what is tested, against the real
// reachability probe where the network allows it.
import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, test } from 'vitest';
import { chartImageRef, decideAppImage } from '../scripts/cluster/app-image.ts';
import type { ManifestOutcome } from '../scripts/cluster/manifest.ts';
import { UserError } from '../scripts/errors.ts';
import { dependencyEnabled } from '../scripts/cluster/chart-source.ts';
import { chooseClusterKit } from '../scripts/cluster/cluster-kit.ts';
import { parseImageRef } from '../scripts/cluster/image-ref.ts';
import { probeRegistry } from '../scripts/cluster/registry.ts';
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
    expect(parseImageRef('ghcr.io/x/y:1').registry).toBe('ghcr.io');
    expect(parseImageRef('llm-proxy:latest').registry).toBe('docker.io');
    expect(parseImageRef('localhost:5000/x:1').registry).toBe('localhost:5000');
  });

  const present: ManifestOutcome = { kind: 'present', digest: `sha256:${'a'.repeat(64)}`, detail: 'HEAD https://ghcr.io/v2/x/manifests/1 answered HTTP 200' };
  const unknown: ManifestOutcome = { kind: 'manifest unknown', detail: 'HEAD https://ghcr.io/v2/x/manifests/1 answered HTTP 404' };
  const unauthorized: ManifestOutcome = { kind: 'unauthorized', detail: 'HEAD https://ghcr.io/v2/x/manifests/1 answered HTTP 403' };
  const offline: ManifestOutcome = { kind: 'registry unreachable', code: 'ENOTFOUND', detail: 'HEAD https://ghcr.io/v2/x/manifests/1 failed: ENOTFOUND' };

  test("auto runs the chart's image only when it is on every node or its manifest is present", () => {
    expect(decideAppImage('auto', { ...facts, manifest: present })).toEqual({ use: 'chart', chartImage: facts.chartImage, why: `its manifest is present (${present.detail})` });
    expect(decideAppImage('auto', { ...facts, onEveryNode: true, manifest: undefined })).toMatchObject({ use: 'chart', why: `${facts.chartImage} is already on every node` });
  });

  test('auto runs the stand-in otherwise, naming the outcome (the text the report carries)', () => {
    for (const m of [unknown, unauthorized, offline]) {
      const choice = decideAppImage('auto', { ...facts, manifest: m });
      expect(choice.use).toBe('local');
      expect(choice.why).toBe(`${m.kind} for ${facts.chartImage} (${m.detail})`);
    }
    // without a stand-in the chart's image is tried anyway, and the reason stays in the record
    expect(decideAppImage('auto', { ...facts, hasStandIn: false, manifest: unknown })).toEqual({
      use: 'chart',
      chartImage: facts.chartImage,
      why: `manifest unknown for ${facts.chartImage} (${unknown.detail}), and the chart has no stand-in`,
    });
  });

  test('--images chart fails at once when the manifest is unknown or unauthorized, naming the image and what to do', () => {
    for (const m of [unknown, unauthorized]) {
      let err: unknown;
      try {
        decideAppImage('chart', { ...facts, manifest: m });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UserError);
      const e = err as UserError;
      expect(e.exitCode).toBe(2);
      expect(e.message).not.toContain('\n');
      expect(e.message).toContain(`${facts.chartImage} cannot be pulled: ${m.kind}`);
      expect(e.message).toMatch(/--images auto or --images local .* push/);
    }
    expect(() => decideAppImage('chart', { ...facts, hasStandIn: false, manifest: unknown })).toThrow(/: manifest unknown .*\. Push /);
  });

  test('--images chart goes on when the image is on every node, present, or the registry is unreachable from here', () => {
    expect(decideAppImage('chart', { ...facts, onEveryNode: true, manifest: undefined })).toMatchObject({ use: 'chart', why: `--images chart; ${facts.chartImage} is already on every node` });
    expect(decideAppImage('chart', { ...facts, manifest: present }).why).toBe(`--images chart; its manifest is present (${present.detail})`);
    expect(decideAppImage('chart', { ...facts, manifest: offline })).toMatchObject({ use: 'chart', why: `--images chart; going on although registry unreachable for ${facts.chartImage} (${offline.detail})` });
  });

  test('local is obeyed without asking; local without a stand-in is a user error', () => {
    expect(decideAppImage('local', { ...facts, manifest: undefined })).toEqual({ use: 'local', chartImage: facts.chartImage, why: '--images local' });
    expect(() => decideAppImage('local', { ...facts, hasStandIn: false, manifest: present })).toThrow(/has no local stand-in/);
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
