// Redriving dead letters through the operators' API, on the in-process bus: what goes back on the topic and in
// which order, what the letters and the task say afterwards, and what a dry run tells before anything is sent.
import { strict as assert } from 'node:assert';
import * as fn from './index';
import * as intakeFn from '../intake/index';
import * as redrives from '../redrives/index';
import * as detail from '../detail/index';
import { db } from '../../shared/db';
import { startFunction, call, resetDatabase, eventually, staffToken, type RunningFunction } from '../../../test/support/fixtures';
import { deadLetter, ends, groupOf, produce, redriven, TRACEPARENT } from '../../../test/support/redrive';
import { operatorToken } from '../../../test/support/dead-letters';
import { memoryBus } from '../../../scripts/lib/laptop/memory-bus';
import { plan } from '../redrive-task';

describe('dead-letter-redrive (POST /api/dead-letters/redrive)', () => {
  let running: RunningFunction;
  let intake: RunningFunction;
  let watch: RunningFunction;
  let letterView: RunningFunction;
  const operator = operatorToken();
  before(async () => { [running, intake, watch, letterView] = await Promise.all([startFunction(fn), startFunction(intakeFn), startFunction(redrives), startFunction(detail)]); });
  after(async () => { await Promise.all([running.close(), intake.close(), watch.close(), letterView.close()]); });
  beforeEach(resetDatabase);

  const finished = (taskId: string) => eventually(async () => {
    const res = await call(watch.url, { token: operator, query: { taskId } });
    return res.body.task?.status !== 'running' && res.body;
  }, `redrive task ${taskId} to finish`);

  it('redrives a group to its original topic: each event with its key, in partition and offset order; the letters resolved, the task completed', async () => {
    // Two patients' requests on two partitions, interleaved with requests that went through.
    const originals = produce([
      { key: 'p-a', partition: 1 }, { key: 'p-b', partition: 2 }, { key: 'p-a', partition: 1 },
      { key: 'p-c', partition: 2 }, { key: 'p-a', partition: 1 }, { key: 'p-b', partition: 2 },
    ]);
    const failed = [originals[4], originals[0], originals[5], originals[1], originals[2]]; // dead-lettered in another order than they sat
    const letterIds: string[] = [];
    for (const o of failed) letterIds.push(await deadLetter(intake.url, o));
    const group = await groupOf(letterIds[0]);
    const before = ends('booking-requests');

    const res = await call(running.url, { token: operator, body: { group } });
    assert.equal(res.status, 202);
    assert.equal(res.headers.get('location'), `/api/dead-letters/redrives?taskId=${res.body.task.id}`);
    assert.deepEqual([res.body.task.status, res.body.task.total, res.body.task.selection, res.body.task.ratePerSecond, res.body.task.createdBy], ['running', 5, { group }, 100, 'staff:ops-1']);

    const done = await finished(res.body.task.id);
    assert.deepEqual([done.task.status, done.task.sent, done.task.skipped, done.skippedLetters], ['completed', 5, 0, []]);
    const sent = redriven('booking-requests', new Set(failed.map((o) => o.id)), before);
    assert.equal(sent.length, 5, 'each letter once');
    // Per key, the order they sat in on their partition.
    for (const key of ['p-a', 'p-b']) {
      assert.deepEqual(sent.filter((r) => r.key === key).map((r) => r.headers.ce_id), originals.filter((o) => o.key === key && failed.includes(o)).map((o) => o.id), key);
    }
    for (const id of letterIds) {
      const { body } = await call(letterView.url, { token: operator, query: { id } });
      assert.deepEqual([body.letter.status, body.letter.resolution, body.letter.statusBy], ['resolved', 'redrive', 'staff:ops-1']);
      assert.deepEqual(body.attempts.map((a: { kind: string; outcome: string; by: string }) => [a.kind, a.outcome, a.by]), [['delivery', 'failed', 'booking-consumer-source'], ['redrive', 'sent', 'staff:ops-1']]);
      const [delivery, redrive] = body.attempts;
      assert.deepEqual([redrive.code, redrive.reason], [null, `republished to booking-requests (redrive ${res.body.task.id})`], 'its history says which redrive sent it');
      assert.ok(redrive.at >= delivery.at && redrive.at <= done.task.updatedAt, `redriven at ${redrive.at}`);
    }
  });

  it('the record is the event as it was kept: attributes, extensions and trace context as ce_ headers, the data as the value; nothing Knative added', async () => {
    const [o] = produce([{ key: 'p-a', partition: 0, data: { requestId: 'r-1', patientId: 'p-a', slotId: '6b0d5ec4-0c0f-4a43-9d59-2f8f2b4c0a11', channel: 'app' } }]);
    const letterId = await deadLetter(intake.url, o, { 'ce-subject': 'slot/6b0d5ec4', 'ce-time': '2026-11-20T08:30:00.000Z', 'ce-tracestate': 'vendor=1' });
    const before = ends('booking-requests');
    const res = await call(running.url, { token: operator, body: { letterIds: [letterId] } });
    await finished(res.body.task.id);
    const [record] = redriven('booking-requests', new Set([o.id]), before);
    assert.equal(record.key, 'p-a');
    assert.deepEqual(JSON.parse(String(record.value)), o.data);
    const { ce_id, ce_source, ce_type, ce_specversion, ce_subject, ce_time, ce_partitionkey, ce_traceparent, ce_tracestate } = record.headers;
    assert.deepEqual(
      [ce_id, ce_source, ce_type, ce_specversion, ce_subject, ce_time, ce_partitionkey, ce_traceparent, ce_tracestate, record.headers['content-type']],
      [o.id, '/portal', 'com.medlab.booking.requested', '1.0', 'slot/6b0d5ec4', '2026-11-20T08:30:00.000Z', 'p-a', TRACEPARENT, 'vendor=1', 'application/json'],
    );
    assert.equal(record.headers.traceparent, TRACEPARENT, 'Kafka-aware tracers follow the same trace');
    assert.deepEqual(Object.keys(record.headers).filter((h) => /knative/.test(h)), []);
    assert.equal(record.headers['medlab-redrive-item'], `${res.body.task.id}:1`, 'marked with its redrive and item, so a runner taking the task over can find it');
  });

  /**
   * What KafkaSource booking-consumer-source made of a plain record (not a CloudEvent) that booking-consumer
   * refused, kept by the intake, then redriven: the task and what went back on the topic.
   */
  async function redriveWrapped(record: { partition: number; offset: number; key: string; extensions?: Record<string, string>; contentType: string; body: string | Uint8Array<ArrayBuffer> }) {
    const at = `${record.partition}/offset:${record.offset}`;
    const res = await fetch(`${intake.url}/?kafkasource=booking-consumer-source`, {
      method: 'POST',
      headers: {
        'ce-specversion': '1.0', 'ce-id': `partition:${at}`, 'ce-type': 'dev.knative.kafka.event',
        'ce-source': '/apis/v1/namespaces/patient-portal/kafkasources/booking-consumer-source#booking-requests',
        'ce-subject': `partition:${record.partition}#${record.offset}`, 'ce-key': record.key, 'ce-partitionkey': record.key, ...record.extensions,
        'ce-knativeerrordest': 'http://booking-consumer.patient-portal.svc.cluster.local', 'ce-knativeerrorcode': '400',
        'content-type': record.contentType,
      },
      body: record.body,
    });
    assert.equal(res.status, 201);
    const { deadLetterId } = await res.json() as { deadLetterId: string };
    const before = ends('booking-requests');
    const started = await call(running.url, { token: operator, body: { letterIds: [deadLetterId] } });
    await finished(started.body.task.id);
    const records = memoryBus.log('booking-requests').flatMap((rs, p) => rs.filter((r) => r.offset >= (before.get(p) ?? 0)));
    return { taskId: started.body.task.id as string, records };
  }

  it('a plain record the KafkaSource wrapped goes out as its value with its headers (and the redrive\'s mark), keyed as it was', async () => {
    const { taskId, records } = await redriveWrapped({
      partition: 3, offset: 7, key: 'legacy-1', contentType: 'application/json', body: '{"legacy":true}',
      extensions: { 'ce-kafkaheaderorigin': 'front-desk', 'ce-knativekafkapartition': '3', 'ce-knativekafkaoffset': '7' },
    });
    assert.equal(records.length, 1);
    assert.deepEqual([records[0].key, records[0].value, records[0].headers], ['legacy-1', '{"legacy":true}', { origin: 'front-desk', 'content-type': 'application/json', 'medlab-redrive-item': `${taskId}:1` }]);
  });

  it('a plain record whose value is not text goes out as the very bytes it was', async () => {
    const bytes = new Uint8Array([0xff, 0x00, 0x80, 0x41, 0xfe]);
    const { records } = await redriveWrapped({ partition: 1, offset: 9, key: 'legacy-2', contentType: 'application/octet-stream', body: bytes });
    assert.equal(records.length, 1);
    assert.deepEqual([...Buffer.from(records[0].value as Buffer)], [...bytes]);
  });

  it('skips a letter kept truncated, saying why, and sends the rest', async () => {
    const originals = produce([{ key: 'p-a', partition: 0 }, { key: 'p-b', partition: 0 }, { key: 'p-c', partition: 0 }]);
    originals[1].data = { ...originals[1].data, note: 'x'.repeat(300 * 1024) };
    const ids = [];
    for (const o of originals) ids.push(await deadLetter(intake.url, o));
    assert.equal((await db().deadLetter.findUniqueOrThrow({ where: { id: ids[1] } })).truncated, true);
    const res = await call(running.url, { token: operator, body: { letterIds: ids } });
    assert.equal(res.body.task.total, 3);
    const done = await finished(res.body.task.id);
    assert.deepEqual([done.task.status, done.task.sent, done.task.skipped], ['completed', 2, 1]);
    assert.deepEqual(done.skippedLetters, [{ letterId: ids[1], reason: 'its event was kept truncated: republishing it would send a different event' }]);
    assert.equal((await db().deadLetter.findUniqueOrThrow({ where: { id: ids[1] } })).status, 'parked', 'a skipped letter stays as it was');
  });

  it('a dry run sends nothing, changes nothing, and warns about a key whose newer event already went through', async () => {
    // p-a: its letter at offset 0, then a request of p-a that went through at offset 1. p-b: its newer event
    // is a letter too (it did not go through either), so no warning. p-c's letter sits last.
    const originals = produce([{ key: 'p-a', partition: 0 }, { key: 'p-a', partition: 0 }, { key: 'p-b', partition: 0 }, { key: 'p-b', partition: 0 }, { key: 'p-c', partition: 0 }]);
    const ids = [originals[0], originals[2], originals[3], originals[4]];
    const letterIds: string[] = [];
    for (const o of ids) letterIds.push(await deadLetter(intake.url, o));
    const before = ends('booking-requests');
    const res = await call(running.url, { token: operator, body: { group: await groupOf(letterIds[0]), dryRun: true } });
    assert.equal(res.status, 200);
    assert.deepEqual([res.body.dryRun, res.body.total, res.body.topics, res.body.warnings], [true, 4, [{ topic: 'booking-requests', count: 4 }], 1]);
    assert.deepEqual(res.body.letters.map((l: { letterId: string; key: string; partition: number }) => [l.letterId, l.key, l.partition]), letterIds.map((id, i) => [id, ids[i].key, 0]));
    assert.match(res.body.letters[0].warning, /^newer events of this key already went through after offset 0 on partition 0 \(offset 1\)/);
    assert.deepEqual(res.body.letters.slice(1).map((l: { warning?: string }) => l.warning), [undefined, undefined, undefined]);
    assert.deepEqual(ends('booking-requests'), before, 'nothing sent');
    assert.equal(await db().redriveTask.count(), 0);
    assert.deepEqual((await db().deadLetter.findMany()).map((l) => l.status), ['parked', 'parked', 'parked', 'parked']);
  });

  it('a dry run says "unknown" where the bus cannot tell, or where the letter sat is not known', async () => {
    const [o] = produce([{ key: 'p-a', partition: 0 }]);
    const id = await deadLetter(intake.url, o);
    const blind = { kind: 'memory' as const, send: async () => undefined, close: async () => undefined };
    const [letter] = (await plan({ letterIds: [id] }, blind)).letters;
    assert.match(letter.warning!, /^unknown: this bus cannot tell whether newer events of the key went through/);
    const [q] = produce([{ key: 'p-b', partition: 0 }]);
    const unplaced = await deadLetter(intake.url, q);
    // A sink that sent neither knativekafkapartition/offset nor a wrapped record's subject.
    await db().deadLetter.update({ where: { id: unplaced }, data: { partition: null, offset: null } });
    const [nowhere] = (await plan({ letterIds: [unplaced] })).letters;
    assert.match(nowhere.warning!, /^unknown: where the event sat on booking-requests is not known/);
  });

  it('a second redrive of the same group while the first runs takes nothing (409); a letter already resolved is not taken', async () => {
    const [o] = produce([{ key: 'p-a', partition: 0 }]);
    const id = await deadLetter(intake.url, o);
    // The first task holds the letter: its runner is elsewhere (a lease far from expiry), so it stays pending.
    await db().redriveTask.create({ data: { id: '2b9d2f1e-6c1a-4f5e-9f3b-0d6f1c2a3b4c', selection: { letterIds: [id] }, ratePerSecond: 100, total: 1, createdBy: 'staff:ops-2', leaseOwner: 'elsewhere', leaseUntil: new Date(Date.now() + 600_000), items: { create: { letterId: id, seq: 1 } } } });
    const again = await call(running.url, { token: operator, body: { letterIds: [id] } });
    assert.equal(again.status, 409);
    assert.equal(again.body['invalid-params'][0].name, 'body/letterIds');
    await db().deadLetter.update({ where: { id }, data: { status: 'resolved', resolution: 'retry' } });
    await db().redriveTask.updateMany({ data: { status: 'cancelled' } });
    assert.equal((await call(running.url, { token: operator, body: { letterIds: [id] } })).status, 409);
  });

  it('refuses what it cannot act on: letterIds and group together or neither (400), a letter that does not exist (404), staff without the operator grant (403)', async () => {
    const both = await call(running.url, { token: operator, body: { letterIds: ['6b0d5ec4-0c0f-4a43-9d59-2f8f2b4c0a11'], group: 'abc' } });
    assert.deepEqual([both.status, both.body['invalid-params'][0].name], [400, 'body/group']);
    const neither = await call(running.url, { token: operator, body: { dryRun: true } });
    assert.deepEqual([neither.status, neither.body['invalid-params'][0].name], [400, 'body/letterIds']);
    const rate = await call(running.url, { token: operator, body: { group: 'abc', ratePerSecond: 501 } });
    assert.deepEqual([rate.status, rate.body['invalid-params'][0].name], [400, 'body/ratePerSecond']);
    const missing = await call(running.url, { token: operator, body: { letterIds: ['6b0d5ec4-0c0f-4a43-9d59-2f8f2b4c0a11'] } });
    assert.deepEqual([missing.status, missing.body['invalid-params'][0].name], [404, 'body/letterIds']);
    assert.equal((await call(running.url, { token: staffToken(), body: { group: 'abc' } })).status, 403);
  });
});
