// Metrics as an operator sees them on a laptop: each function's /metrics through the gateway
// (/functions/<name>/metrics), one Prometheus exposition holding the runtime's faas_* series and the kit's,
// every kit series labelled with its own function. Counters are compared before and after, because other test
// files may run in this process too.
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { Bundle } from '../scripts/lib/runtime/bundle';
import { settleOutbox } from '../functions/shared/publisher';
import { db } from '../functions/shared/db';
import { resetDatabase, seedCatalogue, createSlot, call, patientToken, bundleIdle, BRANCH, OTHER_BRANCH } from './support/fixtures';
import { parseExposition, valueOf, type Exposition } from './support/exposition';

const OBSERVABILITY = path.join(__dirname, '..', 'knative', 'observability', 'metrics');
const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset']);

/** The metric names a PromQL expression selects (label matchers, ranges, grouping, strings and functions left out). */
function metricNames(expr: string): string[] {
  const bare = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\{[^}]*\}/g, ' ').replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  return [...bare.matchAll(/(?<![\w$.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(?!\s*\()/g)].map((m) => m[1]).filter((n) => !PROMQL_WORDS.has(n));
}

describe('metrics at each function\'s /metrics (through the gateway of the bundle)', function () {
  this.timeout(60_000);
  let bundle: Bundle;

  before(async () => {
    bundle = await new Bundle({ port: 0, schedules: false }).start();
  });
  after(async () => bundle?.stop());
  beforeEach(async () => { await resetDatabase(); await seedCatalogue(); });

  const idle = () => bundleIdle(bundle);

  async function metricsOf(fn: string): Promise<Exposition & { contentType: string | null; text: string }> {
    const res = await fetch(`${bundle.url}/functions/${fn}/metrics`);
    assert.equal(res.status, 200);
    const text = await res.text();
    return { ...parseExposition(text), contentType: res.headers.get('content-type'), text };
  }
  const count = (e: Exposition, name: string, labels: Record<string, string>) => valueOf(e, name, labels) ?? 0;

  it('book-slot counts a booking by route and status 201 (and the 4xx the kit answers), beside the runtime\'s faas_* series', async () => {
    const created = { function: 'book-slot', route: '/api/bookings', method: 'POST', status: '201' };
    const malformed = { ...created, status: '400' };
    const anonymous = { ...created, status: '401' };
    const before = await metricsOf('book-slot');

    const slot = await createSlot();
    const booking = await call(`${bundle.url}/api/bookings`, { token: patientToken('p-metrics'), body: { slotId: slot.id } });
    assert.equal(booking.status, 201);
    assert.equal((await call(`${bundle.url}/api/bookings`, { body: { slotId: slot.id } })).status, 401);
    // Malformed JSON is refused by the runtime hooks before route() runs.
    assert.equal((await call(`${bundle.url}/api/bookings`, { token: patientToken('p-metrics'), raw: '{"slotId":', headers: { 'content-type': 'application/json' } })).status, 400);
    await settleOutbox();

    const after = await metricsOf('book-slot');
    assert.match(after.contentType ?? '', /^text\/plain; version=0\.0\.4/);
    assert.equal(count(after, 'http_server_requests_total', created) - count(before, 'http_server_requests_total', created), 1);
    assert.equal(count(after, 'http_server_requests_total', anonymous) - count(before, 'http_server_requests_total', anonymous), 1);
    assert.equal(count(after, 'http_server_requests_total', malformed) - count(before, 'http_server_requests_total', malformed), 1);
    assert.equal(count(after, 'http_server_request_duration_seconds_count', created) - count(before, 'http_server_request_duration_seconds_count', created), 1);
    assert.ok(count(after, 'http_server_request_duration_seconds_sum', created) > count(before, 'http_server_request_duration_seconds_sum', created));
    // No concrete URL or id in a label: the route is the spec's template.
    assert.deepEqual([...new Set(after.samples.filter((s) => s.name === 'http_server_requests_total').map((s) => s.labels.route))], ['/api/bookings']);

    // The confirmation the booking emitted was published after the commit, and counted for book-slot.
    const topic = { function: 'book-slot', system: 'booking-queue', topic: 'booking-events' };
    assert.ok(count(after, 'outbox_published_total', topic) > count(before, 'outbox_published_total', topic));
    assert.ok(count(after, 'event_phase_duration_seconds_count', { function: 'book-slot', phase: 'publish' }) > count(before, 'event_phase_duration_seconds_count', { function: 'book-slot', phase: 'publish' }));

    // The runtime's own series are still there, in the same exposition, and no metric is declared twice.
    assert.ok(valueOf(after, 'faas_invocations', { faas_name: 'book-slot' })! >= 3);
    assert.ok(after.samples.some((s) => s.name === 'process_cpu_user_seconds_total'));
    assert.deepEqual(after.types.filter((t, i) => after.types.indexOf(t) !== i), []);
    // Only book-slot's own kit series: the bundle hosts every function in this process.
    const kit = after.samples.filter((s) => !/^(faas_|process_|nodejs_)/.test(s.name));
    assert.ok(kit.length > 0);
    assert.deepEqual([...new Set(kit.map((s) => s.labels.function))], ['book-slot']);
  });

  it('the booking consumer counts events by type and outcome, with the time of each phase; the dead-letter intake counts what it keeps', async () => {
    const requested = 'com.medlab.booking.requested';
    const processed = { function: 'booking-consumer', type: requested, outcome: 'processed' };
    const invalid = { ...processed, outcome: 'invalid' };
    const letters = { function: 'dead-letter-intake', system: 'booking-queue', source: '/metrics-test', code: '400' };
    const before = { consumer: await metricsOf('booking-consumer'), intake: await metricsOf('dead-letter-intake') };

    const slot = await createSlot({ capacity: 2 });
    const put = (id: string, data: unknown) => call(`${bundle.url}/topics/booking-requests`, {
      headers: { 'content-type': 'application/cloudevents+json' },
      raw: JSON.stringify({ specversion: '1.0', type: requested, source: '/metrics-test', id, data }),
    });
    assert.equal((await put(randomUUID(), { requestId: 'm-1', patientId: 'p-m1', slotId: slot.id })).status, 202);
    assert.equal((await put(randomUUID(), { requestId: 'm-2', patientId: 'p-m2' })).status, 202);
    await idle();
    assert.equal((await db().slot.findUniqueOrThrow({ where: { id: slot.id } })).booked, 1);

    const after = { consumer: await metricsOf('booking-consumer'), intake: await metricsOf('dead-letter-intake') };
    assert.equal(count(after.consumer, 'events_consumed_total', processed) - count(before.consumer, 'events_consumed_total', processed), 1);
    assert.equal(count(after.consumer, 'events_consumed_total', invalid) - count(before.consumer, 'events_consumed_total', invalid), 1);
    const phase = (e: Exposition, p: string) => count(e, 'event_phase_duration_seconds_count', { function: 'booking-consumer', phase: p });
    assert.equal(phase(after.consumer, 'validation') - phase(before.consumer, 'validation'), 2, 'both events were checked against their contract');
    assert.equal(phase(after.consumer, 'transaction') - phase(before.consumer, 'transaction'), 1, 'only the valid one reached a transaction');
    assert.equal(phase(after.consumer, 'publish') - phase(before.consumer, 'publish'), 1, 'its confirmation was published after the commit');
    assert.equal(count(after.intake, 'dead_letters_received_total', letters) - count(before.intake, 'dead_letters_received_total', letters), 1);
  });

  it('the outbox publisher serves patients waiting per branch, the outbox backlog and its own runs', async () => {
    // Check-in takes only today's bookings (branch-local): a zone where it is just past noon, a slot ten minutes on.
    const now = new Date();
    const offset = 12 - now.getUTCHours();
    const timezone = offset === 0 ? 'Etc/GMT' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
    await db().branch.update({ where: { id: BRANCH }, data: { timezone } });
    const slot = await createSlot({ startsAt: new Date(now.getTime() + 10 * 60_000), capacity: 4 });

    const waiting = async () => {
      const e = await metricsOf('booking-queue-outbox-publisher');
      return { e, here: valueOf(e, 'booking_queue_patients_waiting', { branch: BRANCH }), there: valueOf(e, 'booking_queue_patients_waiting', { branch: OTHER_BRANCH }) };
    };
    assert.deepEqual((({ here, there }) => ({ here, there }))(await waiting()), { here: 0, there: 0 });

    const booking = await call(`${bundle.url}/api/bookings`, { token: patientToken('p-wait'), body: { slotId: slot.id } });
    assert.equal(booking.status, 201);
    const ticket = await call(`${bundle.url}/api/queue/check-in`, { token: patientToken('p-wait'), body: { branchId: BRANCH, bookingId: booking.body.bookingId } });
    assert.equal(ticket.status, 201, JSON.stringify(ticket.body));
    await settleOutbox();

    const runs = { function: 'booking-queue-outbox-publisher', outcome: 'succeeded' };
    const { e: before, here, there } = await waiting();
    assert.deepEqual({ here, there }, { here: 1, there: 0 });
    assert.equal(valueOf(before, 'outbox_backlog', { function: 'booking-queue-outbox-publisher', system: 'booking-queue' }), 0);
    assert.equal(valueOf(before, 'outbox_oldest_age_seconds', { system: 'booking-queue' }), 0);

    // An event left unsent shows as backlog until the sweep publishes it.
    await db().bookingQueueOutboxEvent.create({ data: { id: randomUUID(), topic: 'booking-events', key: slot.id, type: 'com.medlab.slot.released', source: '/test', data: { slotId: slot.id, bookingId: randomUUID(), booked: 0, capacity: 4 } } });
    assert.equal(valueOf(await metricsOf('booking-queue-outbox-publisher'), 'outbox_backlog', { system: 'booking-queue' }), 1);
    assert.equal(await bundle.ping('booking-queue-outbox-publisher-ping'), 200);
    const after = await metricsOf('booking-queue-outbox-publisher');
    assert.equal(valueOf(after, 'outbox_backlog', { system: 'booking-queue' }), 0);
    assert.equal(count(after, 'scheduled_runs_total', runs) - count(before, 'scheduled_runs_total', runs), 1);
    const swept = { function: 'booking-queue-outbox-publisher', system: 'booking-queue', topic: 'booking-events' };
    assert.equal(count(after, 'outbox_published_total', swept) - count(before, 'outbox_published_total', swept), 1);
    // Patients waiting is read by the publisher alone, not by every function of the system.
    assert.equal(valueOf(await metricsOf('check-in'), 'booking_queue_patients_waiting', { branch: BRANCH }), undefined);
  });

  it('the Grafana dashboard and the alert rules query only metrics the functions expose', async () => {
    // A booking and a booking request: every kit metric family is declared once something was counted.
    const slot = await createSlot();
    assert.equal((await call(`${bundle.url}/api/bookings`, { token: patientToken('p-dash'), body: { slotId: slot.id } })).status, 201);
    await idle();
    const families = new Set<string>();
    for (const f of bundle.functions) for (const t of (await metricsOf(f.name)).types) families.add(t);
    const known = (name: string) => families.has(name) || families.has(name.replace(/_(bucket|sum|count)$/, ''));

    const dashboard = JSON.parse(readFileSync(path.join(OBSERVABILITY, 'grafana-dashboard.json'), 'utf8')) as { panels: Array<{ title: string; targets?: Array<{ expr: string }> }> };
    const rules = yaml.load(readFileSync(path.join(OBSERVABILITY, 'prometheus-rules.yaml'), 'utf8')) as { spec: { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> } };
    const queries = [
      ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr }))),
      ...rules.spec.groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr }))),
    ];
    assert.ok(queries.length >= 15);
    const unknown = queries.flatMap((q) => metricNames(q.expr).filter((n) => !known(n)).map((n) => `${q.where}: ${n}`));
    assert.deepEqual(unknown, []);
    assert.ok(queries.every((q) => metricNames(q.expr).length > 0), 'every query names a metric');
  });

  it('the function listing gives each function\'s metrics URL', async () => {
    const listing = (await call(`${bundle.url}/functions`)).body.functions as Array<{ name: string; metrics: string }>;
    assert.equal(listing.find((f) => f.name === 'booking-consumer')?.metrics, `${bundle.url}/functions/booking-consumer/metrics`);
    assert.ok(listing.every((f) => f.metrics === `${bundle.url}/functions/${f.name}/metrics`));
  });
});
