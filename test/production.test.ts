// Safe in production: a function refuses to start without its database, its broker or its token settings,
// naming the variable; and nothing of the laptop (PGlite, the in-process bus, the manifest reader, the cron
// runner) is in a function's production import graph or its image's dependencies. (A YAML parser is: the
// dead-letter functions read the policy ConfigMap operators write in YAML.)
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { functionFolders } from '../scripts/lib/manifest-checks';
import { buildFunctions } from '../scripts/build';

const ROOT = path.join(__dirname, '..');
const CLI = path.join(ROOT, 'node_modules/faas-js-runtime/bin/cli.js');
const CLUSTER_ENV = {
  NODE_ENV: 'production', DATABASE_URL: 'postgresql://portal@db.invalid:5432/portal', KAFKA_BROKERS: 'kafka.invalid:9092',
  AUTH_JWKS_URL: 'https://login.medlab.example/jwks', AUTH_ISSUER: 'https://login.medlab.example', AUTH_AUDIENCE: 'patient-portal', LOG_LEVEL: 'silent',
  // The Web Push key browsers subscribe with (notification-push-key): any uncompressed P-256 point.
  VAPID_PUBLIC_KEY: Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]).toString('base64url'),
  // The dead-letter-policy and notification-policy ConfigMaps' policy.yaml, as the cluster mounts them.
  DEAD_LETTER_POLICY_FILE: mountedPolicy('knative/base/dead-letter/policy.yaml'),
  NOTIFICATION_POLICY_FILE: mountedPolicy('knative/base/notification/policy.yaml'),
  PATIENT_BOOKING_RELEASE_POLICY_FILE: mountedPolicy('knative/base/patient-booking/release-policy.yaml'),
  // The recommendation-rules-policy ConfigMap (patient-booking's recommendation rules), as the cluster mounts it.
  PATIENT_BOOKING_RECOMMENDATION_RULES_FILE: mountedPolicy('knative/base/patient-booking/recommendation-rules.yaml'),
  // The Secrets notification-links and notification-providers (knative/secret-keys.yaml), as deploy.sh makes them.
  NOTIFICATION_LINK_SECRET: 'a-link-signing-key-of-at-least-32-characters',
  SMTP_URL: 'smtp://mail.invalid:587', NOTIFICATION_EMAIL_FROM: 'MedLab <no-reply@medlab.invalid>',
  SMS_API_URL: 'https://sms.invalid', SMS_ACCOUNT_SID: 'AC0', SMS_AUTH_TOKEN: 'token', SMS_FROM: 'MEDLAB',
  VAPID_PRIVATE_KEY: Buffer.alloc(32, 7).toString('base64url'), VAPID_SUBJECT: 'mailto:ops@medlab.invalid', PUBLIC_URL: 'https://portal.invalid',
};

/** A ConfigMap's policy.yaml written to a file, as the cluster mounts it. */
function mountedPolicy(manifest: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'portal-policy-')), 'policy.yaml');
  writeFileSync(file, readFileSync(path.join(ROOT, manifest), 'utf8').split('  policy.yaml: |\n')[1].replace(/^ {4}/gm, ''));
  return file;
}
/** Laptop packages (wherever they are installed) and the project's laptop folders. */
const LAPTOP_PACKAGES = /node_modules[\\/](@electric-sql[\\/]pglite|pglite-prisma-adapter|croner)[\\/]/;
const LAPTOP_FOLDERS = /^(scripts|test)[\\/]/;

/** Starts a function with the faas-js-runtime CLI as its container does; returns when it exits (or after 20 s). */
function startInCluster(functionDir: string, env: Record<string, string | undefined>) {
  const childEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) childEnv[k] = v;
  return spawnSync(process.execPath, ['--require', 'tsx/cjs', CLI, path.join(ROOT, functionDir, 'index.ts'), '--port', '0'], {
    cwd: path.join(ROOT, functionDir), env: childEnv, encoding: 'utf8', timeout: 20_000,
  });
}

describe('safe in production (NODE_ENV=production)', function () {
  this.timeout(120_000);

  for (const [fn, missing] of [
    ['functions/booking-queue/book-slot', 'KAFKA_BROKERS'],
    ['functions/booking-queue/booking-consumer', 'DATABASE_URL'],
    ['functions/booking-queue/outbox-publisher', 'KAFKA_BROKERS'],
    ['functions/dead-letter/intake', 'DATABASE_URL'],
    ['functions/dead-letter/intake', 'DEAD_LETTER_POLICY_FILE'],
    ['functions/booking-queue/availability', 'AUTH_JWKS_URL'],
    ['functions/notification/push-key', 'VAPID_PUBLIC_KEY'],
    ['functions/notification/cron', 'NOTIFICATION_POLICY_FILE'],
    ['functions/notification/results-consumer', 'NOTIFICATION_LINK_SECRET'],
    ['functions/notification/sender', 'SMS_AUTH_TOKEN'],
    ['functions/patient-booking/patient-results-svip1-consumer', 'PATIENT_BOOKING_RELEASE_POLICY_FILE'],
    ['functions/patient-booking/recommend-consumer', 'PATIENT_BOOKING_RECOMMENDATION_RULES_FILE'],
  ] as const) {
    it(`${fn.split('/').pop()} refuses to start without ${missing}, naming it`, () => {
      const run = startInCluster(fn, { ...CLUSTER_ENV, [missing]: undefined });
      assert.notEqual(run.status, 0, `it started: ${run.stdout}${run.stderr}`);
      assert.equal(run.signal, null, 'it exited by itself rather than running until killed');
      assert.match(run.stdout + run.stderr, new RegExp(missing));
    });
  }

  it("no function's production import graph holds laptop machinery (PGlite, in-process bus, YAML reader, cron runner, scripts/)", () => {
    const folders = functionFolders();
    assert.ok(folders.length >= 18, `found ${folders.length} functions`);
    const probe = `
      for (const dir of ${JSON.stringify(folders)}) require(require('node:path').join(${JSON.stringify(ROOT)}, dir, 'index.ts'));
      process.stdout.write(JSON.stringify(Object.keys(require.cache)));`;
    const run = spawnSync(process.execPath, ['--require', 'tsx/cjs', '-e', probe], { cwd: ROOT, env: { ...process.env, ...CLUSTER_ENV }, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const loaded: string[] = JSON.parse(run.stdout);
    assert.ok(loaded.some((m) => m.includes('book-slot')), 'the probe loaded the functions');
    assert.deepEqual(loaded.filter((m) => LAPTOP_PACKAGES.test(m) || LAPTOP_FOLDERS.test(path.relative(ROOT, m))), []);
  });

  it('the image gets only production dependencies, and the laptop packages are not among them', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    for (const laptop of ['@electric-sql/pglite', 'pglite-prisma-adapter', 'croner']) {
      assert.ok(!(laptop in pkg.dependencies), `${laptop} would be in every image (npm prune --omit=dev keeps dependencies)`);
    }
    const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    assert.match(dockerfile, /npm run build/);
    assert.match(dockerfile, /npm prune --omit=dev/);
  });

  it('each function image is one bundled file with none of the laptop machinery in it', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'portal-build-'));
    try {
      const files = await buildFunctions(undefined, out);
      assert.ok(files.length >= 18, `expected every function of knative/ to be built, got ${files.length}`);
      for (const file of files) {
        const code = readFileSync(file, 'utf8');
        for (const laptop of ['@electric-sql/pglite', 'pglite-prisma-adapter', 'memoryBus', 'useLaptopDefaults']) {
          assert.ok(!code.includes(laptop), `${path.relative(out, file)} carries ${laptop}`);
        }
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('the laptop defaults themselves refuse to be used in production', () => {
    const run = spawnSync(process.execPath, ['--require', 'tsx/cjs', '-e', `require(${JSON.stringify(path.join(ROOT, 'scripts/lib/laptop/defaults.ts'))}).useLaptopDefaults()`], {
      cwd: ROOT, env: { ...process.env, NODE_ENV: 'production' }, encoding: 'utf8',
    });
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /laptop machinery; set DATABASE_URL in production/);
  });
});
