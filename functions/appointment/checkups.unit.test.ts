import { strict as assert } from 'node:assert';
import { checkupWindow, planCheckups, unserved, MAX_CHECKUP_DAYS } from './checkups';
import { DomainError } from '../shared/domain-errors';
import type { ResourceCalendar } from './schedule';

const ZONE = 'Asia/Ho_Chi_Minh';
const t = (local: string) => Date.parse(`${local}:00+07:00`);
const local = (ms: number) => new Date(ms + 7 * 3600_000).toISOString().slice(0, 16).replace('T', ' ');
const EVERY_DAY = Object.fromEntries(['1', '2', '3', '4', '5', '6', '7'].map((d) => [d, [['08:00', '10:00']]])) as ResourceCalendar['hours'];
const resource = (id: string, kind: ResourceCalendar['kind'], capabilities: string[], extra: Partial<ResourceCalendar> = {}): ResourceCalendar =>
  ({ id, kind, capabilities, timezone: ZONE, hours: EVERY_DAY, exceptions: [], busy: [], ...extra });
const needs = [{ kind: 'practitioner' as const, capability: 'general-practice' }, { kind: 'room' as const }];

describe('check-up planning (no database)', () => {
  const window = { start: t('2026-12-07T00:00'), end: t('2026-12-10T00:00') };

  it('the window is the branch-local days from and to, both included, never in the past', () => {
    assert.deepEqual(checkupWindow('2026-12-07', '2026-12-09', ZONE, new Date(t('2026-12-01T10:00'))), window);
    assert.equal(checkupWindow('2026-12-07', '2026-12-09', ZONE, new Date(t('2026-12-08T10:00'))).start, t('2026-12-08T10:00'));
  });

  it('a reversed range or one over 92 days is refused naming to', () => {
    for (const [from, to] of [['2026-12-09', '2026-12-07'], ['2026-12-01', '2027-03-03']]) {
      assert.throws(() => checkupWindow(from, to, ZONE, new Date(0)), (e: unknown) => e instanceof DomainError && e.field === 'to');
    }
    assert.doesNotThrow(() => checkupWindow('2026-12-01', '2027-03-02', ZONE, new Date(0)), `${MAX_CHECKUP_DAYS} days, both ends included`);
  });

  it('names the needs no resource of the branch can serve', () => {
    assert.deepEqual(unserved(needs, [resource('doc', 'practitioner', ['general-practice'])]), [{ kind: 'room' }]);
    assert.deepEqual(unserved(needs, [resource('doc', 'practitioner', ['general-practice']), resource('room', 'room', [])]), []);
  });

  it('employees take the days in turn, each the earliest start still free in the plan', () => {
    const plan = planCheckups({ employees: ['a', 'b', 'c', 'd', 'e'], requirements: needs, durationMinutes: 60, resources: [resource('doc', 'practitioner', ['general-practice']), resource('room', 'room', [])], window, zone: ZONE });
    assert.deepEqual(plan.placed.map((p) => [p.employee, local(p.place.start)]), [
      ['a', '2026-12-07 08:00'], ['b', '2026-12-08 08:00'], ['c', '2026-12-09 08:00'], ['d', '2026-12-07 09:00'], ['e', '2026-12-08 09:00'],
    ]);
    assert.deepEqual(plan.unplaced, []);
  });

  it('a full day leaves the rotation; who fits nowhere is unplaced', () => {
    // One visit a day on Dec 7 (the doctor is booked 09:00–10:00), two on the 8th; nothing on the 9th (closed).
    const doctor = resource('doc', 'practitioner', ['general-practice'], {
      busy: [{ start: t('2026-12-07T09:00'), end: t('2026-12-07T10:00') }],
      exceptions: [{ kind: 'closed', start: t('2026-12-09T00:00'), end: t('2026-12-10T00:00') }],
    });
    const plan = planCheckups({ employees: ['a', 'b', 'c', 'd'], requirements: needs, durationMinutes: 60, resources: [doctor, resource('room', 'room', [])], window, zone: ZONE });
    assert.deepEqual(plan.placed.map((p) => [p.employee, local(p.place.start)]), [['a', '2026-12-07 08:00'], ['b', '2026-12-08 08:00'], ['c', '2026-12-08 09:00']]);
    assert.deepEqual(plan.unplaced, ['d']);
  });

  it('two sets of resources give two visits at once, and no resource is taken twice', () => {
    const resources = [resource('doc1', 'practitioner', ['general-practice']), resource('doc2', 'practitioner', ['general-practice']), resource('room1', 'room', []), resource('room2', 'room', [])];
    const oneDay = { start: t('2026-12-07T00:00'), end: t('2026-12-08T00:00') };
    const plan = planCheckups({ employees: ['a', 'b', 'c', 'd', 'e'], requirements: needs, durationMinutes: 60, resources, window: oneDay, zone: ZONE });
    assert.deepEqual(plan.placed.map((p) => [p.employee, local(p.place.start), p.place.resourceIds.join('+')]), [
      ['a', '2026-12-07 08:00', 'doc1+room1'], ['b', '2026-12-07 08:00', 'doc2+room2'], ['c', '2026-12-07 09:00', 'doc1+room1'], ['d', '2026-12-07 09:00', 'doc2+room2'],
    ]);
    assert.deepEqual(plan.unplaced, ['e']);
  });
});
