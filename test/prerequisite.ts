// A test that needs a tool or an input outside the repo (a gateway install, a docker daemon, a
// chart mirror) skips with its reason on a developer's machine, but under CI=true a missing
// prerequisite FAILS, naming it: CI must never go green having run none of these tests.
import { test } from 'vitest';

export function inCI(env: NodeJS.ProcessEnv = process.env): boolean {
  return env['CI'] === 'true' || env['CI'] === '1';
}

/**
 * Returns whether the prerequisite is there. When it is not: under CI a failing test named after it
 * is registered in the current file (or describe block); elsewhere a warning says what to run.
 */
export function requireInCI(what: string, present: boolean, howToGet: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (present) return true;
  if (inCI(env)) {
    test(`prerequisite: ${what}`, () => {
      throw new Error(`${what} is missing, and CI=true never skips for that: ${howToGet}`);
    });
  } else {
    console.warn(`SKIP (${what} missing): ${howToGet}. Under CI=true this fails instead.`);
  }
  return false;
}
