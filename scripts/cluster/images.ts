// The images a run needs: built here (scripts/images/build-images.sh), loaded into the kind nodes
// only where a node lacks them, then checked on every node through containerd's own view.
import { join } from 'node:path';
import { execa } from 'execa';
import { type ImageName, listImages } from '../images/index.ts';
import { execaGroup } from '../process-group.ts';
import { PROJECT_ROOT } from '../project-root.ts';
import type { RunContext } from '../run-context.ts';

export type ImageRefs = Partial<Record<ImageName, string>>;

const BUILD = join(PROJECT_ROOT, 'scripts/images/build-images.sh');

/**
 * Builds the named images (cached by content hash) and returns their refs. `env` picks variants
 * (LITELLM_VERSION, GATEWAY_SMOKE_PRISMA_ENGINES; see scripts/images/lib.sh) for the build and the refs alike.
 */
export async function buildImages(names: readonly ImageName[], ctx: RunContext, env: Record<string, string> = {}): Promise<ImageRefs> {
  const r = execaGroup('bash', [BUILD, '--only', names.join(',')], { signal: ctx.signal, env });
  r.all?.on('data', (b: Buffer) => {
    for (const line of b.toString().split('\n')) if (line.trim()) ctx.log.info(`  ${line}`);
  });
  const built = await r;
  if (built.exitCode !== 0) throw new Error(`building images failed (exit ${built.exitCode}): ${String(built.all ?? '').split('\n').slice(-4).join(' ')}`);
  return listImages({ only: names, env: { ...process.env, ...env } });
}

async function nodesOf(kind: string, cluster: string): Promise<string[]> {
  return (await execa(kind, ['get', 'nodes', '--name', cluster])).stdout.split('\n').filter(Boolean);
}

/** containerd's image list on a node (namespace k8s.io is what kubelet uses; docker's is irrelevant). */
async function imagesOnNode(node: string): Promise<string[]> {
  return (await execa('docker', ['exec', node, 'ctr', '-n', 'k8s.io', 'images', 'ls'])).stdout.split('\n');
}

function lineFor(lines: string[], ref: string): string | undefined {
  const names = ref.includes('/') && !ref.split('/')[0]!.includes('.') ? [ref, `docker.io/${ref}`] : [ref, `docker.io/library/${ref}`];
  return lines.find((l) => names.includes(l.split(/\s+/)[0] ?? ''));
}

/** Whether every node of the cluster already has the image (a user may pre-load the chart's own). */
export async function onEveryNode(kind: string, cluster: string, ref: string): Promise<boolean> {
  for (const node of await nodesOf(kind, cluster)) if (!lineFor(await imagesOnNode(node), ref)) return false;
  return true;
}

/** The image ID (config digest) behind a node's image line: what `docker image inspect` calls Id. */
async function configDigestOnNode(node: string, line: string): Promise<string | undefined> {
  const content = async (digest: string) => JSON.parse((await execa('docker', ['exec', node, 'ctr', '-n', 'k8s.io', 'content', 'get', digest])).stdout) as { config?: { digest?: string }; manifests?: { digest: string }[] };
  try {
    let m = await content(line.split(/\s+/)[2] ?? '');
    if (!m.config && m.manifests?.[0]) m = await content(m.manifests[0].digest);
    return m.config?.digest;
  } catch {
    return undefined;
  }
}

async function localImageId(ref: string): Promise<string | undefined> {
  const r = await execa('docker', ['image', 'inspect', '-f', '{{.Id}}', ref], { reject: false });
  return r.exitCode === 0 ? r.stdout.trim() : undefined;
}

/**
 * Loads what some node lacks (or has only as an older build under the same tag: a version tag is
 * rebuilt when its inputs change), then proves every node has each image; returns digests for the fingerprint.
 */
export async function loadImages(o: { kind: string; cluster: string; refs: string[]; ctx: RunContext }): Promise<Record<string, string>> {
  const nodes = await nodesOf(o.kind, o.cluster);
  const missing = new Set<string>();
  const ids = new Map<string, string | undefined>();
  for (const ref of o.refs) ids.set(ref, await localImageId(ref));
  for (const node of nodes) {
    const lines = await imagesOnNode(node);
    for (const ref of o.refs) {
      const line = lineFor(lines, ref);
      if (!line) missing.add(ref);
      else if (ids.get(ref) && (await configDigestOnNode(node, line)) !== ids.get(ref)) {
        o.ctx.log.info(`node ${node} has an older build of ${ref}: loading it again`);
        missing.add(ref);
      }
    }
  }
  if (missing.size) {
    o.ctx.log.info(`loading ${[...missing].join(', ')} into ${nodes.length} nodes`);
    const r = await execaGroup(o.kind, ['load', 'docker-image', '--name', o.cluster, ...missing], { signal: o.ctx.signal });
    o.ctx.signal.throwIfAborted();
    if (r.exitCode !== 0) throw new Error(`kind load docker-image exited ${r.exitCode}: ${r.all.split('\n').slice(-4).join(' ')}`);
  }
  // `kind load` has been known to report success for images a node does not have: check each node.
  const digests: Record<string, string> = {};
  for (const node of nodes) {
    const lines = await imagesOnNode(node);
    for (const ref of o.refs) {
      const line = lineFor(lines, ref);
      if (!line) {
        throw new Error(`node ${node} does not have image ${ref} after \`kind load\`; re-run, or load it with \`kind load docker-image ${ref} --name ${o.cluster}\``);
      }
      digests[`image ${ref}`] = line.split(/\s+/).find((f) => f.startsWith('sha256:'))?.slice(0, 19) ?? 'present';
    }
  }
  return digests;
}
