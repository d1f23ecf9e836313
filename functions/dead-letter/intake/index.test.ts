// The dead-letter intake as Knative's delivery calls it: the failed event with knativeerrordest,
// knativeerrorcode and knativeerrordata, at the sink URL its KafkaSource names (?kafkasource=).
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import * as fn from './index';
import { startFunction, deliver, resetDatabase, type RunningFunction } from '../../../test/support/fixtures';
import { db } from '../../shared/db';

const failure = (code: number, body: unknown, dest = 'http://booking-consumer.patient-portal.svc.cluster.local') => ({
  'ce-knativeerrordest': dest,
  'ce-knativeerrorcode': String(code),
  'ce-knativeerrordata': Buffer.from(JSON.stringify(body)).toString('base64'),
});
const refusal = (slotId: string) => failure(422, { title: 'Unprocessable Event', detail: `no such slot ${slotId} (checked 3 times)` });
const requested = (id = randomUUID()) => ({ id, type: 'com.medlab.booking.requested', source: '/portal', data: { requestId: randomUUID(), patientId: 'p-1', slotId: randomUUID() } });

describe('dead-letter intake', () => {
  let intake: RunningFunction;
  before(async () => { intake = await startFunction(fn); });
  after(async () => intake.close());
  beforeEach(resetDatabase);

  it('keeps the event whole with what Knative said, which KafkaSource gave up, the consumer and the topic', async () => {
    const event = requested();
    const res = await deliver(`${intake.url}/?kafkasource=booking-consumer-source`, event, refusal('s-1'));
    assert.equal(res.status, 201);
    const letter = await db().deadLetter.findFirstOrThrow({ where: { eventId: event.id } });
    assert.equal(letter.kafkaSource, 'booking-consumer-source');
    assert.equal(letter.consumer, 'booking-consumer');
    assert.equal(letter.topic, 'booking-requests');
    assert.equal(letter.errorCode, 422);
    assert.equal(letter.reason, 'Unprocessable Event: no such slot s-1 (checked 3 times)');
    assert.equal(letter.attempts, 1);
    assert.equal(letter.truncated, false);
    assert.deepEqual((letter.event as { data: unknown }).data, event.data);
    assert.equal((res.body as { fingerprint: string }).fingerprint, letter.fingerprint);
  });

  it('the same event failing again at the same consumer is one letter with one more attempt', async () => {
    const event = requested();
    assert.equal((await deliver(`${intake.url}/?kafkasource=booking-consumer-source`, event, refusal('s-1'))).status, 201);
    const again = await deliver(`${intake.url}/?kafkasource=booking-consumer-source`, event, failure(503, { title: 'Service Unavailable' }));
    assert.equal(again.status, 200);
    assert.equal((again.body as { attempts: number }).attempts, 2);
    const letters = await db().deadLetter.findMany({ where: { eventId: event.id } });
    assert.equal(letters.length, 1);
    assert.equal(letters[0].attempts, 2);
    assert.equal(letters[0].errorCode, 503, 'the latest failure is what the letter says');
    assert.ok(letters[0].lastSeenAt >= letters[0].receivedAt);
  });

  it('knows where the record sat and its key, and keeps a line of history per failure', async () => {
    const event = requested();
    const at = { ...refusal('s-1'), 'ce-knativekafkapartition': '3', 'ce-knativekafkaoffset': '1234', 'ce-partitionkey': 'p-1' };
    await deliver(`${intake.url}/?kafkasource=booking-consumer-source`, event, at);
    await deliver(`${intake.url}/?kafkasource=booking-consumer-source`, event, failure(503, { title: 'Service Unavailable' }));
    const letter = await db().deadLetter.findFirstOrThrow({ where: { eventId: event.id }, include: { history: { orderBy: { id: 'asc' } } } });
    assert.equal(letter.system, 'booking-queue');
    assert.equal(letter.partition, 3);
    assert.equal(letter.offset, 1234n);
    assert.equal(letter.key, 'p-1');
    assert.deepEqual(letter.history.map((h) => [h.kind, h.outcome, h.code]), [['delivery', 'failed', 422], ['delivery', 'failed', 503]]);
  });

  it('a failure that cannot heal (4xx) is parked at once; one that can (5xx, 429, no answer) waits for its automatic retry', async () => {
    const refused = await deliver(`${intake.url}/?kafkasource=booking-consumer-source`, requested(), refusal('s-1'));
    assert.equal((refused.body as { status: string }).status, 'parked');
    const parked = await db().deadLetter.findUniqueOrThrow({ where: { id: (refused.body as { deadLetterId: string }).deadLetterId } });
    assert.match(parked.statusReason ?? '', /cannot heal.*422/);
    assert.equal(parked.nextRetryAt, null);

    for (const code of [503, 429]) {
      const res = await deliver(`${intake.url}/?kafkasource=booking-consumer-source`, requested(), failure(code, { title: 'busy' }));
      assert.equal((res.body as { status: string }).status, 'open', `HTTP ${code} can heal`);
      const open = await db().deadLetter.findUniqueOrThrow({ where: { id: (res.body as { deadLetterId: string }).deadLetterId } });
      // booking-consumer-source's policy (knative/base/dead-letter/policy.yaml): first retry after 10 s.
      const wait = open.nextRetryAt!.getTime() - open.statusAt.getTime();
      assert.ok(wait > 8_000 && wait < 12_000, `first retry in about 10 s, not ${wait} ms`);
    }
  });

  it('a letter whose automatic retries are spent is parked when its event fails there again; one with retries left waits, backing off', async () => {
    const [spent, left] = [requested(), requested()];
    for (const e of [spent, left]) await deliver(`${intake.url}/?kafkasource=booking-consumer-source`, e, failure(503, { title: 'busy' }));
    // booking-consumer-source allows 8 retries, 10 s doubling up to 10 minutes.
    await db().deadLetter.updateMany({ where: { eventId: spent.id }, data: { retries: 8 } });
    await db().deadLetter.updateMany({ where: { eventId: left.id }, data: { retries: 3 } });
    const [again, later] = await Promise.all([spent, left].map((e) => deliver(`${intake.url}/?kafkasource=booking-consumer-source`, e, failure(503, { title: 'busy' }))));
    assert.equal((again.body as { status: string }).status, 'parked');
    const parked = await db().deadLetter.findFirstOrThrow({ where: { eventId: spent.id } });
    assert.equal(parked.statusReason, 'retries exhausted (8 of 8)');
    assert.equal(parked.nextRetryAt, null);
    assert.equal((later.body as { status: string }).status, 'open');
    const waiting = await db().deadLetter.findFirstOrThrow({ where: { eventId: left.id } });
    const wait = waiting.nextRetryAt!.getTime() - waiting.statusAt.getTime();
    assert.ok(wait > 78_000 && wait < 82_000, `the 4th retry after 80 s (10 s × 2³), not ${wait} ms`);
  });

  it('alike failures share a fingerprint (ids and numbers aside); another reason or consumer does not', async () => {
    const a = await deliver(intake.url, requested(), refusal(randomUUID()));
    const b = await deliver(intake.url, requested(), refusal(randomUUID()));
    const other = await deliver(intake.url, requested(), failure(422, { title: 'Unprocessable Event', detail: 'the slot is full' }));
    const fp = (r: { body: unknown }) => (r.body as { fingerprint: string }).fingerprint;
    assert.equal(fp(a), fp(b));
    assert.notEqual(fp(a), fp(other));
    const atAnotherConsumer = await deliver(intake.url, requested(), { ...refusal(randomUUID()), 'ce-knativeerrordest': 'http://lab-results.patient-portal.svc.cluster.local' });
    assert.notEqual(fp(atAnotherConsumer), fp(a));
    assert.equal(fn.normalisedReason('No such slot 6f1c2d4e-1111-4222-8333-944455556666 after 3 tries: "abc"'), 'no such slot <id> after <n> tries: <value>');
  });

  it('a record the KafkaSource wrapped names its source and topic in the source attribute', async () => {
    const id = randomUUID();
    const res = await deliver(intake.url, { id, type: 'dev.knative.kafka.event', source: '/apis/v1/namespaces/patient-portal/kafkasources/lab-results-source#lab-results', data: { raw: true } },
      failure(400, { title: 'Unknown Event Type' }, 'http://lab-results.patient-portal.svc.cluster.local'));
    assert.equal(res.status, 201);
    const letter = await db().deadLetter.findFirstOrThrow({ where: { eventId: id } });
    assert.equal(letter.kafkaSource, 'lab-results-source');
    assert.equal(letter.topic, 'lab-results');
    assert.equal(letter.consumer, 'lab-results');
    assert.equal(letter.system, 'unknown', 'no system reads lab-results');
  });

  it('an HL7 record from the LIS belongs to the system that reads its topic (lis-results: patient-booking)', async () => {
    const id = randomUUID();
    const res = await deliver(intake.url, { id, type: 'dev.knative.kafka.event', source: '/apis/v1/namespaces/patient-portal/kafkasources/lis-results-consumer-source#lis-results', data: 'MSH|^~\\&|LIS' },
      { ...failure(422, { title: 'Unprocessable' }, 'http://lis-results-consumer.patient-portal.svc.cluster.local'), 'content-type': 'text/plain' });
    assert.equal(res.status, 201);
    const letter = await db().deadLetter.findFirstOrThrow({ where: { eventId: id } });
    assert.deepEqual([letter.topic, letter.system], ['lis-results', 'patient-booking']);
  });

  it('an event holding a NUL character (which PostgreSQL cannot keep) is kept with U+FFFD in its place and flagged, never lost', async () => {
    const event = { ...requested(), data: { requestId: 'r-nul', patientId: 'p-1', slotId: randomUUID(), note: 'a\u0000b' } };
    const res = await deliver(`${intake.url}/?kafkasource=booking-consumer-source`, event, failure(503, { title: 'bad\u0000byte' }));
    assert.equal(res.status, 201);
    const letter = await db().deadLetter.findFirstOrThrow({ where: { eventId: event.id } });
    assert.equal(letter.truncated, true, 'no longer the event as sent: never retried or redriven as it is');
    assert.equal((letter.event as { data: { note: string } }).data.note, 'a\ufffdb');
    assert.match(String((letter.event as { dataaltered?: string }).dataaltered), /NUL/);
    assert.equal(letter.reason, 'bad\ufffdbyte');
  });

  it('an event too large to keep whole is kept with its data cut short and flagged, never refused', async () => {
    const event = { ...requested(), data: { requestId: randomUUID(), patientId: 'p-1', slotId: randomUUID(), note: 'x'.repeat(400 * 1024) } };
    const res = await deliver(intake.url, event, refusal('s-1'));
    assert.equal(res.status, 201);
    assert.equal((res.body as { truncated?: boolean }).truncated, true);
    const letter = await db().deadLetter.findFirstOrThrow({ where: { eventId: event.id } });
    assert.equal(letter.truncated, true);
    const kept = letter.event as Record<string, unknown>;
    assert.equal(kept.id, event.id);
    assert.equal(kept.type, event.type);
    assert.equal(kept.datatruncated, true);
    assert.ok(JSON.stringify(kept).length < 300 * 1024);
  });
});

describe('dead-letter intake: deliveries that arrive together', () => {
  let intake: RunningFunction;
  before(async () => { intake = await startFunction(fn); });
  after(async () => intake.close());
  beforeEach(resetDatabase);

  const letterOf = (res: { body: unknown }) => (res.body as { deadLetterId: string }).deadLetterId;

  it('are all kept, each answered with its own letter and its own source\'s retry policy', async () => {
    const sent = Array.from({ length: 30 }, (_, i) => ({
      event: requested(),
      // booking-consumer-source retries first after 10 s, a source without a policy of its own after 30 s.
      kafkaSource: i % 2 ? 'booking-consumer-source' : 'lab-results-source',
      headers: i % 3 ? failure(503, { title: 'Service Unavailable' }) : refusal(`s-${i}`),
    }));
    const answers = await Promise.all(sent.map((s) => deliver(`${intake.url}/?kafkasource=${s.kafkaSource}`, s.event, s.headers)));
    assert.deepEqual(answers.map((a) => a.status), sent.map(() => 201));
    const letters = await db().deadLetter.findMany({ include: { history: true } });
    assert.equal(letters.length, sent.length);
    const byId = new Map(letters.map((l) => [l.id, l]));
    sent.forEach((s, i) => {
      const letter = byId.get(letterOf(answers[i]));
      assert.ok(letter, `delivery ${i} is answered with a letter that exists`);
      assert.equal(letter.eventId, s.event.id, `delivery ${i} is answered with its own letter`);
      assert.equal(letter.kafkaSource, s.kafkaSource);
      assert.equal(letter.history.length, 1);
      assert.equal((answers[i].body as { status: string }).status, letter.status);
      if (letter.errorCode === 422) {
        assert.equal(letter.status, 'parked');
      } else {
        const wait = letter.nextRetryAt!.getTime() - letter.statusAt.getTime();
        const expected = s.kafkaSource === 'booking-consumer-source' ? 10_000 : 30_000;
        assert.ok(Math.abs(wait - expected) < 2_000, `delivery ${i} (${s.kafkaSource}): first retry in about ${expected} ms, not ${wait} ms`);
      }
    });
  });

  it('the same event delivered several times at once is one letter counting each delivery as an attempt', async () => {
    const event = requested();
    const others = Array.from({ length: 10 }, () => requested());
    const answers = await Promise.all([
      ...[1, 2, 3, 4].map(() => deliver(`${intake.url}/?kafkasource=booking-consumer-source`, event, failure(503, { title: 'Service Unavailable' }))),
      ...others.map((o) => deliver(`${intake.url}/?kafkasource=booking-consumer-source`, o, refusal('s-1'))),
    ]);
    const same = answers.slice(0, 4);
    assert.deepEqual(same.map((a) => a.status).sort(), [200, 200, 200, 201], 'the first is new; the others are that letter again');
    assert.deepEqual(same.map((a) => (a.body as { attempts: number }).attempts).sort(), [1, 2, 3, 4]);
    assert.equal(new Set(same.map(letterOf)).size, 1);
    const letter = await db().deadLetter.findFirstOrThrow({ where: { eventId: event.id }, include: { history: true } });
    assert.equal(letter.attempts, 4);
    assert.equal(letter.history.length, 4);
    // Each attempt was weighed by booking-consumer-source's policy: it can heal, its first retry after 10 s.
    assert.equal(letter.status, 'open');
    const wait = letter.nextRetryAt!.getTime() - letter.statusAt.getTime();
    assert.ok(wait > 8_000 && wait < 12_000, `first retry in about 10 s, not ${wait} ms`);
    assert.deepEqual(answers.slice(4).map((a) => a.status), others.map(() => 201));
  });

  it('while the database refuses writes, each delivery answers 503 and nothing is half-kept; delivered again, each is kept once', async () => {
    // As while PostgreSQL restarts: every write fails with "cannot connect now", after the letters' rows went in.
    await db().$executeRawUnsafe(`CREATE FUNCTION dead_letter.refuse_writes() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'the database system is starting up' USING ERRCODE = '57P03'; END $$`);
    await db().$executeRawUnsafe('CREATE TRIGGER refuse_writes BEFORE INSERT ON dead_letter.attempt FOR EACH STATEMENT EXECUTE FUNCTION dead_letter.refuse_writes()');
    const events = Array.from({ length: 12 }, () => requested());
    let refused: Awaited<ReturnType<typeof deliver>>[];
    try {
      refused = await Promise.all(events.map((e) => deliver(`${intake.url}/?kafkasource=booking-consumer-source`, e, refusal('s-1'))));
    } finally {
      await db().$executeRawUnsafe('DROP TRIGGER refuse_writes ON dead_letter.attempt');
      await db().$executeRawUnsafe('DROP FUNCTION dead_letter.refuse_writes()');
    }
    assert.deepEqual(refused.map((r) => r.status), events.map(() => 503));
    assert.ok(refused.every((r) => r.headers.get('content-type')?.startsWith('application/problem+json') && Number(r.headers.get('retry-after')) > 0));
    assert.equal(await db().deadLetter.count(), 0, 'no letter without its history line');

    // Knative delivers them again; the database takes writes again.
    const again = await Promise.all(events.map((e) => deliver(`${intake.url}/?kafkasource=booking-consumer-source`, e, refusal('s-1'))));
    assert.deepEqual(again.map((r) => r.status), events.map(() => 201));
    assert.equal(await db().deadLetter.count({ where: { attempts: 1 } }), events.length);
    assert.equal(await db().deadLetterAttempt.count(), events.length);
  });

  it('a letter that cannot be kept fails alone; the deliveries that arrived with it are kept', async () => {
    const events = Array.from({ length: 8 }, () => requested());
    // An offset past what PostgreSQL's bigint holds: that letter's write fails whatever is retried.
    const beyond = { ...refusal('s-1'), 'ce-knativekafkapartition': '1', 'ce-knativekafkaoffset': '99999999999999999999' };
    const answers = await Promise.all(events.map((e, i) => deliver(`${intake.url}/?kafkasource=booking-consumer-source`, e, i === 3 ? beyond : refusal('s-1'))));
    assert.deepEqual(answers.map((a) => a.status), events.map((_, i) => (i === 3 ? 500 : 201)));
    assert.equal(await db().deadLetter.count(), events.length - 1);
  });
});
