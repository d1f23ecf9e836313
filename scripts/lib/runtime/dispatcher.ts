// A KafkaSource on a laptop: a consumer group of N members (spec.consumers, or what KEDA asks for), each
// turning records into CloudEvents as Knative does and delivering them to the sink with the source's
// delivery spec. With KAFKA_BROKERS the members are kafkajs consumers of the group on real Kafka; without,
// they read the in-process bus's partitioned log, with the group's committed offsets kept in memory.
// ordering: ordered (default) delivers one record at a time per partition, in offset order (a member with
// several partitions works on them side by side, as Knative's dispatcher does); unordered does not wait for
// the sink before the next record.
import type { Admin, Consumer } from 'kafkajs';
import { kafkaClient } from '../../../functions/shared/kafka';
import { memoryBus, type MemoryBus } from '../laptop/memory-bus';
import type { KafkaSourceManifest } from '../manifests';
import type { PartitionOffsets } from '../keda';
import { recordToEvent, type KafkaRecord } from './cloudevents';
import { deliver, type DeliveryResult } from './delivery';
import { logger } from '../../../functions/shared/log';

export interface SourceBinding {
  source: KafkaSourceManifest;
  sinkUrl: string;
  deadLetterUrl?: string;
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

const log = logger.child({ component: 'kafka-source' });

/** Delivery of one record, shared by both kinds of group. */
class Deliverer {
  readonly counts = { delivered: 0, 'dead-lettered': 0, dropped: 0 };
  stopped = false;
  constructor(readonly binding: SourceBinding) {}

  async handle(record: KafkaRecord): Promise<void> {
    const { source, sinkUrl, deadLetterUrl } = this.binding;
    let event;
    try {
      event = recordToEvent(record, source);
    } catch (err) {
      // Headers claim a CloudEvent but it is malformed: Knative cannot deliver it either; drop with a log.
      log.error({ source: source.name, topic: record.topic, partition: record.partition, offset: record.offset, err: String(err) }, 'record is not a valid CloudEvent; dropped');
      this.counts.dropped++;
      return;
    }
    const result = await deliver(event, sinkUrl, source.delivery, deadLetterUrl, {
      stopped: () => this.stopped,
      onAttempt: (attempt, code, error) => {
        if (code === undefined || code >= 300) log.warn({ source: source.name, event: { id: event.id, type: event.type }, attempt, code, error }, 'delivery attempt failed');
      },
    });
    this.counts[result.outcome]++;
    const line = { source: source.name, topic: record.topic, partition: record.partition, offset: record.offset, event: { id: event.id, type: event.type }, ...result };
    if (result.outcome === 'delivered') log.info(line, `delivered ${event.type} → ${source.sink.service ?? source.sink.uri}`);
    else log.error(line, result.outcome === 'dead-lettered' ? 'event sent to the dead-letter sink' : 'event dropped after retries (no dead-letter sink)');
  }
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
    const offClear = this.bus.onClear(() => this.committed.clear());
    this.unsubscribe = () => { offAppend(); offClear(); };
  }

  get source() { return this.deliverer.binding.source; }
  get counts() { return this.deliverer.counts; }
  get replicas() { return this.members.length; }

  async setReplicas(n: number): Promise<void> {
    if (n === this.members.length || this.deliverer.stopped) return;
    // A rebalance: every member stops after its current record, partitions are dealt again.
    const old = this.members;
    for (const m of old) { m.stopped = true; wake(m); }
    await Promise.allSettled(old.map((m) => m.running));
    const all = this.source.topics.flatMap((t) => Array.from({ length: this.bus.partitions }, (_, p) => [t, p] as [string, number]));
    this.members = Array.from({ length: n }, () => ({ id: this.nextId++, partitions: [] as Array<[string, number]>, waiters: new Set<() => void>(), stopped: false }));
    all.forEach((tp, i) => { if (n) this.members[i % n].partitions.push(tp); });
    for (const m of this.members) m.running = Promise.allSettled(m.partitions.map(([topic, p]) => this.runPartition(m, topic, p)));
    log.info({ source: this.source.name, consumers: n }, `consumer group ${this.source.consumerGroup} now has ${n} member(s)`);
  }

  /** One partition of a member: records in offset order, the offset committed once each is handled. */
  private async runPartition(member: Member, topic: string, partition: number): Promise<void> {
    const key = `${topic}/${partition}`;
    const inFlight = new Set<Promise<void>>();
    while (!member.stopped) {
      const offset = this.committed.get(key) ?? 0;
      const log = this.bus.log(topic)[partition];
      if (offset >= log.length) {
        await new Promise<void>((resolve) => member.waiters.add(resolve));
        continue;
      }
      const r = log[offset];
      const work = this.deliverer.handle({ topic, partition, offset: r.offset, key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp });
      if (this.source.ordering === 'ordered') await work;
      else {
        inFlight.add(work);
        work.finally(() => inFlight.delete(work)).catch(() => undefined);
        if (inFlight.size >= 16) await Promise.race(inFlight);
      }
      this.committed.set(key, offset + 1);
    }
    await Promise.allSettled([...inFlight]);
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

  async stop(): Promise<void> {
    this.deliverer.stopped = true;
    this.unsubscribe?.();
    for (const m of this.members) { m.stopped = true; wake(m); }
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

/** The group on Kafka: each member a kafkajs consumer of the source's consumer group. */
export class KafkaDispatcher implements Dispatcher {
  private readonly deliverer: Deliverer;
  private members: Consumer[] = [];
  private admin?: Admin;

  constructor(binding: SourceBinding, private readonly brokers: string[]) {
    this.deliverer = new Deliverer(binding);
  }

  get source() { return this.deliverer.binding.source; }
  get counts() { return this.deliverer.counts; }
  get replicas() { return this.members.length; }

  private async addMember(): Promise<Consumer> {
    const consumer = kafkaClient(`kafkasource-${this.source.name}`, this.brokers).consumer({
      groupId: this.source.consumerGroup,
      allowAutoTopicCreation: true,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
    });
    await consumer.connect();
    for (const topic of this.source.topics) await consumer.subscribe({ topic, fromBeginning: this.source.initialOffset === 'earliest' });
    await consumer.run({
      autoCommit: true,
      // Partitions side by side, each in offset order (kafkajs keeps order within a partition).
      partitionsConsumedConcurrently: 16,
      eachMessage: async ({ topic, partition, message, heartbeat }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
        const work = this.deliverer.handle({
          topic, partition, offset: message.offset, key: message.key?.toString('utf8') ?? null,
          value: message.value?.toString('utf8') ?? null, headers, timestamp: message.timestamp,
        });
        if (this.source.ordering === 'unordered') { work.catch(() => undefined); return; }
        // Long retries must not cost the group membership.
        const beat = setInterval(() => heartbeat().catch(() => undefined), 3000);
        try { await work; } finally { clearInterval(beat); }
      },
    });
    return consumer;
  }

  async setReplicas(n: number): Promise<void> {
    if (this.deliverer.stopped) return;
    while (this.members.length < n) this.members.push(await this.addMember());
    while (this.members.length > n) await this.members.pop()!.disconnect().catch(() => undefined);
    log.info({ source: this.source.name, consumers: n }, `consumer group ${this.source.consumerGroup} now has ${n} member(s)`);
  }

  async offsets(): Promise<PartitionOffsets[]> {
    if (!this.admin) {
      this.admin = kafkaClient(`keda-${this.source.name}`, this.brokers).admin();
      await this.admin.connect();
    }
    return groupOffsets(this.admin, this.source.consumerGroup, this.source.topics);
  }

  async stop(): Promise<void> {
    this.deliverer.stopped = true;
    await Promise.allSettled(this.members.map((m) => m.disconnect()));
    this.members = [];
    await this.admin?.disconnect().catch(() => undefined);
  }
}
