// Runs the behaviour suites (vitest project "suites") against a provisioned target and turns
// vitest's results into check verdicts. Suite-level "not applicable" and "environment" verdicts
// are decided here from the capabilities, so a suite that cannot apply never runs.
import { join, relative } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import type { CliOptions, Reporter, TestModule } from 'vitest/node';
import { startVitest } from 'vitest/node';
import type { FeatureClaims } from './profiles/features.ts';
import { type Capabilities, isNotApplicable, type SuiteName } from './profiles/types.ts';
import type { Cause } from './report/check-ids.ts';
import type { CheckResult, SuiteEvidence, SuiteResult } from './report/model.ts';
import { suiteVerdict } from './report/model.ts';
import { PROJECT_ROOT } from './project-root.ts';
import { maskingWriter } from './mask-stream.ts';
import { mask, registeredSecrets } from './secrets.ts';
import type { Target } from './targets/types.ts';


/** The verdict a suite gets without running, or undefined when it should run. */
export function preRunVerdict(
  suite: SuiteName,
  capabilities: Capabilities,
  target: Target,
): Pick<SuiteResult, 'verdict' | 'reason'> | undefined {
  const capability = capabilities[suite];
  if (isNotApplicable(capability)) return { verdict: 'not-applicable', reason: capability.notApplicable };
  if (suite === 'netpol' && !target.cluster) return { verdict: 'not-applicable', reason: 'needs a cluster' };
  const blocker = target.environment[suite];
  if (blocker) return { verdict: 'environment', reason: blocker };
  return undefined;
}

/** Notes passed to ctx.skip() carry their kind as a prefix; see suites/lib/context.ts. */
export function checkFromSkipNote(note: string | undefined): Pick<CheckResult, 'verdict' | 'message'> {
  const text = note ?? '';
  if (text.startsWith('environment: ')) return { verdict: 'environment', message: text.slice('environment: '.length) };
  if (text.startsWith('not applicable: '))
    return { verdict: 'not-applicable', message: text.slice('not applicable: '.length) };
  // A bare skip is not a pass and not an explained gap: it fails, so nobody ships on it.
  return { verdict: 'fail', message: `skipped without a reason${text ? `: ${text}` : ''}` };
}

class CollectingReporter implements Reporter {
  modules: readonly TestModule[] = [];
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    this.modules = testModules;
  }
}

export interface SuiteRunOptions {
  suites: SuiteName[];
  target: Target;
  capabilities: Capabilities;
  features: FeatureClaims;
  log: (line: string) => void;
  signal?: AbortSignal;
  /** Print vitest's own progress (default); the project's tests turn it off. */
  echo?: boolean;
}

export async function runSuites(opts: SuiteRunOptions): Promise<SuiteResult[]> {
  const results = new Map<SuiteName, SuiteResult>();
  const toRun: SuiteName[] = [];
  for (const suite of opts.suites) {
    const pre = preRunVerdict(suite, opts.capabilities, opts.target);
    if (pre) results.set(suite, { suite, ...pre, durationMs: 0, checks: [] });
    else toRun.push(suite);
  }

  if (toRun.length > 0) {
    const collector = new CollectingReporter();
    const files = toRun.map((s) => join(PROJECT_ROOT, 'suites', `${s}.test.ts`));
    // Every byte vitest prints (failure messages quote gateway bodies) goes through the mask; the
    // workers get the secrets too (suites/lib/mask-setup.ts), to mask what they build.
    const printed = maskingWriter(process.stderr);
    const vitest = await startVitest(
      files.map((f) => relative(PROJECT_ROOT, f)),
      {
        root: PROJECT_ROOT,
        project: ['suites'],
        watch: false,
        reporters: opts.echo === false ? [collector] : [collector, 'default'],
        provide: { suiteContext: { target: opts.target, capabilities: opts.capabilities, features: opts.features }, maskSecrets: [...registeredSecrets()] },
      } as CliOptions,
      undefined,
      { stdout: printed.stream, stderr: printed.stream },
    );
    await vitest.close().finally(printed.close);
    for (const mod of collector.modules) {
      const suite = suiteNameOf(mod.moduleId);
      if (!suite) continue;
      const checks: CheckResult[] = [];
      const evidence: SuiteEvidence = {};
      for (const test of mod.children.allTests()) {
        const meta = test.meta() as { evidence?: SuiteEvidence; checkId?: string; causes?: Cause[] };
        Object.assign(evidence, meta.evidence ?? {});
        const r = test.result();
        const durationMs = test.diagnostic()?.duration ?? 0;
        // "keys > a wrong key is refused" → "a wrong key is refused": the suite is already the group.
        const name = test.fullName.replace(new RegExp(`^${suite} > `), '');
        if (!meta.checkId) {
          // A test outside the catalogue could never be waived or pinned: a harness defect, never a pass.
          checks.push({ id: `${suite}.run`, name, verdict: 'fail', durationMs, message: `harness defect: this test declares no check id (declare it with check() from suites/lib/check.ts)`, causes: [{ kind: 'assertion', detail: 'no check id' }] });
          continue;
        }
        const id = meta.checkId;
        if (r.state === 'passed') checks.push({ id, name, verdict: 'pass', durationMs });
        else if (r.state === 'failed') {
          const message = mask(stripVTControlCharacters(r.errors.map((e) => e.message).join('\n')));
          checks.push({ id, name, verdict: 'fail', durationMs, message, causes: causesOf(meta.causes, r.errors, message) });
        } else if (r.state === 'skipped') checks.push({ id, name, durationMs, ...checkFromSkipNote(r.note) });
        else checks.push({ id, name, verdict: 'fail', durationMs, message: 'did not finish', causes: [{ kind: 'timeout', detail: 'did not finish' }] });
      }
      // Errors outside tests (a failing beforeAll, an import error) must fail the suite, not vanish.
      const setupErrors = [...mod.errors(), ...[...mod.children.allSuites()].flatMap((s) => s.errors())];
      for (const e of setupErrors) {
        const message = mask(stripVTControlCharacters(e.message));
        checks.unshift({ id: `${suite}.setup`, name: 'suite setup', verdict: 'fail', durationMs: 0, message, causes: causesOf(undefined, [e], message, 'setup') });
      }
      if (setupErrors.length) {
        // Tests that never ran because setup failed say so, instead of "skipped without a reason".
        for (const c of checks) if (c.message?.startsWith('skipped without a reason')) c.message = 'not run: the suite setup failed';
      }
      const durationMs = mod.diagnostic().duration;
      results.set(suite, {
        suite,
        verdict: suiteVerdict(checks),
        durationMs,
        checks,
        ...(Object.keys(evidence).length ? { evidence: JSON.parse(mask(JSON.stringify(evidence))) as SuiteEvidence } : {}),
      });
    }
    for (const suite of toRun) {
      if (!results.has(suite)) {
        results.set(suite, {
          suite,
          verdict: 'fail',
          durationMs: 0,
          checks: [{ id: `${suite}.run`, name: 'suite', verdict: 'fail', durationMs: 0, message: 'the suite did not run (vitest reported nothing for it)', causes: [{ kind: 'setup', detail: 'vitest reported nothing for the suite' }] }],
        });
      }
    }
  }
  return opts.suites.map((s) => results.get(s)!);
}

/**
 * The causes of a failure: those the check recorded, masked (they hold what the gateway answered);
 * else what the error says of itself (a request without an answer, a timeout), else `fallback`.
 */
export function causesOf(recorded: Cause[] | undefined, errors: readonly { name?: string; message: string }[], message: string, fallback: Cause['kind'] = 'assertion'): Cause[] {
  if (recorded?.length) return JSON.parse(mask(JSON.stringify(recorded))) as Cause[];
  const detail = message.split('\n')[0]!.slice(0, 300);
  if (errors.some((e) => e.name === 'NoAnswer')) return [{ kind: 'no-answer', detail }];
  if (/Test timed out|Hook timed out/.test(message)) return [{ kind: 'timeout', detail }];
  return [{ kind: fallback, detail }];
}

function suiteNameOf(moduleId: string): SuiteName | undefined {
  const m = /suites\/(health|keys|ratelimit|metrics|netpol|upgrade)\.test\.ts$/.exec(moduleId);
  return m?.[1] as SuiteName | undefined;
}
