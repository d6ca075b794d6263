// The main chart's values, rendered once from the run's wiring (the mock's address, the keys, the
// database and cache this run installed, whether the cluster serves the Gateway API): the profile's
// wiring, NetworkPolicy values when the netpol suite runs, then the profile's corrections unless the
// run is --no-corrections; a stand-in's values when a stand-in runs.
import { ApisApi } from '@kubernetes/client-node';
import type { Kube } from '../../kube/client.ts';
import { releaseValues } from '../../corrections.ts';
import type { RunPlan } from '../../plan.ts';
import { isNotApplicable, type MockWiring } from '../../profiles/types.ts';
import { newSecret } from '../../secrets.ts';
import type { Values } from '../values.ts';
import type { Step } from './runner.ts';
import { MOCK_PORT, type ProvisionState } from './state.ts';

export function valueLayers(plan: RunPlan, defaults: Values, wiring: MockWiring): Values[] {
  const { profile, suites } = plan;
  const layers: Values[] = [profile.values(wiring)];
  if (!isNotApplicable(profile.capabilities.netpol) && suites.includes('netpol')) layers.push(profile.capabilities.netpol.enableValues);
  return releaseValues({ profile, release: profile.name, wiring: layers, defaults, corrections: plan.corrections }).layers;
}

export const valuesStep: Step<ProvisionState> = {
  name: 'values',
  needs: ['cluster', 'images', 'mock', 'postgres', 'redis'],
  async run(s) {
    const { plan, db, cache } = s;
    const namespace = s.namespace!;
    s.wiring = {
      mockUrl: `http://${s.mockService}.${namespace}.svc.cluster.local:${MOCK_PORT}`,
      providerKey: newSecret('sk-provider'),
      adminKey: newSecret('sk-admin'),
      model: plan.model,
      namespace,
      ...(db ? { databaseUrl: db.url, database: { host: db.host, port: db.port, name: db.database, user: db.user } } : {}),
      ...(cache ? { cache } : {}),
      saltKey: newSecret('sk-salt'),
      gatewayApi: await servesGatewayApi(s.k!),
    };
    const values = valueLayers(plan, s.defaults!, s.wiring);
    const standIn = plan.profile.app?.standIn;
    if (s.standIn && standIn && !plan.profile.needs.includes('envoy-ai-gateway')) {
      const ref = s.images![standIn.image];
      if (!ref) throw new Error(`the stand-in image ${standIn.image} was not built`);
      values.push(standIn.values(ref));
    }
    s.values = values;
  },
};

/** Whether the cluster serves the Gateway API's HTTPRoute (charts that render one need it). */
async function servesGatewayApi(k: Kube): Promise<boolean> {
  const groups = await k.kc.makeApiClient(ApisApi).getAPIVersions();
  return groups.groups.some((g) => g.name === 'gateway.networking.k8s.io');
}
