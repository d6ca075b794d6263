// Which parts build the kind cluster. A machine that reaches the container registries uses kind's
// own pinned node image (by digest) — the standard, fastest path; one that cannot builds the node
// image from the package registries (scripts/airgap). GATEWAY_SMOKE_NODE_IMAGE always wins.
import type { Reachability } from './registry.ts';

/** kind v0.30.0's published image for Kubernetes 1.34 (the release notes' digest). */
export const KINDEST_NODE_IMAGE = 'kindest/node:v1.34.0@sha256:7416a61b42b1662ca6ca89f02028ac133a309a2a30ba309614e8ec94d976dc5a';

export interface ClusterKit {
  kind: 'kindest' | 'airgap' | 'override';
  /** Environment for scripts/airgap/cluster-up.sh. */
  env: Record<string, string>;
  describe: string;
}

export function chooseClusterKit(facts: { override?: string | undefined; dockerHub: Reachability }): ClusterKit {
  if (facts.override) {
    return { kind: 'override', env: { GATEWAY_SMOKE_NODE_IMAGE: facts.override }, describe: `node image ${facts.override} (GATEWAY_SMOKE_NODE_IMAGE)` };
  }
  if (facts.dockerHub.reachable) {
    return {
      kind: 'kindest',
      env: { GATEWAY_SMOKE_NODE_IMAGE: KINDEST_NODE_IMAGE },
      describe: `kind's node image ${KINDEST_NODE_IMAGE} (Docker Hub answers: ${facts.dockerHub.detail})`,
    };
  }
  return {
    kind: 'airgap',
    env: {},
    describe: `air-gapped node image built from the package registries (Docker Hub unreachable: ${facts.dockerHub.detail})`,
  };
}
