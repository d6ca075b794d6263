// Reads a Gateway-API chart's live state for the health suite: the Gateway's conditions and its
// Envoy Deployment, through the API server (never kubectl, helm or kind).
import { KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { kube } from '../../scripts/kube/client.ts';
import type { ClusterFacts, GatewayFacts } from '../../scripts/targets/types.ts';

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export function describeConditions(cs: Condition[]): string {
  return cs.map((c) => `${c.type}=${c.status}${c.reason ? ` (${c.reason}${c.message ? `: ${c.message}` : ''})` : ''}`).join(', ') || 'no conditions';
}

export async function gatewayConditions(cluster: ClusterFacts, gw: GatewayFacts): Promise<Condition[]> {
  const k = kube(cluster.kubeconfig, cluster.context);
  const api = KubernetesObjectApi.makeApiClient(k.kc);
  const obj = (await api.read({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: gw.name, namespace: gw.namespace } })) as KubernetesObject & {
    status?: { conditions?: Condition[] };
  };
  return obj.status?.conditions ?? [];
}

export interface EnvoyDeployment {
  name: string;
  replicas: number;
  available: number;
  conditions: Condition[];
}

export async function envoyDeployments(cluster: ClusterFacts, gw: GatewayFacts): Promise<EnvoyDeployment[]> {
  const k = kube(cluster.kubeconfig, cluster.context);
  const list = await k.apps.listNamespacedDeployment({ namespace: gw.envoyNamespace, labelSelector: gw.envoySelector });
  return list.items.map((d) => ({
    name: d.metadata?.name ?? '?',
    replicas: d.spec?.replicas ?? 1,
    available: d.status?.availableReplicas ?? 0,
    conditions: (d.status?.conditions ?? []).map((c) => ({ type: c.type, status: c.status, ...(c.reason ? { reason: c.reason } : {}), ...(c.message ? { message: c.message } : {}) })),
  }));
}
