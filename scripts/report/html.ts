// The report a person opens: one self-contained HTML file (inline CSS and SVG, no script, no font,
// no image, no network: a Content-Security-Policy of default-src 'none' enforces it). Verdict
// first, then the chart × suite table, the phase timeline, the NetworkPolicy matrix, the rate-limit
// burst, every check, and links into the diagnostics bundle. Every string is masked and escaped.
import { formatDuration, type PhaseRecord } from '../run-context.ts';
import { mask } from '../secrets.ts';
import {
  type BurstShot,
  type CheckResult,
  incompleteReasons,
  outcome,
  headline,
  type NetpolCell,
  type RunReport,
  runFailed,
  type SuiteResult,
  suiteLabel,
  type Verdict,
  VERDICT_LABEL,
} from './model.ts';

export interface HtmlOptions {
  /** What the diagnostics bundle holds (its INDEX.txt lines); each is linked when given. */
  diagnosticsFiles?: string[];
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Masks, then escapes for HTML text and attribute values (masking first: escaping could split a secret). */
export function escapeHtml(text: string): string {
  return mask(text).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}
const e = escapeHtml;

const ICON: Record<Verdict, string> = { pass: '✓', fail: '✗', 'not-applicable': '–', environment: '⚠', waived: '⚑' };
const CLASS: Record<Verdict, string> = { pass: 'pass', fail: 'fail', 'not-applicable': 'na', environment: 'env', waived: 'env' };

/** The line a person reads first: the first line, joined with the next when it only introduces it ("…:"). */
function firstLine(text: string | undefined): string {
  const lines = (text ?? '')
    .trim()
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const first = lines[0] ?? '';
  return first.endsWith(':') && lines[1] ? `${first} ${lines[1]}` : first;
}

function badge(v: Verdict): string {
  return `<span class="badge b-${CLASS[v]}">${ICON[v]} ${e(VERDICT_LABEL[v])}</span>`;
}

function pct(n: number): string {
  return `${Math.max(0, Math.min(100, n)).toFixed(3)}%`;
}

// ---- header ------------------------------------------------------------------------------------

function overall(report: RunReport): { cls: string; title: string; exit: string; line: string } {
  const result = report.outcome ?? outcome(report);
  const exit = `exit code ${report.exitCode ?? (result === 'FAILED' ? 1 : result === 'INCOMPLETE' ? 4 : 0)}`;
  if (result === 'FAILED') {
    const failedSuites = report.suites.filter((s) => s.verdict === 'fail');
    const what = report.error
      ? 'the target could not be set up'
      : `${failedSuites.length} suite${failedSuites.length === 1 ? '' : 's'} failed: ${failedSuites.map((s) => s.suite).join(', ')}`;
    return { cls: 'fail', title: '✗ FAILED', exit, line: `Blocks a release: ${what}.` };
  }
  if (result === 'INCOMPLETE') {
    return {
      cls: 'env',
      title: '◐ INCOMPLETE',
      exit: report.exitCode === 0 ? `${exit} (INCOMPLETE accepted by --accept-incomplete)` : exit,
      line: `Nothing failed, but not everything promised was proven: ${incompleteReasons(report).join('; ')}. Those are not passes.`,
    };
  }
  const waived = report.suites.filter((s) => s.checks.some((c) => c.verdict === 'waived'));
  const line = waived.length
    ? `Every promised behaviour was proven, except failures a waiver accepts in: ${waived.map((s) => s.suite).join(', ')}.`
    : 'Every applicable check ran and held, on the chart and images it ships.';
  return { cls: 'pass', title: '✓ VERIFIED', exit, line };
}

function counts(report: RunReport): string {
  const order: Verdict[] = ['fail', 'waived', 'pass', 'environment', 'not-applicable'];
  return order
    .map((v) => {
      const n = report.suites.filter((s) => s.verdict === v).length;
      return `<span class="count c-${CLASS[v]}${n ? '' : ' zero'}">${n} ${e(VERDICT_LABEL[v])}</span>`;
    })
    .join('');
}

function header(report: RunReport, diag: string): string {
  const o = overall(report);
  const firstFail = report.suites.flatMap((s) => s.checks.filter((c) => c.verdict === 'fail').map((c) => ({ s, c })))[0];
  return `<header class="banner v-${o.cls}" id="verdict" data-verdict="${o.cls}">
  <div class="banner-main">
    <div class="banner-title">${e(o.title)}</div>
    <div class="banner-what"><strong>${e(report.chartTitle)}</strong> <code>${e(report.chart)}</code> on target <code>${e(report.target)}</code></div>
  </div>
  <div class="banner-headline" id="headline">${e(headline(report))}</div>
  <div class="banner-line">${e(o.line)} <span class="exit">${e(o.exit)}</span></div>
  ${firstFail ? `<div class="banner-first">First failure — <strong>${e(firstFail.s.suite)} › ${e(firstFail.c.name)}</strong>: ${e(firstLine(firstFail.c.message))}</div>` : ''}
  ${report.error ? `<div class="banner-first">Setup failed: ${e(firstLine(report.error))}</div>` : ''}
  <div class="banner-meta">
    <span>started ${e(report.startedAt)}</span><span>took ${e(formatDuration(report.durationMs))}</span>
    <span class="counts">${counts(report)}</span>
  </div>
  ${diag}
</header>`;
}

// ---- chart × suite table ------------------------------------------------------------------------

function suiteSummary(s: SuiteResult): string {
  const passed = s.checks.filter((c) => c.verdict === 'pass').length;
  if (s.verdict === 'fail') {
    const failed = s.checks.filter((c) => c.verdict === 'fail').length;
    if (s.checks.length === 0) return s.reason ?? 'the suite ran no check, so it proves nothing';
    return `${failed} of ${s.checks.length} check${s.checks.length === 1 ? '' : 's'} failed`;
  }
  if (s.reason) return s.reason;
  if (s.verdict === 'pass') return suiteLabel(s);
  const first = s.checks.find((c) => c.verdict === s.verdict && c.message);
  return first ? firstLine(first.message) : `${passed}/${s.checks.length} checks passed`;
}

function suiteCell(s: SuiteResult): string {
  const listed = s.checks.filter((c) => c.verdict === 'fail' || (c.verdict !== 'pass' && c.verdict !== s.verdict));
  const items = listed
    .map(
      (c) =>
        `<li class="failing-check l-${CLASS[c.verdict]}" data-check="${e(c.name)}"><span class="li-icon">${ICON[c.verdict]}</span> <strong>${e(c.name)}</strong>${
          c.message ? `<div class="li-msg">${e(firstLine(c.message))}</div>` : ''
        }</li>`,
    )
    .join('');
  return `<td class="vcell v-${CLASS[s.verdict]}" data-suite="${e(s.suite)}" data-verdict="${e(s.verdict)}">
      ${badge(s.verdict)}
      <div class="vcell-reason">${e(suiteSummary(s))}</div>
      ${items ? `<ul class="failing">${items}</ul>` : ''}
      <div class="vcell-dur">${e(formatDuration(s.durationMs))}</div>
    </td>`;
}

function verdictTable(report: RunReport): string {
  if (report.suites.length === 0) {
    return section('verdicts', 'Chart × suite verdicts', `<p class="empty">No suite ran${report.error ? ': the target could not be set up (see the setup failure above)' : ''}.</p>`);
  }
  const head = report.suites.map((s) => `<th scope="col">${e(s.suite)}</th>`).join('');
  const body = report.suites.map(suiteCell).join('');
  const legend = (['pass', 'fail', 'not-applicable', 'environment'] as Verdict[])
    .map((v) => `${badge(v)} <span class="legend-text">${e(LEGEND[v])}</span>`)
    .join(' ');
  return section(
    'verdicts',
    'Chart × suite verdicts',
    `<table class="verdicts">
  <thead><tr><th scope="col" class="chart-col">chart</th>${head}</tr></thead>
  <tbody><tr><th scope="row" class="chart-col"><div>${e(report.chart)}</div><div class="sub">${e(report.chartTitle)}</div></th>${body}</tr></tbody>
</table>
<p class="legend">${legend}</p>`,
  );
}

const LEGEND: Record<Verdict, string> = {
  pass: 'ran and held',
  fail: 'ran and did not hold: blocks a release',
  'not-applicable': 'the chart does not promise it (never a pass)',
  environment: 'this machine could not exercise it (never a pass; INCOMPLETE, exit 4)',
  waived: 'failed, accepted by a waiver until its date (never a pass)',
};

// ---- timeline -----------------------------------------------------------------------------------

const TICK_STEPS_MS = [100, 200, 500, 1e3, 2e3, 5e3, 10e3, 15e3, 30e3, 60e3, 120e3, 300e3, 600e3, 900e3, 1800e3, 3600e3];

function ticks(totalMs: number, max = 8): number[] {
  const step = TICK_STEPS_MS.find((s) => totalMs / s <= max) ?? Math.ceil(totalMs / max);
  const out: number[] = [];
  for (let t = 0; t <= totalMs + 1e-6; t += step) out.push(t);
  return out;
}

function timeline(report: RunReport): string {
  const phases = report.phases;
  if (phases.length === 0) return section('timeline', 'Timeline of the run', '<p class="empty">No phases recorded: the run stopped before its first phase.</p>');
  const runStart = Date.parse(report.startedAt);
  const starts = phases.map((p) => Date.parse(p.startedAt));
  const origin = Number.isFinite(runStart) ? Math.min(runStart, ...starts.filter(Number.isFinite)) : Math.min(...starts.filter(Number.isFinite));
  // Offsets from the recorded start; a phase without a usable start follows the one before it.
  let cursor = 0;
  const placed = phases.map((p, i) => {
    const s = starts[i]!;
    const offset = Number.isFinite(s) && Number.isFinite(origin) ? s - origin : cursor;
    cursor = offset + p.durationMs;
    return { p, offset };
  });
  const total = Math.max(report.durationMs, ...placed.map((x) => x.offset + x.p.durationMs), 1);
  // A phase that runs inside an earlier one (create cluster inside provision) is indented under it.
  const slack = total / 2000;
  const depth = placed.map((x, i) =>
    placed.slice(0, i).filter((o) => o.offset <= x.offset + slack && x.offset + x.p.durationMs <= o.offset + o.p.durationMs + slack).length,
  );
  const axis = ticks(total)
    .map((t) => `<span class="tick" style="left:${pct((t / total) * 100)}">${e(t === 0 ? '0' : formatDuration(t))}</span>`)
    .join('');
  const rows = placed
    .map(({ p, offset }: { p: PhaseRecord; offset: number }, i) => {
      const left = (offset / total) * 100;
      const width = (p.durationMs / total) * 100;
      const status = p.status === 'failed' ? 'failed' : 'ok';
      return `<div class="tl-row" data-phase="${e(p.name)}" data-status="${status}">
    <div class="tl-label" style="padding-left:${Math.min(depth[i]!, 4) * 18}px">${depth[i] ? '<span class="tl-nest">↳</span> ' : ''}${status === 'failed' ? '<span class="tl-x">✗</span> ' : ''}${e(p.name)}</div>
    <div class="tl-track"><div class="phase-bar ${status}" style="left:${pct(left)};width:${pct(width)}" title="${e(`${p.name}: ${formatDuration(p.durationMs)} from +${formatDuration(offset)}`)}"></div></div>
    <div class="tl-dur">${e(formatDuration(p.durationMs))}</div>
    ${p.error ? `<div class="tl-error">${e(firstLine(p.error))}</div>` : ''}
  </div>`;
    })
    .join('\n');
  return section(
    'timeline',
    'Timeline of the run',
    `<div class="timeline">
  ${rows}
  <div class="tl-row tl-axis-row"><div class="tl-label"></div><div class="tl-axis">${axis}</div><div class="tl-dur">${e(formatDuration(total))}</div></div>
</div>`,
    `${phases.length} phases, ${formatDuration(total)}; bars start where the phase started, scaled to its duration (↳ runs inside the phase above)`,
  );
}

// ---- evidence: missing-data wording -------------------------------------------------------------

function noEvidence(report: RunReport, suite: string, what: string): string {
  const s = report.suites.find((x) => x.suite === suite);
  if (!s) return `No ${what}: the ${suite} suite was not run${report.error ? ' (the target could not be set up)' : ''}.`;
  if (s.verdict === 'not-applicable') return `No ${what}: suite not applicable${s.reason ? ` — ${s.reason}` : ''}.`;
  if (s.verdict === 'environment') return `No ${what}: blocked by the environment${s.reason ? ` — ${s.reason}` : ''}.`;
  return `No ${what}: the ${suite} suite (${VERDICT_LABEL[s.verdict]}) recorded none.`;
}

function evidenceOf<K extends 'netpolMatrix' | 'rateLimitBurst'>(report: RunReport, key: K) {
  for (const s of report.suites) {
    const v = s.evidence?.[key];
    if (v && v.length) return v;
  }
  return undefined;
}

// ---- NetworkPolicy matrix -----------------------------------------------------------------------

function uniq(values: string[]): string[] {
  return [...new Set(values)];
}

function netpolMatrix(report: RunReport): string {
  const cells = evidenceOf(report, 'netpolMatrix') as NetpolCell[] | undefined;
  if (!cells) return section('netpol', 'NetworkPolicy: expected vs observed', `<p class="empty">${e(noEvidence(report, 'netpol', 'NetworkPolicy matrix'))}</p>`);
  const froms = uniq(cells.map((c) => c.from));
  const tos = uniq(cells.map((c) => c.to));
  // Cells the canary made meaningless are grey: never green, never red.
  const failing = cells.filter((c) => c.observed !== c.expected && c.observed !== 'not-probed');
  const number = new Map(failing.map((c, i) => [c, i + 1]));
  const glyph = (o: string) => (o === 'allowed' ? '→ allowed' : o === 'denied' ? '⊘ denied' : '≠ inconsistent');
  const td = (from: string, to: string) => {
    const c = cells.find((x) => x.from === from && x.to === to);
    if (!c) return `<td class="np-cell np-none" data-from="${e(from)}" data-to="${e(to)}">not probed</td>`;
    if (c.observed === 'not-probed') {
      return `<td class="np-cell np-none" data-from="${e(from)}" data-to="${e(to)}" data-expected="${e(c.expected)}" data-observed="not-probed" title="the CNI does not enforce NetworkPolicy (canary failed)">not probed: CNI enforces nothing</td>`;
    }
    const n = number.get(c);
    const attrs = `data-from="${e(from)}" data-to="${e(to)}" data-expected="${e(c.expected)}" data-observed="${e(c.observed)}"`;
    if (n === undefined) {
      return `<td class="np-cell np-ok" ${attrs} title="${e(`as expected: ${c.expected}`)}"><div class="np-obs">${e(glyph(c.observed))}</div><div class="np-exp">✓ as expected</div></td>`;
    }
    return `<td class="np-cell np-mismatch" ${attrs} title="${e(`reproduce: ${c.reproduce}`)}"><div class="np-flag">✗ ${c.observed === 'inconsistent' ? 'INCONSISTENT' : 'MISMATCH'} <a href="#np-fail-${n}">#${n}</a></div><div class="np-obs">${e(glyph(c.observed))}</div><div class="np-exp">expected ${e(c.expected)}</div></td>`;
  };
  const rows = froms.map((f) => `<tr><th scope="row">${e(f)}</th>${tos.map((t) => td(f, t)).join('')}</tr>`).join('\n');
  const unprobed = cells.filter((c) => c.observed === 'not-probed').length;
  const subtitle = unprobed === cells.length ? `${cells.length} cells not probed: the canary showed this cluster enforces no NetworkPolicy` : `${cells.length} cells probed, ${failing.length ? `${failing.length} differ${failing.length === 1 ? 's' : ''} from the policy` : 'all as expected'}; rows: from, columns: to`;
  const repro = failing.length
    ? `<h3>Reproduce the failing cell${failing.length === 1 ? '' : 's'}</h3><ol class="np-repro">${failing
        .map(
          (c, i) =>
            `<li id="np-fail-${i + 1}" value="${i + 1}"><strong>${e(c.from)} → ${e(c.to)}</strong>: expected ${e(c.expected)}, observed ${e(c.observed)}${
              c.observed === 'inconsistent' ? ' (the two probes of this cell disagreed; counted as a failure)' : ''
            }<pre><code>${e(c.reproduce)}</code></pre></li>`,
        )
        .join('')}</ol>`
    : '<p class="note">Every probed cell matched its expectation.</p>';
  return section(
    'netpol',
    'NetworkPolicy: expected vs observed',
    `<table class="np-grid">
  <thead><tr><th class="np-corner" scope="col">from ↓ &nbsp; to →</th>${tos.map((t) => `<th scope="col">${e(t)}</th>`).join('')}</tr></thead>
  <tbody>
${rows}
  </tbody>
</table>
<p class="legend"><span class="np-key np-ok">green</span> observed = expected &nbsp; <span class="np-key np-mismatch">red</span> observed ≠ expected, or its two probes disagreed &nbsp; <span class="np-key np-none">grey</span> not probed &nbsp;·&nbsp; → allowed: connected &nbsp; ⊘ denied: blocked</p>
${repro}`,
    subtitle,
  );
}

// ---- upgrade timeline ------------------------------------------------------------------------------

/**
 * Requests per second by outcome across the upgrade (stacked bars: ok, failed, cut), the rollout's
 * window shaded, and each pod's termination (red) and readiness (green) marked on the time axis.
 * Only drawn on an upgrade run (--upgrade-from).
 */
function upgradeTimeline(report: RunReport): string {
  const up = report.suites.find((s) => s.evidence?.upgrade)?.evidence?.upgrade;
  if (!up) return '';
  const W = 1100;
  const left = 56;
  const right = 24;
  const top = 24;
  const plotH = 180;
  const podH = 16;
  const secs = Math.max(1, up.perSecond.length);
  const x = (ms: number) => left + ((W - left - right) * Math.max(0, ms - up.start)) / (secs * 1000);
  const bw = Math.max(1, (W - left - right) / secs - 1);
  const maxN = Math.max(1, ...up.perSecond.map((b) => b.ok + b.failed + b.cut));
  const y = (n: number) => top + plotH - (plotH * n) / maxN;
  const parts: string[] = [];
  parts.push(`<rect class="up-window" x="${x(up.window.upgradeStart)}" y="${top}" width="${Math.max(1, x(up.window.rolloutEnd) - x(up.window.upgradeStart))}" height="${plotH}" fill="#fff8c5"/>`);
  parts.push(`<text class="axis" x="${x(up.window.upgradeStart) + 4}" y="${top + 12}">helm upgrade → rollout over</text>`);
  up.perSecond.forEach((b, i) => {
    let base = 0;
    for (const [kind, n, fill] of [['ok', b.ok, '#2da44e'], ['failed', b.failed, '#cf222e'], ['cut', b.cut, '#bf8700']] as const) {
      if (!n) continue;
      const bx = left + ((W - left - right) * i) / secs;
      parts.push(`<rect class="up-band up-${kind}" data-second="${i}" data-count="${n}" x="${bx}" y="${y(base + n)}" width="${bw}" height="${y(base) - y(base + n)}" fill="${fill}"><title>${e(`second ${i}: ${n} ${kind}`)}</title></rect>`);
      base += n;
    }
  });
  for (const t of ticks(secs * 1000, 10)) {
    parts.push(`<text class="axis" x="${x(up.start + t)}" y="${top + plotH + 14}" text-anchor="middle">${e(t === 0 ? '0' : formatDuration(t))}</text>`);
  }
  parts.push(`<text class="axis" x="${left - 8}" y="${top + 10}" text-anchor="end">${maxN}/s</text>`);
  const podTop = top + plotH + 28;
  up.pods.forEach((p, i) => {
    const py = podTop + i * podH;
    const from = x(p.created);
    const to = p.terminated !== undefined ? x(p.terminated) : W - right;
    parts.push(`<line x1="${from}" x2="${to}" y1="${py + podH / 2}" y2="${py + podH / 2}" stroke="${p.old ? '#8c959f' : '#0969da'}" stroke-width="4"/>`);
    parts.push(`<text class="lane-label" x="${left - 4}" y="${py + podH / 2 + 4}" text-anchor="end">${e(p.old ? 'old' : 'new')}</text>`);
    parts.push(`<text class="axis" x="${Math.min(from, W - 300) + 4}" y="${py + podH / 2 - 3}">${e(p.name)}${p.restarts ? e(` (${p.restarts} restarts)`) : ''}</text>`);
    if (p.ready !== undefined) {
      parts.push(`<line class="up-mark up-ready" data-pod="${e(p.name)}" x1="${x(p.ready)}" x2="${x(p.ready)}" y1="${top}" y2="${py + podH}" stroke="#1a7f37" stroke-width="1.5" stroke-dasharray="3 3"><title>${e(`${p.name} ready`)}</title></line>`);
    }
    if (p.terminated !== undefined) {
      parts.push(`<line class="up-mark up-terminated" data-pod="${e(p.name)}" x1="${x(p.terminated)}" x2="${x(p.terminated)}" y1="${top}" y2="${py + podH}" stroke="#cf222e" stroke-width="1.5"><title>${e(`${p.name} terminating`)}</title></line>`);
    }
  });
  const height = podTop + up.pods.length * podH + 8;
  const c = up.counts;
  const subtitle = (['before', 'during', 'after'] as const).map((p) => `${p}: ${c[p].requests} requests, ${c[p].failed} failed, ${c[p].cut} cut`).join(' · ');
  return section(
    'upgrade',
    'Upgrade: requests per second across the rollout',
    `<svg class="up-timeline" viewBox="0 0 ${W} ${height}" width="100%" role="img" aria-label="requests per second by outcome across the upgrade, with pod termination and readiness marks">${parts.join('')}</svg>
<p class="legend"><span style="color:#2da44e">■</span> complete &nbsp; <span style="color:#cf222e">■</span> failed &nbsp; <span style="color:#bf8700">■</span> stream cut off &nbsp;·&nbsp; <span style="color:#cf222e">|</span> pod terminating &nbsp; <span style="color:#1a7f37">┆</span> pod ready &nbsp;·&nbsp; shaded: helm upgrade until the rollout was over</p>`,
    subtitle,
  );
}

// ---- rate-limit burst -----------------------------------------------------------------------------

/** A shot's status in words: 0 is a request that got no answer. */
const statusLabel = (s: BurstShot): string => (s.status === 0 ? 'no answer' : String(s.status));

function burstChart(report: RunReport): string {
  const shots = (evidenceOf(report, 'rateLimitBurst') as BurstShot[] | undefined)?.slice().sort((a, b) => a.index - b.index);
  if (!shots) return section('burst', 'Rate-limit burst', `<p class="empty">${e(noEvidence(report, 'ratelimit', 'rate-limit burst'))}</p>`);
  const W = 1100;
  const left = 64;
  const right = 24;
  const top = 30;
  const laneH = 38;
  const statuses = uniq(shots.map((s) => (s.status === 200 ? '200' : s.status === 429 ? '429' : 'other')));
  const lanes = ['200', '429', ...(statuses.includes('other') ? ['other'] : [])];
  const laneY = (s: BurstShot) => top + lanes.indexOf(s.status === 200 ? '200' : s.status === 429 ? '429' : 'other') * laneH + laneH / 2;
  const maxAt = Math.max(1, ...shots.map((s) => s.atMs));
  const x = (ms: number) => left + ((W - left - right) * ms) / maxAt;
  const height = top + lanes.length * laneH + 24;
  const parts: string[] = [];
  lanes.forEach((l, i) => {
    const y = top + i * laneH;
    parts.push(`<rect class="lane" x="${left}" y="${y}" width="${W - left - right}" height="${laneH}" fill="${i % 2 ? '#f6f8fa' : '#ffffff'}"/>`);
    parts.push(`<text class="lane-label" x="${left - 10}" y="${y + laneH / 2 + 5}" text-anchor="end">${l === 'other' ? 'other' : l}</text>`);
  });
  for (const t of ticks(maxAt, 10)) {
    parts.push(`<line x1="${x(t)}" x2="${x(t)}" y1="${top}" y2="${top + lanes.length * laneH}" stroke="#d0d7de" stroke-width="1"/>`);
    parts.push(`<text class="axis" x="${x(t)}" y="${top + lanes.length * laneH + 16}" text-anchor="middle">${e(t === 0 ? '0' : formatDuration(t))}</text>`);
  }
  const first429 = shots.find((s) => s.status === 429);
  const okBefore = first429 ? shots.filter((s) => s.status === 200 && s.index < first429.index).length : shots.filter((s) => s.status === 200).length;
  if (first429) {
    const prev = shots.filter((s) => s.index < first429.index).at(-1);
    const lx = prev ? (x(prev.atMs) + x(first429.atMs)) / 2 : x(first429.atMs) - 8;
    parts.push(`<line class="burst-limit" x1="${lx}" x2="${lx}" y1="${top - 20}" y2="${top + lanes.length * laneH}" stroke="#57606a" stroke-width="2" stroke-dasharray="6 4"/>`);
    const anchor = lx > W * 0.6 ? 'end' : 'start';
    parts.push(
      `<text class="limit-label" x="${anchor === 'end' ? lx - 6 : lx + 6}" y="${top - 8}" text-anchor="${anchor}">limit: ${okBefore} × 200, then 429 from request #${first429.index}</text>`,
    );
  } else {
    parts.push(`<text class="limit-label" x="${left}" y="${top - 8}">no 429 in the burst: the limit was never enforced</text>`);
  }
  const label = shots.length <= 40;
  for (const s of shots) {
    const cls = s.status === 200 ? 's-200' : s.status === 429 ? 's-429' : 's-other';
    const colour = s.status === 200 ? '#1a7f37' : s.status === 429 ? '#bc4c00' : '#8250df';
    const cx = x(s.atMs);
    const cy = laneY(s);
    const fill = s.stream ? '#ffffff' : colour;
    parts.push(
      `<g class="shot ${cls}" data-index="${s.index}" data-status="${s.status}"><title>${e(`#${s.index}${s.stream ? ' (streamed)' : ''} → ${statusLabel(s)} at ${formatDuration(s.atMs)} via endpoint ${s.endpoint}`)}</title><circle cx="${cx.toFixed(1)}" cy="${cy}" r="7" fill="${fill}" stroke="${colour}" stroke-width="3"/>${
        label ? `<text class="shot-label" x="${cx.toFixed(1)}" y="${cy - 12}" text-anchor="middle">${s.index}</text>` : ''
      }</g>`,
    );
  }
  const n200 = shots.filter((s) => s.status === 200).length;
  const n429 = shots.filter((s) => s.status === 429).length;
  const other = shots.length - n200 - n429;
  const endpoints = uniq(shots.map((s) => s.endpoint)).length;
  const summary = `${shots.length} requests in ${formatDuration(maxAt)} over ${endpoints} endpoint${endpoints === 1 ? '' : 's'}: ${n200} × 200, ${n429} × 429${other ? `, ${other} other (${uniq(shots.filter((s) => s.status !== 200 && s.status !== 429).map(statusLabel)).join(', ')})` : ''}${
    first429 ? `; first 429 at request #${first429.index} (${formatDuration(first429.atMs)})` : ''
  }.`;
  return section(
    'burst',
    'Rate-limit burst',
    `<svg class="burst-chart" role="img" aria-label="${e(summary)}" viewBox="0 0 ${W} ${height}" width="${W}" height="${height}">
${parts.join('\n')}
</svg>
<p class="legend"><span class="dot" style="background:#1a7f37"></span> 200 &nbsp; <span class="dot" style="background:#bc4c00"></span> 429 &nbsp;${other ? ' <span class="dot" style="background:#8250df"></span> other status &nbsp;' : ''} <span class="dot hollow"></span> streamed request &nbsp; · &nbsp; x: time since the first request; numbers: request index; dashed line: where the limit started answering 429.</p>`,
    summary,
  );
}

// ---- checks, defects, fingerprint, diagnostics ----------------------------------------------------

function checkRow(s: SuiteResult, c: CheckResult): string {
  const msg = c.message?.trim() ?? '';
  const multi = msg.includes('\n');
  const body = !msg
    ? ''
    : multi
      ? `<details${c.verdict === 'fail' ? ' open' : ''}><summary>${e(firstLine(msg))}</summary><pre>${e(msg)}</pre></details>`
      : e(msg);
  return `<tr class="check r-${CLASS[c.verdict]}" data-suite="${e(s.suite)}" data-verdict="${e(c.verdict)}"><td>${badge(c.verdict)}</td><td>${e(s.suite)}</td><td>${e(c.name)}</td><td class="num">${e(formatDuration(c.durationMs))}</td><td class="msg">${body}</td></tr>`;
}

function checksTable(report: RunReport): string {
  const rows = report.suites.flatMap((s) =>
    s.checks.length
      ? s.checks.map((c) => checkRow(s, c))
      : [`<tr class="check r-${CLASS[s.verdict]}" data-suite="${e(s.suite)}" data-verdict="${e(s.verdict)}"><td>${badge(s.verdict)}</td><td>${e(s.suite)}</td><td class="dim">(no check ran)</td><td class="num">${e(formatDuration(s.durationMs))}</td><td class="msg">${e(s.reason ?? '')}</td></tr>`],
  );
  if (!rows.length) return section('checks', 'Every check', '<p class="empty">No check ran.</p>');
  return section(
    'checks',
    'Every check',
    `<table class="checks"><thead><tr><th>verdict</th><th>suite</th><th>check</th><th>took</th><th>message / reason</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>`,
  );
}

/** The checks grouped by the feature each proves, beside the profile's claims (conformance.yaml in HTML). */
function featuresTable(report: RunReport): string {
  const features = report.features ?? [];
  if (!features.length) return '';
  const rows = features.map((f) => {
    const result = f.result === 'not-run' ? '<span class="badge b-na">not run (suite not selected)</span>' : badge(f.result);
    const detail = f.claimed ? f.checks.map((c) => `${badge(c.verdict)} <code>${e(c.id)}</code>`).join(' ') : e(f.reason ?? '');
    return `<tr class="feature" data-feature="${e(f.id)}" data-claimed="${f.claimed}"><td><code>${e(f.id)}</code><br><span class="dim">${e(f.description)}</span></td><td>${f.claimed ? 'claimed' : 'not claimed'}</td><td>${result}</td><td class="msg">${detail}</td></tr>`;
  });
  return section(
    'features',
    'By feature',
    `<table class="checks"><thead><tr><th>feature</th><th>profile</th><th>result</th><th>checks / why not claimed</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>`,
    'also in conformance.yaml',
  );
}

function defects(report: RunReport): string {
  const body = report.knownDefects.length
    ? `<ul class="defects">${report.knownDefects.map((d) => `<li>${e(d)}</li>`).join('')}</ul>`
    : '<p class="empty">None declared for this chart.</p>';
  const fit = report.profileFindings?.length
    ? section('profile-findings', 'Profile findings (the profile and this chart version)', `<ul class="defects">${report.profileFindings.map((d) => `<li>${e(d)}</li>`).join('')}</ul>`)
    : '';
  return fit + section('defects', 'Known defects of this chart', body);
}

function fingerprint(report: RunReport): string {
  const entries = Object.entries(report.fingerprint);
  const body = entries.length
    ? `<table class="kv">${entries.map(([k, v]) => `<tr><th scope="row">${e(k)}</th><td><code>${e(v)}</code></td></tr>`).join('')}</table>`
    : '<p class="empty">No fingerprint recorded.</p>';
  return section('fingerprint', 'Run fingerprint', body);
}

const CLUSTER_FILES: [string, string][] = [
  ['INDEX.txt', 'what the bundle holds'],
  ['events.txt', 'namespace events, oldest first'],
  ['pods-summary.txt', 'each pod and what is wrong with it'],
  ['logs/', 'container logs (current and previous)'],
  ['networkpolicies.yaml', 'the NetworkPolicies as applied'],
];

/** A relative bundle path ("diagnostics/"), or undefined when it is absent or not relative. */
function bundleBase(report: RunReport): string | undefined {
  const d = report.diagnostics?.trim();
  if (!d || /^[a-z][a-z0-9+.-]*:/i.test(d) || d.startsWith('/') || d.startsWith('\\')) return undefined;
  const base = d.replace(/^\.\//, '');
  return base.endsWith('/') ? base : `${base}/`;
}

function href(path: string): string {
  return e(path.split('/').map(encodeURIComponent).join('/'));
}

function diagnosticsLinks(report: RunReport, opts: HtmlOptions): { banner: string; section: string } {
  const base = bundleBase(report);
  if (!base) {
    const why = report.diagnostics
      ? `Diagnostics bundle: ${report.diagnostics}`
      : runFailed(report)
        ? 'No diagnostics bundle was collected for this run (the target has none, or collecting it failed).'
        : 'No diagnostics bundle: it is collected only when a run fails.';
    return { banner: '', section: section('diagnostics', 'Diagnostics bundle', `<p class="empty">${e(why)}</p>`) };
  }
  const files: [string, string][] = opts.diagnosticsFiles?.length
    ? [['INDEX.txt', 'what the bundle holds'], ...opts.diagnosticsFiles.filter((f) => f && f !== 'INDEX.txt').map((f): [string, string] => [f, ''])]
    : report.target === 'kind' || report.target === 'existing'
      ? CLUSTER_FILES
      : [['INDEX.txt', 'what the bundle holds (the gateway and mock logs)']];
  const links = files.map(([f, what]) => `<li><a class="diag-link" href="${href(base + f)}">${e(base + f)}</a>${what ? ` — ${e(what)}` : ''}</li>`).join('');
  const short = files
    .slice(0, 4)
    .map(([f]) => `<a class="diag-link" href="${href(base + f)}">${e(f)}</a>`)
    .join(' · ');
  return {
    banner: `<div class="banner-diag">Diagnostics: <a class="diag-link" href="${href(base)}">${e(base)}</a> — ${short}</div>`,
    section: section(
      'diagnostics',
      'Diagnostics bundle',
      `<p>Collected before cleanup, masked like everything else. Links are relative to this file: keep it next to <code>${e(base)}</code> (as the CI artifact does).</p><ul class="diag">${links}</ul>`,
    ),
  };
}

function section(id: string, title: string, body: string, subtitle?: string): string {
  return `<section id="${id}"><h2>${e(title)}${subtitle ? ` <span class="h-sub">${e(subtitle)}</span>` : ''}</h2>\n${body}\n</section>`;
}

const CSS = `
*{box-sizing:border-box}
body{margin:0;background:#f6f8fa;color:#1f2328;font:15px/1.45 system-ui,-apple-system,"Segoe UI","DejaVu Sans","Liberation Sans",Arial,sans-serif}
main{max-width:1220px;margin:0 auto;padding:18px 20px 40px}
code,pre{font-family:ui-monospace,"DejaVu Sans Mono","Liberation Mono",Menlo,Consolas,monospace;font-size:13px}
pre{white-space:pre-wrap;word-break:break-word;background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:8px 10px;margin:6px 0}
a{color:#0550ae}
h2{font-size:19px;margin:0 0 10px;padding-bottom:6px;border-bottom:1px solid #d0d7de}
.h-sub{font-size:13px;font-weight:400;color:#57606a;margin-left:10px}
h3{font-size:15px;margin:14px 0 6px}
section{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:12px 18px;margin:12px 0}
.empty{color:#57606a;font-style:italic;margin:4px 0}
.note,.legend{color:#57606a;font-size:13px;margin:8px 0 0}
.dim{color:#57606a}
nav.toc{font-size:12px;margin:6px 0 0;opacity:.9}
nav.toc a{color:#fff;margin-left:10px}
.banner{border-radius:10px;padding:16px 20px;color:#fff}
.banner.v-fail{background:#cf222e}
.banner.v-pass{background:#1a7f37}
.banner.v-env{background:#9a6700}
.banner-main{display:flex;align-items:baseline;gap:18px;flex-wrap:wrap}
.banner-title{font-size:34px;font-weight:800;letter-spacing:.5px}
.banner-what{font-size:18px}
.banner code{background:rgba(255,255,255,.18);color:#fff;padding:1px 6px;border-radius:4px;font-size:15px}
.banner-line{font-size:16px;margin-top:6px}
.banner .exit{display:inline-block;margin-left:8px;padding:1px 8px;border:1px solid rgba(255,255,255,.7);border-radius:10px;font-size:13px}
.banner-first{margin-top:8px;background:rgba(0,0,0,.18);padding:6px 10px;border-radius:6px;font-size:14px;word-break:break-word}
.banner-meta{margin-top:10px;font-size:13px;display:flex;gap:16px;flex-wrap:wrap;align-items:center}
.banner-diag{margin-top:8px;font-size:13px}
.banner-diag a{color:#fff;font-weight:600}
.counts .count{display:inline-block;margin-right:6px;padding:1px 8px;border-radius:10px;background:#fff;color:#1f2328;font-weight:600}
.counts .count.zero{opacity:.55;font-weight:400}
.counts .c-fail{color:#cf222e}.counts .c-pass{color:#1a7f37}.counts .c-env{color:#9a6700}.counts .c-na{color:#57606a}
.badge{display:inline-block;padding:1px 9px;border-radius:12px;font-size:13px;font-weight:700;color:#fff;white-space:nowrap}
.b-pass{background:#1a7f37}.b-fail{background:#cf222e}.b-na{background:#6e7781}.b-env{background:#9a6700}
table{border-collapse:collapse}
table.verdicts{width:100%;table-layout:fixed}
table.verdicts th{background:#f6f8fa;border:1px solid #d0d7de;padding:6px 8px;text-align:left;font-size:14px}
table.verdicts th.chart-col{width:130px;vertical-align:top}
table.verdicts th .sub{font-weight:400;color:#57606a;font-size:12px}
td.vcell{vertical-align:top;border:1px solid #d0d7de;padding:8px 9px;font-size:13px;word-break:break-word}
td.vcell.v-pass{background:#dafbe1}
td.vcell.v-fail{background:#ffebe9;box-shadow:inset 0 0 0 3px #cf222e}
td.vcell.v-na{background:repeating-linear-gradient(135deg,#f3f4f6 0 8px,#e9ebee 8px 16px);color:#424a53}
td.vcell.v-env{background:#fff8c5}
.vcell-reason{margin-top:6px;font-weight:600}
.vcell-dur{margin-top:6px;color:#57606a;font-size:12px}
ul.failing{margin:6px 0 0;padding:0;list-style:none}
ul.failing li{margin:5px 0;padding:5px 7px;background:rgba(255,255,255,.75);border-radius:5px;border-left:4px solid #cf222e}
ul.failing li.l-env{border-left-color:#9a6700}
ul.failing li.l-na{border-left-color:#6e7781}
.li-icon{font-weight:800}
.li-msg{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12px;margin-top:2px;color:#82071e}
li.l-env .li-msg,li.l-na .li-msg{color:#424a53}
.legend .badge{font-size:11px;padding:0 7px}
.legend-text{margin-right:12px}
.timeline{font-size:13px}
.tl-row{display:grid;grid-template-columns:330px 1fr 76px;align-items:center;column-gap:10px;padding:2px 0;border-bottom:1px dashed #eaeef2}
.tl-label{overflow-wrap:anywhere}
.tl-nest{color:#8c959f}
.tl-x{color:#cf222e;font-weight:800}
.tl-track{position:relative;height:20px;background:#f6f8fa;border-radius:4px}
.phase-bar{position:absolute;top:2px;height:16px;min-width:3px;border-radius:3px;background:#0969da}
.phase-bar.failed{background:#cf222e}
.tl-dur{text-align:right;font-variant-numeric:tabular-nums;font-weight:600}
.tl-error{grid-column:2 / 4;color:#82071e;font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12px;word-break:break-word}
.tl-axis-row{border-bottom:0}
.tl-axis{position:relative;height:18px;border-top:1px solid #8c959f}
.tick{position:absolute;top:1px;transform:translateX(-50%);color:#57606a;font-size:11px;white-space:nowrap}
.tick:first-child{transform:none}
table.np-grid{margin-top:4px}
table.np-grid th{background:#f6f8fa;border:1px solid #d0d7de;padding:6px 9px;font-size:13px;text-align:left;max-width:220px}
th.np-corner{color:#57606a;font-weight:400}
td.np-cell{border:1px solid #d0d7de;padding:7px 10px;min-width:150px;font-size:13px;vertical-align:top}
td.np-ok{background:#dafbe1}
td.np-mismatch{background:#ffcecb;box-shadow:inset 0 0 0 3px #cf222e}
td.np-none{background:#f3f4f6;color:#8c959f;font-style:italic}
.np-obs{font-weight:700;font-size:14px}
.np-exp{color:#424a53;font-size:12px}
.np-flag{color:#fff;background:#cf222e;display:inline-block;padding:0 6px;border-radius:4px;font-weight:800;font-size:12px;margin-bottom:3px}
.np-flag a{color:#fff}
.np-key{display:inline-block;padding:0 6px;border-radius:4px;border:1px solid #d0d7de}
.np-key.np-ok{background:#dafbe1}.np-key.np-mismatch{background:#ffcecb;border-color:#cf222e}.np-key.np-none{background:#f3f4f6}
ol.np-repro{margin:4px 0 0;padding-left:28px}
ol.np-repro li{margin:6px 0}
.burst-chart{display:block;max-width:100%;height:auto;font-family:system-ui,"DejaVu Sans",sans-serif}
.burst-chart .lane-label{font-size:14px;font-weight:700;fill:#424a53}
.burst-chart .axis{font-size:11px;fill:#57606a}
.burst-chart .shot-label{font-size:10px;fill:#57606a}
.burst-chart .limit-label{font-size:13px;font-weight:700;fill:#1f2328}
.dot{display:inline-block;width:11px;height:11px;border-radius:50%;vertical-align:-1px}
.dot.hollow{border:3px solid #1a7f37;background:#fff}
table.checks{width:100%;font-size:13px}
table.checks th,table.checks td{border-bottom:1px solid #eaeef2;padding:5px 7px;text-align:left;vertical-align:top}
table.checks th{background:#f6f8fa}
table.checks td.msg{word-break:break-word}
table.checks tr.r-fail td{background:#fff5f5}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
details summary{cursor:pointer}
table.kv th{text-align:left;padding:3px 14px 3px 0;font-weight:600;vertical-align:top;white-space:nowrap;font-size:13px}
table.kv td{padding:3px 0;word-break:break-all}
ul.defects li,ul.diag li{margin:3px 0}
.setup-error{background:#ffebe9;border:2px solid #cf222e;border-radius:8px;padding:10px 14px;margin:14px 0}
footer{color:#57606a;font-size:12px;text-align:center;margin-top:18px}
@media print{body{background:#fff}section{break-inside:avoid}}
`;

/** The report as one self-contained HTML page. */
export function renderHtml(report: RunReport, opts: HtmlOptions = {}): string {
  const diag = diagnosticsLinks(report, opts);
  const o = overall(report);
  const failedPhase = report.phases.find((p) => p.status === 'failed');
  const setup = report.error
    ? `<div class="setup-error" id="setup-error"><strong>Setup failed${failedPhase ? ` in phase “${e(failedPhase.name)}”` : ''}:</strong><pre>${e(report.error)}</pre></div>`
    : '';
  const toc = (
    [
      ['verdicts', 'verdicts'],
      ['timeline', 'timeline'],
      ...(report.suites.some((s) => s.evidence?.upgrade) ? ([['upgrade', 'upgrade']] as const) : []),
      ['netpol', 'NetworkPolicy'],
      ['burst', 'rate-limit burst'],
      ['features', 'by feature'],
      ['checks', 'every check'],
      ['defects', 'known defects'],
      ['fingerprint', 'fingerprint'],
      ['diagnostics', 'diagnostics'],
    ] as const
  )
    .map(([id, label]) => `<a href="#${id}">${label}</a>`)
    .join('');
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>${e(`${o.title.replace(/^[✓✗] /, '')}: gateway-smoke ${report.chart} (${report.target})`)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${header(report, `${diag.banner}<nav class="toc">Jump to: ${toc}</nav>`)}
${setup}
${verdictTable(report)}
${timeline(report)}
${upgradeTimeline(report)}
${netpolMatrix(report)}
${burstChart(report)}
${featuresTable(report)}
${checksTable(report)}
${defects(report)}
${fingerprint(report)}
${diag.section}
<footer>gateway-smoke report · self-contained: no script, font, image or network request · started ${e(report.startedAt)}</footer>
</main>
</body>
</html>
`;
  return mask(html);
}
