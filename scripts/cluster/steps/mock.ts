// The mock LLM provider in the run namespace: every gateway is wired to it.
import { imageValues, installFixture } from '../dependencies.ts';
import { fixtureImage, restartDeployment } from './images.ts';
import type { Step } from './runner.ts';
import { MOCK_PORT, type ProvisionState } from './state.ts';

export const mockStep: Step<ProvisionState> = {
  name: 'mock',
  needs: ['image-check', 'namespace'],
  async run(s) {
    const { ctx } = s;
    const fixtures = s.fixtures!;
    const image = await fixtureImage(s, 'mock');
    await ctx.phase('install mock provider', () =>
      installFixture(fixtures, { release: 'mock', chart: 'mock-provider', values: { fullnameOverride: 'mock', image: imageValues(image.ref, 'gateway-smoke/mock'), service: { port: MOCK_PORT } }, what: 'mock provider', timeoutMs: 120_000 }),
    );
    await image.settle(restartDeployment(s, 'mock', 'mock provider'));
    const mockService = (await fixtures.k.core.listNamespacedService({ namespace: fixtures.namespace, labelSelector: 'app.kubernetes.io/instance=mock' })).items[0]?.metadata?.name;
    if (!mockService) throw new Error(`the mock provider release created no Service in ${fixtures.namespace}`);
    s.mockService = mockService;
  },
};
