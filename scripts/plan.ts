import { resolve } from 'node:path';
import { UserError } from './errors.ts';
import { enginesDirFrom } from './prisma-engines.ts';
import { chartNames, getProfile, profileFromFile } from './profiles/index.ts';
import { type ChartProfile, SUITES, type SuiteName } from './profiles/types.ts';
import { TARGET_KINDS, type TargetKind } from './targets/types.ts';
import { IMAGES_MODES, type ImagesMode } from './cluster/app-image.ts';
import { kitFromEnv } from './cluster/cluster-kit.ts';
import { type KubernetesVersion, parseKubernetesVersion } from './cluster/kubernetes-version.ts';
import { parseRegistryMirrors, REGISTRY_MIRRORS_ENV } from './cluster/registry-mirrors.ts';
import type { Waiver } from './waivers.ts';
import { checkUpgradeSource, refuseIdenticalUpgrade, type UpgradeFrom } from './upgrade/source.ts';

export type KeepPolicy = 'on-failure' | 'always' | 'never';
export const KEEP_POLICIES: readonly KeepPolicy[] = ['on-failure', 'always', 'never'];

/** Everything a run needs to know, validated. Built from CLI flags; nothing below reads argv. */
export interface RunPlan {
  profile: ChartProfile;
  target: TargetKind;
  suites: SuiteName[];
  keep: KeepPolicy;
  reportDir: string;
  valuesFile?: string;
  chartDir?: string;
  clusterName: string;
  /** --kubernetes-version for the kind target; the cluster kit checks it has it (default: its newest). */
  kubernetesVersion?: KubernetesVersion;
  kubeContext?: string;
  baseUrl?: string;
  adminKeyEnv?: string;
  metricsUrl?: string;
  /** INCOMPLETE exits 0 instead of 4 (nightly runs on machines that lack a piece); the headline still says INCOMPLETE. */
  acceptIncomplete: boolean;
  model: string;
  /** A folder of chart folders (`<mirror>/<chart name>/Chart.yaml`), used when the upstream is unreachable. */
  chartMirror?: string;
  /** Which image runs the chart's app: its own, the local stand-in, or auto (own when it can be pulled). */
  images: ImagesMode;
  /**
   * Prisma's engines for LiteLLM (layout of a prisma-engines folder), when given, and which option
   * named them; checked by the target (a bad folder is an `environment` verdict with its reason).
   */
  prismaEngines?: { dir: string; from: string };
  waivers: Waiver[];
  waiversFile?: string;
  /**
   * Apply the corrections the profile declares (default), each reported as a failing
   * `chart.as-shipped.<id>` check; false runs the chart exactly as shipped.
   */
  corrections: boolean;
  /** --upgrade-from: install this previous release first, then upgrade it to the candidate under traffic. */
  upgradeFrom?: UpgradeFrom;
}

export interface RawOptions {
  chart: string;
  /** A profile file of the user's own, instead of the built-in --chart. */
  profile?: string;
  target: string;
  suites: string;
  keep: string;
  reportDir?: string;
  values?: string;
  chartDir?: string;
  clusterName: string;
  kubernetesVersion?: string;
  context?: string;
  baseUrl?: string;
  adminKeyEnv?: string;
  metricsUrl?: string;
  /** Gone: a run that did not prove everything is INCOMPLETE (exit 4) by default now. */
  strict?: boolean;
  acceptIncomplete?: boolean;
  model: string;
  chartMirror?: string;
  images?: string;
  prismaEngines?: string;
  waivers?: string;
  /** commander's --no-corrections: false when given. */
  corrections?: boolean;
  /** --no-workarounds, the old name of --no-corrections (hidden). */
  workarounds?: boolean;
  upgradeFrom?: string;
  upgradeFromValues?: string;
  upgradeFromImage?: string;
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UserError(`${flag} "${value}" is not one of: ${allowed.join(', ')}. Pick one of those values.`);
}

export function parseSuites(value: string): SuiteName[] {
  if (value === 'all') return [...SUITES];
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !(SUITES as readonly string[]).includes(n));
  if (unknown.length || names.length === 0) {
    throw new UserError(
      `--suites "${value}" names ${unknown.length ? `unknown suites (${unknown.join(', ')})` : 'no suite'}. ` +
        `Use a comma-separated list of: ${SUITES.join(', ')}, or "all".`,
    );
  }
  return SUITES.filter((s) => names.includes(s));
}

export async function buildPlan(raw: RawOptions, env: NodeJS.ProcessEnv = process.env): Promise<RunPlan> {
  if (raw.strict) {
    throw new UserError(
      '--strict is gone: a run where a check was blocked by the environment, or a stand-in ran, now ends INCOMPLETE with exit 4 ' +
        'without it, so a gate blocks on it by default. Drop --strict; to let such a run exit 0 (a nightly run on a machine that lacks a piece), pass --accept-incomplete.',
    );
  }
  const profile = raw.profile ? profileFromFile(raw.profile) : getProfile(raw.chart);
  const target = oneOf('--target', raw.target, TARGET_KINDS);
  const keep = oneOf('--keep', raw.keep, KEEP_POLICIES);
  const suites = parseSuites(raw.suites);
  const plan: RunPlan = {
    profile,
    target,
    suites,
    keep,
    reportDir: resolve(raw.reportDir ?? `reports/${profile.name}`),
    clusterName: raw.clusterName,
    acceptIncomplete: raw.acceptIncomplete ?? false,
    model: raw.model,
    images: oneOf('--images', raw.images ?? 'auto', IMAGES_MODES),
    waivers: [],
    corrections: raw.corrections !== false && raw.workarounds !== false,
  };
  // Files and folders are only resolved here: the preflight (scripts/preflight.ts) checks what they
  // hold, all of them at once, and parses the waivers into plan.waivers.
  const mirror = raw.chartMirror ?? env['GATEWAY_SMOKE_CHART_MIRROR'];
  if (mirror) plan.chartMirror = resolve(mirror);
  const engines = enginesDirFrom(raw.prismaEngines, env);
  if (engines) plan.prismaEngines = engines;
  if (raw.waivers) plan.waiversFile = resolve(raw.waivers);
  if (raw.values) plan.valuesFile = resolve(raw.values);
  if (raw.chartDir) plan.chartDir = resolve(raw.chartDir);
  if (raw.context) plan.kubeContext = raw.context;
  if (raw.kubernetesVersion !== undefined) {
    if (target !== 'kind') throw new UserError(`--kubernetes-version belongs to --target kind (it picks the cluster's node image); this run uses --target ${target}.`);
    plan.kubernetesVersion = parseKubernetesVersion(raw.kubernetesVersion);
  }
  // the cluster kit's environment, checked before anything is created
  if (target === 'kind') {
    kitFromEnv(env);
    parseRegistryMirrors(env[REGISTRY_MIRRORS_ENV] ?? '');
  }

  if (target === 'url') {
    if (!raw.baseUrl) {
      throw new UserError(
        '--target url needs --base-url <url> of the running gateway (and usually --admin-key-env <NAME>, the ' +
          'environment variable that holds its admin key).',
      );
    }
    try {
      const u = new URL(raw.baseUrl);
      if (!['http:', 'https:'].includes(u.protocol)) throw new Error('scheme');
    } catch {
      throw new UserError(`--base-url "${raw.baseUrl}" is not an http(s) URL. Give one like http://127.0.0.1:4000.`);
    }
    plan.baseUrl = raw.baseUrl.replace(/\/+$/, '');
    if (raw.adminKeyEnv) {
      if (!env[raw.adminKeyEnv]) {
        throw new UserError(
          `--admin-key-env names ${raw.adminKeyEnv}, but that environment variable is empty or unset. Export it ` +
            '(the gateway admin key) before the run; the harness reads the key from the environment so it never ' +
            'appears on a command line.',
        );
      }
      plan.adminKeyEnv = raw.adminKeyEnv;
    }
    if (raw.metricsUrl) plan.metricsUrl = raw.metricsUrl;
  } else if (raw.baseUrl || raw.adminKeyEnv) {
    throw new UserError(`--base-url and --admin-key-env belong to --target url; this run uses --target ${target}.`);
  }
  if (raw.upgradeFrom) {
    if (target !== 'kind' && target !== 'existing') {
      throw new UserError(`--upgrade-from needs a cluster the harness installs into (--target kind or existing); this run uses --target ${target}.`);
    }
    plan.upgradeFrom = {
      chartDir: resolve(raw.upgradeFrom),
      ...(raw.upgradeFromValues ? { valuesFile: resolve(raw.upgradeFromValues) } : {}),
      ...(raw.upgradeFromImage ? { image: raw.upgradeFromImage } : {}),
    };
    await checkUpgradeSource(plan.upgradeFrom);
    plan.suites = [...plan.suites, 'upgrade'];
    // the candidate is known now only when it is a folder; otherwise the run checks once it is resolved
    if (plan.chartDir) await refuseIdenticalUpgrade(plan.upgradeFrom, { chartDir: plan.chartDir });
  } else if (raw.upgradeFromValues || raw.upgradeFromImage) {
    throw new UserError('--upgrade-from-values and --upgrade-from-image describe the previous release of an upgrade run: give --upgrade-from <chart folder> with them.');
  }
  if (target === 'local' && !profile.local) {
    throw new UserError(
      `--target local cannot run chart "${profile.name}": no gateway software for it runs as a local process here. ` +
        `Charts with a local target: ${chartNames().filter((n) => getProfile(n).local).join(', ')}. Use --target kind for this chart.`,
    );
  }
  return plan;
}
