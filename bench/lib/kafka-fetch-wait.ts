// The Kafka mock broker (librdkafka's mock cluster) answers a Fetch only when its maxWaitTime runs out: unlike
// Kafka, it does not wake a waiting fetch when records arrive. With a long maxWaitTimeInMs (kafkajs' default 5000;
// the dispatcher's members ask for 1000) a record could wait that long in the broker, and the bench would measure
// the mock's long poll, not the pipeline. So, in the bench process only, every kafkajs consumer (the dispatcher's
// members and the reference consumer alike) waits at most FETCH_WAIT_MS per fetch, whatever its config asks: an
// idle consumer polls that often, which is as close as the mock gets to Kafka's "answer as soon as there are
// records". bench/RESULTS.md states the value.
import { Kafka, type ConsumerConfig } from 'kafkajs';

export const FETCH_WAIT_MS = 20;

let installed = false;

export function shortFetchWait(ms = FETCH_WAIT_MS): void {
  if (installed) return;
  installed = true;
  const proto = Kafka.prototype as unknown as { consumer(this: Kafka, config: ConsumerConfig): unknown };
  const original = proto.consumer;
  proto.consumer = function consumer(this: Kafka, config: ConsumerConfig) {
    return original.call(this, { ...config, maxWaitTimeInMs: Math.min(config.maxWaitTimeInMs ?? ms, ms) });
  };
}
