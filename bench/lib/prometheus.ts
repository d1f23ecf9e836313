// Reading a function's GET /metrics (Prometheus text format) before and after a run, to turn histograms'
// _sum/_count into means over that run. Tolerant: a metric the function does not expose reads as undefined.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

export async function scrape(baseUrl: string): Promise<Sample[]> {
  try {
    const res = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
    if (res.status !== 200) return [];
    return parseMetrics(await res.text());
  } catch {
    return [];
  }
}

/** Sum of every sample of `name` whose labels include `match`; undefined when there is none. */
export function total(samples: Sample[], name: string, match: Record<string, string> = {}): number | undefined {
  const hits = samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v));
  return hits.length ? hits.reduce((a, s) => a + s.value, 0) : undefined;
}

/** Mean of a histogram over the interval between two scrapes (in the histogram's unit); undefined if not exposed. */
export function meanBetween(before: Sample[], after: Sample[], histogram: string, match: Record<string, string> = {}): { mean: number; count: number } | undefined {
  const s1 = total(after, `${histogram}_sum`, match);
  const c1 = total(after, `${histogram}_count`, match);
  if (s1 === undefined || c1 === undefined) return undefined;
  const s0 = total(before, `${histogram}_sum`, match) ?? 0;
  const c0 = total(before, `${histogram}_count`, match) ?? 0;
  const count = c1 - c0;
  return { mean: count > 0 ? (s1 - s0) / count : NaN, count };
}
