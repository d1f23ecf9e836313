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
    /**
     * Longest an event waited from arrival to consumption (each partition first in, first out), in seconds,
     * counting events consumed after the profile ended; Infinity when some are never consumed.
     */
    worstWaitS: number;
    /** Events never consumed: still waiting when the profile ended, and the rule runs no consumer for them. */
    unconsumed: number;
    /** How long the oldest of those had waited when the profile ended, in seconds (0 when none). */
    oldestUnconsumedWaitS: number;
    /** How long after the profile ended the last event was consumed (the rule keeps running, nothing arrives). */
    drainedS: number;
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

/** After the profile ends the rule keeps draining, at most this long, to tell late events from lost ones. */
const DRAIN_LIMIT_S = 30 * 86_400;
const EPS = 1e-6;

export function simulate(profile: Profile, rule: ScaleRule): Simulation {
  const dt = profile.stepSeconds ?? 1;
  const steps = Math.round((profile.durationMinutes * 60) / dt);
  const scaler = new Scaler(rule);
  const lag = new Array<number>(profile.partitions).fill(0);
  let consumers: number[] = []; // readyAt seconds, one per consumer
  let desired = 0;
  let nextPoll = 0;
  const samples: Sample[] = [];
  const s: Simulation['summary'] = {
    events: 0, peakLag: 0, peakLagAtMin: 0, maxReplicas: 0, worstWaitS: 0, unconsumed: 0, oldestUnconsumedWaitS: 0,
    drainedS: 0, consumerMinutes: 0, scaleEvents: 0, backlogAtEnd: 0,
  };
  // Per partition, events arrived and consumed so far, after each step: the waits come from these.
  const arrived = new Array<number>(profile.partitions).fill(0);
  const consumed = new Array<number>(profile.partitions).fill(0);
  const arrivedAt: number[][] = Array.from({ length: profile.partitions }, () => []);
  const consumedAt: number[][] = Array.from({ length: profile.partitions }, () => []);
  const waiting = () => arrived.reduce((n, a, p) => n + Math.max(0, Math.floor(a + EPS) - Math.ceil(consumed[p] - EPS)), 0);

  for (let i = 0; ; i++) {
    const t = i * dt;
    const during = i <= steps;
    // After the profile nothing arrives; stop once every event is consumed (or after DRAIN_LIMIT_S).
    if (!during && (waiting() === 0 || t - steps * dt > DRAIN_LIMIT_S)) break;
    const rate = during ? rateAt(profile, t / 60) : 0;
    const arriving = rate * dt;
    s.events += arriving;
    for (let p = 0; p < profile.partitions; p++) {
      lag[p] += arriving / profile.partitions;
      arrived[p] += arriving / profile.partitions;
    }

    if (t >= nextPoll) {
      const reading = readLag(lag.map((l, partition) => ({ partition, latest: Math.floor(l + 1e-9), committed: 0 })), rule);
      const decision = scaler.decide(reading.lag, t * 1000);
      if (during && decision.replicas !== desired) s.scaleEvents++;
      desired = decision.replicas;
      if (consumers.length < desired) consumers = consumers.concat(new Array(desired - consumers.length).fill(t + profile.startupSeconds));
      else consumers = consumers.slice(0, desired);
      nextPoll = t + rule.pollingIntervalS;
      // Nothing arrives any more, so the lag it read stays as it is: no consumer will ever come for it.
      if (!during && desired === 0) break;
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
          consumed[p] += take;
          capacity -= take;
        }
        mine = mine.filter((p) => lag[p] > 1e-9);
      }
    }
    for (let p = 0; p < profile.partitions; p++) {
      arrivedAt[p].push(arrived[p]);
      consumedAt[p].push(consumed[p]);
    }
    if (!during) continue;
    if (seen > s.peakLag) { s.peakLag = seen; s.peakLagAtMin = t / 60; }
    s.maxReplicas = Math.max(s.maxReplicas, desired);
    s.consumerMinutes += (consumers.length * dt) / 60;
    samples.push({ t, arrivalRate: rate, lag: seen, desired, ready });
  }
  s.backlogAtEnd = samples[samples.length - 1].lag;
  s.drainedS = Math.max(0, (arrivedAt[0].length - 1 - steps) * dt);
  Object.assign(s, waits(arrivedAt, consumedAt, dt, steps));
  return { samples, summary: s };
}

/**
 * Waits of whole events, first in first out per partition: the k-th event of a partition arrives in the
 * first step its arrivals reach k and is consumed in the first step its consumer gets past k − 1 (the
 * model is fluid; this way a part-consumed event, invisible to KEDA's whole-offset lag, is not counted as
 * waiting). An event never consumed makes the worst wait unbounded.
 */
function waits(arrivedAt: number[][], consumedAt: number[][], dt: number, endStep: number) {
  let worst = 0;
  let unconsumed = 0;
  let oldest = 0;
  for (let p = 0; p < arrivedAt.length; p++) {
    const a = arrivedAt[p];
    const c = consumedAt[p];
    const last = a.length - 1;
    let j = 0;
    let before = 0;
    for (let i = 0; i <= last; i++) {
      const k = Math.floor(a[i] + EPS); // the last whole event to arrive by step i
      if (k <= before) continue;
      before = k;
      while (j <= last && c[j] <= k - 1 + EPS) j++;
      if (j > last) { oldest = Math.max(oldest, (endStep - i) * dt); break; }
      worst = Math.max(worst, (Math.max(j, i) - i) * dt);
    }
    unconsumed += Math.max(0, Math.floor(a[last] + EPS) - Math.ceil(c[last] - EPS));
  }
  return { worstWaitS: unconsumed > 0 ? Infinity : worst, unconsumed, oldestUnconsumedWaitS: oldest };
}

/** The report's wait line: a figure only when every event gets consumed. */
export function waitLine(s: Simulation['summary']): string {
  if (s.unconsumed > 0) {
    return `unbounded: ${s.unconsumed} events are never consumed (no consumer runs for them once the profile ends; the oldest had waited ${s.oldestUnconsumedWaitS.toFixed(0)} s by then)`;
  }
  const late = s.backlogAtEnd > 0 ? ` (${Math.round(s.backlogAtEnd)} events still waited when the profile ended; the last was consumed ${s.drainedS.toFixed(0)} s later)` : '';
  return `${s.worstWaitS.toFixed(0)} s from arrival to consumption${late}`;
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

// ---------- --set: a value tried without editing the YAML, held to the rules the YAML is held to ----------

interface Setting {
  /** Where the value goes: the ScaledObject's rule or the traffic profile. */
  on: 'rule' | 'profile';
  field: string;
  kind: 'integer' | 'number' | 'boolean';
  /** Lowest value allowed; above, not equal, when `above` is set. */
  min?: number;
  above?: boolean;
  max?: number;
  /** What holds the value to this rule, for the message. */
  why: string;
}

const INT32 = 2 ** 31 - 1;

/**
 * Every key --set takes. ScaledObject fields: the CRD's int32 types and manifests:check's bounds (numbers
 * ≥ 0, lagThreshold > 0, minReplicaCount ≤ maxReplicaCount); the kafka trigger's thresholds are int64 in
 * KEDA's kafka scaler, which refuses lagThreshold ≤ 0 and activationLagThreshold < 0.
 */
export const SETTINGS: Record<string, Setting> = {
  minReplicaCount: { on: 'rule', field: 'minReplicaCount', kind: 'integer', min: 0, max: INT32, why: 'spec.minReplicaCount, an int32 ≥ 0' },
  maxReplicaCount: { on: 'rule', field: 'maxReplicaCount', kind: 'integer', min: 0, max: INT32, why: 'spec.maxReplicaCount, an int32 ≥ 0' },
  pollingInterval: { on: 'rule', field: 'pollingIntervalS', kind: 'integer', min: 0, max: INT32, why: 'spec.pollingInterval, seconds as an int32 ≥ 0' },
  cooldownPeriod: { on: 'rule', field: 'cooldownPeriodS', kind: 'integer', min: 0, max: INT32, why: 'spec.cooldownPeriod, seconds as an int32 ≥ 0' },
  lagThreshold: { on: 'rule', field: 'lagThreshold', kind: 'integer', min: 0, above: true, why: 'the kafka trigger\'s lagThreshold, an integer above 0' },
  activationLagThreshold: { on: 'rule', field: 'activationLagThreshold', kind: 'integer', min: 0, why: 'the kafka trigger\'s activationLagThreshold, an integer ≥ 0' },
  allowIdleConsumers: { on: 'rule', field: 'allowIdleConsumers', kind: 'boolean', why: 'the kafka trigger\'s allowIdleConsumers, true or false' },
  perConsumerPerSecond: { on: 'profile', field: 'perConsumerPerSecond', kind: 'number', min: 0, above: true, why: 'events one consumer handles per second, above 0' },
  startupSeconds: { on: 'profile', field: 'startupSeconds', kind: 'number', min: 0, why: 'seconds a new consumer needs to start, ≥ 0' },
  partitions: { on: 'profile', field: 'partitions', kind: 'integer', min: 1, max: INT32, why: 'partitions of the topic, an integer ≥ 1' },
};

/** A --set the simulation refuses; `key` names the setting at fault. */
export class SettingError extends Error {
  constructor(readonly key: string, message: string) {
    super(message);
  }
}

function parseSetting(key: string, raw: string, setting: Setting): number | boolean {
  const refuse = (what: string) => new SettingError(key, `--set ${key}=${raw}: ${what} (${setting.why})`);
  if (setting.kind === 'boolean') {
    if (raw !== 'true' && raw !== 'false') throw refuse('must be true or false');
    return raw === 'true';
  }
  if (!/^[+-]?(\d+(\.\d+)?|\.\d+)$/.test(raw)) throw refuse(setting.kind === 'integer' ? 'must be an integer' : 'must be a number');
  const n = Number(raw);
  if (setting.kind === 'integer' && !Number.isInteger(n)) throw refuse('must be an integer');
  if (setting.min !== undefined && (setting.above ? n <= setting.min : n < setting.min)) throw refuse(`must be ${setting.above ? '>' : '≥'} ${setting.min}`);
  if (setting.max !== undefined && n > setting.max) throw refuse(`must be ≤ ${setting.max}`);
  return n;
}

/**
 * Applies `key=value` settings to copies of the rule and the profile, or throws a SettingError naming the key:
 * unknown keys, values of the wrong kind or out of bounds, and a minReplicaCount above maxReplicaCount.
 */
export function applySettings(rule: ScaleRule, profile: Profile, sets: string[]): { rule: ScaleRule; profile: Profile; changed: string[] } {
  const out = { rule: { ...rule }, profile: { ...profile }, changed: [] as string[] };
  const given = new Set<string>();
  for (const set of sets) {
    const eq = set.indexOf('=');
    const key = eq < 0 ? set : set.slice(0, eq);
    const setting = SETTINGS[key];
    if (!setting) {
      throw new SettingError(key, `--set ${set}: unknown key ${key || '(empty)'} (ScaledObject: ${Object.keys(SETTINGS).filter((k) => SETTINGS[k].on === 'rule').join(', ')}; profile: ${Object.keys(SETTINGS).filter((k) => SETTINGS[k].on === 'profile').join(', ')})`);
    }
    if (eq < 0) throw new SettingError(key, `--set ${set}: give a value, as in --set ${key}=…`);
    const value = parseSetting(key, set.slice(eq + 1), setting);
    (out[setting.on] as unknown as Record<string, unknown>)[setting.field] = value;
    given.add(key);
    out.changed.push(`${key}=${set.slice(eq + 1)}`);
  }
  const { minReplicaCount: min, maxReplicaCount: max } = out.rule;
  if (min > max) {
    const key = given.has('maxReplicaCount') ? 'maxReplicaCount' : 'minReplicaCount';
    throw new SettingError(key, key === 'maxReplicaCount'
      ? `--set maxReplicaCount=${max}: below minReplicaCount ${min} (manifests:check requires minReplicaCount ≤ maxReplicaCount)`
      : `--set minReplicaCount=${min}: above maxReplicaCount ${max} (manifests:check requires minReplicaCount ≤ maxReplicaCount)`);
  }
  return out;
}

/** `<profile> [--set key=value …]` (also --set=key=value); anything else is a usage error naming it. */
export function parseSimulateArgs(args: string[]): { profile: string; sets: string[] } {
  const sets: string[] = [];
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--set') {
      if (i + 1 >= args.length) throw new SettingError('--set', '--set needs key=value after it');
      sets.push(args[++i]);
    } else if (a.startsWith('--set=')) sets.push(a.slice('--set='.length));
    else if (a.startsWith('-')) throw new SettingError(a, `unknown option ${a} (only --set key=value)`);
    else positional.push(a);
  }
  if (positional.length !== 1) throw new SettingError('profile', positional.length ? `one profile at a time, not ${positional.join(' ')}` : 'name a profile');
  return { profile: positional[0], sets };
}
