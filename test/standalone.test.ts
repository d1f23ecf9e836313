// Each function starts on its own under the faas-js-runtime CLI, as its container does.
import { strict as assert } from 'node:assert';
import { freePort, resetDatabase, seedCatalogue, eventually } from './support/fixtures';
import { CliFunction } from './faults/support';

/** Starts the function in its folder with the faas-js-runtime CLI; resolves once /health/readiness is 200. */
const startCli = async (functionDir: string) => new CliFunction(functionDir, await freePort(), { LOG_LEVEL: 'silent' }).start();

describe('a function on its own (faas-js-runtime CLI, as in its container)', function () {
  this.timeout(60_000);
  const children: CliFunction[] = [];
  after(async () => { for (const c of children) await c.kill(); });
  beforeEach(async () => { await resetDatabase(); await seedCatalogue(); });

  it('queue-board starts, reports ready on /health/readiness and answers its route at /', async () => {
    const fn = await startCli('functions/booking-queue/queue-board');
    children.push(fn);
    const { url } = fn;
    // Probes answer 503 while the event loop lags over 42 ms (faas-js-runtime's overload-protection), as
    // it does on a machine busy with other tests; live means it answers 200 once it catches up.
    await eventually(async () => (await fetch(`${url}/health/liveness`)).status === 200, 'queue-board /health/liveness to answer 200', 30_000, 250);
    const res = await fetch(`${url}/?branchId=hcm-d1`);
    assert.equal(res.status, 200);
    assert.equal((await res.json()).branchId, 'hcm-d1');
    const bad = await fetch(`${url}/`);
    assert.equal(bad.status, 400);
    assert.match(bad.headers.get('content-type')!, /problem\+json/);
  });

  it('the booking consumer takes a binary CloudEvent on its own', async () => {
    const fn = await startCli('functions/booking-queue/booking-consumer');
    children.push(fn);
    const { url } = fn;
    const res = await fetch(url, { method: 'POST', headers: { 'ce-specversion': '1.0', 'ce-id': 'x1', 'ce-source': '/t', 'ce-type': 'com.medlab.booking.requested', 'content-type': 'application/json' }, body: '{"requestId":"r","patientId":"p","slotId":"00000000-0000-4000-8000-000000000000"}' });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).result.outcome, 'rejected');
  });
});
