// README's flag table and the CLI's flags stay in step: every flag `--help` lists is in the table
// exactly once, and the table names no flag the CLI lacks. The flags are read from the real CLI's
// help (commander lists what it parses, hidden options excluded), not from its source.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { expect, test } from 'vitest';
import { PROJECT_ROOT } from '../scripts/project-root.ts';

test("README's flag table lists every CLI flag exactly once, and only those", async () => {
  const help = await execa(process.execPath, [join(PROJECT_ROOT, 'scripts', 'cli.ts'), '--help'], { cwd: PROJECT_ROOT });
  const cli = [...help.stdout.matchAll(/^ {2}(?:-\w, )?(--[a-z][a-z-]*)/gm)].map((m) => m[1]!).filter((f) => f !== '--help');
  expect(cli).toContain('--chart');
  expect(cli).toContain('--no-corrections');

  const readme = await readFile(join(PROJECT_ROOT, 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('| flag | meaning | default |'));
  const rows = table.split('\n').slice(2).filter((l) => l.startsWith('|'));
  const firstEmpty = table.split('\n').slice(2).findIndex((l) => !l.startsWith('|'));
  const documented = rows.slice(0, firstEmpty).flatMap((r) => [...r.split('|')[1]!.matchAll(/`(--[a-z][a-z-]*)/g)].map((m) => m[1]!));

  const twice = documented.filter((f, i) => documented.indexOf(f) !== i);
  expect(twice, 'flags listed more than once in README').toEqual([]);
  expect(cli.filter((f) => !documented.includes(f)), 'CLI flags missing from README').toEqual([]);
  expect(documented.filter((f) => !cli.includes(f)), 'README flags the CLI does not have').toEqual([]);
});
