// A command run in its own process group and stopped as a whole when the run is interrupted.
// execa's cancelSignal stops only the process it started: a script's children (docker build,
// kind create and the docker commands it runs) would go on as orphans after the run has exited.
import { execa } from 'execa';

/** Never rejects on a failed command: the caller reads exitCode and the interleaved output (`all`). */
export function execaGroup(file: string, args: readonly string[], o: { signal: AbortSignal; env?: Record<string, string | undefined> }) {
  const sub = execa(file, args, { all: true, reject: false, detached: true, ...(o.env ? { env: o.env } : {}) });
  const stop = () => {
    if (!sub.pid) return;
    try {
      process.kill(-sub.pid, 'SIGTERM');
    } catch {
      // the group is already gone
    }
  };
  if (o.signal.aborted) stop();
  else o.signal.addEventListener('abort', stop, { once: true });
  void sub.finally(() => o.signal.removeEventListener('abort', stop));
  return sub;
}
