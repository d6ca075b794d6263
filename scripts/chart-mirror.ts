#!/usr/bin/env node
// Makes (or refreshes) a chart mirror: one folder per profile chart at its pinned commit, the layout
// --chart-mirror / GATEWAY_SMOKE_CHART_MIRROR read. Run it where the charts' git hosts answer, then
// carry the folder to machines that cannot reach them.
//
//   node scripts/chart-mirror.ts <dir>
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { PROFILES } from './profiles/index.ts';

async function main(dir: string | undefined): Promise<number> {
  if (!dir) {
    process.stderr.write('usage: node scripts/chart-mirror.ts <dir>  (a folder that will hold one folder per chart)\n');
    return 2;
  }
  const out = resolve(dir);
  let failed = 0;
  for (const p of PROFILES) {
    const src = p.source;
    if (src.kind !== 'git') continue;
    const work = await mkdtemp(join(tmpdir(), 'gs-mirror-'));
    try {
      const git = (args: string[]) => execa('git', args, { cwd: work, reject: false, timeout: 120_000, env: { GIT_TERMINAL_PROMPT: '0' } });
      await git(['init', '-q']);
      const f = await git(['fetch', '-q', '--depth', '1', src.repo, src.commit]);
      if (f.exitCode !== 0 || (await git(['checkout', '-q', 'FETCH_HEAD'])).exitCode !== 0) {
        process.stderr.write(`${p.name}: cannot fetch ${src.repo}@${src.commit}: ${f.stderr.trim().split('\n').pop()}\n`);
        failed++;
        continue;
      }
      await rm(join(out, src.chartName), { recursive: true, force: true });
      await cp(join(work, src.path), join(out, src.chartName), { recursive: true });
      process.stderr.write(`${p.name}: ${src.repo}/${src.path}@${src.commit.slice(0, 12)} -> ${join(out, src.chartName)}\n`);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
  return failed ? 3 : 0;
}

main(process.argv[2]).then((code) => process.exit(code));
