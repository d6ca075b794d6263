// Reads the mock provider's request journal: what the gateway really sent upstream.
import { fingerprint } from '../../mock/fingerprint.ts';
import type { JournalEntry } from '../../mock/journal.ts';
import { http } from './http.ts';

export async function readJournal(mockUrl: string): Promise<JournalEntry[]> {
  const res = await http('GET', `${mockUrl}/__mock/journal`);
  if (res.status !== 200) throw new Error(`the mock journal answered HTTP ${res.status}`);
  const body = res.json as { entries?: JournalEntry[] } | JournalEntry[];
  return Array.isArray(body) ? body : (body.entries ?? []);
}

export async function clearJournal(mockUrl: string): Promise<void> {
  await http('DELETE', `${mockUrl}/__mock/journal`);
}

/** Every secret fingerprint that appears in an entry's headers. */
export function fingerprintsIn(entry: JournalEntry): string[] {
  return Object.values(entry.headers).flatMap((v) => [...String(v).matchAll(/fp:([0-9a-f]{12})/g)].map((m) => m[1]!));
}

export { fingerprint };
