// Postgres next to the chart when the profile installs it and the gateway can use it.
import { installPostgres } from '../dependencies.ts';
import type { Step } from './runner.ts';
import type { ProvisionState } from './state.ts';

export const postgresStep: Step<ProvisionState> = {
  name: 'postgres',
  needs: ['images', 'namespace'],
  when: (s) => s.plan.profile.installs?.includes('postgres') === true,
  async run(s) {
    const { ctx } = s;
    if (s.prisma) {
      ctx.log.info(`not installing Postgres: the gateway could not use it (${s.prisma})`);
      return;
    }
    const want = s.plan.profile.dependencySecrets?.postgres;
    s.db = await ctx.phase('install Postgres', () =>
      installPostgres(s.fixtures!, s.images!.postgres, want ? { database: want.database, user: want.user, secret: { name: want.secret, key: want.key } } : {}),
    );
  },
};
