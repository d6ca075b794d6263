// Postgres next to the chart when the profile installs it and the gateway can use it.
import { installPostgres } from '../dependencies.ts';
import { fixtureImage, restartDeployment, standInNeedsEngines } from './images.ts';
import type { Step } from './runner.ts';
import type { ProvisionState } from './state.ts';

export const postgresStep: Step<ProvisionState> = {
  name: 'postgres',
  needs: ['image-check', 'namespace'],
  when: (s) => s.plan.profile.installs?.includes('postgres') === true,
  async run(s) {
    const { ctx } = s;
    // whether LiteLLM can use a database is known once its image is built
    if (standInNeedsEngines(s)) await s.imagesReady;
    if (s.prisma) {
      ctx.log.info(`not installing Postgres: the gateway could not use it (${s.prisma})`);
      return;
    }
    const want = s.plan.profile.dependencySecrets?.postgres;
    const image = await fixtureImage(s, 'postgres');
    s.db = await ctx.phase('install Postgres', () =>
      installPostgres(s.fixtures!, image.ref, want ? { database: want.database, user: want.user, secret: { name: want.secret, key: want.key } } : {}),
    );
    await image.settle(restartDeployment(s, s.db.deployment, 'Postgres'));
  },
};
