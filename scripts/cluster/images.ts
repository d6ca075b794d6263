// The images a run needs: built here (scripts/images/build-images.sh), loaded into the kind nodes
// only where a node lacks them, then checked on every node through containerd's own view.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { type ImageName, listImages } from '../images/index.ts';
import { execaGroup } from '../process-group.ts';
import { PROJECT_ROOT } from '../project-root.ts';
import type { RunContext } from '../run-context.ts';
import { cacheDir } from '../tools.ts';

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
  const listings = await Promise.all((await nodesOf(kind, cluster)).map(imagesOnNode));
  return listings.every((lines) => lineFor(lines, ref) !== undefined);
}

/**
 * The image ID (config digest) behind a manifest (or index) digest on a node: what `docker image
 * inspect` calls Id. Content-addressed, so once read it holds on every node and every cluster:
 * remembered in `known` (a warm run then asks each node only for its image list).
 */
async function configDigestOnNode(node: string, manifest: string, known: Map<string, string>): Promise<string | undefined> {
  const hit = known.get(manifest);
  if (hit) return hit;
  const content = async (digest: string) => JSON.parse((await execa('docker', ['exec', node, 'ctr', '-n', 'k8s.io', 'content', 'get', digest])).stdout) as { config?: { digest?: string }; manifests?: { digest: string }[] };
  try {
    let m = await content(manifest);
    if (!m.config && m.manifests?.[0]) m = await content(m.manifests[0].digest);
    if (m.config?.digest) known.set(manifest, m.config.digest);
    return m.config?.digest;
  } catch {
    return undefined;
  }
}

const KNOWN_FILE = join(cacheDir(), 'images', 'node-config-digests.json');

async function readKnown(): Promise<Map<string, string>> {
  try {
    return new Map(Object.entries(JSON.parse(await readFile(KNOWN_FILE, 'utf8')) as Record<string, string>));
  } catch {
    return new Map();
  }
}

async function writeKnown(known: Map<string, string>): Promise<void> {
  await mkdir(dirname(KNOWN_FILE), { recursive: true });
  const tmp = `${KNOWN_FILE}.${process.pid}`;
  await writeFile(tmp, JSON.stringify(Object.fromEntries(known)));
  await rename(tmp, KNOWN_FILE);
}

async function localImageId(ref: string): Promise<string | undefined> {
  const r = await execa('docker', ['image', 'inspect', '-f', '{{.Id}}', ref], { reject: false });
  return r.exitCode === 0 ? r.stdout.trim() : undefined;
}

/** What each node lists, and which refs some node lacks or holds only as another build (by config digest). */
async function survey(o: { kind: string; cluster: string; refs: string[]; log?: (line: string) => void }): Promise<{ nodes: string[]; listings: string[][]; missing: Set<string>; ids: Map<string, string | undefined> }> {
  const [nodes, idList, known] = await Promise.all([nodesOf(o.kind, o.cluster), Promise.all(o.refs.map(localImageId)), readKnown()]);
  const ids = new Map(o.refs.map((ref, i) => [ref, idList[i]]));
  const learnt = known.size;
  const missing = new Set<string>();
  const listings = await Promise.all(nodes.map(imagesOnNode));
  await Promise.all(
    nodes.map(async (node, n) => {
      for (const ref of o.refs) {
        const line = lineFor(listings[n]!, ref);
        if (!line) missing.add(ref);
        else if (ids.get(ref) && (await configDigestOnNode(node, line.split(/\s+/)[2] ?? '', known)) !== ids.get(ref)) {
          o.log?.(`node ${node} has an older build of ${ref}: loading it again`);
          missing.add(ref);
        }
      }
    }),
  );
  if (known.size !== learnt) await writeKnown(known).catch(() => undefined); // only a cache
  return { nodes, listings, missing, ids };
}

/**
 * The refs every node already holds as the build local Docker has: what a run may start before
 * the build has confirmed its images are up to date (a cheap look: one `ctr images ls` per node).
 */
export async function heldByEveryNode(o: { kind: string; cluster: string; refs: string[] }): Promise<Set<string>> {
  const { missing, ids } = await survey(o);
  return new Set(o.refs.filter((r) => !missing.has(r) && ids.get(r) !== undefined));
}

/**
 * Loads what some node lacks (or has only as an older build under the same tag: a version tag is
 * rebuilt when its inputs change), then proves every node has each image; returns the refs it loaded.
 * Nodes are asked at the same time; with every image already in place this is one `ctr images ls` per node.
 */
export async function loadImages(o: { kind: string; cluster: string; refs: string[]; ctx: RunContext }): Promise<string[]> {
  const surveyed = await survey({ ...o, log: (l) => o.ctx.log.info(l) });
  const { nodes, missing } = surveyed;
  let listings = surveyed.listings;
  if (missing.size) {
    o.ctx.log.info(`loading ${[...missing].join(', ')} into ${nodes.length} nodes`);
    const r = await execaGroup(o.kind, ['load', 'docker-image', '--name', o.cluster, ...missing], { signal: o.ctx.signal });
    o.ctx.signal.throwIfAborted();
    if (r.exitCode !== 0) throw new Error(`kind load docker-image exited ${r.exitCode}: ${r.all.split('\n').slice(-4).join(' ')}`);
    // `kind load` has been known to report success for images a node does not have: check each node.
    listings = await Promise.all(nodes.map(imagesOnNode));
  }
  for (const [n, node] of nodes.entries()) {
    for (const ref of o.refs) {
      if (!lineFor(listings[n]!, ref)) {
        throw new Error(`node ${node} does not have image ${ref} after \`kind load\`; re-run, or load it with \`kind load docker-image ${ref} --name ${o.cluster}\``);
      }
    }
  }
  return [...missing];
}
