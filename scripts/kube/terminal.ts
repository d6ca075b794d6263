// Pod states that no amount of waiting fixes: an image that cannot be pulled, a missing Secret or
// ConfigMap, a crash loop, a pod the scheduler cannot place. Seen in any pod of the namespace (Helm
// hook Jobs included), they end the wait within seconds with the cause named once, instead of a
// timeout minutes later.
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
  // PodScheduled=False: a pod is briefly unschedulable while e.g. its claim binds or a pod being
  // deleted frees its node; one the scheduler still cannot place after this long will not fit.
  Unschedulable: 8_000,
};

export interface TerminalFinding {
  pod: string;
  container: string;
  reason: string;
  message: string;
  image: string;
  /** The Job that owns the pod (a Helm hook such as a pre-install migration Job, or any Job). */
  job?: string;
  /** Unschedulable: what the pod's containers request, and how long it has been unplaceable. */
  requests?: string;
  forMs?: number;
}

/** A state of one pod that may be terminal: a container waiting for a listed reason, or the pod unschedulable. */
interface Candidate {
  container: string;
  reason: string;
  message: string;
  image: string;
}

function candidates(p: V1Pod): Candidate[] {
  if (p.metadata?.deletionTimestamp) return []; // going away: its state no longer matters
  const out: Candidate[] = [];
  const sched = p.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (sched?.status === 'False' && sched.reason === 'Unschedulable') {
    out.push({ container: '', reason: 'Unschedulable', message: sched.message ?? '', image: '' });
  }
  for (const c of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) {
    const w = c.state?.waiting;
    if (!w?.reason || !(w.reason in GRACE_MS) || w.reason === 'Unschedulable') continue;
    out.push({ container: c.name, reason: w.reason, message: w.message ?? '', image: c.image ?? p.spec?.containers.find((x) => x.name === c.name)?.image ?? '?' });
  }
  return out;
}

/**
 * Tracks since when each (pod, container, reason) has been seen without a break, so grace periods
 * apply to states that persist, never to ones that came and went.
 */
export class TerminalTracker {
  private firstSeen = new Map<string, number>();
  private readonly reasons: ReadonlySet<string> | undefined;

  /** `reasons`: only these states count (default: every state listed above). */
  constructor(reasons?: readonly string[]) {
    this.reasons = reasons ? new Set(reasons) : undefined;
  }

  check(pods: V1Pod[], now = Date.now()): TerminalFinding | undefined {
    const seen = new Map<string, number>();
    let found: TerminalFinding | undefined;
    for (const p of pods) {
      for (const c of candidates(p)) {
        if (this.reasons && !this.reasons.has(c.reason)) continue;
        const key = `${p.metadata?.uid}/${c.container}/${c.reason}`;
        const since = this.firstSeen.get(key) ?? now;
        seen.set(key, since);
        if (found || now - since < GRACE_MS[c.reason]!) continue;
        const job = p.metadata?.ownerReferences?.find((o) => o.kind === 'Job')?.name;
        found = {
          pod: p.metadata?.name ?? '?',
          container: c.container,
          reason: c.reason,
          message: c.message,
          image: c.image,
          ...(c.reason === 'Unschedulable' ? { requests: requestsOf(p), forMs: now - since } : {}),
          ...(job ? { job } : {}),
        };
      }
    }
    this.firstSeen = seen;
    return found;
  }
}

/** "cpu 1k, memory 64Mi": what the pod's containers ask the scheduler for, summed per resource by name. */
export function requestsOf(p: V1Pod): string {
  const asked = new Map<string, string[]>();
  for (const c of p.spec?.containers ?? []) {
    for (const [resource, q] of Object.entries(c.resources?.requests ?? {})) asked.set(resource, [...(asked.get(resource) ?? []), String(q)]);
  }
  return [...asked].map(([r, qs]) => `${r} ${qs.join(' + ')}`).join(', ');
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

/** What the caller can add to a finding, from what it knows beyond the namespace. */
export interface TerminalNotes {
  /** Whether the image's registry answers from this machine. */
  registry?: (image: string) => Promise<string>;
  /** What else holds the cluster's resources (e.g. the namespaces earlier runs kept), and how to free them. */
  capacity?: () => Promise<string>;
}

/** The scheduler's reason in its own words: the PodScheduled condition, else its last FailedScheduling event. */
async function schedulerReason(k: Kube, namespace: string, f: TerminalFinding): Promise<string> {
  if (f.message) return f.message;
  const events = await k.core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${f.pod},reason=FailedScheduling` }).catch(() => ({ items: [] }));
  return events.items.at(-1)?.message ?? 'no reason given';
}

/** One sentence (plus evidence) a person can act on. */
export async function describeTerminal(k: Kube, namespace: string, f: TerminalFinding, notes: TerminalNotes = {}): Promise<string> {
  const owner = f.job ? `${await jobRole(k, namespace, f.job)}, pod ${f.pod}` : `Pod/${f.pod}`;
  if (f.reason === 'Unschedulable') {
    const why = await schedulerReason(k, namespace, f);
    const capacity = notes.capacity ? await notes.capacity().catch((err: Error) => `(could not list what else runs there: ${err.message})`) : '';
    return (
      `${owner} in namespace ${namespace} cannot be scheduled: ${why.trim().replace(/\.$/, '')} ` +
      `(PodScheduled=False, reason Unschedulable, for ${Math.round((f.forMs ?? 0) / 1000)}s${f.requests ? `; it requests ${f.requests}` : ''}).` +
      (capacity ? ` ${capacity}` : '')
    );
  }
  const who = `${owner} (container ${f.container})`;
  switch (f.reason) {
    case 'ErrImagePull':
    case 'ImagePullBackOff':
    case 'ErrImageNeverPull':
    case 'InvalidImageName': {
      const reach = notes.registry ? await notes.registry(f.image) : '';
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
export async function watchForTerminalStates(k: Kube, namespace: string, signal: AbortSignal, notes: TerminalNotes = {}, reasons?: readonly string[]): Promise<never> {
  const tracker = new TerminalTracker(reasons);
  for (;;) {
    if (signal.aborted) return new Promise<never>(() => undefined);
    // a failed list says nothing about the pods: skipped, so it does not restart their grace periods
    const pods = await k.core.listNamespacedPod({ namespace }).catch(() => undefined);
    const found = pods && tracker.check(pods.items);
    if (found) throw new TerminalPodState(await describeTerminal(k, namespace, found, notes));
    await new Promise((r) => setTimeout(r, 1500));
  }
}
