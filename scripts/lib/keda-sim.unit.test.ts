import { strict as assert } from 'node:assert';
import { simulate, rateAt, chartSvg, type Profile } from './keda-sim';
import type { ScaleRule } from './keda';

const rule = (r: Partial<ScaleRule> = {}): ScaleRule => ({
  minReplicaCount: 0, maxReplicaCount: 4, pollingIntervalS: 10, cooldownPeriodS: 300, lagThreshold: 20,
  activationLagThreshold: 0, allowIdleConsumers: false, offsetResetPolicy: 'earliest', scaleDownStabilizationS: 300, ...r,
});
const surge: Profile = {
  scaledObject: 'x', durationMinutes: 60, partitions: 4, perConsumerPerSecond: 25, startupSeconds: 10,
  arrivals: [[0, 0], [10, 0], [20, 80], [40, 80], [50, 0], [60, 0]],
};

describe('keda:simulate', () => {
  it('arrival rates are linear between the profile points', () => {
    assert.equal(rateAt(surge, 15), 40);
    assert.equal(rateAt(surge, 30), 80);
  });

  it('a surge beyond what max consumers drain leaves a backlog; raising maxReplicaCount (and partitions) clears it', () => {
    const tight = simulate(surge, rule({ maxReplicaCount: 2 }));
    assert.equal(tight.summary.maxReplicas, 2);
    assert.ok(tight.summary.peakLag > 10_000, `peak ${tight.summary.peakLag}`);
    const roomy = simulate({ ...surge, partitions: 8 }, rule({ maxReplicaCount: 8 }));
    assert.ok(roomy.summary.peakLag < tight.summary.peakLag / 10, `peak ${roomy.summary.peakLag}`);
    assert.equal(roomy.summary.backlogAtEnd, 0);
  });

  it('with minReplicaCount 0 the consumers go away after the cooldown, so a quiet hour costs nothing', () => {
    const quiet: Profile = { ...surge, arrivals: [[0, 50], [5, 50], [5.01, 0], [60, 0]] };
    const toZero = simulate(quiet, rule({ cooldownPeriodS: 300 }));
    const last = toZero.samples[toZero.samples.length - 1];
    assert.equal(last.desired, 0);
    const floor = simulate(quiet, rule({ minReplicaCount: 1 }));
    assert.ok(floor.summary.consumerMinutes > toZero.summary.consumerMinutes + 40);
  });

  it('draws both panels into an SVG', () => {
    const svg = chartSvg('t', 's', simulate(surge, rule()), rule());
    assert.match(svg, /^<svg/);
    assert.match(svg, /consumer lag/);
    assert.match(svg, /stroke="#1f77b4"/);
  });
});
