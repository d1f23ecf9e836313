// A KafkaSource on a laptop: a consumer group of N members (spec.consumers, or what KEDA asks for), each
// turning records into CloudEvents as Knative does and delivering them to the sink with the source's
// delivery spec. With KAFKA_BROKERS the members are kafkajs consumers of the group on real Kafka; without,
// they read the in-process bus's partitioned log, with the group's committed offsets kept in memory.
// Each partition of a member is a lane of its own (partition-lane.ts): a record in retries on one partition
// never holds back another. ordering: ordered (default) delivers one record at a time per partition, in
// offset order; unordered delivers up to PARTITION_CAPACITY records of a partition side by side. Offsets are
// committed only below the oldest unfinished record (at-least-once), never before the sink has answered.
import type { Admin, Consumer } from 'kafkajs';
import { kafkaClient } from '../../../functions/shared/kafka';
import { memoryBus, type MemoryBus } from '../laptop/memory-bus';
import type { KafkaSourceManifest } from '../manifests';
import type { PartitionOffsets } from '../keda';
import { recordToEvent, type KafkaRecord } from './cloudevents';
import { deliver, type DeliveryResult } from './delivery';
import { PartitionLane, PARTITION_CAPACITY } from './partition-lane';
import { logger, type Logger } from '../../../functions/shared/log';
import { contextFrom, failed, headerCarrier, inSpan, SpanKind } from '../../../functions/shared/telemetry';

export interface SourceBinding {
  source: KafkaSourceManifest;
  sinkUrl: string;
  deadLetterUrl?: string;
  /** Unfinished records a partition holds at most (default PARTITION_CAPACITY, 50). */
  partitionCapacity?: number;
  /** Where the source logs (default: the runtime's logger). */
  log?: Logger;
}

export interface Dispatcher {
  readonly source: KafkaSourceManifest;
  /** Consumer instances running in the group now. */
  readonly replicas: number;
  setReplicas(n: number): Promise<void>;
  /** Latest and committed offset of every partition of the source's topics, for KEDA's lag. */
  offsets(): Promise<PartitionOffsets[]>;
  stop(): Promise<void>;
  /** Records handled so far, by outcome. */
  readonly counts: Record<DeliveryResult['outcome'], number>;
}

/** Delivery of one record, shared by both kinds of group. */
class Deliverer {
  readonly counts: Record<DeliveryResult['outcome'], number> = { delivered: 0, 'dead-lettered': 0, dropped: 0, lost: 0, interrupted: 0 };
  readonly log: Logger;
  constructor(readonly binding: SourceBinding) {
    this.log = (binding.log ?? logger).child({ component: 'kafka-source' });
  }

  lane(ordered: boolean, commit: (offset: number) => Promise<boolean> | boolean, onRoom?: () => void): PartitionLane {
    return new PartitionLane({ ordered, capacity: this.binding.partitionCapacity ?? PARTITION_CAPACITY, handle: (r, signal) => this.handle(r, signal), commit, onRoom });
  }

  /** Delivers one record; false when the delivery was interrupted (its offset must not be committed). */
  async handle(record: KafkaRecord, signal: AbortSignal): Promise<boolean> {
    const { source, sinkUrl, deadLetterUrl } = this.binding;
    const at = { source: source.name, topic: record.topic, partition: record.partition, offset: record.offset };
    let result: DeliveryResult;
    let event: { id: string; type: string } | undefined;
    try {
      const wire = recordToEvent(record, source);
      event = { id: wire.attributes.id, type: wire.attributes.type };
      result = await traceDelivery(record, wire.attributes, source, () => deliver(wire, sinkUrl, source.delivery, deadLetterUrl, {
        signal,
        onAttempt: (attempt, code, error, target) => {
          if (code === undefined || code >= 300) this.log.warn({ ...at, event, target, attempt, code, error }, target === 'dead-letter' ? 'dead-letter attempt failed' : 'delivery attempt failed');
        },
      }));
    } catch (err) {
      // Not expected (deliver answers every failure with an outcome): the record stays uncommitted.
      this.log.error({ ...at, event, err: String(err) }, 'delivery failed unexpectedly; the record is not committed');
      return false;
    }
    this.counts[result.outcome]++;
    const line = { ...at, event, ...result };
    switch (result.outcome) {
      case 'delivered': this.log.info(line, `delivered ${event.type} → ${source.sink.service ?? source.sink.uri}`); break;
      case 'dead-lettered': this.log.error(line, 'event sent to the dead-letter sink'); break;
      case 'dropped': this.log.error(line, 'event dropped after retries (no dead-letter sink)'); break;
      case 'lost': this.log.error(line, 'event LOST: the sink and the dead-letter sink both refused it; offset committed, moving on'); break;
      case 'interrupted': this.log.warn(line, 'delivery interrupted by a stop or a rebalance; not committed, it will be delivered again'); break;
    }
    return result.outcome !== 'interrupted';
  }
}

/**
 * The delivery's span, as Knative's Kafka data plane traces it: a child of the context the record's
 * traceparent header carries (else of the event's own distributed-tracing extension), sent on to the sink
 * as its traceparent header (delivery.ts), while the event's ce-traceparent passes through untouched.
 */
function traceDelivery(record: KafkaRecord, attributes: Record<string, string>, source: KafkaSourceManifest, delivery: () => Promise<DeliveryResult>): Promise<DeliveryResult> {
  return inSpan(`deliver ${attributes.type}`, {
    kind: SpanKind.CONSUMER,
    parent: contextFrom(headerCarrier(record.headers)) ?? contextFrom({ traceparent: attributes.traceparent, tracestate: attributes.tracestate }),
    attributes: {
      'knative.source': `KafkaSource/${source.name}`, 'messaging.system': 'kafka', 'messaging.operation.type': 'process',
      'messaging.destination.name': record.topic, 'messaging.destination.partition.id': String(record.partition),
      'messaging.kafka.offset': Number(record.offset), 'messaging.consumer.group.name': source.consumerGroup,
      'cloudevents.event_id': attributes.id, 'cloudevents.event_type': attributes.type, 'cloudevents.event_source': attributes.source,
    },
  }, async (span) => {
    const result = await delivery();
    span?.setAttributes({ 'knative.delivery.outcome': result.outcome, 'knative.delivery.attempts': result.attempts });
    if (result.outcome !== 'delivered') failed(span, result.outcome);
    return result;
  });
}

interface Member {
  id: number;
  partitions: Array<[string, number]>;
  running?: Promise<unknown>;
  waiters: Set<() => void>;
  stopped: boolean;
}

const wake = (m: Member) => { for (const w of m.waiters) w(); m.waiters.clear(); };

/** The group on the in-process bus: committed offsets per partition, partitions dealt round-robin to members. */
export class MemoryDispatcher implements Dispatcher {
  private readonly deliverer: Deliverer;
  private readonly committed = new Map<string, number>();
  private members: Member[] = [];
  private unsubscribe?: () => void;
  private nextId = 0;
  private stopped = false;
  /** Lanes of every member, so a stop reaches those still finishing a rebalance. */
  private readonly lanes = new Set<PartitionLane>();
  /** Bumped when the bus is cleared: lanes of the old logs stop taking and committing. */
  private generation = 0;

  constructor(binding: SourceBinding, private readonly bus: MemoryBus = memoryBus) {
    this.deliverer = new Deliverer(binding);
    for (const topic of binding.source.topics) {
      this.bus.log(topic).forEach((records, p) => {
        this.committed.set(`${topic}/${p}`, binding.source.initialOffset === 'earliest' ? 0 : records.length);
      });
    }
    const offAppend = this.bus.onAppend((topic) => {
      if (binding.source.topics.includes(topic)) for (const m of this.members) wake(m);
    });
    const offClear = this.bus.onClear(() => {
      this.committed.clear();
      this.generation++;
      for (const m of this.members) wake(m);
    });
    this.unsubscribe = () => { offAppend(); offClear(); };
  }

  get source() { return this.deliverer.binding.source; }
  get counts() { return this.deliverer.counts; }
  get replicas() { return this.members.length; }

  async setReplicas(n: number): Promise<void> {
    if (n === this.members.length || this.stopped) return;
    // A rebalance: every member lets go of what it has not started and finishes what is in flight,
    // then the partitions are dealt again and read from their committed offsets.
    const old = this.members;
    for (const m of old) { m.stopped = true; wake(m); }
    await Promise.allSettled(old.map((m) => m.running));
    if (this.stopped) return;
    const all = this.source.topics.flatMap((t) => Array.from({ length: this.bus.partitions }, (_, p) => [t, p] as [string, number]));
    this.members = Array.from({ length: n }, () => ({ id: this.nextId++, partitions: [] as Array<[string, number]>, waiters: new Set<() => void>(), stopped: false }));
    all.forEach((tp, i) => { if (n) this.members[i % n].partitions.push(tp); });
    for (const m of this.members) m.running = Promise.allSettled(m.partitions.map(([topic, p]) => this.runPartition(m, topic, p)));
    this.deliverer.log.info({ source: this.source.name, consumers: n }, `consumer group ${this.source.consumerGroup} now has ${n} member(s)`);
  }

  /** One partition of a member: reads from the committed offset into its lane while the lane has room. */
  private async runPartition(member: Member, topic: string, partition: number): Promise<void> {
    const key = `${topic}/${partition}`;
    let generation = this.generation;
    const newLane = () => {
      const g = generation;
      const lane = this.deliverer.lane(this.source.ordering === 'ordered', (offset) => {
        if (g === this.generation) this.committed.set(key, offset);
        return true;
      }, () => wake(member));
      this.lanes.add(lane);
      return lane;
    };
    let lane = newLane();
    let position = this.committed.get(key) ?? 0;
    while (!member.stopped) {
      if (generation !== this.generation) {
        // The bus was emptied: what this lane holds belongs to records that no longer exist.
        void lane.close();
        this.lanes.delete(lane);
        generation = this.generation;
        lane = newLane();
        position = 0;
      }
      const log = this.bus.log(topic)[partition];
      if (lane.full || position >= log.length) {
        await new Promise<void>((resolve) => member.waiters.add(resolve));
        continue;
      }
      const r = log[position++];
      lane.take({ topic, partition, offset: r.offset, key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp });
    }
    if (this.stopped) await lane.close();
    else await lane.settle();
    this.lanes.delete(lane);
  }

  async offsets(): Promise<PartitionOffsets[]> {
    return this.source.topics.flatMap((topic) => this.bus.log(topic).map((records, partition) => ({
      partition, latest: records.length, committed: this.committed.get(`${topic}/${partition}`),
    })));
  }

  /** Resolves when every record appended so far has been handled by a member (tests use it). */
  async idle(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const waiting = (await this.offsets()).some((p) => (p.committed ?? 0) < p.latest);
      if (!waiting || !this.members.length || Date.now() > deadline) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Stops at once: deliveries in flight are interrupted and not committed (they are delivered again). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    for (const m of this.members) { m.stopped = true; wake(m); }
    await Promise.allSettled([...this.lanes].map((l) => l.close()));
    await Promise.allSettled(this.members.map((m) => m.running));
    this.members = [];
  }
}

/** Latest and committed offset of every partition of `topics` for a consumer group, as KEDA reads them. */
export async function groupOffsets(admin: Admin, groupId: string, topics: string[]): Promise<PartitionOffsets[]> {
  const out: PartitionOffsets[] = [];
  const committed = await admin.fetchOffsets({ groupId, topics });
  for (const topic of topics) {
    const latest = await admin.fetchTopicOffsets(topic);
    const group = committed.find((c) => c.topic === topic)?.partitions ?? [];
    for (const p of latest) {
      const c = group.find((g) => g.partition === p.partition)?.offset;
      out.push({ partition: p.partition, latest: Number(p.high), committed: c === undefined || c === '-1' ? undefined : Number(c) });
    }
  }
  return out;
}

const headerText = (v: Buffer | string | (Buffer | string)[] | undefined): string | undefined => {
  const last = Array.isArray(v) ? v[v.length - 1] : v;
  return last === undefined ? undefined : Buffer.isBuffer(last) ? last.toString('utf8') : String(last);
};

/**
 * One member of the group on Kafka. kafkajs hands a fetch's batches over one partition after another and
 * fetches again only when all are done, so eachMessage only puts the record in its partition's lane; a
 * full lane pauses its partition until it has room. Offsets are committed by the lanes (autoCommit off).
 */
class KafkaMember {
  private readonly lanes = new Map<string, PartitionLane>();
  /** Partitions of the current generation (from the last GROUP_JOIN). */
  private assigned?: Set<string>;
  private stopping = false;
  readonly consumer: Consumer;

  constructor(private readonly deliverer: Deliverer, brokers: string[]) {
    const { source } = deliverer.binding;
    this.consumer = kafkaClient(`kafkasource-${source.name}`, brokers).consumer({
      groupId: source.consumerGroup,
      allowAutoTopicCreation: true,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      // How long a fetch waits for records; also how soon a resumed partition is fetched when every
      // partition of the member was paused.
      maxWaitTimeInMs: 1000,
    });
  }

  private get source() { return this.deliverer.binding.source; }

  private lane(topic: string, partition: number): PartitionLane {
    const key = `${topic}/${partition}`;
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = this.deliverer.lane(this.source.ordering === 'ordered', async (offset) => {
        try {
          await this.consumer.commitOffsets([{ topic, partition, offset: String(offset) }]);
          return true;
        } catch (err) {
          this.deliverer.log.warn({ source: this.source.name, topic, partition, offset, err: String(err) }, 'offset commit failed; trying again');
          return false;
        }
      }, () => this.resume(topic, partition));
      this.lanes.set(key, lane);
    }
    return lane;
  }

  private resume(topic: string, partition: number): void {
    try { this.consumer.resume([{ topic, partitions: [partition] }]); } catch { /* not running (stopping): nothing to fetch */ }
  }

  /** A rebalance: partitions taken away drop their work uncommitted (the new owner reads it again). */
  private assign(assignment: Record<string, number[]>): void {
    const now = new Set(Object.entries(assignment).flatMap(([topic, ps]) => ps.map((p) => `${topic}/${p}`)));
    for (const [key, lane] of this.lanes) {
      if (now.has(key)) continue;
      this.lanes.delete(key);
      void lane.close();
      const [topic, p] = [key.slice(0, key.lastIndexOf('/')), Number(key.slice(key.lastIndexOf('/') + 1))];
      // Paused state outlives the assignment in kafkajs: a partition that comes back must be fetched.
      this.resume(topic, p);
    }
    this.assigned = now;
  }

  async start(): Promise<void> {
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => this.assign(e.payload.memberAssignment));
    await this.consumer.connect();
    for (const topic of this.source.topics) await this.consumer.subscribe({ topic, fromBeginning: this.source.initialOffset === 'earliest' });
    await this.consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        if (this.stopping || (this.assigned && !this.assigned.has(`${topic}/${partition}`))) return;
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) {
          const text = headerText(v);
          if (text !== undefined) headers[k] = text;
        }
        const lane = this.lane(topic, partition);
        lane.take({
          topic, partition, offset: message.offset, key: message.key?.toString('utf8') ?? null,
          value: message.value ?? null, headers, timestamp: message.timestamp,
        });
        if (lane.full) this.consumer.pause([{ topic, partitions: [partition] }]);
      },
    });
  }

  /** Leaves the group; deliveries in flight are interrupted and not committed. */
  async stop(): Promise<void> {
    this.stopping = true;
    const lanes = [...this.lanes.values()];
    this.lanes.clear();
    await Promise.allSettled(lanes.map((l) => l.close()));
    await this.consumer.disconnect().catch(() => undefined);
  }
}

/** The group on Kafka: each member a kafkajs consumer of the source's consumer group. */
export class KafkaDispatcher implements Dispatcher {
  private readonly deliverer: Deliverer;
  private members: KafkaMember[] = [];
  private admin?: Admin;
  private stopped = false;

  constructor(binding: SourceBinding, private readonly brokers: string[]) {
    this.deliverer = new Deliverer(binding);
  }

  get source() { return this.deliverer.binding.source; }
  get counts() { return this.deliverer.counts; }
  get replicas() { return this.members.length; }

  async setReplicas(n: number): Promise<void> {
    if (this.stopped) return;
    while (this.members.length < n) {
      const member = new KafkaMember(this.deliverer, this.brokers);
      await member.start();
      this.members.push(member);
    }
    while (this.members.length > n) await this.members.pop()!.stop();
    this.deliverer.log.info({ source: this.source.name, consumers: n }, `consumer group ${this.source.consumerGroup} now has ${n} member(s)`);
  }

  async offsets(): Promise<PartitionOffsets[]> {
    if (!this.admin) {
      this.admin = kafkaClient(`keda-${this.source.name}`, this.brokers).admin();
      await this.admin.connect();
    }
    return groupOffsets(this.admin, this.source.consumerGroup, this.source.topics);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled(this.members.map((m) => m.stop()));
    this.members = [];
    await this.admin?.disconnect().catch(() => undefined);
  }
}
