// Each function starts on its own under the faas-js-runtime CLI, as its container does.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort, eventually, resetDatabase, seedCatalogue } from './support/fixtures';

const ROOT = path.join(__dirname, '..');

function startCli(functionFile: string, port: number): ChildProcess {
  return spawn(process.execPath, ['--require', 'tsx/cjs', path.join(ROOT, 'node_modules/faas-js-runtime/bin/cli.js'), path.join(ROOT, functionFile), '--port', String(port)], {
    cwd: path.dirname(path.join(ROOT, functionFile)),
    env: { ...process.env, LOG_LEVEL: 'silent' },
    stdio: 'ignore',
  });
}

describe('a function on its own (faas-js-runtime CLI, as in its container)', function () {
  this.timeout(60_000);
  const children: ChildProcess[] = [];
  after(() => children.forEach((c) => c.kill('SIGTERM')));
  beforeEach(async () => { await resetDatabase(); await seedCatalogue(); });

  it('queue-board starts, reports ready on /health/readiness and answers its route at /', async () => {
    const port = await freePort();
    children.push(startCli('functions/booking-queue/queue-board/index.ts', port));
    const url = `http://127.0.0.1:${port}`;
    await eventually(async () => (await fetch(`${url}/health/readiness`).catch(() => undefined))?.ok, 'readiness');
    assert.equal((await fetch(`${url}/health/liveness`)).status, 200);
    const res = await fetch(`${url}/?branchId=hcm-d1`);
    assert.equal(res.status, 200);
    assert.equal((await res.json()).branchId, 'hcm-d1');
    const bad = await fetch(`${url}/`);
    assert.equal(bad.status, 400);
    assert.match(bad.headers.get('content-type')!, /problem\+json/);
  });

  it('the booking consumer takes a binary CloudEvent on its own', async () => {
    const port = await freePort();
    children.push(startCli('functions/booking-queue/booking-consumer/index.ts', port));
    const url = `http://127.0.0.1:${port}`;
    await eventually(async () => (await fetch(`${url}/health/readiness`).catch(() => undefined))?.ok, 'readiness');
    const res = await fetch(url, { method: 'POST', headers: { 'ce-specversion': '1.0', 'ce-id': 'x1', 'ce-source': '/t', 'ce-type': 'com.medlab.booking.requested', 'content-type': 'application/json' }, body: '{"requestId":"r","patientId":"p","slotId":"00000000-0000-4000-8000-000000000000"}' });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).result.outcome, 'rejected');
  });
});
