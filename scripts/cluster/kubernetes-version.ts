// --kubernetes-version: a minor (1.33) or an exact release (1.33.4), with or without a leading v.
import { UserError } from '../errors.ts';

export interface KubernetesVersion {
  major: number;
  minor: number;
  /** Absent for a minor: the kit picks the newest patch it has. */
  patch?: number;
}

export function parseKubernetesVersion(text: string): KubernetesVersion {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!m || m[1] !== '1') {
    throw new UserError(
      `--kubernetes-version "${text}" is not a Kubernetes version. Give a minor such as 1.34 (its newest patch the kit has) ` +
        'or an exact release such as 1.34.4 (a leading v is fine).',
    );
  }
  return { major: Number(m[1]), minor: Number(m[2]), ...(m[3] !== undefined ? { patch: Number(m[3]) } : {}) };
}

export function formatVersion(v: KubernetesVersion): string {
  return `v${v.major}.${v.minor}${v.patch !== undefined ? `.${v.patch}` : ''}`;
}

function parts(full: string): [number, number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(full);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** Whether a full version (v1.34.4) is what was asked for. */
export function matchesVersion(full: string, wanted: KubernetesVersion): boolean {
  const v = parts(full);
  return !!v && v[0] === wanted.major && v[1] === wanted.minor && (wanted.patch === undefined || v[2] === wanted.patch);
}

/** The newest of `versions` that matches `wanted` (any, when nothing was asked for). */
export function newestMatching(versions: readonly string[], wanted: KubernetesVersion | undefined): string | undefined {
  const ok = versions.filter((v) => parts(v) && (!wanted || matchesVersion(v, wanted)));
  const key = (v: string) => parts(v)!.reduce((n, x) => n * 10_000 + x, 0);
  return ok.sort((a, b) => key(b) - key(a))[0];
}
