// Replays a traffic profile against a ScaledObject's rule: arrivals fill the partitions, ready consumers
// drain them, and every pollingInterval the KEDA rule (scripts/lib/keda.ts, the same code the local runtime
// scales with) sets the number of consumers. New consumers start after startupSeconds.
import { readLag, Scaler, type ScaleRule } from './keda';

export interface Profile {
  description?: string;
  scaledObject: string;
  durationMinutes: number;
  stepSeconds?: number;
  partitions: number;
  perConsumerPerSecond: number;
  startupSeconds: number;
  /** [minute, events per second] points, linear in between. */
  arrivals: Array<[number, number]>;
}

export interface Sample {
  t: number;
  arrivalRate: number;
  lag: number;
  desired: number;
  ready: number;
}

export interface Simulation {
  samples: Sample[];
  summary: {
    events: number;
    peakLag: number;
    peakLagAtMin: number;
    maxReplicas: number;
    /** Longest a newly arrived event would wait behind the backlog (lag / drain rate), in seconds. */
    worstWaitS: number;
    consumerMinutes: number;
    scaleEvents: number;
    backlogAtEnd: number;
  };
}

export function rateAt(profile: Profile, minute: number): number {
  const pts = profile.arrivals;
  if (minute <= pts[0][0]) return pts[0][1];
  for (let i = 1; i < pts.length; i++) {
    const [m0, r0] = pts[i - 1];
    const [m1, r1] = pts[i];
    if (minute <= m1) return r0 + ((r1 - r0) * (minute - m0)) / (m1 - m0 || 1);
  }
  return pts[pts.length - 1][1];
}

export function simulate(profile: Profile, rule: ScaleRule): Simulation {
  const dt = profile.stepSeconds ?? 1;
  const steps = Math.round((profile.durationMinutes * 60) / dt);
  const scaler = new Scaler(rule);
  const lag = new Array<number>(profile.partitions).fill(0);
  let consumers: number[] = []; // readyAt seconds, one per consumer
  let desired = 0;
  let nextPoll = 0;
  const samples: Sample[] = [];
  const s = { events: 0, peakLag: 0, peakLagAtMin: 0, maxReplicas: 0, worstWaitS: 0, consumerMinutes: 0, scaleEvents: 0, backlogAtEnd: 0 };

  for (let i = 0; i <= steps; i++) {
    const t = i * dt;
    const rate = rateAt(profile, t / 60);
    const arriving = rate * dt;
    s.events += arriving;
    for (let p = 0; p < profile.partitions; p++) lag[p] += arriving / profile.partitions;

    if (t >= nextPoll) {
      const reading = readLag(lag.map((l, partition) => ({ partition, latest: Math.floor(l + 1e-9), committed: 0 })), rule);
      const decision = scaler.decide(reading.lag, t * 1000);
      if (decision.replicas !== desired) s.scaleEvents++;
      desired = decision.replicas;
      if (consumers.length < desired) consumers = consumers.concat(new Array(desired - consumers.length).fill(t + profile.startupSeconds));
      else consumers = consumers.slice(0, desired);
      nextPoll = t + rule.pollingIntervalS;
    }

    // KEDA reads the lag before this step's events are consumed: what arrived in the last step is waiting.
    const seen = lag.reduce((a, b) => a + Math.floor(b + 1e-9), 0);
    // Ready consumers share the partitions; a consumer beyond the partition count has nothing to read.
    const ready = consumers.filter((at) => at <= t).length;
    const working = Math.min(ready, profile.partitions);
    // Partitions are dealt round-robin to the working consumers; each consumer spends its capacity on its
    // own partitions only (water-filling), as a Kafka group member can.
    for (let c = 0; c < working; c++) {
      let capacity = profile.perConsumerPerSecond * dt;
      let mine = lag.map((_, p) => p).filter((p) => p % working === c && lag[p] > 0);
      while (capacity > 1e-9 && mine.length) {
        const each = capacity / mine.length;
        for (const p of mine) {
          const take = Math.min(each, lag[p]);
          lag[p] -= take;
          capacity -= take;
        }
        mine = mine.filter((p) => lag[p] > 1e-9);
      }
    }
    const total = seen;
    const drain = working * profile.perConsumerPerSecond;
    s.worstWaitS = Math.max(s.worstWaitS, total > 0.5 ? (drain ? total / drain : profile.startupSeconds + rule.pollingIntervalS) : 0);
    if (total > s.peakLag) { s.peakLag = total; s.peakLagAtMin = t / 60; }
    s.maxReplicas = Math.max(s.maxReplicas, desired);
    s.consumerMinutes += (consumers.length * dt) / 60;
    samples.push({ t, arrivalRate: rate, lag: total, desired, ready });
  }
  s.backlogAtEnd = samples[samples.length - 1].lag;
  return { samples, summary: s };
}

/** Two panels over time: arrivals and lag above, consumers (asked for / ready) below. */
export function chartSvg(title: string, subtitle: string, sim: Simulation, rule: ScaleRule): string {
  const W = 960, H = 560, L = 70, R = 70, T = 70, gap = 40, panel = (H - T - 50 - gap) / 2;
  const xs = sim.samples.map((s) => s.t);
  const tMax = xs[xs.length - 1] || 1;
  const x = (t: number) => L + ((W - L - R) * t) / tMax;
  const maxLag = Math.max(1, ...sim.samples.map((s) => s.lag));
  const maxRate = Math.max(0.1, ...sim.samples.map((s) => s.arrivalRate));
  const maxRep = Math.max(1, rule.maxReplicaCount, ...sim.samples.map((s) => s.desired));
  const yLag = (v: number) => T + panel - (panel * v) / maxLag;
  const yRate = (v: number) => T + panel - (panel * v) / maxRate;
  const top2 = T + panel + gap;
  const yRep = (v: number) => top2 + panel - (panel * v) / maxRep;
  const step = Math.max(1, Math.floor(sim.samples.length / 1500));
  const pts = (f: (s: Sample) => number, y: (v: number) => number, stepped = false) => {
    let d = '';
    let prev: number | undefined;
    sim.samples.forEach((s, i) => {
      if (i % step && i !== sim.samples.length - 1) return;
      const yy = y(f(s)).toFixed(1);
      if (!d) d = `M${x(s.t).toFixed(1)},${yy}`;
      else d += stepped && prev !== undefined ? ` H${x(s.t).toFixed(1)} V${yy}` : ` L${x(s.t).toFixed(1)},${yy}`;
      prev = f(s);
    });
    return d;
  };
  const esc = (s: string) => s.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
  const ticks = (n: number, max: number, y: (v: number) => number, right = false, fmt = (v: number) => String(Math.round(v))) =>
    Array.from({ length: n + 1 }, (_, i) => {
      const v = (max * i) / n;
      return `<text x="${right ? W - R + 8 : L - 8}" y="${y(v) + 4}" text-anchor="${right ? 'start' : 'end'}" class="tick">${fmt(v)}</text><line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" class="grid"/>`;
    }).join('');
  const minutes = Math.round(tMax / 60);
  const every = minutes > 120 ? 30 : minutes > 60 ? 15 : 10;
  const xticks = Array.from({ length: Math.floor(minutes / every) + 1 }, (_, i) => i * every)
    .map((m) => `<text x="${x(m * 60)}" y="${H - 28}" text-anchor="middle" class="tick">${m}</text><line x1="${x(m * 60)}" x2="${x(m * 60)}" y1="${T}" y2="${top2 + panel}" class="grid"/>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, sans-serif">
<style>.tick{font-size:11px;fill:#555}.grid{stroke:#eee}.label{font-size:12px;fill:#333}</style>
<rect width="${W}" height="${H}" fill="white"/>
<text x="${L}" y="24" font-size="16" font-weight="bold" fill="#222">${esc(title)}</text>
<text x="${L}" y="44" font-size="12" fill="#555">${esc(subtitle)}</text>
${ticks(4, maxLag, yLag)}${xticks}
<path d="${pts((s) => s.arrivalRate, yRate)}" fill="none" stroke="#bbb" stroke-width="1.5"/>
<path d="${pts((s) => s.lag, yLag)}" fill="none" stroke="#d62728" stroke-width="2"/>
${Array.from({ length: 5 }, (_, i) => { const v = (maxRate * i) / 4; return `<text x="${W - R + 8}" y="${yRate(v) + 4}" class="tick">${v.toFixed(v < 10 ? 1 : 0)}</text>`; }).join('')}
<text x="${L}" y="${T - 8}" class="label" fill="#d62728">consumer lag (events) — red</text>
<text x="${W - R}" y="${T - 8}" class="label" text-anchor="end">arrivals (events/s) — grey, right axis</text>
${Array.from({ length: maxRep + 1 }, (_, v) => `<text x="${L - 8}" y="${yRep(v) + 4}" text-anchor="end" class="tick">${v}</text><line x1="${L}" x2="${W - R}" y1="${yRep(v)}" y2="${yRep(v)}" class="grid"/>`).join('')}
<path d="${pts((s) => s.desired, yRep, true)}" fill="none" stroke="#1f77b4" stroke-width="2"/>
<path d="${pts((s) => s.ready, yRep, true)}" fill="none" stroke="#2ca02c" stroke-width="1.5" stroke-dasharray="4 3"/>
<text x="${L}" y="${top2 - 8}" class="label">consumers: asked for by the rule (blue), ready to consume (green, dashed)</text>
<text x="${(L + W - R) / 2}" y="${H - 8}" text-anchor="middle" class="label">minutes</text>
</svg>
`;
}
