// One place that turns a kubeconfig (+ context) into the API clients the harness uses.
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { AppsV1Api, CoreV1Api, Exec, KubeConfig, Log, PortForward, Watch } from '@kubernetes/client-node';

/** The kubeconfig `--target existing` reads: the first file in $KUBECONFIG, else ~/.kube/config. */
export function kubeconfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const first = (env['KUBECONFIG'] ?? '').split(delimiter).find(Boolean);
  return first ?? join(env['HOME'] || homedir(), '.kube', 'config');
}

export interface Kube {
  kc: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  watch: Watch;
  exec: Exec;
  log: Log;
  portForward: PortForward;
  context: string;
}

export function kube(kubeconfig?: string, context?: string): Kube {
  const kc = new KubeConfig();
  if (kubeconfig) kc.loadFromFile(kubeconfig);
  else kc.loadFromDefault();
  if (context) kc.setCurrentContext(context);
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    watch: new Watch(kc),
    exec: new Exec(kc),
    log: new Log(kc),
    portForward: new PortForward(kc, true),
    context: kc.getCurrentContext(),
  };
}

/** The status code of a client-node ApiException, if it is one. */
export function apiStatus(err: unknown): number | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}
