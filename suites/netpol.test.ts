// NetworkPolicy: first a canary (an allowed connection succeeds, a deny-all blocks it, removing the
// policy reopens it). Only after a passing canary is the profile's matrix probed, each cell twice,
// printed expected vs observed with the command that reproduces a failing cell: on a CNI that
// enforces nothing an "allowed" cell would be green evidence of nothing.
import { randomBytes } from 'node:crypto';
import { NetworkingV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { NetpolCapability } from '../scripts/profiles/types.ts';
import { cause, check } from './lib/check.ts';
import { ClusterProbe } from './lib/cluster-probe.ts';
import { environmentNote, suiteContext } from './lib/context.ts';

const { target, capabilities } = suiteContext();
const policy = capabilities.netpol as NetpolCapability;
const facts = target.cluster!;
const probe = new ClusterProbe(facts);
const net = probe.k.kc.makeApiClient(NetworkingV1Api);
const id = randomBytes(3).toString('hex');
const otherNs = `gs-netpol-${id}`;
const EPHEMERAL = `gs-probe-${id}`;

interface Cell {
  from: string;
  to: string;
  expected: 'allowed' | 'denied';
  observed?: 'allowed' | 'denied' | 'inconsistent';
  reproduce: string;
  run: () => Promise<boolean>;
}

function matrixText(cells: Cell[]): string {
  const w = Math.max(...cells.map((c) => `${c.from} → ${c.to}`.length));
  return cells
    .map((c) => `${`${c.from} → ${c.to}`.padEnd(w)}  expected ${c.expected.padEnd(7)}  observed ${(c.observed ?? '-').padEnd(12)}${c.observed !== c.expected ? `  ✗ reproduce: ${c.reproduce}` : ''}`)
    .join('\n');
}

/** Probes twice, a few seconds apart: one flaky connect must not decide a verdict. */
/** Polls until `probe` returns `want`; resolves with the time it took, or undefined on timeout. */
async function until(probe: () => Promise<boolean>, want: boolean, timeoutMs: number, intervalMs: number): Promise<number | undefined> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if ((await probe()) === want) return Date.now() - start;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return undefined;
}

async function observe(cell: Cell): Promise<void> {
  const first = await cell.run();
  await new Promise((r) => setTimeout(r, 2000));
  const second = await cell.run();
  cell.observed = first !== second ? 'inconsistent' : first ? 'allowed' : 'denied';
}

describe('netpol', () => {
  let serverIp = '';
  let gatewayIp = '';
  let gatewayPort = 0;
  let gatewayPod = '';

  beforeAll(async () => {
    await probe.createNamespace(otherNs);
    const server = await probe.pod(otherNs, 'server', 'server');
    serverIp = server.status!.podIP!;
    await probe.pod(otherNs, 'client', 'client');
    await probe.pod(facts.namespace, `client-${id}`, 'client');
    const gw = await probe.gatewayPod();
    gatewayPod = gw.metadata!.name!;
    gatewayIp = gw.status!.podIP!;
    const svc = await probe.k.core.readNamespacedService({ name: facts.serviceName, namespace: facts.namespace });
    const tp = svc.spec?.ports?.find((p) => p.port === facts.servicePort)?.targetPort ?? facts.servicePort;
    gatewayPort =
      typeof tp === 'number'
        ? tp
        : (gw.spec?.containers.flatMap((c) => c.ports ?? []).find((p) => p.name === tp)?.containerPort ?? Number(tp));
    await probe.ephemeral(facts.namespace, gatewayPod, EPHEMERAL);
  }, 180_000);

  afterAll(async () => {
    await probe.deleteNamespace(otherNs);
    await probe.k.core.deleteNamespacedPod({ name: `client-${id}`, namespace: facts.namespace }).catch(() => undefined);
  });

  /** Set by the canary: whether this cluster enforces NetworkPolicy at all, and what showed it. */
  let canary: { enforced: boolean; evidence: string } | undefined;

  check('netpol.canary', 'canary: the CNI enforces NetworkPolicy (deny-all blocks, removing it reopens within 10 s)', async (ctx) => {
    const connect = () => probe.connects(otherNs, 'client', 'probe', serverIp, 8080);
    expect(await connect(), 'canary: client → server in a namespace without policies must connect').toBe(true);
    await net.createNamespacedNetworkPolicy({
      namespace: otherNs,
      body: { metadata: { name: 'deny-all' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } },
    });
    let blockMs: number | undefined;
    try {
      blockMs = await until(connect, false, 15_000, 1000);
    } finally {
      // Removed whatever happened: a failed poll must not leave the deny-all behind.
      await net.deleteNamespacedNetworkPolicy({ name: 'deny-all', namespace: otherNs });
    }
    if (blockMs === undefined) {
      canary = { enforced: false, evidence: 'a deny-all NetworkPolicy did not block client → server within 15 s' };
      return ctx.skip(environmentNote(`the CNI does not enforce NetworkPolicy: ${canary.evidence}`));
    }
    const reopenMs = await until(connect, true, 10_000, 500);
    if (reopenMs === undefined) cause(ctx, 'timeout', 'removing the deny-all policy did not reopen the connection within 10 s');
    expect(reopenMs, 'removing the deny-all policy did not reopen the connection within 10 s').toBeDefined();
    canary = { enforced: true, evidence: `deny-all blocked after ${blockMs} ms, removing it reopened after ${reopenMs} ms` };
    console.log(`canary: ${canary.evidence}`);
  }, 60_000);

  check('netpol.matrix', "the chart's policy matrix holds", async (ctx) => {
    const mockSvc = `${facts.mockServiceName}.${facts.namespace}.svc.cluster.local`;
    const cells: Cell[] = [
      {
        from: `pod in ${facts.namespace}`,
        to: `gateway :${gatewayPort}`,
        expected: 'allowed',
        reproduce: probe.reproduce(facts.namespace, `client-${id}`, 'probe', `nc -z -w 3 ${gatewayIp} ${gatewayPort}`),
        run: () => probe.connects(facts.namespace, `client-${id}`, 'probe', gatewayIp, gatewayPort),
      },
      {
        from: 'pod in another namespace',
        to: `gateway :${gatewayPort}`,
        expected: policy.ingressFromOtherNamespace,
        reproduce: probe.reproduce(otherNs, 'client', 'probe', `nc -z -w 3 ${gatewayIp} ${gatewayPort}`),
        run: () => probe.connects(otherNs, 'client', 'probe', gatewayIp, gatewayPort),
      },
      {
        from: 'gateway',
        to: `mock provider :${facts.mockServicePort}`,
        expected: policy.egressToMock,
        reproduce: probe.reproduce(facts.namespace, gatewayPod, EPHEMERAL, `nc -z -w 3 ${mockSvc} ${facts.mockServicePort}`),
        run: () => probe.connects(facts.namespace, gatewayPod, EPHEMERAL, mockSvc, facts.mockServicePort),
      },
      {
        from: 'gateway',
        to: 'pod in another namespace :8080',
        expected: policy.egressElsewhere,
        reproduce: probe.reproduce(facts.namespace, gatewayPod, EPHEMERAL, `nc -z -w 3 ${serverIp} 8080`),
        run: () => probe.connects(facts.namespace, gatewayPod, EPHEMERAL, serverIp, 8080),
      },
      {
        from: 'gateway',
        to: 'DNS (kube-dns)',
        expected: policy.dns,
        reproduce: probe.reproduce(facts.namespace, gatewayPod, EPHEMERAL, 'nslookup kubernetes.default.svc.cluster.local'),
        run: () => probe.resolves(facts.namespace, gatewayPod, EPHEMERAL, 'kubernetes.default.svc.cluster.local'),
      },
    ];
    if (!canary?.enforced) {
      // No cell is evidence on a cluster that enforces nothing: none is probed, none shown green.
      ctx.task.meta.evidence = {
        netpolMatrix: cells.map((c) => ({ from: c.from, to: c.to, expected: c.expected, observed: 'not-probed', reproduce: c.reproduce })),
      };
      return ctx.skip(environmentNote(`the CNI does not enforce NetworkPolicy, so the matrix was not probed (${canary?.evidence ?? 'the canary did not complete'})`));
    }
    for (const c of cells) await observe(c);
    const text = matrixText(cells);
    ctx.task.meta.evidence = {
      netpolMatrix: cells.map((c) => ({ from: c.from, to: c.to, expected: c.expected, observed: c.observed!, reproduce: c.reproduce })),
    };
    console.log(`NetworkPolicy matrix (expected vs observed):\n${text}`);
    const wrong = cells.filter((c) => c.observed !== c.expected);
    for (const c of wrong) cause(ctx, 'status', `${c.from} → ${c.to}: expected ${c.expected}, observed ${c.observed}`, { from: c.from, to: c.to, expected: c.expected, observed: c.observed, reproduce: c.reproduce });
    expect(wrong.length, `NetworkPolicy matrix has failing cells:\n${text}`).toBe(0);
  }, 180_000);
});
