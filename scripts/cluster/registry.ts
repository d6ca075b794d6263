// Whether a container registry answers from this machine, without pulling anything: an HTTPS GET
// of its /v2/ endpoint. Any HTTP answer (401 included) means the registry is reachable.
import { request } from 'undici';
import { apiHostOf } from './image-ref.ts';

export interface Reachability {
  reachable: boolean;
  /** What was tried and what happened, for the report. */
  detail: string;
}

export async function probeRegistry(registry: string, timeoutMs = 5000): Promise<Reachability> {
  return probeUrl(`https://${apiHostOf(registry)}/v2/`, timeoutMs);
}

/** Any HTTP answer from the URL means its host is reachable; a network error says why it is not. */
export async function probeUrl(url: string, timeoutMs = 5000): Promise<Reachability> {
  try {
    const res = await request(url, { method: 'GET', headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs) });
    await res.body.dump();
    return { reachable: true, detail: `GET ${url} answered HTTP ${res.statusCode}` };
  } catch (err) {
    const e = err as Error & { code?: string; cause?: { code?: string } };
    return { reachable: false, detail: `GET ${url} failed: ${e.cause?.code ?? e.code ?? e.message}` };
  }
}
