// The previous release an upgrade run starts from (--upgrade-from, --upgrade-from-values,
// --upgrade-from-image), and the one rule that makes it bad input: an "upgrade" to exactly what was
// already installed (same chart content, same image) tests nothing, so it is refused (exit 2).
import { createHash } from 'node:crypto';
import { access, readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { UserError } from '../errors.ts';

export interface UpgradeFrom {
  /** Chart folder of the previous release (absolute). */
  chartDir: string;
  /** Helm values for the previous release only, applied after the profile's. */
  valuesFile?: string;
  /** The image the previous release ran: a full reference, or a version (tag) of the candidate's image. */
  image?: string;
}

/** The previous release's folder must be a chart (a Chart.yaml), like --chart-dir's. */
export async function checkUpgradeSource(from: UpgradeFrom): Promise<void> {
  const ok = await access(join(from.chartDir, 'Chart.yaml')).then(
    () => true,
    () => false,
  );
  if (!ok) {
    throw new UserError(
      `--upgrade-from ${from.chartDir} is not a chart folder (no Chart.yaml there). Point it at the previous release's chart, e.g. a checkout of the chart at the last released commit.`,
    );
  }
}

/**
 * A hash of a chart folder's files (relative names and bytes, sorted), so two copies of one commit
 * are the same chart wherever they live; `.git` is not part of a chart.
 */
export async function chartContentHash(dir: string): Promise<string> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .filter((p) => !relative(dir, p).split(/[\\/]/).includes('.git'))
    .sort();
  const h = createHash('sha256');
  for (const f of files) {
    h.update(`${relative(dir, f)}\0`);
    h.update(await readFile(f));
    h.update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

/** The tag of an image reference (`repo:tag` → tag; a bare version stays itself). */
export function imageVersion(ref: string): string {
  const noDigest = ref.split('@')[0]!;
  const lastSlash = noDigest.lastIndexOf('/');
  const colon = noDigest.indexOf(':', lastSlash + 1);
  return colon >= 0 ? noDigest.slice(colon + 1) : noDigest;
}

/**
 * Refuses an upgrade whose source is the candidate: the same chart content and the same image
 * (no --upgrade-from-image means the old release runs the candidate's image). `candidateImage`
 * unknown (undefined) means only a missing --upgrade-from-image can be judged identical.
 */
export async function refuseIdenticalUpgrade(from: UpgradeFrom, candidate: { chartDir: string; image?: string | undefined }): Promise<void> {
  const [a, b] = await Promise.all([chartContentHash(from.chartDir), chartContentHash(candidate.chartDir)]);
  if (a !== b) return;
  const sameImage =
    from.image === undefined ||
    (candidate.image !== undefined && (from.image === candidate.image || imageVersion(from.image) === imageVersion(candidate.image)));
  if (!sameImage) return;
  throw new UserError(
    `--upgrade-from ${from.chartDir} holds the same chart as the candidate ${candidate.chartDir} (identical files, content hash ${a})` +
      `${from.image === undefined ? ' and no --upgrade-from-image was given, so both would run the same image' : ` and --upgrade-from-image ${from.image} is the candidate's image`}: ` +
      'such an upgrade replaces nothing and proves nothing. Point --upgrade-from at the previous release (e.g. the chart at the last released commit), ' +
      'or give --upgrade-from-image with the version the previous release ran.',
  );
}
