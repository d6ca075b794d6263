// Exit codes are part of the contract with CI pipelines that gate releases on them.
export const ExitCode = {
  ok: 0,
  suiteFailed: 1,
  usage: 2,
  environment: 3,
  /** Nothing failed, but something promised was not proven (INCOMPLETE); 0 with --accept-incomplete. */
  incomplete: 4,
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * A mistake the user can fix (bad flag, unknown chart, missing tool). The CLI prints
 * `message` as one paragraph and exits with `exitCode`; never a stack trace.
 */
export class UserError extends Error {
  readonly exitCode: ExitCodeValue;
  constructor(message: string, exitCode: ExitCodeValue = ExitCode.usage) {
    super(message);
    this.name = 'UserError';
    this.exitCode = exitCode;
  }
}

/** Something the machine lacks (a tool, an engine binary): not the user's chart's fault. */
export class EnvironmentError extends UserError {
  constructor(message: string) {
    super(message, ExitCode.environment);
    this.name = 'EnvironmentError';
  }
}

/** Folds a multi-line message into the single paragraph the CLI promises. */
export function oneParagraph(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
