import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { Bundle } from '../scripts/lib/runtime/bundle';
import { memoryBus } from '../scripts/lib/laptop/memory-bus';

const run = promisify(execFile);
const ROOT = path.join(__dirname, '..');
const plan = (env: NodeJS.ProcessEnv) => run(process.execPath, ['--require', 'tsx/cjs', path.join(ROOT, 'scripts/keda-plan.ts')], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'silent', ...env } });

/** replicas KEDA asks for given the printed lag: ceil(min(lag, 4 × 20) / 20) within [1, 4] (keda/booking-consumer-source.yaml). */
const expected = (lag: number) => (lag > 0 ? Math.min(4, Math.max(1, Math.ceil(Math.min(lag, 80) / 20))) : 0);

describe('npm run keda:plan', function () {
  this.timeout(60_000);

  it('reads the live lag of the consumer group from Kafka and prints the replicas the rule asks for', async () => {
    const brokers = process.env.TEST_KAFKA_BROKERS;
    assert.ok(brokers, 'TEST_KAFKA_BROKERS is set by npm test');
    const producer = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({ topic: 'booking-requests', messages: Array.from({ length: 30 }, (_, i) => ({ key: `plan-${i}`, value: '{}' })) });
    await producer.disconnect();
    const { stdout } = await plan({ KAFKA_BROKERS: brokers });
    // The booking consumer's block (the plan prints one per ScaledObject, in name order).
    const block = stdout.slice(stdout.indexOf('booking-consumer-source'));
    const lag = Number(/lag\s+(\d+)/.exec(block)?.[1]);
    const replicas = Number(/replicas\s+(\d+)/.exec(block)?.[1]);
    assert.ok(lag >= 1, stdout);
    assert.equal(replicas, expected(lag), stdout);
    assert.match(stdout, /booking-consumer-source\s+topic booking-requests\s+group booking-consumer/);
  });

  it('asks the running local runtime when KAFKA_BROKERS is unset', async () => {
    // The in-process bus belongs to this test process, which runs other files too: start from an empty one.
    memoryBus.clear();
    const bundle = await new Bundle({ port: 0, schedules: false }).start();
    try {
      await bundle.pollScalers();
      const { stdout } = await plan({ KAFKA_BROKERS: '', PORT: new URL(bundle.url).port });
      assert.match(stdout, /local runtime at .*in-process bus/);
      assert.match(stdout, /replicas\s+0 \(running now: 0\)\s+inactive/);
    } finally {
      await bundle.stop();
      memoryBus.clear();
    }
  });

  it('says what to do when there is neither Kafka nor a local runtime', async () => {
    await assert.rejects(plan({ KAFKA_BROKERS: '', PORT: '1' }), (err: { stderr: string }) => /Start the bundle with `npm start`, or set KAFKA_BROKERS/.test(err.stderr));
  });
});
