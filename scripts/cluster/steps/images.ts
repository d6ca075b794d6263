// The images the run needs, built (cached by content hash) and, on kind, loaded where a node lacks
// them; then whether LiteLLM can use a database here (its stand-in needs Prisma's engines inside).
import { execa } from 'execa';
import { STACK_IMAGE_NAMES } from '../ai-gateway-stack.ts';
import { buildImages, type ImageRefs, loadImages } from '../images.ts';
import { EnvironmentError } from '../../errors.ts';
import { type ImageName, listImages } from '../../images/index.ts';
import { checkPrismaEngines } from '../../prisma-engines.ts';
import { isNotApplicable } from '../../profiles/types.ts';
import type { Step } from './runner.ts';
import type { ProvisionState } from './state.ts';

/**
 * Whether this run installs the profile's Redis. GATEWAY_SMOKE_SKIP_INSTALLS=redis leaves it out
 * on purpose, to see what it guards against (replicas that each count a key's limit alone).
 */
export function installsRedis(s: ProvisionState): boolean {
  const skipped = (process.env['GATEWAY_SMOKE_SKIP_INSTALLS'] ?? '').split(',').map((x) => x.trim());
  return s.plan.profile.installs?.includes('redis') === true && !skipped.includes('redis');
}

/** Whether the stand-in that runs needs Prisma's engines (LiteLLM's key API), per the profile. */
function standInNeedsEngines(s: ProvisionState): boolean {
  return s.standIn === true && s.plan.profile.app?.standIn?.prismaEngines === true;
}

export const imagesStep: Step<ProvisionState> = {
  name: 'images',
  needs: ['app-image'],
  async run(s) {
    const { plan, ctx } = s;
    const { profile, suites } = plan;
    const names: ImageName[] = ['mock'];
    if (s.standIn && profile.app?.standIn) names.push(profile.app.standIn.image);
    if (profile.installs?.includes('postgres')) names.push('postgres');
    if (installsRedis(s)) names.push('redis');
    if (suites.includes('netpol') && !isNotApplicable(profile.capabilities.netpol)) names.push('probe');
    if (profile.needs.includes('envoy-ai-gateway')) names.push(...STACK_IMAGE_NAMES);
    const env = await imageVariant(s);
    if (!s.kind) {
      s.images = await listImages({ only: names, env: { ...process.env, ...env } });
      s.prisma = await prismaGap(s, s.images);
    } else {
      const kind = s.kind;
      s.images = await ctx.phase('build and load images', async () => {
        const refs = await buildImages(names, ctx, env);
        s.prisma = await prismaGap(s, refs);
        // A database the gateway cannot use is not installed, so its image need not be loaded either.
        if (refs.postgres && s.prisma) delete refs.postgres;
        await loadImages({ kind: kind.kindBin, cluster: plan.clusterName, refs: Object.values(refs), ctx });
        return refs;
      });
    }
    if (standInNeedsEngines(s) && profile.app?.standIn && s.images[profile.app.standIn.image]) {
      s.fingerprint['prisma engines'] = s.prisma ? `none (${s.prisma})` : `${s.engines?.ok ? s.engines.engines.dir : '?'} in ${s.images[profile.app.standIn.image]}`;
      if (profile.litellmVersion) s.fingerprint['litellm (stand-in)'] = `${profile.litellmVersion.version}: ${profile.litellmVersion.why}`;
    }
    if (s.prisma && profile.requiresDatabase) {
      throw new EnvironmentError(
        `The ${profile.name} chart always connects LiteLLM to its database, and LiteLLM cannot use one here: ${s.prisma}. ` +
          'Pass --prisma-engines <dir> (or GATEWAY_SMOKE_PRISMA_ENGINES) with a folder like ../shared/prisma-engines.',
      );
    }
  },
};

/**
 * The stand-in's build variant: the profile's LiteLLM version, and Prisma's engines when they were
 * given and check out (a bad folder is not passed on: the image is built without, and the reason
 * becomes the key suites' `environment` verdict).
 */
async function imageVariant(s: ProvisionState): Promise<Record<string, string>> {
  if (!standInNeedsEngines(s)) return {};
  s.engines ??= await checkPrismaEngines(s.plan.prismaEngines);
  return {
    ...(s.plan.profile.litellmVersion ? { LITELLM_VERSION: s.plan.profile.litellmVersion.version } : {}),
    GATEWAY_SMOKE_PRISMA_ENGINES: s.engines.ok ? s.engines.engines.dir : '',
  };
}

/**
 * Why LiteLLM cannot use a database on this run, if so: no usable engines were given, or the
 * stand-in image does not carry these engines. Without a DATABASE_URL LiteLLM still runs, and
 * the key suites say why they cannot.
 */
async function prismaGap(s: ProvisionState, images: ImageRefs): Promise<string | undefined> {
  const standIn = s.plan.profile.app?.standIn;
  if (!standInNeedsEngines(s) || !standIn) return undefined;
  const ref = images[standIn.image];
  if (!ref) return undefined;
  s.engines ??= await checkPrismaEngines(s.plan.prismaEngines);
  if (!s.engines.ok) return s.engines.reason;
  const r = await execa('docker', ['image', 'inspect', '--format', '{{index .Config.Labels "io.gateway-smoke.prisma-engines-hash"}}', ref], { reject: false });
  const hash = r.stdout.trim();
  if (hash === s.engines.engines.hash) return undefined;
  return `Prisma engines unavailable: image ${ref} carries ${hash && hash !== 'none' && hash !== '<no value>' ? `engines ${hash}` : 'no engines'}, not the given ones (${s.engines.engines.hash})`;
}
