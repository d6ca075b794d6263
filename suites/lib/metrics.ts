// Prometheus scrapes, parsed with a real text-format parser, reduced to per-series sums.
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { http } from './http.ts';

export interface Scrape {
  /** Family name → sum over all its series (for counters: the total). */
  totals: Map<string, number>;
  /** Every `name{labels}` → value, to check that no single series went down. */
  series: Map<string, number>;
  families: Set<string>;
}

export async function scrape(url: string, token?: string): Promise<Scrape> {
  const res = await http('GET', url, token ? { token } : {});
  if (res.status !== 200) throw new Error(`scraping ${url} answered HTTP ${res.status}: ${res.text.slice(0, 200)}`);
  return parseScrape(res.text);
}

export function parseScrape(text: string): Scrape {
  const totals = new Map<string, number>();
  const series = new Map<string, number>();
  const families = new Set<string>();
  for (const family of parsePrometheusTextFormat(text)) {
    families.add(family.name);
    for (const m of family.metrics) {
      const labels = JSON.stringify(m.labels ?? {});
      if (m.value !== undefined) {
        const v = Number(m.value);
        totals.set(family.name, (totals.get(family.name) ?? 0) + v);
        series.set(`${family.name}${labels}`, v);
      } else if (m.count !== undefined) {
        // Histograms and summaries: their _count and _sum are what can be checked for movement.
        for (const [suffix, raw] of [
          ['_count', m.count],
          ['_sum', m.sum],
        ] as const) {
          const v = Number(raw);
          totals.set(family.name + suffix, (totals.get(family.name + suffix) ?? 0) + v);
          series.set(`${family.name}${suffix}${labels}`, v);
          families.add(family.name + suffix);
        }
        for (const [le, raw] of Object.entries(m.buckets ?? {})) series.set(`${family.name}_bucket${labels}le=${le}`, Number(raw));
        families.add(`${family.name}_bucket`);
      }
    }
  }
  return { totals, series, families };
}

/** Series whose value went down between two scrapes (a counter must never do that). */
export function decreased(before: Scrape, after: Scrape, names: string[]): string[] {
  const out: string[] = [];
  for (const [key, v] of before.series) {
    if (!names.some((n) => key.startsWith(n))) continue;
    const now = after.series.get(key);
    if (now !== undefined && now < v) out.push(`${key}: ${v} → ${now}`);
  }
  return out;
}
