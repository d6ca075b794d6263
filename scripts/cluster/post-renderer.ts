// The Helm post-renderer for a release's drop-kinds corrections (scripts/helm/drop-kinds.ts): helm
// passes it the rendered manifests, it removes the documents of the declared kinds and records each
// one, so the correction's check can name every object removed (never silent).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RemovedObject } from '../corrections.ts';
import { REPO_ROOT } from '../images/index.ts';
import type { InstallOptions } from '../kube/helm.ts';
import type { Correction } from '../profiles/types.ts';

export const DROP_KINDS = join(REPO_ROOT, 'scripts/helm/drop-kinds.ts');

export interface DropKindsRenderer {
  /** The kinds removed (of every drop-kinds correction of the release). */
  kinds: string[];
  /** helm --post-renderer options for the install. */
  postRenderer: NonNullable<InstallOptions['postRenderer']>;
  /** After the install: what the post-renderer removed. */
  removed(): Promise<RemovedObject[]>;
  dispose(): Promise<void>;
}

/** One post-renderer for the drop-kinds corrections among `applied` (several merge); none without any. */
export async function dropKindsRenderer(applied: readonly Correction[]): Promise<DropKindsRenderer | undefined> {
  const kinds = [...new Set(applied.flatMap((c) => c.dropKinds ?? []))];
  if (kinds.length === 0) return undefined;
  const dir = await mkdtemp(join(tmpdir(), 'gs-postrender-'));
  const record = join(dir, 'removed.jsonl');
  return {
    kinds,
    // helm runs the post-renderer with this very Node, so the script's TypeScript runs as here
    postRenderer: { command: process.execPath, args: [DROP_KINDS, ...kinds.flatMap((x) => ['--kind', x]), '--record', record] },
    removed: async () =>
      (await readFile(record, 'utf8').catch(() => ''))
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as RemovedObject),
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}

/** What of `removed` one correction removed (several corrections of a release share one renderer). */
export function removedBy(c: Correction, removed: readonly RemovedObject[]): RemovedObject[] {
  return removed.filter((r) => c.dropKinds?.includes(r.kind));
}
