// KEDA's Kafka scaling, as the keda.sh kafka scaler and ScaledObject controller apply it, so the local
// runtime, `npm run keda:plan` and `npm run keda:simulate` all answer "how many consumers would KEDA run?"
// the same way the cluster does:
//   lag per partition = latest offset − committed offset (no commit: offsetResetPolicy decides)
//   total lag, capped at partitions × lagThreshold unless allowIdleConsumers
//   active when total lag > activationLagThreshold
//   while active: ceil(total lag / lagThreshold) clamped to [max(minReplicaCount, 1), maxReplicaCount]
//   after cooldownPeriod without activity: minReplicaCount (0 removes every consumer)
// Between 1 and max the HorizontalPodAutoscaler KEDA creates does the scaling, and it scales down only to
// the highest recommendation of its stabilization window (300 s unless the ScaledObject's
// advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.stabilizationWindowSeconds says otherwise).
import type { ScaledObjectManifest } from './manifests';

export interface PartitionOffsets {
  partition: number;
  /** Next offset to be written (high watermark). */
  latest: number;
  /** Committed offset of the group, or undefined when the group never committed on this partition. */
  committed?: number;
}

export interface ScaleRule {
  minReplicaCount: number;
  maxReplicaCount: number;
  pollingIntervalS: number;
  cooldownPeriodS: number;
  lagThreshold: number;
  activationLagThreshold: number;
  allowIdleConsumers: boolean;
  offsetResetPolicy?: 'earliest' | 'latest';
  /** HPA scale-down stabilization window, seconds. */
  scaleDownStabilizationS: number;
}

export function ruleOf(so: ScaledObjectManifest): ScaleRule {
  if (!so.kafka) throw new Error(`${so.file}: ScaledObject ${so.name} has no kafka trigger`);
  const policy = so.doc.spec?.triggers?.find((t: any) => t?.type === 'kafka')?.metadata?.offsetResetPolicy;
  return {
    minReplicaCount: so.minReplicaCount,
    maxReplicaCount: so.maxReplicaCount,
    pollingIntervalS: so.pollingIntervalS,
    cooldownPeriodS: so.cooldownPeriodS,
    lagThreshold: so.kafka.lagThreshold,
    activationLagThreshold: so.kafka.activationLagThreshold,
    allowIdleConsumers: so.kafka.allowIdleConsumers,
    offsetResetPolicy: policy === 'earliest' ? 'earliest' : 'latest',
    scaleDownStabilizationS: Number(so.doc.spec?.advanced?.horizontalPodAutoscalerConfig?.behavior?.scaleDown?.stabilizationWindowSeconds ?? 300),
  };
}

export function partitionLag(p: PartitionOffsets, rule: Pick<ScaleRule, 'offsetResetPolicy'>): number {
  if (p.committed === undefined || p.committed < 0) {
    // No committed offset: with earliest the whole partition is waiting; with latest KEDA reports 1 so a
    // group at zero still wakes up (scaleToZeroOnInvalidOffset false, its default).
    return rule.offsetResetPolicy === 'earliest' ? p.latest : 1;
  }
  return Math.max(0, p.latest - p.committed);
}

export interface LagReading {
  perPartition: Array<{ partition: number; lag: number }>;
  /** Sum of the partitions' lag. */
  rawLag: number;
  /** The lag KEDA scales on (capped unless allowIdleConsumers). */
  lag: number;
}

export function readLag(partitions: PartitionOffsets[], rule: ScaleRule): LagReading {
  const perPartition = partitions.map((p) => ({ partition: p.partition, lag: partitionLag(p, rule) }));
  const rawLag = perPartition.reduce((s, p) => s + p.lag, 0);
  const cap = partitions.length * rule.lagThreshold;
  return { perPartition, rawLag, lag: rule.allowIdleConsumers || partitions.length === 0 ? rawLag : Math.min(rawLag, cap) };
}

export interface ScaleDecision {
  active: boolean;
  replicas: number;
  reason: string;
}

/** Remembers when the trigger was last active, as the ScaledObject controller does, to apply cooldownPeriod. */
export class Scaler {
  private lastActiveMs: number | undefined;
  private recommendations: Array<{ atMs: number; replicas: number }> = [];

  constructor(public rule: ScaleRule) {}

  /** The HPA's part: scale up at once, scale down no lower than the window's highest recommendation. */
  private stabilized(byLag: number, nowMs: number): { replicas: number; held: boolean } {
    const windowMs = this.rule.scaleDownStabilizationS * 1000;
    this.recommendations = this.recommendations.filter((r) => nowMs - r.atMs < windowMs);
    this.recommendations.push({ atMs: nowMs, replicas: byLag });
    const replicas = Math.max(...this.recommendations.map((r) => r.replicas));
    return { replicas, held: replicas > byLag };
  }

  decide(lag: number, nowMs: number): ScaleDecision {
    const r = this.rule;
    const floor = Math.max(r.minReplicaCount, 1);
    const byLag = Math.min(r.maxReplicaCount, Math.max(floor, Math.ceil(lag / r.lagThreshold)));
    const held = (n: { held: boolean }) => (n.held ? ` (held by the ${r.scaleDownStabilizationS}s scale-down stabilization window)` : '');
    if (lag > r.activationLagThreshold) {
      this.lastActiveMs = nowMs;
      const s = this.stabilized(byLag, nowMs);
      return { active: true, replicas: s.replicas, reason: `lag ${lag} > activation ${r.activationLagThreshold}: ceil(${lag}/${r.lagThreshold}) within [${floor}, ${r.maxReplicaCount}] = ${byLag}${held(s)}` };
    }
    if (this.lastActiveMs !== undefined && nowMs - this.lastActiveMs < r.cooldownPeriodS * 1000) {
      const left = Math.ceil((r.cooldownPeriodS * 1000 - (nowMs - this.lastActiveMs)) / 1000);
      const s = this.stabilized(byLag, nowMs);
      return { active: false, replicas: s.replicas, reason: `inactive; cooldown ${left}s left before minReplicaCount ${r.minReplicaCount}${held(s)}` };
    }
    this.recommendations = [];
    return { active: false, replicas: r.minReplicaCount, reason: `inactive past cooldown: minReplicaCount ${r.minReplicaCount}` };
  }
}
