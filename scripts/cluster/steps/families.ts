// Provisioning per chart family, as flat lists of named steps (the runner starts each once what it
// needs is done: the namespace beside the chart's dependencies, the mock, Postgres and Redis at
// the same time and, when every node already holds their images, beside the image build and load).
import { accessStep } from './access.ts';
import { aiGatewayAccessStep, aiGatewayStep } from './ai-gateway.ts';
import { appImageStep } from './app-image.ts';
import { chartDependenciesStep } from './chart-dependencies.ts';
import { chartStep } from './chart.ts';
import { clusterStep } from './cluster.ts';
import { imageCheckStep, imagesStep } from './images.ts';
import { mockStep } from './mock.ts';
import { namespaceStep } from './namespace.ts';
import { postgresStep } from './postgres.ts';
import { redisStep } from './redis.ts';
import { releaseStep } from './release.ts';
import type { Step } from './runner.ts';
import type { ProvisionState } from './state.ts';
import { valuesStep } from './values.ts';
import type { ChartProfile } from '../../profiles/types.ts';

const common: Step<ProvisionState>[] = [chartStep, clusterStep, chartDependenciesStep, appImageStep, namespaceStep, imageCheckStep, imagesStep, mockStep, postgresStep, redisStep, valuesStep];

/** A chart with its own app and Service, installed with helm and reached by tunnel. */
export const HELM_CHART_STEPS: readonly Step<ProvisionState>[] = [...common, releaseStep, accessStep];

/** A chart whose objects the Envoy AI Gateway stack serves (no app of its own). */
export const GATEWAY_API_STEPS: readonly Step<ProvisionState>[] = [...common, aiGatewayStep, aiGatewayAccessStep];

export function stepsFor(profile: ChartProfile): readonly Step<ProvisionState>[] {
  return profile.needs.includes('envoy-ai-gateway') ? GATEWAY_API_STEPS : HELM_CHART_STEPS;
}
