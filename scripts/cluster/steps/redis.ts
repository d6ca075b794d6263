// Redis next to the chart when the profile installs it, so replicas share the per-key limit.
import { installRedis } from '../dependencies.ts';
import type { Step } from './runner.ts';
import { fixtureImage, installsRedis, restartDeployment } from './images.ts';
import type { ProvisionState } from './state.ts';

export const redisStep: Step<ProvisionState> = {
  name: 'redis',
  needs: ['image-check', 'namespace'],
  when: (s) => s.plan.profile.installs?.includes('redis') === true,
  async run(s) {
    const { ctx } = s;
    if (!installsRedis(s)) {
      ctx.log.warn('not installing Redis (GATEWAY_SMOKE_SKIP_INSTALLS=redis): replicas share no rate-limit state');
      return;
    }
    const want = s.plan.profile.dependencySecrets?.redis;
    const image = await fixtureImage(s, 'redis');
    s.cache = await ctx.phase('install Redis', () => installRedis(s.fixtures!, image.ref, want ? { secret: { name: want.secret, key: want.key } } : {}));
    await image.settle(restartDeployment(s, 'redis', 'Redis'));
  },
};
