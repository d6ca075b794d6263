import { mask } from '../secrets.ts';
import { formatDuration } from '../run-context.ts';
import { headline, outcome, type RunReport, suiteLabel, type Verdict, VERDICT_LABEL } from './model.ts';

const ICON: Record<Verdict, string> = { pass: '✅', fail: '❌', 'not-applicable': '➖', environment: '⚠️', waived: '🟡' };

const OUTCOME_ICON = { VERIFIED: '✅', FAILED: '❌', INCOMPLETE: '◐' } as const;

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n+/g, ' ');
}

/** The summary a CI job page shows: verdict first, then the chart × suite table, then details. */
export function renderMarkdown(report: RunReport): string {
  const result = report.outcome ?? outcome(report);
  const lines: string[] = [];
  lines.push(`# gateway-smoke: ${report.chart} — ${OUTCOME_ICON[result]} ${result}`);
  lines.push('', `**${cell(headline(report))}**`, '');
  lines.push(`Target \`${report.target}\`, started ${report.startedAt}, took ${formatDuration(report.durationMs)}.`);
  if (report.error) {
    lines.push('', `**Setup failed:** ${cell(report.error)}`);
  }
  if (report.findings?.length) {
    lines.push('', '**What changed under the run:**', '', ...report.findings.map((f) => `- ${f}`));
  }
  lines.push('', '| chart | suite | verdict | detail |', '|---|---|---|---|');
  for (const s of report.suites) {
    const detail =
      s.verdict === 'fail'
        ? s.checks
            .filter((c) => c.verdict === 'fail')
            .map((c) => `${c.name}: ${c.message ?? ''}`)
            .join('; ')
        : (s.reason ?? `${s.checks.filter((c) => c.verdict === 'pass').length}/${s.checks.length} checks passed`);
    lines.push(`| ${report.chart} | ${s.suite} | ${ICON[s.verdict]} ${suiteLabel(s)} | ${cell(detail)} |`);
  }
  const upgrade = report.suites.find((s) => s.evidence?.upgrade)?.evidence?.upgrade;
  if (upgrade) {
    lines.push('', '## Upgrade traffic', '', '| period | requests | failed | streams cut |', '|---|---|---|---|');
    for (const p of ['before', 'during', 'after'] as const) lines.push(`| ${p} the rollout | ${upgrade.counts[p].requests} | ${upgrade.counts[p].failed} | ${upgrade.counts[p].cut} |`);
    const at = (ms: number) => new Date(ms).toISOString();
    lines.push('', `Rollout: \`helm upgrade\` at ${at(upgrade.window.upgradeStart)}, over at ${at(upgrade.window.rolloutEnd)}.`, '');
    for (const p of upgrade.pods) {
      lines.push(`- ${p.old ? 'old' : 'new'} pod ${p.name}: created ${at(p.created)}${p.ready ? `, ready ${at(p.ready)}` : ', never ready'}${p.terminated ? `, terminating ${at(p.terminated)}` : ''}${p.restarts ? `, ${p.restarts} restart(s)` : ''}`);
    }
  }
  const notes = report.suites.flatMap((s) =>
    s.checks
      .filter((c) => c.verdict !== 'pass' && s.verdict !== c.verdict)
      .map((c) => `- ${s.suite} › ${c.name}: ${VERDICT_LABEL[c.verdict]} — ${c.message ?? ''}`),
  );
  if (notes.length) lines.push('', '## Checks that did not pass', '', ...notes);
  if (report.features?.length) {
    lines.push('', '## Features (also in conformance.yaml)', '', '| feature | claimed | result | checks or reason |', '|---|---|---|---|');
    for (const f of report.features) {
      const result = f.result === 'not-run' ? 'not run (suite not selected)' : `${ICON[f.result]} ${VERDICT_LABEL[f.result]}`;
      const detail = f.claimed ? f.checks.map((c) => `${c.id}: ${c.verdict}`).join(', ') : (f.reason ?? '');
      lines.push(`| ${f.id} | ${f.claimed ? 'yes' : 'no'} | ${result} | ${cell(detail)} |`);
    }
  }
  if (report.unusedWaivers?.length) {
    lines.push('', '## Waivers that matched no failing check', '', ...report.unusedWaivers.map((w) => `- ${w}`));
  }
  if (report.profileFindings?.length) {
    lines.push('', '## Profile findings (the profile and this chart version)', '', ...report.profileFindings.map((f) => `- ${f}`));
  }
  if (report.chartFindings?.length) {
    lines.push('', '## Chart findings', '', ...report.chartFindings.map((f) => `- ${f}`));
  }
  if (report.knownDefects.length) {
    lines.push('', '## Known defects of this chart', '', ...report.knownDefects.map((d) => `- ${d}`));
  }
  lines.push('', '## Phases', '', '| phase | status | duration |', '|---|---|---|');
  for (const p of report.phases) lines.push(`| ${p.name} | ${p.status} | ${formatDuration(p.durationMs)} |`);
  if (Object.keys(report.fingerprint).length) {
    lines.push('', '## Run fingerprint', '', '| what | value |', '|---|---|');
    for (const [k, v] of Object.entries(report.fingerprint)) lines.push(`| ${k} | ${cell(v)} |`);
  }
  if (report.diagnostics) lines.push('', `Diagnostics bundle: \`${report.diagnostics}\``);
  return mask(lines.join('\n') + '\n');
}

/** The table printed at the end of a run, for people watching a terminal. */
export function renderConsoleTable(report: RunReport): string {
  const rows = report.suites.map((s) => [s.suite, suiteLabel(s), s.reason ?? failureSummary(report, s.suite)]);
  const width = Math.max(5, ...rows.map((r) => r[0]!.length));
  const vwidth = Math.max(7, ...rows.map((r) => r[1]!.length));
  const out = [`${'suite'.padEnd(width)}  ${'verdict'.padEnd(vwidth)}  detail`];
  for (const [suite, verdict, detail] of rows) out.push(`${suite!.padEnd(width)}  ${verdict!.padEnd(vwidth)}  ${detail}`);
  // how the profile fits this chart version: never only in a file nobody opens
  for (const f of report.profileFindings ?? []) out.push(`profile finding: ${f}`);
  return mask(out.join('\n'));
}

function failureSummary(report: RunReport, suite: string): string {
  const s = report.suites.find((x) => x.suite === suite)!;
  const failed = s.checks.filter((c) => c.verdict === 'fail' || c.verdict === 'waived');
  if (failed.length) return failed.map((c) => `${c.name}: ${firstLine(c.message ?? '')}`).join('; ');
  // The label already counts them; the detail says which checks did not pass, and why.
  const gaps = s.checks.filter((c) => c.verdict !== 'pass');
  if (gaps.length) return gaps.map((c) => `${c.name} (${VERDICT_LABEL[c.verdict]}): ${firstLine(c.message ?? '')}`).join('; ');
  return 'every check passed';
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? text;
}
