// Preflight for --target existing: the kubeconfig the run will read, the context in it, and an
// API server that answers, each named, so "No active cluster!" never reaches the user.
import { stat } from 'node:fs/promises';
import { ApiException, KubeConfig, Observable, type ObservableMiddleware, type RequestContext, type ResponseContext, VersionApi } from '@kubernetes/client-node';
import { environmentProblem, type Problem, userProblem } from './problem.ts';

export interface KubeContextInput {
  /** The kubeconfig file the provisioner will read. */
  kubeconfig: string;
  /** --context; the kubeconfig's current-context when absent. */
  context?: string;
  timeoutMs?: number;
}

/** Why a request failed, in the words a user searches for (ECONNREFUSED, a timeout, a TLS error). */
function cause(err: unknown, timeoutMs: number): string {
  let said = err instanceof Error ? err.message : String(err);
  // undici nests the real reason: TypeError "fetch failed" → Error {code: 'ECONNREFUSED'}.
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { name, code, message } = e as { name?: string; code?: unknown; message?: string };
    if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${timeoutMs / 1000}s`;
    if (typeof code === 'string') return message && !message.includes(code) ? `${code}: ${message}` : (message ?? code);
    if (message) said = message;
  }
  return said;
}

export async function kubeContextProblems(input: KubeContextInput): Promise<Problem[]> {
  const timeoutMs = input.timeoutMs ?? 5000;
  const { kubeconfig } = input;
  if (!(await stat(kubeconfig).catch(() => undefined))?.isFile()) {
    return [
      environmentProblem(
        `--target existing reads the kubeconfig ${kubeconfig}, which does not exist; set KUBECONFIG to the file that holds your cluster's context, or use --target kind.`,
      ),
    ];
  }
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(kubeconfig);
  } catch (err) {
    return [environmentProblem(`The kubeconfig ${kubeconfig} cannot be read (${err instanceof Error ? err.message : String(err)}); fix it, or set KUBECONFIG to another file.`)];
  }
  const names = kc.getContexts().map((c) => c.name);
  const known = names.length ? `the contexts there: ${names.join(', ')}` : 'it defines no contexts';
  const name = input.context ?? (kc.getCurrentContext() || undefined);
  if (!name) return [userProblem(`--target existing needs --context: the kubeconfig ${kubeconfig} has no current-context (${known}); pass --context with one of them.`)];
  const context = kc.getContextObject(name);
  if (!context) {
    return [userProblem(`--context ${name} is not in the kubeconfig ${kubeconfig} (${known}); pass one of those, or set KUBECONFIG to the file that has it.`)];
  }
  const cluster = kc.getCluster(context.cluster);
  if (!cluster) {
    return [environmentProblem(`Context ${name} in ${kubeconfig} names the cluster "${context.cluster}", which that kubeconfig does not define; fix the file or pick another context.`)];
  }
  kc.setCurrentContext(name);
  // One GET /version with a hard deadline: a server that is down must cost seconds, not a TCP timeout.
  const deadline: ObservableMiddleware = {
    pre: (req: RequestContext) => {
      req.setSignal(AbortSignal.timeout(timeoutMs));
      return new Observable(Promise.resolve(req));
    },
    post: (res: ResponseContext) => new Observable(Promise.resolve(res)),
  };
  try {
    await kc.makeApiClient(VersionApi).getCode({}, { middleware: [deadline], middlewareMergeStrategy: 'append' });
    return [];
  } catch (err) {
    const status = err instanceof ApiException ? err.code : undefined;
    if (status === 401) {
      return [environmentProblem(`The API server ${cluster.server} of context ${name} rejects its credentials (401 Unauthorized); refresh the user's credentials in ${kubeconfig}.`)];
    }
    if (status !== undefined) return []; // it answered; what it allows is the run's business
    return [
      environmentProblem(
        `The API server ${cluster.server} of context ${name} (kubeconfig ${kubeconfig}) does not answer (${cause(err, timeoutMs)}); start that cluster, or pick another context.`,
      ),
    ];
  }
}
