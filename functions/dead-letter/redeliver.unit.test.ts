import { strict as assert } from 'node:assert';
import { cannotRedeliver, redeliveryMessage, redeliveryTimeoutMs } from './redeliver';

describe('a kept event delivered again (redeliver.ts)', () => {
  const attributes = { specversion: '1.0', id: 'e-1', source: '/portal', type: 'com.medlab.booking.requested', time: '2026-11-21T05:00:00.000Z', knativekafkapartition: '3' };

  it('goes in binary mode: every attribute a ce- header but what the dead-letter sink added, JSON data as JSON', () => {
    const { headers, body } = redeliveryMessage({ ...attributes, datacontenttype: 'application/json', knativeerrordest: 'http://x', knativeerrorcode: '503', knativeerrordata: 'e30=', data: { slotId: 's-1' } });
    assert.deepEqual(headers, {
      'ce-specversion': '1.0', 'ce-id': 'e-1', 'ce-source': '/portal', 'ce-type': 'com.medlab.booking.requested', 'ce-time': '2026-11-21T05:00:00.000Z',
      'ce-knativekafkapartition': '3', 'content-type': 'application/json',
    });
    assert.equal(body?.toString('utf8'), '{"slotId":"s-1"}');
  });

  it('bytes (data_base64) go back as the same bytes; text of another media type as the same text; no data, no body', () => {
    const bytes = redeliveryMessage({ ...attributes, datacontenttype: 'application/x-hl7', data_base64: Buffer.from('MSH|^~\\&|LIS').toString('base64') });
    assert.equal(bytes.body?.toString('utf8'), 'MSH|^~\\&|LIS');
    assert.equal(bytes.headers['content-type'], 'application/x-hl7');
    const text = redeliveryMessage({ ...attributes, datacontenttype: 'text/plain', data: 'hello' });
    assert.equal(text.body?.toString('utf8'), 'hello');
    const none = redeliveryMessage({ ...attributes });
    assert.equal(none.body, undefined);
    assert.equal(none.headers['content-type'], undefined);
  });

  it('header values outside printable ASCII are percent-encoded; names that are no attribute are left out', () => {
    const { headers } = redeliveryMessage({ ...attributes, subject: 'Nguyễn', 'bad-name': 'x', traceparent: null });
    assert.equal(headers['ce-subject'], 'Nguy%E1%BB%85n');
    assert.equal(headers['ce-bad-name'], undefined);
    assert.equal('ce-traceparent' in headers, false);
  });

  it('refuses a letter cut short, one with nowhere to go, and one whose destination is not HTTP', () => {
    const event = { ...attributes, data: {} };
    assert.match(cannotRedeliver({ errorDest: 'http://booking-consumer', event, truncated: true })!, /cut short/);
    assert.match(cannotRedeliver({ errorDest: '', event, truncated: false })!, /no knativeerrordest/);
    assert.match(cannotRedeliver({ errorDest: 'file:///etc/passwd', event, truncated: false })!, /not an HTTP address/);
    assert.equal(cannotRedeliver({ errorDest: 'http://booking-consumer.patient-portal.svc.cluster.local', event, truncated: false }), undefined);
  });

  it('waits 10 s by default; DEAD_LETTER_RETRY_TIMEOUT_MS out of 100..20000 names itself', () => {
    assert.equal(redeliveryTimeoutMs({}), 10_000);
    assert.equal(redeliveryTimeoutMs({ DEAD_LETTER_RETRY_TIMEOUT_MS: '2500' }), 2500);
    assert.throws(() => redeliveryTimeoutMs({ DEAD_LETTER_RETRY_TIMEOUT_MS: '60000' }), /DEAD_LETTER_RETRY_TIMEOUT_MS must be .* from 100 to 20000/);
  });
});
