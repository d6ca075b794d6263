// Gathers the facts for the cluster kit (scripts/cluster/cluster-kit.ts), chooses, and prepares what
// scripts/airgap/cluster-up.sh needs for it: the node image, the Kubernetes version, the tools, the
// kind config with registry mirrors, and the environment to run it with.
import { readFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';
import { UserError } from '../errors.ts';
import { execaGroup } from '../process-group.ts';
import { PROJECT_ROOT } from '../project-root.ts';
import type { RunContext } from '../run-context.ts';
import { cacheDir, isExecutable, toolDirs } from '../tools.ts';
import { airgapKubernetes, checkCgroup, chooseClusterKit, hostHasCgroupV2, imageKubernetesVersion, type KitName, kitFromEnv } from './cluster-kit.ts';
import { writeKindConfig } from './kind-config.ts';
import { inspectTool, type KitTools, releaseDownloads, resolveKitTools } from './kit-tools.ts';
import { type KubernetesVersion, formatVersion, matchesVersion } from './kubernetes-version.ts';
import { kindRelease, nodeImageFor } from './node-images.ts';
import { checkManifest } from './manifest.ts';
import type { Reachability } from './registry.ts';
import { parseRegistryMirrors, REGISTRY_MIRRORS_ENV } from './registry-mirrors.ts';

const LIB_SH = join(PROJECT_ROOT, 'scripts/airgap/lib.sh');
const BUILD_SH = join(PROJECT_ROOT, 'scripts/airgap/build.sh');
/** scripts/airgap/lib.sh ONLINE_KIND_NET and the air-gapped kit's network. */
export const KIT_NETWORKS: Record<KitName, string> = { online: 'gateway-smoke-online', airgap: 'kind' };

export interface ClusterKit {
  kit: KitName;
  why: string;
  nodeImage: string;
  /** The Kubernetes release the nodes run (v1.34.4). */
  kubernetes: string;
  /** Environment for scripts/airgap/cluster-up.sh. */
  env: Record<string, string>;
  /** The online kit's kind, kubectl and helm (the air-gapped kit's are in its cache). */
  tools?: KitTools;
  describe: string;
}

/** A pinned default from scripts/airgap/lib.sh (`NAME="${NAME:-value}"`), the one place it is set. */
export async function libDefault(name: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (env[name]) return env[name]!;
  const m = new RegExp(`^${name}="\\$\\{${name}:-([^}]+)\\}"`, 'm').exec(await readFile(LIB_SH, 'utf8'));
  if (!m) throw new Error(`scripts/airgap/lib.sh pins no ${name}`);
  return m[1]!;
}

/**
 * Whether the online node image can be pulled: its registry (or that registry's mirror) serves the
 * manifest of this exact image (a registry that answers but lacks it does not count).
 */
export async function nodeImageServed(image: string, env: NodeJS.ProcessEnv): Promise<Reachability> {
  const m = await checkManifest(image, { env, timeoutMs: 3000 });
  return { reachable: m.kind === 'present', detail: m.kind === 'present' ? m.detail : `${m.kind}: ${m.detail}` };
}

/** The kind release a run would use without building anything: the first usable kind on PATH or in the cache. */
async function kindAtHand(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const dirs = [...(env['PATH'] ?? '').split(delimiter).filter(Boolean), join(cacheDir(env), 'bin', 'online'), ...toolDirs(env)];
  for (const d of dirs) {
    const p = join(d, 'kind');
    if (!isExecutable(p)) continue;
    const seen = await inspectTool('kind', p);
    if ('version' in seen) return `v${seen.version}`;
  }
  return undefined;
}

/** The docker network the kit's nodes join (created as cluster-up.sh would), and its IPv4 gateway. */
export async function kitNetworkGateway(network: string): Promise<string | undefined> {
  const inspect = () => execa('docker', ['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Gateway}} {{end}}', network], { reject: false });
  let r = await inspect();
  if (r.exitCode !== 0) {
    await execa('docker', ['network', 'create', '-d', 'bridge', '-o', 'com.docker.network.bridge.enable_ip_masquerade=true', '-o', 'com.docker.network.driver.mtu=1500', network], { reject: false });
    r = await inspect();
  }
  return r.stdout.split(/\s+/).find((ip) => /^\d+\.\d+\.\d+\.\d+$/.test(ip));
}

export async function prepareClusterKit(o: { name: string; wanted?: KubernetesVersion | undefined; ctx: RunContext; env?: NodeJS.ProcessEnv }): Promise<ClusterKit> {
  const env = o.env ?? process.env;
  const log = (l: string) => o.ctx.log.info(`  ${l}`);
  const forced = kitFromEnv(env);
  const override = env['GATEWAY_SMOKE_NODE_IMAGE']?.trim() || undefined;
  const mirrors = parseRegistryMirrors(env[REGISTRY_MIRRORS_ENV] ?? '');
  const cgroupV2 = hostHasCgroupV2();

  // the row set follows the kind in use; without one at hand, the release the kit would download or build
  const release = (await kindAtHand(env)) ?? (await libDefault('KIND_VERSION', env));
  let candidate = override;
  if (!candidate) {
    try {
      candidate = nodeImageFor(release, o.wanted).image;
    } catch {
      candidate = nodeImageFor(release, undefined).image;
    }
  }
  const served = forced || override ? undefined : await nodeImageServed(candidate, env);
  const { kit, why } = chooseClusterKit({ forced, override, nodeImage: candidate, served });
  const common: Record<string, string> = { GATEWAY_SMOKE_KIT: kit };
  const configDir = join(cacheDir(env), 'kind', o.name);

  if (kit === 'airgap') {
    const pinned = await libDefault('K8S_VERSION', env);
    const kubernetes = override ? (imageKubernetesVersion(override) ?? pinned) : airgapKubernetes(o.wanted, pinned);
    checkCgroup(kubernetes, cgroupV2);
    const gateway = mirrors.size ? await kitNetworkGateway(KIT_NETWORKS.airgap) : undefined;
    const config = await writeKindConfig({ dir: configDir, mirrors, gateway });
    const nodeImage = override ?? `gateway-smoke/kind-node:${kubernetes}`;
    return {
      kit,
      why,
      nodeImage,
      kubernetes,
      env: { ...common, K8S_VERSION: kubernetes, GATEWAY_SMOKE_KIND_CONFIG: config, ...(override ? { GATEWAY_SMOKE_NODE_IMAGE: override } : {}) },
      describe: `air-gapped kit (${why}): node image ${nodeImage}${kubernetes === pinned ? '' : ` (built from source for ${kubernetes})`}`,
    };
  }

  let kubernetes = override ? imageKubernetesVersion(override) : undefined;
  if (override && o.wanted && kubernetes && !matchesVersion(kubernetes, o.wanted)) {
    throw new UserError(`--kubernetes-version ${formatVersion(o.wanted)} disagrees with GATEWAY_SMOKE_NODE_IMAGE=${override} (Kubernetes ${kubernetes}). Drop one of them.`);
  }
  // before any tool is fetched: a version the kind at hand has no image for fails in seconds
  let nodeImage = override ?? nodeImageFor(release, o.wanted).image;
  kubernetes ??= imageKubernetesVersion(nodeImage) ?? 'unknown';
  checkCgroup(kubernetes, cgroupV2);
  const tools = await resolveKitTools({
    log,
    env,
    kubernetes,
    // the versions scripts/airgap/lib.sh pins: one place for the kit's tool versions
    downloads: releaseDownloads({
      kind: await libDefault('KIND_VERSION', env),
      kubectl: await libDefault('K8S_VERSION', env),
      helm: await libDefault('HELM_VERSION', env),
    }),
    build: async () => {
      const r = await execaGroup('bash', [BUILD_SH, 'go'], { signal: o.ctx.signal });
      if (r.exitCode !== 0) throw new Error(`scripts/airgap/build.sh go exited ${r.exitCode}: ${String(r.all ?? '').split('\n').slice(-5).join(' ')}`);
    },
  });
  const usedRelease = kindRelease(`v${tools.kind.version}`)!;
  if (!override && usedRelease !== release) nodeImage = nodeImageFor(usedRelease, o.wanted).image;
  const gateway = mirrors.size ? await kitNetworkGateway(KIT_NETWORKS.online) : undefined;
  const config = await writeKindConfig({ dir: configDir, mirrors, gateway });
  if (mirrors.size) log(`registry mirrors for the nodes: ${[...mirrors].map(([h, u]) => `${h} → ${u}`).join(', ')}${gateway ? ` (loopback reached at ${gateway})` : ''}`);
  return {
    kit,
    why,
    nodeImage,
    kubernetes,
    tools,
    env: {
      ...common,
      GATEWAY_SMOKE_NODE_IMAGE: nodeImage,
      GATEWAY_SMOKE_KIND: tools.kind.path,
      GATEWAY_SMOKE_KUBECTL: tools.kubectl.path,
      GATEWAY_SMOKE_KIND_CONFIG: config,
      KIND_EXPERIMENTAL_DOCKER_NETWORK: KIT_NETWORKS.online,
    },
    describe: `online kit (${why}): node image ${nodeImage}; ${(['kind', 'kubectl', 'helm'] as const).map((t) => `${t} ${tools[t].version} (${tools[t].how})`).join(', ')}`,
  };
}
