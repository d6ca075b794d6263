import { create } from 'xmlbuilder2';
import { mask } from '../secrets.ts';
import { headline, outcome, type RunReport } from './model.ts';

/** JUnit XML: one testsuite per behaviour, one testcase per check; setup failures are a testcase too. */
export function renderJUnit(report: RunReport): string {
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const root = create({ version: '1.0', encoding: 'UTF-8' }).ele('testsuites', {
    name: `gateway-smoke ${report.chart}`,
    time: seconds(report.durationMs),
  });
  const props = (el: ReturnType<typeof root.ele>) => {
    const p = el.ele('properties');
    p.ele('property', { name: 'chart', value: report.chart });
    p.ele('property', { name: 'target', value: report.target });
    p.ele('property', { name: 'outcome', value: report.outcome ?? outcome(report) });
    p.ele('property', { name: 'headline', value: headline(report) });
    for (const [k, v] of Object.entries(report.fingerprint)) p.ele('property', { name: k, value: v });
    if (report.diagnostics) p.ele('property', { name: 'diagnostics', value: report.diagnostics });
  };

  if (report.error) {
    const setup = root.ele('testsuite', { name: `${report.chart}.setup`, tests: 1, failures: 1, time: '0' });
    props(setup);
    const tc = setup.ele('testcase', { classname: `${report.chart}.setup`, name: report.findings?.length ? 'gateway unchanged during the run' : 'provision target' });
    tc.ele('failure', { message: report.error }).txt(
      report.error + (report.diagnostics ? `\n\nDiagnostics: ${report.diagnostics}` : ''),
    );
  }

  for (const suite of report.suites) {
    const failures = suite.checks.filter((c) => c.verdict === 'fail').length;
    const skipped = suite.checks.filter((c) => c.verdict === 'not-applicable' || c.verdict === 'environment' || c.verdict === 'waived').length;
    const el = root.ele('testsuite', {
      name: `${report.chart}.${suite.suite}`,
      tests: suite.checks.length,
      failures,
      skipped,
      time: seconds(suite.durationMs),
    });
    props(el);
    const upgrade = suite.evidence?.upgrade;
    if (upgrade) {
      // the counts a CI dashboard can chart: requests, failed, cut per period of the rollout
      const p = el.first();
      for (const period of ['before', 'during', 'after'] as const) {
        for (const [k, v] of Object.entries(upgrade.counts[period])) p.ele('property', { name: `upgrade.${period}.${k}`, value: String(v) });
      }
    }
    if (suite.checks.length === 0 && suite.reason) {
      // A suite decided before it ran still shows up, with its reason, as a skipped case.
      el.att('tests', '1').att('skipped', '1');
      const label = suite.verdict === 'environment' ? 'environment' : 'not applicable';
      el.ele('testcase', { classname: `${report.chart}.${suite.suite}`, name: suite.suite, time: '0' }).ele('skipped', {
        message: `${label}: ${suite.reason}`,
      });
    }
    for (const check of suite.checks) {
      const tc = el.ele('testcase', {
        classname: `${report.chart}.${suite.suite}`,
        // `[id] title`: the id is what a waiver names, the title what a person reads.
        name: `[${check.id}] ${check.name}`,
        time: seconds(check.durationMs),
      });
      if (check.verdict === 'fail') {
        const body =
          (check.message ?? 'failed') +
          (report.findings?.length ? `\n\nWhat changed under the run:\n${report.findings.map((f) => `- ${f}`).join('\n')}` : '') +
          (report.diagnostics ? `\n\nDiagnostics: ${report.diagnostics}` : '');
        const causes = check.causes ?? [];
        const why = causes.length ? `\n\nCauses:\n${causes.map((c) => `- ${c.kind}: ${c.detail}`).join('\n')}` : '';
        tc.ele('failure', { message: firstLine(check.message ?? 'failed'), type: [...new Set(causes.map((c) => c.kind))].join(',') || 'assertion' }).txt(body + why);
      } else if (check.verdict === 'not-applicable') {
        tc.ele('skipped', { message: `not applicable: ${check.message ?? ''}` });
      } else if (check.verdict === 'environment') {
        tc.ele('skipped', { message: `environment: ${check.message ?? ''}` });
      } else if (check.verdict === 'waived') {
        // A waived failure is not a pass: skipped, with the waiver and the failure in the message.
        tc.ele('skipped', { message: `waived: ${check.message ?? ''}` });
      }
    }
  }
  return mask(root.end({ prettyPrint: true }));
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? text;
}
