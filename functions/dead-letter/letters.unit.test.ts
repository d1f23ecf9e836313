// What a letter says about itself before anyone acts on it: its record key, whether it can heal, how its
// event and reason look to an operator without the phi grant.
import { strict as assert } from 'node:assert';
import { healable, maskedEvent, maskedReason, recordKeyOf } from './letters';

describe('dead letters (letters.ts)', () => {
  it('the record key: partitionkey, a wrapped record\'s key, else the contract\'s key field, also in data that came as bytes', () => {
    const type = 'com.medlab.booking.requested'; // keyed by patientId
    assert.equal(recordKeyOf({ type, partitionkey: 'p-1' }, { patientId: 'p-2' }), 'p-1');
    assert.equal(recordKeyOf({ type: 'dev.knative.kafka.event', key: 'order-7' }, 'MSH|…'), 'order-7');
    assert.equal(recordKeyOf({ type }, { patientId: 'p-2' }), 'p-2');
    assert.equal(recordKeyOf({ type }, Buffer.from('{"patientId":"p-3"}')), 'p-3');
    assert.equal(recordKeyOf({ type }, Buffer.from('not json')), null);
    assert.equal(recordKeyOf({ type: 'com.example.unknown' }, { patientId: 'p-2' }), null);
  });

  it('no answer, 5xx, 408 and 429 can heal; any other 4xx cannot', () => {
    assert.deepEqual([null, 500, 503, 408, 429].map(healable), [true, true, true, true, true]);
    assert.deepEqual([400, 404, 409, 422].map(healable), [false, false, false, false]);
  });

  it('masked: ids stay readable, every other value and the consumer\'s answer are hidden; a reason loses what it quotes, addresses and phone numbers', () => {
    const event = { id: 'e-1', type: 'com.medlab.booking.requested', source: '/portal', knativeerrordata: 'eyJ0aXRsZSI6Im5vIn0=',
      data: { requestId: 'r-1', patientId: 'p-1', name: 'Nguyen Van A', phone: '0901234567', nested: { dob: '1980-01-01', slotId: 's-1' } } };
    const masked = maskedEvent(event) as Record<string, any>;
    assert.deepEqual(masked.data, { requestId: 'r-1', patientId: 'p-1', name: '•••', phone: '•••', nested: { dob: '•••', slotId: 's-1' } });
    assert.equal(masked.datamasked, true);
    assert.notEqual(masked.knativeerrordata, event.knativeerrordata);
    const asBytes = maskedEvent({ id: 'e-2', data_base64: Buffer.from('{"patientId":"p-1","phone":"0901234567"}').toString('base64') }) as Record<string, any>;
    assert.deepEqual([asBytes.data, asBytes.data_base64], [{ patientId: 'p-1', phone: '•••' }, '•••'], 'JSON that came as bytes is shown masked as JSON');
    const binary = maskedEvent({ id: 'e-3', data_base64: Buffer.from([0xff, 0x00]).toString('base64') }) as Record<string, any>;
    assert.deepEqual([binary.data, binary.data_base64], [undefined, '•••']);
    assert.equal(maskedReason('no patient named "Nguyen Van A" at 0901 234 567 or a@b.vn (HTTP 422, 3 tries)'), 'no patient named "•••" at ••• or ••• (HTTP 422, 3 tries)');
    assert.equal(maskedReason('redrive fc583189-69b8-422b-b08f-bb749480793c sent it'), 'redrive fc583189-69b8-422b-b08f-bb749480793c sent it', 'ids stay');
  });
});
