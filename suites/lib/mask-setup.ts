// Runs in each vitest worker before a suite (vitest.config.ts setupFiles): the secrets the harness
// registered are registered here too, so what a suite builds (messages quoting gateway bodies,
// recorded causes) is masked before it is cut short or leaves the worker.
import { inject } from 'vitest';
import { registerSecret } from '../../scripts/secrets.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** scripts/secrets.ts registeredSecrets() of the harness process (scripts/suite-runner.ts). */
    maskSecrets: string[];
  }
}

for (const secret of inject('maskSecrets') ?? []) registerSecret(secret);
