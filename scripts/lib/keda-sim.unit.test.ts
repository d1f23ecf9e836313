import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { simulate, rateAt, chartSvg, applySettings, parseSimulateArgs, waitLine, SettingError, SETTINGS, type Profile } from './keda-sim';
import type { ScaleRule } from './keda';
import { checkManifests } from './manifest-checks';
import { ROOT } from './manifests';
import { copyManifests } from '../../test/support/manifests';

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

describe('keda:simulate tells the truth about events that are never consumed', () => {
  it('maxReplicaCount 0 under load: every event waits for ever, and the report says so instead of a wait in seconds', () => {
    const none = simulate(surge, rule({ maxReplicaCount: 0 }));
    assert.equal(none.summary.maxReplicas, 0);
    assert.equal(none.summary.worstWaitS, Infinity);
    assert.equal(none.summary.unconsumed, Math.floor(none.summary.events / surge.partitions + 1e-6) * surge.partitions);
    assert.ok(none.summary.unconsumed > 100_000, `${none.summary.unconsumed}`);
    assert.match(waitLine(none.summary), new RegExp(`^unbounded: ${none.summary.unconsumed} events are never consumed`));
  });

  it('events below activationLagThreshold with no consumer left are never consumed either', () => {
    const trickle: Profile = { ...surge, arrivals: [[0, 0.01], [60, 0.01]] };
    const held = simulate(trickle, rule({ activationLagThreshold: 50 }));
    assert.equal(held.summary.maxReplicas, 0);
    assert.ok(held.summary.unconsumed > 0 && held.summary.worstWaitS === Infinity, JSON.stringify(held.summary));
  });

  it('events still waiting when the profile ends but drained afterwards count with their real wait', () => {
    const slow = simulate({ ...surge, perConsumerPerSecond: 5 }, rule());
    assert.ok(slow.summary.backlogAtEnd > 1000, `${slow.summary.backlogAtEnd}`);
    assert.equal(slow.summary.unconsumed, 0);
    assert.ok(slow.summary.drainedS > 0 && slow.summary.worstWaitS > slow.summary.drainedS, JSON.stringify(slow.summary));
    assert.match(waitLine(slow.summary), /s from arrival to consumption \(\d+ events still waited when the profile ended; the last was consumed \d+ s later\)/);
  });

  it('a consumer that is always there and never busy: no event waits; one that starts late: the first events wait that long', () => {
    const light: Profile = { ...surge, arrivals: [[0, 2], [60, 2]] };
    assert.equal(simulate({ ...light, startupSeconds: 0 }, rule({ minReplicaCount: 1, maxReplicaCount: 1 })).summary.worstWaitS, 0);
    const late = simulate({ ...light, startupSeconds: 30 }, rule());
    assert.ok(late.summary.worstWaitS >= 30 && late.summary.worstWaitS < 30 + 10 + 5, `${late.summary.worstWaitS}`);
  });
});

describe('keda:simulate --set holds each value to the rules the YAML is held to', () => {
  const base = rule();

  const refused: Array<[string, RegExp]> = [
    ['maxReplicaCount=-1', /^--set maxReplicaCount=-1: must be ≥ 0/],
    ['minReplicaCount=1.5', /^--set minReplicaCount=1\.5: must be an integer/],
    ['pollingInterval=ten', /^--set pollingInterval=ten: must be an integer/],
    ['cooldownPeriod=', /^--set cooldownPeriod=: must be an integer/],
    ['cooldownPeriod=-5', /^--set cooldownPeriod=-5: must be ≥ 0/],
    ['lagThreshold=0', /^--set lagThreshold=0: must be > 0/],
    ['lagThreshold=2.5', /^--set lagThreshold=2\.5: must be an integer/],
    ['activationLagThreshold=-1', /^--set activationLagThreshold=-1: must be ≥ 0/],
    ['allowIdleConsumers=yes', /^--set allowIdleConsumers=yes: must be true or false/],
    ['partitions=0', /^--set partitions=0: must be ≥ 1/],
    ['partitions=2.5', /^--set partitions=2\.5: must be an integer/],
    ['perConsumerPerSecond=0', /^--set perConsumerPerSecond=0: must be > 0/],
    ['startupSeconds=-1', /^--set startupSeconds=-1: must be ≥ 0/],
    ['maxReplicaCount=0x10', /^--set maxReplicaCount=0x10: must be an integer/],
    ['replicas=3', /^--set replicas=3: unknown key replicas \(ScaledObject: minReplicaCount, /],
    ['lagThreshold', /^--set lagThreshold: give a value/],
  ];
  for (const [set, message] of refused) {
    it(`refuses --set ${set}, naming the key`, () => {
      assert.throws(() => applySettings(base, surge, [set]), (err: unknown) => {
        assert.ok(err instanceof SettingError);
        assert.equal(err.key, set.split('=')[0]);
        assert.match(err.message, message);
        return true;
      });
    });
  }

  it('minReplicaCount above maxReplicaCount is refused, naming the key that was set', () => {
    assert.throws(() => applySettings(base, surge, ['minReplicaCount=5']), (err: SettingError) => err.key === 'minReplicaCount' && /^--set minReplicaCount=5: above maxReplicaCount 4/.test(err.message));
    assert.throws(() => applySettings(rule({ minReplicaCount: 2 }), surge, ['maxReplicaCount=1']), (err: SettingError) => err.key === 'maxReplicaCount' && /below minReplicaCount 2/.test(err.message));
    assert.equal(applySettings(base, surge, ['minReplicaCount=6', 'maxReplicaCount=8']).rule.minReplicaCount, 6);
  });

  it('applies accepted values to copies of the rule and the profile', () => {
    const { rule: r, profile: p, changed } = applySettings(base, surge, ['lagThreshold=40', 'maxReplicaCount=8', 'partitions=8', 'allowIdleConsumers=true', 'startupSeconds=2.5']);
    assert.deepEqual([r.lagThreshold, r.maxReplicaCount, r.allowIdleConsumers, p.partitions, p.startupSeconds], [40, 8, true, 8, 2.5]);
    assert.deepEqual(changed, ['lagThreshold=40', 'maxReplicaCount=8', 'partitions=8', 'allowIdleConsumers=true', 'startupSeconds=2.5']);
    assert.equal(base.lagThreshold, 20, 'the rule read from the YAML is left as it was');
  });

  it('reads the command line: one profile, --set key=value or --set=key=value, nothing else', () => {
    assert.deepEqual(parseSimulateArgs(['morning-surge', '--set', 'a=1', '--set=b=2']), { profile: 'morning-surge', sets: ['a=1', 'b=2'] });
    assert.throws(() => parseSimulateArgs(['morning-surge', '--sett', 'x']), /unknown option --sett/);
    assert.throws(() => parseSimulateArgs(['morning-surge', '--set']), /--set needs key=value/);
    assert.throws(() => parseSimulateArgs([]), /name a profile/);
    assert.throws(() => parseSimulateArgs(['a', 'b']), /one profile at a time/);
  });

  it('manifests:check refuses the same ScaledObject values in keda/ (and accepts what --set accepts)', async function () {
    this.timeout(60_000);
    const SCALED = 'keda/booking-consumer-source.yaml';
    const spec = (key: string, value: string) => (t: string) => t.replace(new RegExp(`\n  ${key}: .*\n`), `\n  ${key}: ${value}\n`);
    const meta = (key: string, value: string) => (t: string) => t.replace(new RegExp(`\n        ${key}: .*\n`), `\n        ${key}: "${value}"\n`);
    const cases: Array<[string, string, (t: string) => string, boolean]> = [
      ['minReplicaCount', '-1', spec('minReplicaCount', '-1'), false],
      ['minReplicaCount', '1.5', spec('minReplicaCount', '1.5'), false],
      ['minReplicaCount', '5', spec('minReplicaCount', '5'), false],
      ['maxReplicaCount', '-1', spec('maxReplicaCount', '-1'), false],
      ['maxReplicaCount', '8', spec('maxReplicaCount', '8'), true],
      ['pollingInterval', '2.5', spec('pollingInterval', '2.5'), false],
      ['cooldownPeriod', '-5', spec('cooldownPeriod', '-5'), false],
      ['lagThreshold', '0', meta('lagThreshold', '0'), false],
      ['lagThreshold', '40', meta('lagThreshold', '40'), true],
      ['activationLagThreshold', '-1', meta('activationLagThreshold', '-1'), false],
    ];
    for (const [key, value, edit, ok] of cases) {
      assert.ok(SETTINGS[key]);
      const copy = copyManifests({ [SCALED]: edit });
      try {
        const { findings } = await checkManifests({ dirs: copy.dirs, secretKeysFile: copy.secretKeysFile });
        const mine = findings.filter((f) => f.file.endsWith('booking-consumer-source.yaml'));
        assert.equal(mine.length === 0, ok, `manifests:check on ${key}: ${value}: ${JSON.stringify(mine)}`);
      } finally {
        copy.cleanup();
      }
      let accepted = true;
      try { applySettings(base, surge, [`${key}=${value}`]); } catch (err) { if (!(err instanceof SettingError)) throw err; accepted = false; }
      assert.equal(accepted, ok, `--set ${key}=${value}`);
    }
  });

  it('npm run keda:simulate exits 2 naming the key, and reports never-consumed events honestly', () => {
    const run = (...args: string[]) => spawnSync(process.execPath, ['--require', 'tsx/cjs', path.join(ROOT, 'scripts/keda-simulate.ts'), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'silent' } });
    const bad = run('morning-surge', '--set', 'maxReplicaCount=-1');
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /--set maxReplicaCount=-1: must be ≥ 0/);
    const none = run('morning-surge', '--set', 'maxReplicaCount=0');
    assert.equal(none.status, 0, none.stderr);
    assert.match(none.stdout, /worst wait\s+unbounded: \d+ events are never consumed/);
    assert.doesNotMatch(none.stdout, /worst wait\s+[\d.]+ s/);
  });
});
