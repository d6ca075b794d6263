// The HTML report of a FAILING run (wrong master key, one NetworkPolicy cell open that must be
// closed), rendered, opened in headless Chromium, screenshotted and read back through the DOM.
// Chromium is Debian's (scripts/setup-ci-tools.sh installs it); without it this test FAILS, unless
// GATEWAY_SMOKE_SKIP_BROWSER=1 says to skip the browser part.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { inflateSync } from 'node:zlib';
import { execa } from 'execa';
import { afterEach, describe, expect, test } from 'vitest';
import type { RunReport } from '../scripts/report/model.ts';
import { escapeHtml, renderHtml } from '../scripts/report/html.ts';
import { forgetSecrets, registerSecret } from '../scripts/secrets.ts';

const MASTER = 'sk-master-0123456789abcdef';
const PROVIDER = 'prov-secret-zyx987';
const ODD = 'p<ss&w"rd-42'; // a secret HTML escaping would change: it must be masked before escaping

const CHROMIUM = process.env['GATEWAY_SMOKE_CHROMIUM'] ?? '/usr/bin/chromium';
const SKIP_BROWSER = process.env['GATEWAY_SMOKE_SKIP_BROWSER'] === '1';

function registerAll(): void {
  registerSecret(MASTER);
  registerSecret(PROVIDER);
  registerSecret(ODD);
}

const T0 = Date.parse('2026-11-23T02:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

const BURST_LIMIT = 10;

function failingReport(): RunReport {
  return {
    chart: 'litellm-proxy',
    chartTitle: 'LiteLLM proxy',
    target: 'kind',
    startedAt: at(0),
    durationMs: 412_300,
    phases: [
      { name: 'preflight', startedAt: at(0), durationMs: 900, status: 'ok' },
      { name: 'provision kind target', startedAt: at(1), durationMs: 301_000, status: 'ok' },
      { name: 'create kind cluster gateway-smoke (builds what is missing)', startedAt: at(1.2), durationMs: 182_400, status: 'ok' },
      { name: 'build and load images', startedAt: at(184), durationMs: 61_700, status: 'ok' },
      { name: 'helm install litellm-proxy', startedAt: at(246), durationMs: 55_300, status: 'ok' },
      { name: 'run suites (health, keys, ratelimit, metrics, netpol)', startedAt: at(302), durationMs: 96_500, status: 'ok' },
      { name: 'collect diagnostics', startedAt: at(399), durationMs: 9_800, status: 'ok' },
      { name: 'cleanup', startedAt: at(409), durationMs: 3_200, status: 'failed', error: 'kind delete cluster: exit 1 (cluster kept for --keep on-failure)' },
    ],
    suites: [
      {
        suite: 'health',
        verdict: 'pass',
        durationMs: 420,
        checks: [
          { id: 'keys.create', name: 'liveness answers 200', verdict: 'pass', durationMs: 40 },
          { id: 'keys.create', name: 'readiness reports db and litellm_version', verdict: 'pass', durationMs: 380 },
        ],
      },
      {
        suite: 'keys',
        verdict: 'fail',
        durationMs: 1_900,
        checks: [
          {
            id: 'keys.create',
            name: 'the admin credential creates a key',
            verdict: 'fail',
            durationMs: 240,
            message: `admin auth is broken: 401 from POST /key/generate with the chart's master key (wrong master key?)\nAuthorization: Bearer ${MASTER}\nexpected 200, received 401 {"error":{"message":"Authentication Error, invalid master key <${ODD}>"}}`,
          },
          { id: 'keys.create', name: 'a generated key can call the model', verdict: 'fail', durationMs: 10, message: 'no key: the admin credential was refused (see above)' },
          { id: 'keys.create', name: 'a deleted key is refused', verdict: 'pass', durationMs: 90 },
          { id: 'keys.create', name: 'the provider key never reaches the client', verdict: 'environment', durationMs: 0, message: `upstream ${PROVIDER} could not be read back from the mock journal` },
        ],
      },
      {
        suite: 'ratelimit',
        verdict: 'pass',
        durationMs: 2_600,
        checks: [
          { id: 'keys.create', name: 'an exact burst of limit+2 gives exactly limit successes, then 429s', verdict: 'pass', durationMs: 2_100 },
          { id: 'keys.create', name: 'the 429 has the promised shape', verdict: 'pass', durationMs: 3 },
        ],
        evidence: {
          rateLimitBurst: Array.from({ length: BURST_LIMIT + 2 }, (_, i) => ({
            index: i,
            status: i < BURST_LIMIT ? 200 : 429,
            stream: i % 2 === 1,
            atMs: Math.round(i * 118 + (i % 3) * 9),
            endpoint: `#${(i % 2) + 1}`,
          })),
        },
      },
      {
        suite: 'metrics',
        verdict: 'environment',
        reason: 'the metrics endpoint needs the Prisma engines, which cannot be downloaded here',
        durationMs: 5,
        checks: [{ id: 'keys.create', name: 'request counter rises', verdict: 'environment', durationMs: 5, message: 'Prisma engines unavailable' }],
      },
      {
        suite: 'netpol',
        verdict: 'fail',
        durationMs: 41_000,
        checks: [
          {
            id: 'netpol.matrix',
            name: 'expected vs observed connectivity matrix',
            verdict: 'fail',
            durationMs: 41_000,
            message: 'NetworkPolicy matrix has failing cells:\ngateway → pod in another namespace :8080: expected denied, observed allowed',
          },
        ],
        evidence: {
          netpolMatrix: [
            { from: 'client in the namespace', to: 'gateway :4000', expected: 'allowed', observed: 'allowed', reproduce: 'kubectl -n gs exec client -- nc -z -w 3 10.96.0.20 4000' },
            { from: 'pod in another namespace', to: 'gateway :4000', expected: 'denied', observed: 'denied', reproduce: 'kubectl -n gs-other exec client -- nc -z -w 3 10.96.0.20 4000' },
            { from: 'gateway', to: 'mock provider :8080', expected: 'allowed', observed: 'allowed', reproduce: 'kubectl -n gs debug gw-0 --image=gateway-smoke/busybox:1 -- nc -z -w 3 mock 8080' },
            {
              from: 'gateway',
              to: 'pod in another namespace :8080',
              expected: 'denied',
              observed: 'allowed',
              reproduce: 'kubectl -n gs debug gw-0 --image=gateway-smoke/busybox:1 --target=gateway -- nc -z -w 3 10.244.2.7 8080',
            },
            { from: 'gateway', to: 'DNS (kube-dns)', expected: 'allowed', observed: 'allowed', reproduce: 'kubectl -n gs debug gw-0 -- nslookup kubernetes.default.svc.cluster.local' },
          ],
        },
      },
    ],
    fingerprint: {
      'chart source': 'litellm-proxy oci://ghcr.io/example/litellm-helm:1.81.16',
      kind: 'v0.30.0',
      helm: 'v3.19.0',
      'gateway url': 'http://127.0.0.1:4000',
      'master key': MASTER,
      'image litellm': 'sha256:0123456789ab',
    },
    knownDefects: ['the chart ignores masterkey when masterkeySecret is set (upstream issue)'],
    diagnostics: 'diagnostics/',
  };
}

// ---- PNG reading (enough for Chromium's screenshots: 8-bit RGB/RGBA, not interlaced) ------------

interface Png {
  width: number;
  height: number;
  pixel(x: number, y: number): [number, number, number];
}

function decodePng(buf: Buffer): Png {
  expect(buf.subarray(0, 8).toString('hex'), 'PNG signature').toBe('89504e470d0a1a0a');
  let pos = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('ascii', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const depth = data[8];
      const colour = data[9];
      expect({ depth, interlace: data[12] }, 'an 8-bit, non-interlaced PNG').toEqual({ depth: 8, interlace: 0 });
      channels = colour === 6 ? 4 : colour === 2 ? 3 : 0;
      expect(channels, `PNG colour type ${colour}`).toBeGreaterThan(0);
    } else if (type === 'IDAT') idat.push(data);
    pos += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const src = y * (stride + 1) + 1;
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? out[y * stride + i - channels]! : 0;
      const b = y > 0 ? out[(y - 1) * stride + i]! : 0;
      const c = y > 0 && i >= channels ? out[(y - 1) * stride + i - channels]! : 0;
      let pred = 0;
      if (filter === 1) pred = a;
      else if (filter === 2) pred = b;
      else if (filter === 3) pred = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      out[y * stride + i] = (raw[src + i]! + pred) & 0xff;
    }
  }
  return {
    width,
    height,
    pixel: (x, y) => {
      const o = y * stride + x * channels;
      return [out[o]!, out[o + 1]!, out[o + 2]!];
    },
  };
}

/** How many pixels are within `tol` of the colour `hex`. */
function countColour(png: Png, hex: string, tol = 6): number {
  const want = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  let n = 0;
  for (let y = 0; y < png.height; y++) {
    for (let x = 0; x < png.width; x++) {
      const p = png.pixel(x, y);
      if (Math.abs(p[0] - want[0]!) <= tol && Math.abs(p[1] - want[1]!) <= tol && Math.abs(p[2] - want[2]!) <= tol) n++;
    }
  }
  return n;
}

// ---- Chromium ---------------------------------------------------------------------------------------

async function chromium(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const profile = await mkdtemp(join(tmpdir(), 'gs-chromium-profile-'));
  try {
    const r = await execa(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-dev-shm-usage',
        '--hide-scrollbars',
        '--force-device-scale-factor=1',
        // Any network lookup fails: the page must need none.
        '--host-resolver-rules=MAP * ~NOTFOUND',
        `--user-data-dir=${profile}`,
        ...args,
      ],
      { reject: false, timeout: 90_000, stdin: 'ignore' },
    );
    if (r.exitCode !== 0 || r.timedOut) {
      throw new Error(`chromium ${args.join(' ')} exited ${r.exitCode}${r.timedOut ? ' (timed out)' : ''}:\n${String(r.stderr).slice(-2000)}`);
    }
    return { stdout: String(r.stdout), stderr: String(r.stderr) };
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}

/** Fails (never silently passes) without Chromium, unless GATEWAY_SMOKE_SKIP_BROWSER=1. */
function needChromium(ctx: { skip: (note?: string) => never }): void {
  if (SKIP_BROWSER) ctx.skip('GATEWAY_SMOKE_SKIP_BROWSER=1: the headless-Chromium checks of the HTML report were skipped');
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Headless Chromium is needed to check the HTML report, and ${CHROMIUM} does not exist. ` +
        'Run `bash scripts/setup-ci-tools.sh` (as root it installs Debian\'s chromium; otherwise it prints what to install), ' +
        'or point GATEWAY_SMOKE_CHROMIUM at a Chromium/Chrome binary, or set GATEWAY_SMOKE_SKIP_BROWSER=1 to skip this check.',
    );
  }
}

/** Writes report.html plus a small diagnostics bundle, the way a failed run leaves its report directory. */
async function writeReportDir(html: string): Promise<{ dir: string; file: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'gs-html-report-'));
  await mkdir(join(dir, 'diagnostics', 'logs'), { recursive: true });
  for (const [name, text] of [
    ['INDEX.txt', 'events.txt\npods-summary.txt\nnetworkpolicies.yaml\nlogs/\n'],
    ['events.txt', 'Warning BackOff Pod/gw-0 x3: Back-off restarting failed container\n'],
    ['pods-summary.txt', 'gw-0 on gateway-smoke-worker: Ready\n'],
    ['networkpolicies.yaml', '[]\n'],
    ['logs/gw-0.gateway.log', 'started\n'],
  ]) {
    await writeFile(join(dir, 'diagnostics', name!), text!);
  }
  const file = join(dir, 'report.html');
  await writeFile(file, html);
  return { dir, file };
}

function count(text: string, re: RegExp): number {
  return [...text.matchAll(new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g'))].length;
}

afterEach(() => forgetSecrets());

describe('HTML report', () => {
  test('escapes markup and masks before escaping', () => {
    registerAll();
    expect(escapeHtml('<b a="1">&\'')).toBe('&lt;b a=&quot;1&quot;&gt;&amp;&#39;');
    expect(escapeHtml(`key ${ODD}!`)).toBe('key ***!');
  });

  test('is self-contained, escaped and carries no registered secret', async () => {
    registerAll();
    const report = failingReport();
    const html = renderHtml(report);
    for (const secret of [MASTER, PROVIDER, ODD, escapeHtml(ODD).replace('***', ''), 'p&lt;ss&amp;w&quot;rd-42']) {
      if (secret) expect(html, `secret ${secret}`).not.toContain(secret);
    }
    // No external resource of any kind: no script, stylesheet link, image, frame, font or URL fetch.
    expect(html).not.toMatch(/<script|<link\b|<img\b|<iframe|<object|<embed|<video|<audio|@import|url\(|@font-face/i);
    const refs = [...html.matchAll(/\b(?:src|href|srcset|action|poster|xlink:href|xmlns)\s*=\s*["']?([^"'\s>]*)/gi)].map((m) => m[1]!);
    const external = refs.filter((r) => /^[a-z][a-z0-9+.-]*:/i.test(r) || r.startsWith('//'));
    expect(external, 'resource references that are not relative').toEqual([]);
    expect(html).toContain(`default-src 'none'`); // the page itself forbids any fetch
    // Every relative link points into the diagnostics bundle or at an anchor of the page.
    for (const r of refs) expect(r, r).toMatch(/^(#[a-z0-9-]+|diagnostics\/[^#?]*)$/);
    // The gateway URL of the fingerprint is shown as text, not fetched.
    expect(html).toContain('<code>http://127.0.0.1:4000</code>');
    // Markup in messages is text.
    expect(html).toContain('Authentication Error, invalid master key &lt;***&gt;');
  });

  test('a CNI that enforces nothing: no matrix cell is green; a waived check is never a pass; the headline is on the page', () => {
    const r = failingReport();
    const cells = [
      { from: 'pod in another namespace', to: 'gateway :4000', expected: 'denied' as const, observed: 'not-probed' as const, reproduce: 'nc -z gw 4000' },
      { from: 'gateway', to: 'DNS (kube-dns)', expected: 'allowed' as const, observed: 'not-probed' as const, reproduce: 'nslookup kubernetes' },
    ];
    const html = renderHtml({
      ...r,
      error: undefined,
      suites: [
        { suite: 'netpol', verdict: 'environment', durationMs: 1, checks: [{ id: 'netpol.matrix', name: "the chart's policy matrix holds", verdict: 'environment', durationMs: 1, message: 'the CNI does not enforce NetworkPolicy' }], evidence: { netpolMatrix: cells } },
        { suite: 'keys', verdict: 'waived', durationMs: 1, checks: [{ id: 'keys.revoked-refused', name: 'a deleted unlimited key is refused', verdict: 'waived', durationMs: 1, message: 'waived until 2027-01-31: accepted — the failure: still accepted' }] },
      ],
      provenance: { chart: 'mirror copy of x@abc1234', images: 'local stand-ins' },
    });
    expect(html).not.toMatch(/class="np-cell np-ok"/);
    expect(html.match(/not probed: CNI enforces nothing/g)).toHaveLength(2);
    expect(html).toContain('2 cells not probed: the canary showed this cluster enforces no NetworkPolicy');
    expect(html).toMatch(/data-suite="keys" data-verdict="waived"/);
    expect(html).toContain('data-verdict="env"');
    expect(html).toMatch(/id="headline">INCOMPLETE — 0 of 2 behaviours verified, 1 failing under a waiver, 1 blocked by the environment; not proven: blocked by the environment: netpol; chart: mirror copy of x@abc1234; images: local stand-ins</);
    expect(html).toContain('<title>◐ INCOMPLETE');
    expect(html).toMatch(/class="exit">exit code 4</);
  });

  test('a burst request that got no answer is shown as such, not as status 0', () => {
    const r = failingReport();
    const burst = (r.suites.find((s) => s.suite === 'ratelimit')!.evidence!.rateLimitBurst ?? []).map((shot) => (shot.index === 1 ? { ...shot, status: 0 } : shot));
    const html = renderHtml({ ...r, suites: r.suites.map((s) => (s.suite === 'ratelimit' ? { ...s, evidence: { rateLimitBurst: burst } } : s)) });
    expect(html).toContain('#1 (streamed) → no answer at');
    expect(html).toMatch(/1 other \(no answer\)/);
    expect(html).not.toContain('→ 0 at');
  });

  test('sections without data say why', () => {
    const r = failingReport();
    const passing: RunReport = {
      ...r,
      suites: [
        r.suites[0]!,
        { suite: 'ratelimit', verdict: 'environment', reason: 'LiteLLM needs its database for per-key limits', durationMs: 0, checks: [] },
        { suite: 'netpol', verdict: 'not-applicable', reason: 'the chart has no NetworkPolicy', durationMs: 0, checks: [] },
      ],
      phases: [],
      diagnostics: undefined,
      knownDefects: [],
      fingerprint: {},
    };
    const html = renderHtml(passing);
    expect(html).toContain('data-verdict="env"'); // nothing failed, but not a clean pass either
    expect(html).toContain('No NetworkPolicy matrix: suite not applicable — the chart has no NetworkPolicy.');
    expect(html).toContain('No rate-limit burst: blocked by the environment — LiteLLM needs its database for per-key limits.');
    expect(html).toContain('No phases recorded');
    expect(html).toContain('No diagnostics bundle: it is collected only when a run fails.');
    expect(html).toContain('None declared for this chart.');

    const setupFailed = renderHtml({ ...r, suites: [], error: 'helm install timed out: Deployment/gw Available=False' });
    expect(setupFailed).toContain('Setup failed');
    expect(setupFailed).toContain('No suite ran: the target could not be set up');
    expect(setupFailed).toContain('No NetworkPolicy matrix: the netpol suite was not run (the target could not be set up).');
  });

  test('headless Chromium renders the failing run: failed cell, timeline, matrix and burst are on the page', async (ctx) => {
    needChromium(ctx);
    registerAll();
    const report = failingReport();
    const { dir, file } = await writeReportDir(renderHtml(report));
    const shot = join(dir, 'screenshot.png');
    const url = `file://${file}`;

    await chromium([`--screenshot=${shot}`, '--window-size=1280,2000', url]);
    const size = (await stat(shot)).size;
    expect(size, `screenshot ${shot}`).toBeGreaterThan(40_000);
    const png = decodePng(await readFile(shot));
    expect([png.width, png.height]).toEqual([1280, 2000]);
    // The colours of what must be visible above the fold: the red FAILED banner, the failed
    // verdict cell, the mismatched NetworkPolicy cell, the timeline's phase bars, the burst's marks.
    const seen = {
      banner: countColour(png, '#cf222e'),
      failedCell: countColour(png, '#ffebe9', 3),
      mismatchCell: countColour(png, '#ffcecb', 3),
      phaseBars: countColour(png, '#0969da'),
      okBurst: countColour(png, '#1a7f37'),
      limitedBurst: countColour(png, '#bc4c00'),
    };
    expect(seen.banner, JSON.stringify(seen)).toBeGreaterThan(20_000);
    expect(seen.failedCell, JSON.stringify(seen)).toBeGreaterThan(5_000);
    expect(seen.mismatchCell, JSON.stringify(seen)).toBeGreaterThan(1_500);
    expect(seen.phaseBars, JSON.stringify(seen)).toBeGreaterThan(3_000);
    expect(seen.limitedBurst, JSON.stringify(seen)).toBeGreaterThan(200);
    console.info(`HTML report screenshot: ${shot}`);

    const { stdout: dom } = await chromium(['--dump-dom', url]);
    // The failed cell, with the failure message in it.
    const keysCell = dom.match(/<td class="vcell v-fail" data-suite="keys" data-verdict="fail">([\s\S]*?)<\/td>/);
    expect(keysCell, 'the keys cell is marked failed').not.toBeNull();
    expect(keysCell![1]).toContain('admin auth is broken: 401');
    expect(keysCell![1]).toContain('the admin credential creates a key');
    expect(dom).toMatch(/<td class="vcell v-fail" data-suite="netpol" data-verdict="fail">/);
    expect(dom).toMatch(/<td class="vcell v-env" data-suite="metrics" data-verdict="environment">/);
    expect(count(dom, /<td class="vcell v-pass"/)).toBe(2);
    expect(dom).toContain('✗ FAILED');
    // The timeline: one bar per phase, the failed phase marked.
    expect(count(dom, /class="phase-bar (ok|failed)"/)).toBe(report.phases.length);
    expect(dom).toMatch(/data-phase="cleanup" data-status="failed"/);
    // The matrix grid: 3 from-rows × 4 to-columns, exactly one mismatch, in the right place.
    expect(dom).toContain('<table class="np-grid">');
    expect(count(dom, /<td class="np-cell /)).toBe(12);
    expect(count(dom, /<td class="np-cell np-ok"/)).toBe(4);
    const mismatches = [...dom.matchAll(/<td class="np-cell np-mismatch" data-from="([^"]*)" data-to="([^"]*)" data-expected="([^"]*)" data-observed="([^"]*)"/g)];
    expect(mismatches.map((m) => m.slice(1))).toEqual([['gateway', 'pod in another namespace :8080', 'denied', 'allowed']]);
    expect(dom).toContain('--target=gateway -- nc -z -w 3 10.244.2.7 8080'); // the reproduce command
    // The burst chart: one mark per request, the limit annotated.
    expect(dom).toMatch(/<svg class="burst-chart"/);
    expect(count(dom, /<g class="shot s-200"/)).toBe(BURST_LIMIT);
    expect(count(dom, /<g class="shot s-429"/)).toBe(2);
    expect(dom).toContain(`limit: ${BURST_LIMIT} × 200, then 429 from request #${BURST_LIMIT}`);
    // Links into the diagnostics bundle resolve to files next to the report.
    const links = [...dom.matchAll(/class="diag-link" href="([^"]+)"/g)].map((m) => decodeURIComponent(m[1]!.replace(/&amp;/g, '&')));
    expect(links).toEqual(expect.arrayContaining(['diagnostics/INDEX.txt', 'diagnostics/events.txt', 'diagnostics/logs/']));
    for (const l of links) expect(existsSync(resolve(dirname(file), l)), l).toBe(true);
    for (const secret of [MASTER, PROVIDER, ODD]) expect(dom).not.toContain(secret);
  }, 120_000);

  test('headless Chromium draws the upgrade timeline: outcome bands per second, pod termination and readiness marks', async (ctx) => {
    needChromium(ctx);
    const start = T0;
    const perSecond = Array.from({ length: 40 }, (_, i) => ({ ok: i === 17 ? 2 : 6, failed: i === 17 ? 3 : 0, cut: i === 16 ? 2 : 0 }));
    const report: RunReport = {
      chart: 'llm-proxy',
      chartTitle: 'llm-proxy',
      target: 'kind',
      startedAt: at(0),
      durationMs: 60_000,
      phases: [],
      fingerprint: {},
      knownDefects: [],
      suites: [
        {
          suite: 'upgrade',
          verdict: 'fail',
          durationMs: 10,
          checks: [{ id: 'upgrade.no-cut-streams', name: 'no stream was cut off across the upgrade', verdict: 'fail', durationMs: 0, message: '2 of 90 streams were cut off' }],
          evidence: {
            upgrade: {
              start,
              window: { upgradeStart: start + 10_000, rolloutEnd: start + 30_000 },
              counts: { before: { requests: 60, failed: 0, cut: 0 }, during: { requests: 120, failed: 3, cut: 2 }, after: { requests: 60, failed: 0, cut: 0 } },
              perSecond,
              pods: [
                { name: 'llm-proxy-old-a', created: start - 60_000, ready: start - 50_000, terminated: start + 16_000, restarts: 0, old: true },
                { name: 'llm-proxy-old-b', created: start - 60_000, ready: start - 50_000, terminated: start + 25_000, restarts: 0, old: true },
                { name: 'llm-proxy-new-a', created: start + 11_000, ready: start + 15_000, restarts: 0, old: false },
                { name: 'llm-proxy-new-b', created: start + 20_000, ready: start + 24_000, restarts: 1, old: false },
              ],
            },
          },
        },
      ],
    };
    const { dir, file } = await writeReportDir(renderHtml(report));
    const url = `file://${file}`;
    const shot = join(dir, 'upgrade.png');
    await chromium([`--screenshot=${shot}`, '--window-size=1280,1400', url]);
    const png = decodePng(await readFile(shot));
    // drawn, not only present in the markup: the complete (green) and cut (amber) bands show
    expect(countColour(png, '#2da44e'), 'complete bands').toBeGreaterThan(2_000);
    expect(countColour(png, '#bf8700', 3), 'cut-off bands').toBeGreaterThan(30);
    const { stdout: dom } = await chromium(['--dump-dom', url]);
    expect(dom).toMatch(/<svg class="up-timeline"/);
    expect(count(dom, /class="up-band up-ok"/)).toBe(40);
    expect([...dom.matchAll(/class="up-band up-cut" data-second="(\d+)" data-count="(\d+)"/g)].map((m) => [m[1], m[2]])).toEqual([['16', '2']]);
    expect([...dom.matchAll(/class="up-band up-failed" data-second="(\d+)" data-count="(\d+)"/g)].map((m) => [m[1], m[2]])).toEqual([['17', '3']]);
    expect([...dom.matchAll(/class="up-mark up-terminated" data-pod="([^"]+)"/g)].map((m) => m[1])).toEqual(['llm-proxy-old-a', 'llm-proxy-old-b']);
    expect(count(dom, /class="up-mark up-ready"/)).toBe(4);
    expect(dom).toContain('during: 120 requests, 3 failed, 2 cut');
  }, 120_000);
});
