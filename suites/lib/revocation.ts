// Whether a revoked credential stops working everywhere. A gateway with several replicas (or
// several workers in one pod) may cache a validated key per process: the first refusal proves only
// that one process forgot it. So requests go to every endpoint until all of them have refused for
// a quiet window in a row; an acceptance after the deadline is the failure.

export interface Endpoint {
  /** How the report names it: a pod name, or "the gateway". */
  name: string;
  url: string;
}

export interface RevocationWatch {
  deadlineMs: number;
  /** How long every endpoint must refuse in a row before the revocation counts as complete. */
  quietMs: number;
  intervalMs: number;
}

interface Tally {
  endpoint: Endpoint;
  accepted: number;
  refused: number;
  other: Map<number, number>;
  lastAcceptedMs?: number;
}

export interface RevocationOutcome {
  complete: boolean;
  /** When every endpoint had refused for good (ms after deletion), when complete. */
  refusedFromMs?: number;
  summary: string;
}

const refusal = (status: number) => status === 401 || status === 403;

/** Watches `send` (one request with the revoked credential, its HTTP status) over every endpoint. */
export async function watchRevocation(
  endpoints: Endpoint[],
  send: (endpoint: Endpoint) => Promise<number>,
  watch: RevocationWatch,
): Promise<RevocationOutcome> {
  const tallies = endpoints.map((endpoint): Tally => ({ endpoint, accepted: 0, refused: 0, other: new Map() }));
  const start = Date.now();
  // The streak of refusals (from every endpoint) starts after the last request that was not one.
  let streakFromMs = 0;
  for (;;) {
    for (const t of tallies) {
      const status = await send(t.endpoint);
      const at = Date.now() - start;
      if (refusal(status)) t.refused++;
      else {
        if (status === 200) {
          t.accepted++;
          t.lastAcceptedMs = at;
        } else t.other.set(status, (t.other.get(status) ?? 0) + 1);
        streakFromMs = at;
      }
    }
    const now = Date.now() - start;
    if (streakFromMs > watch.deadlineMs) return { complete: false, summary: summarise(tallies) };
    if (now - streakFromMs >= watch.quietMs) return { complete: true, refusedFromMs: streakFromMs, summary: summarise(tallies) };
    await new Promise((r) => setTimeout(r, watch.intervalMs));
  }
}

function summarise(tallies: Tally[]): string {
  return tallies
    .map((t) => {
      const sent = t.accepted + t.refused + [...t.other.values()].reduce((a, b) => a + b, 0);
      const other = [...t.other].map(([status, n]) => `, ${n}× HTTP ${status}`).join('');
      const last = t.lastAcceptedMs === undefined ? '' : `, last at ${(t.lastAcceptedMs / 1000).toFixed(1)} s`;
      return `${t.endpoint.name}: ${t.accepted} of ${sent} accepted${last}${other}`;
    })
    .join('; ');
}
