// Which image runs the chart's app: the chart's own (the user's release, what a gate must test) or
// the stand-in built here. `auto` picks the stand-in only when the chart's image cannot be had.
import { UserError } from '../errors.ts';
import { valueAt, type Values } from './values.ts';
import type { Reachability } from './registry.ts';

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
  facts: { chart: string; chartImage: string; hasStandIn: boolean; onEveryNode: boolean; registry: Reachability; registryHost: string },
): AppImageChoice {
  const { chartImage } = facts;
  if (mode === 'chart') return { use: 'chart', chartImage, why: '--images chart' };
  if (mode === 'local') {
    if (!facts.hasStandIn) {
      throw new UserError(`--images local: chart "${facts.chart}" has no local stand-in image. Use --images chart (or auto).`);
    }
    return { use: 'local', chartImage, why: '--images local' };
  }
  if (facts.onEveryNode) return { use: 'chart', chartImage, why: `${chartImage} is already on every node` };
  if (facts.registry.reachable) return { use: 'chart', chartImage, why: `${facts.registryHost} answers (${facts.registry.detail})` };
  if (!facts.hasStandIn) {
    return { use: 'chart', chartImage, why: `${facts.registryHost} is unreachable (${facts.registry.detail}) and the chart has no stand-in` };
  }
  return {
    use: 'local',
    chartImage,
    why: `the chart's image ${chartImage} cannot be pulled here: ${facts.registryHost} is unreachable (${facts.registry.detail})`,
  };
}
