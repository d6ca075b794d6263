// A wait that also ends at once when a pod of the run namespace is in a state waiting cannot fix
// (an image that cannot be pulled, a crash loop, a missing Secret, no node to schedule on).
import { capacityOf } from '../run-namespaces.ts';
import { checkManifest, type ManifestOutcome } from '../manifest.ts';
import type { Kube } from '../../kube/client.ts';
import { watchForTerminalStates } from '../../kube/terminal.ts';

export async function watched<T>(k: Kube, namespace: string, runSignal: AbortSignal, wait: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const stop = new AbortController();
  const signal = AbortSignal.any([stop.signal, runSignal]);
  try {
    return await Promise.race([wait(signal), watchForTerminalStates(k, namespace, stop.signal, { registry: registryNote, capacity: () => capacityOf(k, namespace) })]);
  } finally {
    stop.abort();
  }
}

/** What the image's registry says about it from this machine, for an image-pull failure message. */
async function registryNote(image: string): Promise<string> {
  let m: ManifestOutcome;
  try {
    m = await checkManifest(image, { timeoutMs: 3000 });
  } catch (err) {
    return `Its registry was not asked: ${(err as Error).message}`; // a malformed GATEWAY_SMOKE_REGISTRY_MIRRORS
  }
  return m.kind === 'present'
    ? `Asked from this machine, its manifest is present (${m.detail}), so the node cannot reach that registry or needs credentials`
    : `Asked from this machine, its registry says ${m.kind} (${m.detail})`;
}
