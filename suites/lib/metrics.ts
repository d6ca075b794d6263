// Prometheus scrapes, parsed with a real text-format parser, reduced to per-series sums.
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { http } from './http.ts';

export interface Scrape {
  /** Family name → sum over all its series (for counters: the total; histograms: `<name>_count`, `<name>_sum`). */
  totals: Map<string, number>;
  /** Every `name{labels}` → value, to check that no single series went down. */
  series: Map<string, number>;
  families: Set<string>;
  /** Histogram/summary `_count` and `_sum` samples with their labels (read from the text itself). */
  samples: Sample[];
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export async function scrape(url: string, token?: string): Promise<Scrape> {
  let res = await http('GET', url, token ? { token } : {});
  // LiteLLM answers /metrics with 307 → /metrics/; a scraper follows it, so do we (once).
  if (res.status >= 300 && res.status < 400 && res.headers['location']) {
    res = await http('GET', new URL(res.headers['location'], url).toString(), token ? { token } : {});
  }
  if (res.status !== 200) throw new Error(`scraping ${url} answered HTTP ${res.status}: ${res.text.slice(0, 200)}`);
  return parseScrape(res.text);
}

export function parseScrape(text: string): Scrape {
  const totals = new Map<string, number>();
  const series = new Map<string, number>();
  const families = new Set<string>();
  for (const family of parsePrometheusTextFormat(text)) {
    families.add(family.name);
    if (family.type === 'HISTOGRAM' || family.type === 'SUMMARY') {
      // The parser folds histogram series of different label sets together, so only the family's
      // existence is taken from it; the counters this suite measures are plain samples.
      for (const suffix of ['_count', '_sum', ...(family.type === 'HISTOGRAM' ? ['_bucket'] : [])]) families.add(family.name + suffix);
      continue;
    }
    for (const m of family.metrics) {
      if (m.value === undefined) continue;
      const v = Number(m.value);
      totals.set(family.name, (totals.get(family.name) ?? 0) + v);
      series.set(`${family.name}${JSON.stringify(m.labels ?? {})}`, v);
    }
  }
  const samples = histogramSamples(text, families);
  for (const x of samples) {
    totals.set(x.name, (totals.get(x.name) ?? 0) + x.value);
    series.set(`${x.name}${JSON.stringify(x.labels)}`, x.value);
  }
  return { totals, series, families, samples };
}

const SAMPLE_LINE = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL_PAIR = /([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/**
 * The parser folds a histogram's label sets into one (and drops _count/_sum), so those samples are
 * read line by line here: exactly the `<family>_count` / `<family>_sum` lines of histogram families.
 */
function histogramSamples(text: string, families: Set<string>): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = SAMPLE_LINE.exec(line);
    if (!m || !/_(count|sum)$/.test(m[1]!) || !families.has(m[1]!)) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL_PAIR)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, '$1');
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** Sum of a sample family's values whose label `label` equals `value`. */
export function sumWhere(s: Scrape, name: string, label: string, value: string): number {
  return s.samples.filter((x) => x.name === name && x.labels[label] === value).reduce((n, x) => n + x.value, 0);
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
