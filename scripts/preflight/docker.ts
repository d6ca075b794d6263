// Preflight for --target kind: is Docker a problem *now*, or will scripts/airgap/cluster-up.sh
// take care of it? Facts are gathered from the machine; the decision is a pure function of them.
//
// What cluster-up.sh does (read it and host-prep.sh before changing this):
// - The harness runs cluster-up.sh only when `kind get clusters` does not list the cluster (a
//   reused cluster needs docker answering, which listing it already proved).
// - cluster-up.sh runs host-prep.sh unless SKIP_HOST_PREP is non-empty. host-prep.sh dies at
//   once unless it runs as root. As root it apt-get installs docker.io when the Debian package is
//   missing (so a missing docker binary is fine, given apt-get), starts /usr/sbin/dockerd when no
//   dockerd process runs (so a stopped daemon is fine), but when a dockerd process runs and does
//   not answer it waits 60s for it and then dies: that last case is a problem now.
// - With SKIP_HOST_PREP set nothing installs or starts docker: it must answer already.
import { readdir, readFile, stat } from 'node:fs/promises';
import { execa } from 'execa';
import { locateSync } from '../tools.ts';
import { environmentProblem, lastLine, type Problem } from './problem.ts';
import { notYet, retry } from '../retry.ts';

export interface DockerFacts {
  /** The docker CLI, if there is one. */
  dockerPath?: string;
  /** `docker info` succeeded: the daemon answers. */
  answers: boolean;
  /** What `docker info` said when it did not answer. */
  said?: string;
  root: boolean;
  skipHostPrep: boolean;
  /** A running dockerd process, if any. */
  dockerdPid?: number;
  /** host-prep.sh can get a dockerd: /usr/sbin/dockerd exists, or apt-get can install docker.io. */
  canGetDockerd: boolean;
  /** The kind cluster exists already, so cluster-up.sh will not run. */
  clusterExists: boolean;
}

const HOST_PREP = 'scripts/airgap/host-prep.sh';

export function dockerProblem(f: DockerFacts, clusterName: string): Problem | undefined {
  if (f.answers) {
    if (f.clusterExists || f.skipHostPrep || f.root) return undefined;
    return environmentProblem(
      `--target kind has to create the cluster ${clusterName}, and scripts/airgap/cluster-up.sh first runs ${HOST_PREP}, which needs root; ` +
        'docker already answers, so set SKIP_HOST_PREP=1 (or run as root).',
    );
  }
  const said = f.said ? ` (it says: ${f.said})` : '';
  if (f.skipHostPrep) {
    return environmentProblem(
      f.dockerPath
        ? `Docker at ${f.dockerPath} does not answer${said} and SKIP_HOST_PREP is set, so nothing will start it for --target kind; start the daemon (e.g. \`dockerd &\`), or unset SKIP_HOST_PREP and run as root so cluster-up.sh starts it.`
        : 'There is no docker binary and SKIP_HOST_PREP is set, so nothing will install it for --target kind; install Docker and start its daemon, or unset SKIP_HOST_PREP and run as root so cluster-up.sh installs Debian docker.io.',
    );
  }
  if (!f.root) {
    return environmentProblem(
      `${f.dockerPath ? `Docker at ${f.dockerPath} does not answer${said}` : 'There is no docker binary'}, and ${HOST_PREP}, which installs and starts it for --target kind, needs root; ` +
        'run as root, or install and start Docker yourself and set SKIP_HOST_PREP=1.',
    );
  }
  if (f.dockerPath && f.dockerdPid !== undefined) {
    return environmentProblem(
      `dockerd (pid ${f.dockerdPid}) runs but docker does not answer${said}, and ${HOST_PREP} would only wait for it; ` +
        `see its log (/var/log/gateway-smoke-dockerd.log when cluster-up.sh started it), or stop it (\`kill ${f.dockerdPid}\`) so cluster-up.sh starts a fresh one.`,
    );
  }
  if (!f.canGetDockerd) {
    return environmentProblem(
      `${f.dockerPath ? `Docker at ${f.dockerPath} does not answer${said}` : 'There is no docker binary'}, and ${HOST_PREP} cannot get a daemon: there is no /usr/sbin/dockerd and no apt-get to install Debian docker.io; install Docker and start its daemon.`,
    );
  }
  return undefined; // host-prep.sh installs and/or starts docker: not a problem for --target kind
}

async function runningDockerd(): Promise<number | undefined> {
  const pids = await readdir('/proc').catch(() => [] as string[]);
  for (const pid of pids) {
    if (!/^\d+$/.test(pid)) continue;
    const comm = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
    if (comm.trim() === 'dockerd') return Number(pid);
  }
  return undefined;
}

async function dockerAnswers(dockerPath: string, env: NodeJS.ProcessEnv): Promise<{ answers: boolean; said?: string }> {
  const r = await execa(dockerPath, ['info', '--format', '{{.ServerVersion}}'], { reject: false, timeout: 10_000, env });
  if (r.exitCode === 0 && r.stdout.trim() !== '') return { answers: true };
  return { answers: false, said: r.timedOut ? 'no answer within 10s' : lastLine(r.stderr || r.stdout) || `exit ${r.exitCode}` };
}

async function kindLists(clusterName: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  const kind = locateSync('kind', env);
  if (!kind) return false;
  const r = await execa(kind, ['get', 'clusters'], { reject: false, timeout: 15_000, env });
  return r.exitCode === 0 && r.stdout.split('\n').includes(clusterName);
}

/** Reads the machine; only read-only commands (`docker info`, `kind get clusters`). */
export async function gatherDockerFacts(clusterName: string, env: NodeJS.ProcessEnv = process.env): Promise<DockerFacts> {
  const dockerPath = locateSync('docker', env);
  const root = process.getuid?.() === 0;
  const skipHostPrep = (env['SKIP_HOST_PREP'] ?? '') !== '';
  let probe: { answers: boolean; said?: string } = dockerPath ? await dockerAnswers(dockerPath, env) : { answers: false };
  const dockerdPid = probe.answers ? undefined : await runningDockerd();
  if (dockerPath && !probe.answers && dockerdPid !== undefined && root && !skipHostPrep) {
    // The one verdict that hangs on it (host-prep.sh would wait for this dockerd): a daemon that is
    // just starting answers within seconds, so give it those before calling it stuck.
    await retry('the Docker daemon to answer', { timeoutMs: 5000, intervalMs: 1000 }, async () => {
      probe = await dockerAnswers(dockerPath, env);
      if (!probe.answers) throw notYet(probe.said ?? 'no answer');
    }).catch(() => undefined); // still silent: the verdict below says so
  }
  const hasDockerd = (await stat('/usr/sbin/dockerd').catch(() => undefined))?.isFile() ?? false;
  return {
    ...(dockerPath ? { dockerPath } : {}),
    ...probe,
    root,
    skipHostPrep,
    ...(dockerdPid !== undefined && !probe.answers ? { dockerdPid } : {}),
    canGetDockerd: hasDockerd || locateSync('apt-get', env) !== undefined,
    // Only this case depends on it; otherwise kind is not asked at all.
    clusterExists: probe.answers && !root && !skipHostPrep ? await kindLists(clusterName, env) : false,
  };
}

export async function dockerProblems(clusterName: string, env: NodeJS.ProcessEnv = process.env): Promise<Problem[]> {
  const p = dockerProblem(await gatherDockerFacts(clusterName, env), clusterName);
  return p ? [p] : [];
}
