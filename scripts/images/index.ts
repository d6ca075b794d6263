// The local images and fixture charts, for the harness (TypeScript side of scripts/images/*.sh).
//
//   const refs = await listImages();            // { mock: 'gateway-smoke/mock:<hash>', ... } (pods' images)
//   await buildImages({ only: ['mock'] });      // scripts/images/build-images.sh, output streamed to a log
//   await renderChart(helm, 'llm-proxy', values) // `helm template` -> parsed objects
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { parseAllDocuments, stringify } from 'yaml';
import { cacheDir, locateSync } from '../tools.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
export const IMAGES_DIR = join(REPO_ROOT, 'scripts', 'images');
export const CHARTS_DIR = join(REPO_ROOT, 'fixtures', 'charts');

/** Image names as scripts/images/lib.sh knows them. `base` is only a parent layer. */
export const IMAGE_NAMES = [
  'base', 'mock', 'llm-proxy', 'litellm', 'postgres', 'redis', 'probe',
  // the Envoy AI Gateway stack, named as upstream publishes it (lib.sh says why)
  'envoy', 'envoy-gateway', 'ai-gateway-controller', 'ai-gateway-extproc', 'ratelimit',
] as const;
export type ImageName = (typeof IMAGE_NAMES)[number];
export const CLUSTER_IMAGE_NAMES: readonly ImageName[] = IMAGE_NAMES.filter((n) => n !== 'base');

/** Charts for the in-cluster dependencies, installed per run in the run namespace. */
export const DEPENDENCY_CHARTS = {
  mock: join(CHARTS_DIR, 'mock-provider'),
  postgres: join(CHARTS_DIR, 'postgres'),
  redis: join(CHARTS_DIR, 'redis'),
  probe: join(CHARTS_DIR, 'probe'),
} as const;

/**
 * The image refs this checkout builds (computed from the sources, no docker needed).
 * Default: the images pods run; `all` adds the base.
 */
export async function listImages(opts: { all?: boolean; only?: readonly ImageName[]; env?: NodeJS.ProcessEnv } = {}): Promise<Partial<Record<ImageName, string>>> {
  const args = [join(IMAGES_DIR, 'list-images.sh'), '--format', 'json'];
  if (opts.all) args.push('--all');
  if (opts.only?.length) args.push('--only', opts.only.join(','));
  // (LITELLM_VERSION and GATEWAY_SMOKE_PRISMA_ENGINES in the environment pick the litellm tag)
  const { stdout } = await execa('bash', args, opts.env ? { env: opts.env, extendEnv: false } : {});
  return JSON.parse(stdout) as Partial<Record<ImageName, string>>;
}

/** Refs among `refs` that local docker does not have. */
export async function missingImages(refs: readonly string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const ref of refs) {
    const r = await execa('docker', ['image', 'inspect', ref], { reject: false });
    if (r.exitCode !== 0) missing.push(ref);
  }
  return missing;
}

export interface BuildResult {
  ref: string;
  id: string;
  size: number;
  status: 'built' | 'cached';
  seconds: number;
}

/**
 * Runs scripts/images/build-images.sh; resolves with its last-build.json, rejects with the
 * script's last stderr lines (they name the failed step and its log file).
 */
export async function buildImages(opts: { only?: readonly ImageName[]; force?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<Record<string, BuildResult>> {
  const args = [join(IMAGES_DIR, 'build-images.sh')];
  if (opts.only?.length) args.push('--only', opts.only.join(','));
  if (opts.force) args.push('--force');
  const env = { ...process.env, ...opts.env };
  const r = await execa('bash', args, { env, reject: false, all: true });
  if (r.exitCode !== 0) {
    const tail = (r.all ?? '').split('\n').slice(-20).join('\n');
    throw new Error(`scripts/images/build-images.sh exited ${r.exitCode}:\n${tail}`);
  }
  const cache = cacheDir(env);
  return JSON.parse(await readFile(join(cache, 'images', 'last-build.json'), 'utf8')) as Record<string, BuildResult>;
}

// ------------------------------------------------------------------------------ helm rendering

/** The Kubernetes version of the air-gapped cluster (scripts/airgap/lib.sh). `helm template` needs
 * it: a `go install`ed helm assumes v1.20, below the routeiq chart's kubeVersion (>=1.23). */
export const KUBE_VERSION = '1.34.4';

/** helm from the project's caches, then PATH; undefined when there is none. */
export function findHelm(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return locateSync('helm', env);
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [k: string]: unknown;
}

async function withValuesFile<T>(values: Record<string, unknown>, fn: (file: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'gs-chart-'));
  const file = join(dir, 'values.yaml');
  await writeFile(file, stringify(values));
  try {
    return await fn(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function chartPath(chart: string): string {
  return chart.includes('/') ? chart : join(CHARTS_DIR, chart);
}

/** `helm template` a chart (a fixture chart's name or a path); returns the rendered objects. */
export async function renderChart(
  helm: string,
  chart: string,
  values: Record<string, unknown> = {},
  opts: { release?: string; namespace?: string } = {},
): Promise<K8sObject[]> {
  return withValuesFile(values, async (file) => {
    const { stdout } = await execa(helm, [
      'template', opts.release ?? 'gs-run1', chartPath(chart),
      '--namespace', opts.namespace ?? 'gs-ns1', '--kube-version', KUBE_VERSION, '-f', file,
    ]);
    return parseAllDocuments(stdout)
      .map((d) => {
        if (d.errors.length > 0) throw new Error(`${chart}: helm rendered invalid YAML: ${d.errors[0]?.message}`);
        return d.toJS() as K8sObject | null;
      })
      .filter((o): o is K8sObject => o !== null && typeof o === 'object');
  });
}

/** `helm template` that must fail; resolves with helm's error text. */
export async function renderChartError(helm: string, chart: string, values: Record<string, unknown> = {}): Promise<string> {
  return withValuesFile(values, async (file) => {
    const r = await execa(helm, ['template', 'gs-run1', chartPath(chart), '--kube-version', KUBE_VERSION, '-f', file], { reject: false });
    if (r.exitCode === 0) throw new Error(`${chart}: helm template succeeded, a failure was expected`);
    return r.stderr;
  });
}

export async function lintChart(helm: string, chart: string, values: Record<string, unknown> = {}): Promise<{ ok: boolean; output: string }> {
  return withValuesFile(values, async (file) => {
    const r = await execa(helm, ['lint', '--strict', chartPath(chart), '--kube-version', KUBE_VERSION, '-f', file], { reject: false, all: true });
    return { ok: r.exitCode === 0, output: r.all ?? '' };
  });
}
