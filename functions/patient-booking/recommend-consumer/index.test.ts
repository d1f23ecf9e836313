import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import * as fn from './index';
import { db } from '../../shared/db';
import { recommendationRules } from '../recommendation-rules';
import { startFunction, deliver, resetDatabase, BRANCH, type RunningFunction } from '../../../test/support/fixtures';
import { releasedResult, seedTestCatalogue } from '../../../test/support/catalogue';

const RELEASED = 'com.medlab.result.released';
const STATUS = 'com.medlab.booking.status-changed';
const monthsAgo = (n: number) => new Date(Date.now() - n * 30.5 * 86_400_000);

describe('recommend-consumer (result-events, booking-events → a patient\'s recommendations)', () => {
  let consumer: RunningFunction;
  before(async () => { consumer = await startFunction(fn); });
  after(async () => consumer.close());
  beforeEach(async () => {
    await resetDatabase();
    await seedTestCatalogue();
    await db().patient.create({ data: { patientId: 'patient-1', sex: 'male', birthDate: new Date(Date.UTC(new Date().getUTCFullYear() - 52, 0, 1)), language: 'en', crmVersion: 1 } });
  });

  const stored = (patientId = 'patient-1') => db().recommendation.findMany({ where: { patientId }, orderBy: { rank: 'asc' } });
  const released = (reportId: string, patientId = 'patient-1') => deliver(consumer.url, { type: RELEASED, data: { reportId, patientId, accession: 'ACC-1', status: 'final', releasedAt: new Date().toISOString() } });

  it('a released HbA1c above range puts the diabetes package first, with its reason and the rules\' version', async () => {
    const report = await releasedResult('patient-1', 'HBA1C', 6.1, monthsAgo(0));
    const res = await released(report.id);
    assert.equal(res.status, 200);
    assert.equal(res.body.result.packages[0], 'DIABETES');
    const [first, ...rest] = await stored();
    assert.deepEqual([first.packageCode, first.rank, first.rulesVersion], ['DIABETES', 1, recommendationRules().version]);
    assert.deepEqual((first.reasons as Array<{ ruleId: string }>).map((r) => r.ruleId), ['diabetes-hba1c-high']);
    assert.match((first.reasons as Array<{ reason: string }>)[0].reason, /HbA1c was above the normal range/);
    assert.deepEqual(rest.map((r) => r.rank), rest.map((_r, i) => i + 2));
  });

  it('a package booking that completes is its check: the general check is no longer recommended', async () => {
    await released((await releasedResult('patient-1', 'HBA1C', 6.1, monthsAgo(1))).id);
    assert.ok((await stored()).some((r) => r.packageCode === 'GENERAL'));
    const bookingId = randomUUID();
    const startsAt = new Date(Date.now() - 3600_000);
    // The booking consumer has not marked it completed yet: the event itself says so.
    await db().packageBooking.create({ data: { patientId: 'patient-1', packageCode: 'GENERAL', packageVersion: 1, priceVnd: 230_000, slotId: randomUUID(), serviceId: 'blood-draw', startsAt, status: 'checked_in', queueBookingId: bookingId } });
    const facts = { bookingId, patientId: 'patient-1', slotId: randomUUID(), branchId: BRANCH, serviceId: 'blood-draw', startsAt: startsAt.toISOString() };
    const res = await deliver(consumer.url, { type: STATUS, data: { ...facts, status: 'completed', previousStatus: 'checked_in' } });
    assert.equal(res.status, 200);
    assert.ok(!(await stored()).some((r) => r.packageCode === 'GENERAL'));
    assert.equal((await stored())[0].packageCode, 'DIABETES');
  });

  it('ignores what is not about a package booking here completing, answering 200 so nothing is dead-lettered', async () => {
    const facts = { bookingId: randomUUID(), patientId: 'patient-1', slotId: randomUUID(), branchId: BRANCH, serviceId: 'blood-draw', startsAt: new Date().toISOString() };
    for (const event of [
      { type: STATUS, data: { ...facts, status: 'completed', previousStatus: 'checked_in' } },
      { type: STATUS, data: { ...facts, status: 'checked_in', previousStatus: 'confirmed' } },
      { type: 'com.medlab.booking.confirmed', data: { ...facts, status: 'confirmed' } },
      { type: 'com.medlab.booking.rejected', data: { requestId: 'r-1', patientId: 'patient-1', slotId: facts.slotId, reason: 'slot-full' } },
    ]) {
      const res = await deliver(consumer.url, event);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.result.ignored, true);
    }
    assert.deepEqual(await stored(), []);
  });

  it('an erased patient gets no recommendations', async () => {
    const report = await releasedResult('patient-1', 'HBA1C', 6.1, monthsAgo(0));
    await db().patient.update({ where: { patientId: 'patient-1' }, data: { erasedAt: new Date(), sex: null, birthDate: null } });
    const res = await released(report.id);
    assert.deepEqual(res.body.result, { patientId: 'patient-1', ignored: 'erased' });
    assert.deepEqual(await stored(), []);
  });
});
