// Which kit builds the kind cluster, decided from facts. Online: kind's published node image (pinned
// by digest, scripts/cluster/node-images.ts), kind/kubectl/helm from PATH or a download, no build, no
// egress rule. Air-gapped: the node image scripts/airgap builds from the package registries, its
// nodes kept on this machine. GATEWAY_SMOKE_KIT forces one; GATEWAY_SMOKE_NODE_IMAGE names the image.
import { existsSync } from 'node:fs';
import { UserError } from '../errors.ts';
import { type KubernetesVersion, formatVersion, matchesVersion, newestMatching } from './kubernetes-version.ts';
import { KIND_NODE_IMAGES } from './node-images.ts';
import type { Reachability } from './registry.ts';

export type KitName = 'online' | 'airgap';
export const KIT_NAMES: readonly KitName[] = ['online', 'airgap'];
export const KIT_ENV = 'GATEWAY_SMOKE_KIT';
/** The air-gapped kit's node images (scripts/airgap/lib.sh NODE_IMAGE). */
export const AIRGAP_IMAGE_PREFIX = 'gateway-smoke/kind-node:';

/** GATEWAY_SMOKE_KIT, checked: a value other than online/airgap is the user's to fix. */
export function kitFromEnv(env: NodeJS.ProcessEnv = process.env): KitName | undefined {
  const v = env[KIT_ENV]?.trim();
  if (!v) return undefined;
  if ((KIT_NAMES as readonly string[]).includes(v)) return v as KitName;
  throw new UserError(`${KIT_ENV}="${v}" is not a cluster kit. Use online (kind's published node images) or airgap (built here from the package registries), or unset it to let the facts decide.`);
}

export interface KitChoice {
  kit: KitName;
  why: string;
}

/**
 * The choice itself, from facts only. `served` says whether the online node image can be had (its
 * registry, or that registry's mirror, serves it); the probe behind it is the caller's.
 */
export function chooseClusterKit(facts: { forced?: KitName | undefined; override?: string | undefined; nodeImage: string; served?: Reachability | undefined }): KitChoice {
  if (facts.forced) return { kit: facts.forced, why: `${KIT_ENV}=${facts.forced}` };
  if (facts.override) {
    const kit: KitName = facts.override.startsWith(AIRGAP_IMAGE_PREFIX) ? 'airgap' : 'online';
    return { kit, why: `GATEWAY_SMOKE_NODE_IMAGE=${facts.override}` };
  }
  if (facts.served?.reachable) return { kit: 'online', why: `${facts.nodeImage} can be pulled (${facts.served.detail})` };
  return { kit: 'airgap', why: `${facts.nodeImage} cannot be pulled here (${facts.served?.detail ?? 'not checked'})` };
}

/** The Kubernetes version a node image's tag names (kindest/node:v1.34.0@sha256:… → v1.34.0). */
export function imageKubernetesVersion(image: string): string | undefined {
  return /:(v\d+\.\d+\.\d+)(?:@|$)/.exec(image)?.[1];
}

/**
 * What the air-gapped kit builds: its pinned release by default; a minor takes the pinned release
 * when it is that minor, else the newest patch kind publishes for it (a real release to build);
 * an exact release is built as asked (scripts/airgap/build.sh K8S_VERSION, from source).
 */
export function airgapKubernetes(wanted: KubernetesVersion | undefined, pinned: string): string {
  if (!wanted) return pinned;
  if (matchesVersion(pinned, wanted)) return pinned;
  if (wanted.patch !== undefined) return formatVersion(wanted);
  const known = [...new Set(Object.values(KIND_NODE_IMAGES).flat().map((r) => r.kubernetes)), pinned];
  const picked = newestMatching(known, wanted);
  if (!picked) {
    const minors = [...new Set(known.map((v) => v.replace(/\.\d+$/, '')))].sort();
    throw new UserError(
      `--kubernetes-version ${formatVersion(wanted)}: the air-gapped kit builds ${pinned} by default and knows releases of ${minors.join(', ')}. ` +
        'Give an exact release (such as 1.33.4) to build it from source, or one of those minors.',
    );
  }
  return picked;
}

/** Kubernetes 1.35+ refuses cgroup v1 hosts (kubelet will not start): say so before building or pulling. */
export function checkCgroup(kubernetes: string, cgroupV2: boolean): void {
  const m = /^v?1\.(\d+)\./.exec(kubernetes);
  if (!cgroupV2 && m && Number(m[1]) >= 35) {
    throw new UserError(
      `Kubernetes ${kubernetes} needs a cgroup v2 host (1.35 removed cgroup v1 support), and this host runs cgroup v1. ` +
        'Pick --kubernetes-version 1.34 or older here, or run on a cgroup v2 host (any current distribution, GitHub-hosted runners).',
    );
  }
}

export function hostHasCgroupV2(): boolean {
  return existsSync('/sys/fs/cgroup/cgroup.controllers');
}
