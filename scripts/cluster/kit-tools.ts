// kind, kubectl and helm for the online kit, the cheapest way this machine allows, in order:
//   1. on PATH (a runner's setup action put them there) at a supported version;
//   2. already in the project's cache (built or downloaded by an earlier run);
//   3. downloaded as the projects' release binaries, checksum-verified, when their hosts answer;
//   4. built from source by scripts/airgap/build.sh (Go, minutes) as the last resort.
// Each tool says which and why, for the log and the run's fingerprint.
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';
import { atLeast, cacheDir, isExecutable, TOOLS, toolDirs } from '../tools.ts';
import { KIND_NODE_IMAGES, kindRelease, knownKindReleases } from './node-images.ts';
import { probeUrl, type Reachability } from './registry.ts';

export type KitToolName = 'kind' | 'kubectl' | 'helm';
export const KIT_TOOLS: readonly KitToolName[] = ['kind', 'kubectl', 'helm'];

export interface KitTool {
  path: string;
  version: string;
  how: 'PATH' | 'cache' | 'download' | 'build';
  why: string;
}
export type KitTools = Record<KitToolName, KitTool>;

/** Release binaries (the versions scripts/airgap/lib.sh pins), each with its published checksum file. */
export interface Download {
  url: string;
  sha256Url: string;
  /** Path of the binary inside a .tar.gz, when the release is an archive. */
  inArchive?: string;
}
export function releaseDownloads(pins: Record<KitToolName, string>, arch = process.arch === 'arm64' ? 'arm64' : 'amd64'): Record<KitToolName, Download> {
  const kind = `https://github.com/kubernetes-sigs/kind/releases/download/${pins.kind}/kind-linux-${arch}`;
  const kubectl = `https://dl.k8s.io/release/${pins.kubectl}/bin/linux/${arch}/kubectl`;
  const helm = `https://get.helm.sh/helm-${pins.helm}-linux-${arch}.tar.gz`;
  return {
    kind: { url: kind, sha256Url: `${kind}.sha256sum` },
    kubectl: { url: kubectl, sha256Url: `${kubectl}.sha256` },
    helm: { url: helm, sha256Url: `${helm}.sha256sum`, inArchive: `linux-${arch}/helm` },
  };
}

function numbers(version: string): number[] {
  return version.split('.').map(Number);
}

/** The tool's version, or why it cannot be used for the online kit. */
export async function inspectTool(name: KitToolName, path: string, kubernetes?: string): Promise<{ version: string } | { unusable: string }> {
  const spec = TOOLS[name];
  const r = await execa(path, spec.versionArgs, { reject: false, timeout: 20_000 });
  const m = spec.versionPattern.exec(`${r.stdout}\n${r.stderr}`);
  if (r.exitCode !== 0 || !m) return { unusable: `\`${name} ${spec.versionArgs.join(' ')}\` gave no version` };
  const version = `${m[1]}.${m[2]}.${m[3]}`;
  if (name === 'kind') {
    const release = kindRelease(`v${version}`)!;
    if (!KIND_NODE_IMAGES[release]) return { unusable: `kind ${release} has no row in the node-image table (${knownKindReleases().join(', ')})` };
  } else if (!atLeast(numbers(version), spec.minimum)) {
    return { unusable: `${name} ${version} is older than ${spec.minimum.join('.')}` };
  } else if (name === 'kubectl' && kubernetes) {
    // kubectl's version skew policy: within one minor of the cluster
    const [, want] = numbers(kubernetes.replace(/^v/, ''));
    const [, have] = numbers(version);
    if (Math.abs((want ?? 0) - (have ?? 0)) > 1) return { unusable: `kubectl ${version} is more than one minor away from Kubernetes ${kubernetes}` };
  }
  return { version };
}

async function sha256Of(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(60_000) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status}`);
  const sum = /\b[0-9a-f]{64}\b/.exec(text)?.[0];
  if (!sum) throw new Error(`${url} holds no sha256`);
  return sum;
}

/** Downloads a release binary into `dir`, refusing it unless its sha256 is the published one. */
export async function downloadTool(name: KitToolName, d: Download, dir: string): Promise<string> {
  const want = await sha256Of(d.sha256Url);
  // fetch follows the release hosts' redirects (GitHub → its object storage)
  const res = await fetch(d.url, { signal: AbortSignal.timeout(300_000) });
  if (res.status !== 200) {
    await res.body?.cancel();
    throw new Error(`GET ${d.url}: HTTP ${res.status}`);
  }
  const body = Buffer.from(await res.arrayBuffer());
  const got = createHash('sha256').update(body).digest('hex');
  if (got !== want) throw new Error(`${d.url}: sha256 ${got} is not the published ${want}`);
  await mkdir(dir, { recursive: true });
  const dest = join(dir, name);
  const tmp = await mkdtemp(join(tmpdir(), `gs-${name}-`));
  try {
    if (d.inArchive) {
      await writeFile(join(tmp, 'a.tar.gz'), body);
      await execa('tar', ['-xzf', join(tmp, 'a.tar.gz'), '-C', tmp, d.inArchive]);
      await rename(join(tmp, d.inArchive), dest);
    } else {
      await writeFile(join(tmp, name), body);
      await rename(join(tmp, name), dest);
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  await chmod(dest, 0o755);
  return dest;
}

export interface ResolveOptions {
  log: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  /** Where each tool is downloaded from when neither PATH nor the cache has it. */
  downloads: Record<KitToolName, Download>;
  probe?: (url: string) => Promise<Reachability>;
  /** The cluster's Kubernetes version (kubectl must be within one minor of it). */
  kubernetes?: string;
  /** Builds kind, kubectl and helm into the air-gapped kit's bin folder (scripts/airgap/build.sh go). */
  build: () => Promise<void>;
}

export async function resolveKitTools(o: ResolveOptions): Promise<KitTools> {
  const env = o.env ?? process.env;
  const downloads = o.downloads;
  const probe = o.probe ?? ((url: string) => probeUrl(url, 5000));
  const cacheDirs = toolDirs(env);
  const pathDirs = (env['PATH'] ?? '').split(delimiter).filter((d) => d && !cacheDirs.includes(d));
  const downloadDir = join(cacheDir(env), 'bin', 'online');
  const found: Partial<KitTools> = {};
  const missing: { name: KitToolName; tried: string[] }[] = [];

  for (const name of KIT_TOOLS) {
    const tried: string[] = [];
    const places: [KitTool['how'], string][] = [
      ...pathDirs.map((d) => ['PATH', join(d, name)] as [KitTool['how'], string]),
      ...[downloadDir, ...cacheDirs].map((d) => ['cache', join(d, name)] as [KitTool['how'], string]),
    ];
    for (const [how, path] of places) {
      if (!isExecutable(path)) continue;
      const seen = await inspectTool(name, path, o.kubernetes);
      if ('unusable' in seen) {
        tried.push(`${path}: ${seen.unusable}`);
        continue;
      }
      found[name] = { path, version: seen.version, how, why: how === 'PATH' ? `found on PATH at ${path}` : `in the project's cache at ${path}` };
      break;
    }
    if (found[name]) continue;
    const d = downloads[name];
    const reach = await probe(d.url);
    if (reach.reachable) {
      try {
        const path = await downloadTool(name, d, downloadDir);
        const seen = await inspectTool(name, path, o.kubernetes);
        if ('version' in seen) {
          found[name] = { path, version: seen.version, how: 'download', why: `downloaded ${d.url} (sha256 checked)` };
          continue;
        }
        tried.push(`${d.url}: ${seen.unusable}`);
      } catch (err) {
        tried.push(`download ${d.url} failed: ${(err as Error).message}`);
      }
    } else {
      tried.push(`release download unreachable (${reach.detail})`);
    }
    missing.push({ name, tried });
  }

  if (missing.length) {
    for (const m of missing) o.log(`${m.name}: none usable (${m.tried.join('; ') || 'not on PATH, not in the cache'}): building it from source`);
    await o.build();
    for (const m of missing) {
      const path = join(cacheDirs[0]!, m.name);
      const seen = isExecutable(path) ? await inspectTool(m.name, path, o.kubernetes) : { unusable: 'the build left no binary' };
      if ('unusable' in seen) throw new Error(`scripts/airgap/build.sh built no usable ${m.name} at ${path}: ${seen.unusable}`);
      found[m.name] = { path, version: seen.version, how: 'build', why: `built from source (${m.tried.join('; ') || 'none found'})` };
    }
  }
  const tools = found as KitTools;
  for (const name of KIT_TOOLS) o.log(`${name} ${tools[name].version}: ${tools[name].why}`);
  return tools;
}
