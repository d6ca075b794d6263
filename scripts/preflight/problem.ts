// One thing preflight found wrong: a single sentence that says what is wrong and what to do,
// and whose fault it is, which decides the exit code (2 the user's input, 3 the machine).
export type ProblemKind = 'user' | 'environment';

export interface Problem {
  kind: ProblemKind;
  text: string;
}

export const userProblem = (text: string): Problem => ({ kind: 'user', text });
export const environmentProblem = (text: string): Problem => ({ kind: 'environment', text });

/** A folder the user named, and how: a flag is their input (2), an environment variable is the machine's setup (3). */
export interface NamedFolder {
  path: string;
  from: string;
}

export function problemFrom(from: string, text: string): Problem {
  return from.startsWith('--') ? userProblem(text) : environmentProblem(text);
}

/** Last non-empty line of a tool's complaint, short enough for one sentence. */
export function lastLine(output: string, max = 240): string {
  const line = output.split('\n').map((l) => l.trim()).filter(Boolean).pop() ?? '';
  return line.length > max ? `${line.slice(0, max)}…` : line;
}
