import { strict as assert } from 'node:assert';
import { readLag, Scaler, partitionLag, type ScaleRule } from './keda';

const rule = (r: Partial<ScaleRule> = {}): ScaleRule => ({
  minReplicaCount: 0, maxReplicaCount: 10, pollingIntervalS: 30, cooldownPeriodS: 300,
  lagThreshold: 20, activationLagThreshold: 0, allowIdleConsumers: false, offsetResetPolicy: 'earliest', scaleDownStabilizationS: 0, ...r,
});
const parts = (...lags: number[]) => lags.map((lag, partition) => ({ partition, latest: 100 + lag, committed: 100 }));

describe('KEDA kafka scaling rules', () => {
  it('lag is latest − committed per partition, summed', () => {
    const r = readLag(parts(5, 0, 7, 3), rule());
    assert.deepEqual(r.perPartition.map((p) => p.lag), [5, 0, 7, 3]);
    assert.equal(r.lag, 15);
  });

  it('total lag is capped at partitions × lagThreshold unless allowIdleConsumers', () => {
    assert.equal(readLag(parts(500, 500, 500, 500), rule()).lag, 80);
    assert.equal(readLag(parts(500, 500, 500, 500), rule({ allowIdleConsumers: true })).lag, 2000);
  });

  it('a partition with no committed offset counts all its records with earliest, 1 with latest', () => {
    assert.equal(partitionLag({ partition: 0, latest: 42 }, { offsetResetPolicy: 'earliest' }), 42);
    assert.equal(partitionLag({ partition: 0, latest: 42 }, { offsetResetPolicy: 'latest' }), 1);
  });

  it('replicas = ceil(lag / lagThreshold) within [max(min, 1), max] while active', () => {
    const s = new Scaler(rule({ minReplicaCount: 0, maxReplicaCount: 10, lagThreshold: 20 }));
    assert.equal(s.decide(1, 0).replicas, 1);
    assert.equal(s.decide(41, 1000).replicas, 3);
    assert.equal(s.decide(10_000, 2000).replicas, 10);
    const floor = new Scaler(rule({ minReplicaCount: 2 }));
    assert.equal(floor.decide(1, 0).replicas, 2);
  });

  it('activation: lag at or below activationLagThreshold does not wake a consumer from zero', () => {
    const s = new Scaler(rule({ activationLagThreshold: 50 }));
    assert.deepEqual([s.decide(50, 0).active, s.decide(50, 0).replicas], [false, 0]);
    assert.equal(s.decide(51, 0).replicas, 3);
  });

  it('after cooldownPeriod of inactivity the consumers go back to minReplicaCount (0 removes them)', () => {
    const s = new Scaler(rule({ cooldownPeriodS: 300 }));
    assert.equal(s.decide(100, 0).replicas, 5);
    assert.equal(s.decide(0, 299_000).replicas, 1, 'within cooldown one consumer stays');
    assert.equal(s.decide(0, 300_000).replicas, 0);
    const floor = new Scaler(rule({ minReplicaCount: 1, cooldownPeriodS: 60 }));
    floor.decide(100, 0);
    assert.equal(floor.decide(0, 61_000).replicas, 1);
  });

  it('scaling down waits for the HPA stabilization window; scaling up does not', () => {
    const s = new Scaler(rule({ scaleDownStabilizationS: 300, cooldownPeriodS: 600 }));
    assert.equal(s.decide(100, 0).replicas, 5);
    assert.equal(s.decide(20, 60_000).replicas, 5, 'a lower recommendation within 300 s keeps 5');
    assert.equal(s.decide(200, 120_000).replicas, 10, 'up at once');
    assert.equal(s.decide(20, 421_000).replicas, 1, 'past the window the low recommendation wins');
  });
});
