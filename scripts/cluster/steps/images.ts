// The images the run needs, built (cached by content hash) and, on kind, loaded where a node lacks
// them; then whether LiteLLM can use a database here (its stand-in needs Prisma's engines inside).
import { execa } from 'execa';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { waitForWorkloads } from '../../kube/wait.ts';
import { STACK_IMAGE_NAMES } from '../ai-gateway-stack.ts';
import { buildImages, heldByEveryNode, type ImageRefs, loadImages } from '../images.ts';
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
export function standInNeedsEngines(s: ProvisionState): boolean {
  return s.standIn === true && s.plan.profile.app?.standIn?.prismaEngines === true;
}

/**
 * The images this run needs, by the refs their inputs give (no build yet), and which of them every
 * node already holds as the build Docker has. The build and load then go on in the background
 * (the images step awaits them): a fixture whose image every node holds starts at once.
 */
export const imageCheckStep: Step<ProvisionState> = {
  name: 'image-check',
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
    const listed = await listImages({ only: names, env: { ...process.env, ...env } });
    s.imageRefs = listed;
    if (!s.kind) {
      s.held = new Set(Object.values(listed));
      s.imagesReady = prismaGap(s, listed).then((gap) => {
        s.prisma = gap;
        s.images = listed;
        return [];
      });
    } else {
      const kind = s.kind;
      s.held = await heldByEveryNode({ kind: kind.kindBin, cluster: plan.clusterName, refs: Object.values(listed) });
      s.imagesReady = ctx.phase('build and load images', async () => {
        const refs = await buildImages(names, ctx, env);
        s.prisma = await prismaGap(s, refs);
        // A database the gateway cannot use is not installed, so its image need not be loaded either.
        if (refs.postgres && s.prisma) delete refs.postgres;
        const loaded = await loadImages({ kind: kind.kindBin, cluster: plan.clusterName, refs: Object.values(refs), ctx });
        s.images = refs;
        return loaded;
      });
    }
    s.imagesReady.catch(() => undefined); // awaited (and its error thrown) by the images step
  },
};

export const imagesStep: Step<ProvisionState> = {
  name: 'images',
  needs: ['image-check'],
  async run(s) {
    const { profile } = s.plan;
    await s.imagesReady;
    const images = s.images!;
    if (standInNeedsEngines(s) && profile.app?.standIn && images[profile.app.standIn.image]) {
      s.fingerprint['prisma engines'] = s.prisma ? `none (${s.prisma})` : `${s.engines?.ok ? s.engines.engines.dir : '?'} in ${images[profile.app.standIn.image]}`;
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
 * A fixture's image: at once when every node already holds it, else once the build and load are
 * done. `settle` (after the fixture is ready) waits for the build, and restarts the fixture's pods
 * when its image was loaded anew after all (a version tag rebuilt from changed inputs).
 */
export async function fixtureImage(s: ProvisionState, name: ImageName): Promise<{ ref: string | undefined; settle: (restart: () => Promise<void>) => Promise<void> }> {
  const ref = s.imageRefs![name];
  const early = ref !== undefined && s.held!.has(ref);
  if (!early) await s.imagesReady;
  return {
    ref,
    settle: async (restart) => {
      const loaded = await s.imagesReady!;
      if (early && ref && loaded.includes(ref)) {
        s.ctx.log.info(`${ref} was rebuilt and loaded after ${name} had started with the nodes' older build: restarting it`);
        await restart();
      }
    },
  };
}

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

/** A rollout restart of a fixture's Deployment (its pods then start from the image now on the nodes), until ready. */
export function restartDeployment(s: ProvisionState, deployment: string, what: string): () => Promise<void> {
  return async () => {
    const k = s.k!;
    const namespace = s.namespace!;
    await k.apps.patchNamespacedDeployment(
      { name: deployment, namespace, body: { spec: { template: { metadata: { annotations: { 'gateway-smoke/restarted-at': new Date().toISOString() } } } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await waitForWorkloads(k, namespace, { labelSelector: `app.kubernetes.io/instance=${deployment}`, timeoutMs: 180_000, what, signal: s.ctx.signal });
  };
}
