// Pod states that no amount of waiting fixes: an image that cannot be pulled, a missing Secret or
// ConfigMap, a crash loop. Seen in any pod of the namespace (Helm hook Jobs included), they end the
// wait within seconds with the cause named once, instead of a timeout minutes later.
import { PassThrough } from 'node:stream';
import { BatchV1Api, type V1Pod } from '@kubernetes/client-node';
import type { Kube } from './client.ts';

export class TerminalPodState extends Error {
  override name = 'TerminalPodState';
}

/** How long a state must persist before it counts: a Secret created a moment later is not a fault. */
const GRACE_MS: Record<string, number> = {
  ErrImagePull: 4_000,
  ImagePullBackOff: 0,
  InvalidImageName: 0,
  ErrImageNeverPull: 0,
  CreateContainerConfigError: 8_000,
  CreateContainerError: 8_000,
  CrashLoopBackOff: 0,
};

export interface TerminalFinding {
  pod: string;
  container: string;
  reason: string;
  message: string;
  image: string;
  /** The Job that owns the pod (a Helm hook such as a pre-install migration Job, or any Job). */
  job?: string;
}

/** Tracks when each (pod, container, reason) was first seen, so grace periods can be applied. */
export class TerminalTracker {
  private readonly firstSeen = new Map<string, number>();

  check(pods: V1Pod[], now = Date.now()): TerminalFinding | undefined {
    for (const p of pods) {
      const statuses = [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])];
      for (const c of statuses) {
        const w = c.state?.waiting;
        if (!w?.reason || !(w.reason in GRACE_MS)) continue;
        const key = `${p.metadata?.uid}/${c.name}/${w.reason}`;
        const since = this.firstSeen.get(key) ?? now;
        this.firstSeen.set(key, since);
        if (now - since < GRACE_MS[w.reason]!) continue;
        const job = p.metadata?.ownerReferences?.find((o) => o.kind === 'Job')?.name;
        return {
          pod: p.metadata?.name ?? '?',
          container: c.name,
          reason: w.reason,
          message: w.message ?? '',
          image: c.image ?? p.spec?.containers.find((x) => x.name === c.name)?.image ?? '?',
          ...(job ? { job } : {}),
        };
      }
    }
    return undefined;
  }
}

/** The missing object a CreateContainerConfigError names, in the kubelet's words. */
export function missingReference(message: string): string | undefined {
  const object = /(secret|configmap) "([^"]+)" not found/i.exec(message);
  if (object) return `${object[1]!.toLowerCase() === 'secret' ? 'Secret' : 'ConfigMap'} "${object[2]}"`;
  const key = /couldn't find key (\S+) in (Secret|ConfigMap) (\S+)/i.exec(message);
  if (key) return `key ${key[1]} of ${key[2]} ${key[3]}`;
  return undefined;
}

export async function lastLogLines(k: Kube, namespace: string, pod: string, container: string, lines = 15): Promise<string> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise<void>((resolve) => out.on('end', resolve));
  try {
    const controller = await k.log.log(namespace, pod, container, out, { previous: true, tailLines: lines });
    await Promise.race([ended, new Promise((r) => setTimeout(r, 10_000))]);
    controller.abort();
  } catch {
    return '';
  }
  return Buffer.concat(chunks).toString('utf8').trim();
}

/** "the Helm pre-install hook Job/x" when Helm runs the Job as a hook, else "Job/x". */
async function jobRole(k: Kube, namespace: string, job: string): Promise<string> {
  const j = await k.kc.makeApiClient(BatchV1Api).readNamespacedJob({ name: job, namespace }).catch(() => undefined);
  const hook = j?.metadata?.annotations?.['helm.sh/hook'];
  return hook ? `the Helm ${hook} hook Job/${job}` : `Job/${job}`;
}

/** One sentence (plus evidence) a person can act on. `registry` says whether the image's registry answers. */
export async function describeTerminal(
  k: Kube,
  namespace: string,
  f: TerminalFinding,
  registry?: (image: string) => Promise<string>,
): Promise<string> {
  const who = `${f.job ? `${await jobRole(k, namespace, f.job)}, pod ${f.pod}` : `Pod/${f.pod}`} (container ${f.container})`;
  switch (f.reason) {
    case 'ErrImagePull':
    case 'ImagePullBackOff':
    case 'ErrImageNeverPull':
    case 'InvalidImageName': {
      const reach = registry ? await registry(f.image) : '';
      return `${who} cannot get its image ${f.image}: ${f.reason}${f.message ? ` — ${f.message.slice(0, 300)}` : ''}.${reach ? ` ${reach}.` : ''} Load the image into the nodes, point the chart at a pullable image, or run with --images local.`;
    }
    case 'CreateContainerConfigError':
    case 'CreateContainerError': {
      const missing = missingReference(f.message);
      return `${who} cannot start: ${f.reason}${missing ? ` — ${missing} is missing in namespace ${namespace}` : ''}${f.message ? ` (${f.message.slice(0, 300)})` : ''}. Create it before the chart, or set the values that name it.`;
    }
    default: {
      const log = await lastLogLines(k, namespace, f.pod, f.container);
      return `${who} is in ${f.reason}: it keeps exiting${f.message ? ` (${f.message.slice(0, 200)})` : ''}.${log ? ` Last log lines: ${log.split('\n').slice(-8).join(' | ')}` : ''}`;
    }
  }
}

/**
 * Polls every pod of the namespace until `signal` aborts; rejects with a TerminalPodState as soon as
 * one is in a state waiting cannot fix. Race it against a wait (helm install, readiness).
 */
export async function watchForTerminalStates(
  k: Kube,
  namespace: string,
  signal: AbortSignal,
  registry?: (image: string) => Promise<string>,
): Promise<never> {
  const tracker = new TerminalTracker();
  for (;;) {
    if (signal.aborted) return new Promise<never>(() => undefined);
    const pods = await k.core.listNamespacedPod({ namespace }).catch(() => ({ items: [] as V1Pod[] }));
    const found = tracker.check(pods.items);
    if (found) throw new TerminalPodState(await describeTerminal(k, namespace, found, registry));
    await new Promise((r) => setTimeout(r, 1500));
  }
}
