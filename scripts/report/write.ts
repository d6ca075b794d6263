import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mask } from '../secrets.ts';
import { renderConformance } from './features.ts';
import { renderHtml } from './html.ts';
import { renderJUnit } from './junit.ts';
import { renderMarkdown } from './markdown.ts';
import type { RunReport } from './model.ts';

export interface WrittenReport {
  junit: string;
  markdown: string;
  json: string;
  html: string;
  conformance: string;
}

/** Writes every report file; each passes through the masking function. */
export async function writeReports(dir: string, report: RunReport): Promise<WrittenReport> {
  await mkdir(dir, { recursive: true });
  const files = {
    junit: join(dir, 'junit.xml'),
    markdown: join(dir, 'summary.md'),
    json: join(dir, 'report.json'),
    html: join(dir, 'report.html'),
    conformance: join(dir, 'conformance.yaml'),
  };
  await writeFile(files.junit, renderJUnit(report));
  await writeFile(files.markdown, renderMarkdown(report));
  await writeFile(files.json, mask(JSON.stringify(report, null, 2)) + '\n');
  await writeFile(files.conformance, mask(renderConformance(report)));
  const index = report.diagnostics ? await readFile(join(dir, report.diagnostics, 'INDEX.txt'), 'utf8').catch(() => '') : '';
  await writeFile(files.html, renderHtml(report, { diagnosticsFiles: index.split('\n').filter(Boolean) }));
  return files;
}
