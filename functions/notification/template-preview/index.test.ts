import { strict as assert } from 'node:assert';
import * as preview from './index';
import { startFunction, call, patientToken, staffToken, token, type RunningFunction } from '../../../test/support/fixtures';

describe('notification-template-preview (GET /api/notifications/templates/preview)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(preview); });
  after(async () => fn.close());

  const variables = JSON.stringify({ localTime: '09:30', weekday: 'Thứ Hai', localDate: '12/01/2030', link: 'https://portal.medlab.example/a/1' });

  it('renders the title, body and link as the patient would read them, in Vietnamese by default or English', async () => {
    const vi = await call(fn.url, { token: staffToken(), query: { template: 'appointment-reminder', variables } });
    assert.equal(vi.status, 200, JSON.stringify(vi.body));
    assert.deepEqual([vi.body.language, vi.body.category, vi.body.critical], ['vi', 'reminder', false]);
    assert.equal(vi.body.body, 'Nhắc bạn lịch hẹn lúc 09:30 Thứ Hai 12/01/2030.');
    assert.equal(vi.body.link, 'https://portal.medlab.example/a/1');
    assert.deepEqual(vi.body.variables, ['link', 'localDate', 'localTime', 'weekday']);
    const en = await call(fn.url, { token: token('service', 'appointment'), query: { template: 'results-call-clinic', language: 'en', variables: '{"link":"/r/1"}' } });
    assert.deepEqual([en.body.title, en.body.critical], ['Please call the clinic', true]);
  });

  it('an unknown template is 404 naming query/template; a missing variable 400 naming it; variables that are not a JSON object 400', async () => {
    const unknown = await call(fn.url, { token: staffToken(), query: { template: 'lottery-win' } });
    assert.deepEqual([unknown.status, unknown.body['invalid-params'][0].name], [404, 'query/template']);
    const missing = await call(fn.url, { token: staffToken(), query: { template: 'appointment-reminder', variables: '{"localTime":"09:30","link":"/a"}' } });
    assert.deepEqual([missing.status, missing.body['invalid-params'][0].name], [400, 'query/variables/localDate']);
    assert.match(missing.body.detail, /localDate, weekday/);
    for (const [text, field] of [['{"localTime":', 'query/variables'], ['[1,2]', 'query/variables'], ['{"localTime":{"h":9}}', 'query/variables/localTime']]) {
      const res = await call(fn.url, { token: staffToken(), query: { template: 'appointment-reminder', variables: text } });
      assert.deepEqual([res.status, res.body['invalid-params'][0].name], [400, field], text);
    }
  });

  it('is for staff and services', async () => {
    assert.equal((await call(fn.url, { token: patientToken('p-1'), query: { template: 'results-ready' } })).status, 403);
  });
});
