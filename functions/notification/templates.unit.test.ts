import { strict as assert } from 'node:assert';
import { render, templates, variablesOf } from './templates';
import { DomainError } from '../shared/domain-errors';

describe('notification templates (no database)', () => {
  it('fills every place in the patient\'s language, Vietnamese when the language has no words', () => {
    const vars = { localTime: '09:00', weekday: 'Tuesday', localDate: '2026-12-08', link: '/appointments/a-1' };
    assert.deepEqual(render('appointment-confirmed', 'en', vars), {
      title: 'Appointment confirmed', body: 'Your appointment at 09:00 on Tuesday 2026-12-08 is confirmed.', link: '/appointments/a-1', language: 'en',
    });
    assert.equal(render('appointment-confirmed', 'fr', { ...vars, weekday: 'Thứ Ba' }).title, 'Lịch hẹn đã được xác nhận');
  });

  it('a missing variable or an unknown template is refused, naming what is missing', () => {
    assert.throws(() => render('appointment-confirmed', 'en', { localTime: '09:00' }), (e: DomainError) => e.refusal === 'invalid' && e.field === 'variables/link' && /needs link, localDate, weekday/.test(e.message));
    assert.throws(() => render('no-such-template', 'en', {}), (e: DomainError) => e.refusal === 'not-found' && e.field === 'template');
  });

  it('no patient template carries a place for a result, a test name or a diagnosis', () => {
    const allowed = new Set(['link', 'localTime', 'localDate', 'weekday', 'rebookPath', 'ticket']);
    for (const name of Object.keys(templates).filter((n) => templates[n].category !== 'operations')) {
      for (const v of variablesOf(name)) assert.ok(allowed.has(v), `${name} names {{${v}}}`);
    }
  });
});
