// Which image runs the chart's app: the chart's own (the user's release, what a gate must test) or
// the stand-in built here. `auto` picks the stand-in only when the chart's image cannot be had: not on
// every node and its registry does not serve its manifest (manifest.ts says why).
import { oneParagraph, UserError } from '../errors.ts';
import { valueAt, type Values } from './values.ts';
import type { ManifestOutcome } from './manifest.ts';

export type ImagesMode = 'chart' | 'local' | 'auto';
export const IMAGES_MODES: readonly ImagesMode[] = ['chart', 'local', 'auto'];

export interface AppImageChoice {
  use: 'chart' | 'local';
  /** The image the chart's values name. */
  chartImage: string;
  why: string;
}

/** `repository:tag` (or `@digest`) from the chart's values; the tag defaults to the appVersion. */
export function chartImageRef(values: Values, valuesPath: string, appVersion: string | undefined): string {
  const img = valueAt(values, valuesPath) as { repository?: string; tag?: unknown; digest?: string; registry?: string } | undefined;
  const repo = [img?.registry, img?.repository].filter(Boolean).join('/') || '(unset)';
  if (img?.digest) return `${repo}@${img.digest}`;
  const tag = img?.tag !== undefined && img.tag !== '' ? String(img.tag) : (appVersion ?? 'latest');
  return `${repo}:${tag}`;
}

export function decideAppImage(
  mode: ImagesMode,
  facts: {
    chart: string;
    chartImage: string;
    hasStandIn: boolean;
    onEveryNode: boolean;
    /** The registry's answer for the chart's image; undefined when not asked (--images local, or on every node). */
    manifest: ManifestOutcome | undefined;
  },
): AppImageChoice {
  const { chartImage, manifest } = facts;
  if (mode === 'local') {
    if (!facts.hasStandIn) {
      throw new UserError(`--images local: chart "${facts.chart}" has no local stand-in image. Use --images chart (or auto).`);
    }
    return { use: 'local', chartImage, why: '--images local' };
  }
  const flag = mode === 'chart' ? '--images chart; ' : '';
  if (facts.onEveryNode) return { use: 'chart', chartImage, why: `${flag}${chartImage} is already on every node` };
  if (!manifest) return { use: 'chart', chartImage, why: `${flag}its manifest was not checked` };
  if (manifest.kind === 'present') return { use: 'chart', chartImage, why: `${flag}its manifest is present (${manifest.detail})` };
  const outcome = `${manifest.kind} for ${chartImage} (${manifest.detail})`;
  if (mode === 'chart') {
    // A node may reach a registry this machine cannot (its own mirror): the pull itself decides.
    if (manifest.kind === 'registry unreachable') return { use: 'chart', chartImage, why: `--images chart; going on although ${outcome}` };
    throw new UserError(
      oneParagraph(`--images chart: the chart's image ${chartImage} cannot be pulled: ${outcome}.
        ${facts.hasStandIn ? 'Use --images auto or --images local to run the local stand-in instead, or push' : 'Push'}
        ${chartImage} to its registry (or set the chart's image in --values to one that exists).`),
    );
  }
  if (!facts.hasStandIn) return { use: 'chart', chartImage, why: `${outcome}, and the chart has no stand-in` };
  return { use: 'local', chartImage, why: outcome };
}
