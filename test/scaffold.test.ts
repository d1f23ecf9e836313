// npm run new scaffolds a function of each kind that passes every check: typecheck, manifests:check (CRD
// schemas, cross-checks, rendered overlays) and its own generated tests — in a copy of the project.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadManifests } from '../scripts/lib/manifests';

const ROOT = path.join(__dirname, '..');

function run(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, ['--require', 'tsx/cjs', ...args], { cwd, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 180_000 });
}

describe('npm run new (scaffolding a function)', function () {
  this.timeout(300_000);
  let copy: string;

  before(() => {
    copy = mkdtempSync(path.join(tmpdir(), 'scaffold-'));
    for (const entry of ['functions', 'knative', 'keda', 'scripts', 'test', 'prisma', 'package.json', 'tsconfig.json', 'prisma.config.ts', '.mocharc.cjs']) {
      if (existsSync(path.join(ROOT, entry))) cpSync(path.join(ROOT, entry), path.join(copy, entry), { recursive: true });
    }
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
  });
  after(() => rmSync(copy, { recursive: true, force: true }));

  it('a route, a second route (a new HTTPRoute past 16 rules), a consumer and a job pass typecheck, manifests:check and their own tests', () => {
    const made = [
      ['booking-queue/opening-hours', '--kind', 'route', '--path', '/api/opening-hours', '--auth', 'public'],
      ['booking-queue/counter-note', '--kind', 'route', '--method', 'POST', '--path', '/api/queue/counter-note', '--auth', 'staff'],
      ['booking-queue/booking-audit', '--kind', 'consumer', '--topic', 'booking-events', '--event', 'com.medlab.booking.confirmed'],
      ['booking-queue/housekeeping', '--kind', 'job', '--schedule', '0 3 * * *'],
    ];
    const servicesIn = (out: string) => Number(/manifests ok: (\d+) Services/.exec(out)?.[1]);
    const before = servicesIn(run(copy, ['scripts/manifests-check.ts']).stdout);
    for (const args of made) {
      const r = run(copy, ['scripts/new-function.ts', ...args]);
      assert.equal(r.status, 0, r.stderr + r.stdout);
    }
    // booking-queue's HTTPRoute had 15 rules: the first new route is its 16th, the second opens another.
    assert.match(readFileSync(path.join(copy, 'knative/base/booking-queue/routes.yaml'), 'utf8'), /opening-hours/);
    assert.match(readFileSync(path.join(copy, 'knative/base/booking-queue/routes-2.yaml'), 'utf8'), /counter-note/);

    const tsc = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', '.'], { cwd: copy, encoding: 'utf8' });
    assert.equal(tsc.status, 0, tsc.stdout);
    const check = run(copy, ['scripts/manifests-check.ts']);
    assert.equal(check.status, 0, check.stderr + check.stdout);
    assert.equal(servicesIn(check.stdout), before + 4, check.stdout);

    const mocha = run(copy, [path.join(ROOT, 'node_modules/mocha/bin/mocha.js'), ...['opening-hours', 'counter-note', 'booking-audit', 'housekeeping'].map((n) => `functions/booking-queue/${n}/index.test.ts`)]);
    assert.equal(mocha.status, 0, mocha.stdout + mocha.stderr);
    assert.match(mocha.stdout, /[1-9] passing/);
    assert.doesNotMatch(mocha.stdout, /failing|pending/);
  });

  it('refuses what would not work, saying why', () => {
    for (const [args, why] of [
      [['nowhere/thing', '--kind', 'route'], /functions\/nowhere\/system\.ts does not exist/],
      [['booking-queue/book-slot', '--kind', 'route'], /already exists/],
      [['booking-queue/listener', '--kind', 'consumer', '--topic', 'booking-events'], /needs --topic <topic> and --event/],
      [['booking-queue/listener', '--kind', 'consumer', '--topic', 'booking-events', '--event', 'com.medlab.nothing'], /not declared/],
      [['booking-queue/thing', '--kind', 'lambda'], /usage/],
    ] as const) {
      const r = run(copy, ['scripts/new-function.ts', ...args]);
      assert.equal(r.status, 2, r.stdout);
      assert.match(r.stderr, why);
    }
  });
});
