import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import { assertAuthConfig, callerFrom, signToken } from './auth';
import { Problem } from './errors';

const ISSUER = 'https://id.medlab.example/realms/clinic';
const AUDIENCE = 'patient-portal';
const now = () => Math.floor(Date.now() / 1000);

interface ProviderKey { kid: string; alg: 'ES256' | 'RS256'; privateKey: CryptoKey; jwk: JWK }

async function providerKey(kid: string, alg: 'ES256' | 'RS256'): Promise<ProviderKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** The OpenID Connect provider's JWKS endpoint: serves whatever keys it holds now, or fails on request. */
class JwksServer {
  keys: ProviderKey[] = [];
  status = 200;
  fetches = 0;
  private server?: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((_req, res) => {
      this.fetches++;
      res.writeHead(this.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: this.keys.map((k) => k.jwk) }));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/realms/clinic/protocol/openid-connect/certs`;
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }
}

function providerToken(key: ProviderKey, claims: JWTPayload, opts: { iss?: string; aud?: string; exp?: number | null } = {}) {
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .setIssuedAt()
    .setIssuer(opts.iss ?? ISSUER)
    .setAudience(opts.aud ?? AUDIENCE);
  if (opts.exp !== null) jwt.setExpirationTime(opts.exp ?? now() + 300);
  return jwt.sign(key.privateKey);
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function refused(headers: Record<string, string>, status: number, detail?: RegExp): Promise<Problem> {
  const err = await callerFrom(headers).then(
    (caller) => assert.fail(`expected ${status}, got caller ${JSON.stringify(caller)}`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof Problem, `expected a Problem, got ${String(err)}`);
  assert.equal(err.status, status, err.message);
  if (detail) assert.match(err.detail ?? '', detail);
  return err;
}

const AUTH_VARS = ['NODE_ENV', 'AUTH_JWKS_URL', 'AUTH_ISSUER', 'AUTH_AUDIENCE', 'AUTH_CLOCK_SKEW_SECONDS', 'AUTH_ROLES_CLAIM',
  'AUTH_BRANCH_CLAIM', 'AUTH_TIER_CLAIM', 'AUTH_PATIENT_ID_CLAIM', 'AUTH_JWT_SECRET', 'AUTH_JWKS_COOLDOWN_SECONDS', 'AUTH_JWKS_CACHE_SECONDS'];

describe('auth — bearer tokens verified with jose', () => {
  let saved: Record<string, string | undefined>;
  beforeEach(() => {
    saved = Object.fromEntries(AUTH_VARS.map((v) => [v, process.env[v]]));
    for (const v of AUTH_VARS) if (v !== 'NODE_ENV') delete process.env[v];
  });
  afterEach(() => {
    for (const [v, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[v];
      else process.env[v] = value;
    }
  });

  describe('production: tokens of the OpenID Connect provider through its JWKS URL', () => {
    let jwks: JwksServer;
    let es: ProviderKey;
    let rs: ProviderKey;
    before(async () => {
      es = await providerKey('es-2026-01', 'ES256');
      rs = await providerKey('rs-2026-01', 'RS256');
    });
    beforeEach(async () => {
      jwks = await new JwksServer().start();
      jwks.keys = [es, rs];
      // plain http is accepted in production from loopback only (tested under configuration)
      Object.assign(process.env, { NODE_ENV: 'production', AUTH_JWKS_URL: jwks.url, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE });
    });
    afterEach(() => jwks.stop());

    it('an ES256 patient token becomes a PatientCaller with the patient id and tier', async () => {
      const token = await providerToken(es, { sub: 'patient-42', roles: ['patient'], tier: 'vip' });
      assert.deepEqual(await callerFrom(bearer(token)), { role: 'patient', subject: 'patient-42', patientId: 'patient-42', tier: 'vip' });
    });

    it('an RS256 staff token becomes a StaffCaller of its branch; "*" means every branch', async () => {
      const d1 = await providerToken(rs, { sub: 'anna', roles: ['staff'], branch_id: 'hcm-d1' });
      assert.deepEqual(await callerFrom(bearer(d1)), { role: 'staff', subject: 'anna', branchId: 'hcm-d1' });
      const all = await providerToken(rs, { sub: 'head-nurse', roles: 'staff', branch_id: '*' });
      assert.deepEqual(await callerFrom(bearer(all)), { role: 'staff', subject: 'head-nurse' });
    });

    it('a service token becomes a ServiceCaller; provider roles that are not portal roles are ignored', async () => {
      const token = await providerToken(es, { sub: 'patient-booking', roles: ['offline_access', 'service', 'uma_authorization'] });
      assert.deepEqual(await callerFrom(bearer(token)), { role: 'service', subject: 'patient-booking' });
    });

    it('a staff token without the branch claim is refused (a misnamed claim must not open every branch)', async () => {
      const token = await providerToken(rs, { sub: 'anna', roles: ['staff'], branch: 'hcm-d1' });
      await refused(bearer(token), 401, /branch/);
      const listed = await providerToken(rs, { sub: 'anna', roles: ['staff'], branch_id: ['hcm-d1', 'hn-bd'] });
      await refused(bearer(listed), 401, /branch/);
    });

    it('key rotation: the provider switches keys and a token with the new kid verifies without a restart', async () => {
      process.env.AUTH_JWKS_COOLDOWN_SECONDS = '0';
      assert.ok(await callerFrom(bearer(await providerToken(es, { sub: 'p-1', roles: ['patient'] }))));
      assert.equal(jwks.fetches, 1);
      // keys are cached: a second token with a known kid fetches nothing
      assert.ok(await callerFrom(bearer(await providerToken(rs, { sub: 'p-1', roles: ['patient'] }))));
      assert.equal(jwks.fetches, 1);

      const next = await providerKey('es-2026-02', 'ES256');
      jwks.keys = [next];
      const caller = await callerFrom(bearer(await providerToken(next, { sub: 'p-2', roles: ['patient'] })));
      assert.deepEqual(caller, { role: 'patient', subject: 'p-2', patientId: 'p-2' });
      assert.equal(jwks.fetches, 2);
      // the retired key is gone from the set: its tokens no longer verify
      await refused(bearer(await providerToken(es, { sub: 'p-1', roles: ['patient'] })), 401, /unknown key/);
    });

    it('refuses a token from another issuer or for another audience', async () => {
      await refused(bearer(await providerToken(es, { sub: 'p', roles: ['patient'] }, { iss: 'https://evil.example' })), 401, /iss/);
      await refused(bearer(await providerToken(es, { sub: 'p', roles: ['patient'] }, { aud: 'billing' })), 401, /aud/);
    });

    it('allows the clock skew: expired 10 s ago passes with the default 30 s, 60 s ago is refused', async () => {
      const claims = { sub: 'p', roles: ['patient'] };
      assert.ok(await callerFrom(bearer(await providerToken(es, claims, { exp: now() - 10 }))));
      await refused(bearer(await providerToken(es, claims, { exp: now() - 60 })), 401, /expired/);
      process.env.AUTH_CLOCK_SKEW_SECONDS = '0';
      await refused(bearer(await providerToken(es, claims, { exp: now() - 10 })), 401, /expired/);
    });

    it('refuses a token without exp', async () => {
      await refused(bearer(await providerToken(es, { sub: 'p', roles: ['patient'] }, { exp: null })), 401, /exp/);
    });

    it('refuses alg "none" and HS256 tokens whatever AUTH_JWT_SECRET says', async () => {
      process.env.AUTH_JWT_SECRET = 'an-hs256-secret';
      const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const claims = { sub: 'p', roles: ['patient'], iss: ISSUER, aud: AUDIENCE, exp: now() + 300 };
      await refused(bearer(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`), 401);
      const hs = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('an-hs256-secret'));
      await refused(bearer(hs), 401, /algorithm/);
      // the same token is fine outside production without a JWKS URL: the check above is production's
      delete process.env.AUTH_JWKS_URL;
      process.env.NODE_ENV = 'test';
      assert.ok(await callerFrom(bearer(hs)));
    });

    it('refuses a token without a portal role, and one with several (ambiguous)', async () => {
      await refused(bearer(await providerToken(es, { sub: 'p', roles: ['offline_access'] })), 401, /no portal role/);
      await refused(bearer(await providerToken(es, { sub: 'p' })), 401, /no portal role/);
      await refused(bearer(await providerToken(es, { sub: 'nurse-patient', roles: ['patient', 'staff'], branch_id: 'hcm-d1' })), 401, /several portal roles/);
    });

    it('refuses a token signed by a key the provider does not publish', async () => {
      const stranger = await providerKey(es.kid, 'ES256');
      await refused(bearer(await providerToken(stranger, { sub: 'p', roles: ['patient'] })), 401, /signature/);
    });

    it('JWKS unreachable or failing → 503 with Retry-After, not the caller’s 401', async () => {
      const token = await providerToken(es, { sub: 'p', roles: ['patient'] });
      jwks.status = 500;
      const failing = await refused(bearer(token), 503);
      assert.ok(Number(failing.headers['retry-after']) > 0);
      await jwks.stop();
      const down = await refused(bearer(token), 503);
      assert.ok(Number(down.headers['retry-after']) > 0);
    });

    it('while the key server is down, keys fetched before still verify; a token with an unknown kid gets 503', async () => {
      process.env.AUTH_JWKS_CACHE_SECONDS = '0'; // every verification refetches
      const token = await providerToken(es, { sub: 'p', roles: ['patient'] });
      assert.ok(await callerFrom(bearer(token)));
      await jwks.stop();
      assert.deepEqual(await callerFrom(bearer(token)), { role: 'patient', subject: 'p', patientId: 'p' });
      const rotated = await providerKey('es-2026-03', 'ES256');
      await refused(bearer(await providerToken(rotated, { sub: 'p', roles: ['patient'] })), 503);
    });

    it('reads roles, branch, tier and patient id from configured claim paths', async () => {
      Object.assign(process.env, {
        AUTH_ROLES_CLAIM: 'realm_access.roles', AUTH_BRANCH_CLAIM: 'medlab.branch',
        AUTH_TIER_CLAIM: 'https://medlab.example/tier', AUTH_PATIENT_ID_CLAIM: 'patient_id',
      });
      const patient = await providerToken(es, {
        sub: 'f3a1c2', patient_id: 'patient-42', realm_access: { roles: ['default-roles-clinic', 'patient'] },
        'https://medlab.example/tier': 'svip', roles: ['staff'],
      });
      assert.deepEqual(await callerFrom(bearer(patient)), { role: 'patient', subject: 'f3a1c2', patientId: 'patient-42', tier: 'svip' });
      const staff = await providerToken(rs, { sub: 'anna', realm_access: { roles: ['staff'] }, medlab: { branch: 'hn-bd' } });
      assert.deepEqual(await callerFrom(bearer(staff)), { role: 'staff', subject: 'anna', branchId: 'hn-bd' });
      const noPatientId = await providerToken(es, { sub: 'f3a1c2', realm_access: { roles: ['patient'] } });
      await refused(bearer(noPatientId), 401, /patient_id/);
    });

    it('staff grants (operator, phi, clinician) come from the same roles claim; other values and other roles grant nothing', async () => {
      Object.assign(process.env, { AUTH_ROLES_CLAIM: 'realm_access.roles' });
      const ops = await providerToken(rs, { sub: 'lan', realm_access: { roles: ['staff', 'operator', 'phi', 'clinician', 'offline_access'] }, branch_id: '*' });
      assert.deepEqual(await callerFrom(bearer(ops)), { role: 'staff', subject: 'lan', grants: ['operator', 'phi', 'clinician'] });
      const service = await providerToken(rs, { sub: 'lis', realm_access: { roles: ['service', 'operator'] } });
      assert.deepEqual(await callerFrom(bearer(service)), { role: 'service', subject: 'lis' });
    });

    it('no Authorization header → undefined; another scheme → 401', async () => {
      assert.equal(await callerFrom({}), undefined);
      await refused({ authorization: 'Basic cGF0aWVudDpzZWNyZXQ=' }, 401, /Bearer/);
      await refused(bearer('not.a.token'), 401);
    });
  });

  describe('configuration', () => {
    const production = { NODE_ENV: 'production', AUTH_JWKS_URL: 'https://id.medlab.example/certs', AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE };

    it('production without AUTH_JWKS_URL, AUTH_ISSUER or AUTH_AUDIENCE fails at start-up naming the variable', () => {
      for (const missing of ['AUTH_JWKS_URL', 'AUTH_ISSUER', 'AUTH_AUDIENCE'] as const) {
        Object.assign(process.env, production, { AUTH_JWT_SECRET: 'set-but-not-enough' });
        delete process.env[missing];
        assert.throws(() => assertAuthConfig(), new RegExp(missing));
      }
      Object.assign(process.env, production);
      assert.doesNotThrow(() => assertAuthConfig());
    });

    it('production refuses a JWKS URL over plain http and a clock skew that is not small', () => {
      Object.assign(process.env, production, { AUTH_JWKS_URL: 'http://id.medlab.example/certs' });
      assert.throws(() => assertAuthConfig(), /AUTH_JWKS_URL/);
      Object.assign(process.env, production, { AUTH_CLOCK_SKEW_SECONDS: '3600' });
      assert.throws(() => assertAuthConfig(), /AUTH_CLOCK_SKEW_SECONDS/);
    });

    it('outside production nothing needs setting (HS256 with the dev secret)', () => {
      process.env.NODE_ENV = 'test';
      assert.doesNotThrow(() => assertAuthConfig());
    });

    it('signToken refuses to mint HS256 tokens in production', () => {
      Object.assign(process.env, production);
      assert.throws(() => signToken({ sub: 'p', role: 'patient', exp: now() + 60 }), /production/);
    });
  });

  describe('outside production: HS256 dev tokens read through the same claim code', () => {
    beforeEach(() => { process.env.NODE_ENV = 'test'; });

    it('signToken tokens give the same callers as provider tokens', async () => {
      const exp = now() + 60;
      assert.deepEqual(await callerFrom(bearer(signToken({ sub: 'patient-1', role: 'patient', tier: 'svip', exp }))),
        { role: 'patient', subject: 'patient-1', patientId: 'patient-1', tier: 'svip' });
      assert.deepEqual(await callerFrom(bearer(signToken({ sub: 'anna', role: 'staff', branchId: 'hcm-d1', exp }))),
        { role: 'staff', subject: 'anna', branchId: 'hcm-d1' });
      assert.deepEqual(await callerFrom(bearer(signToken({ sub: 'boss', role: 'staff', exp }))), { role: 'staff', subject: 'boss' });
    });

    it('signToken writes the configured claim paths, so custom paths still round-trip', async () => {
      Object.assign(process.env, { AUTH_ROLES_CLAIM: 'realm_access.roles', AUTH_BRANCH_CLAIM: 'medlab.branch', AUTH_PATIENT_ID_CLAIM: 'patient_id' });
      const staff = signToken({ sub: 'anna', role: 'staff', branchId: 'hn-bd', exp: now() + 60 });
      const payload = JSON.parse(Buffer.from(staff.split('.')[1], 'base64url').toString());
      assert.deepEqual(payload.realm_access, { roles: ['staff'] });
      assert.deepEqual(await callerFrom(bearer(staff)), { role: 'staff', subject: 'anna', branchId: 'hn-bd' });
      assert.deepEqual(await callerFrom(bearer(signToken({ sub: 'p-9', role: 'patient', exp: now() + 60 }))),
        { role: 'patient', subject: 'p-9', patientId: 'p-9' });
    });

    it('refuses a wrong secret, a missing exp and an unknown role', async () => {
      await refused(bearer(signToken({ sub: 'p', role: 'patient', exp: now() + 60 }, 'not-the-portal-secret')), 401, /signature/);
      await refused(bearer(signToken({ sub: 'p', role: 'patient' })), 401, /exp/);
      await refused(bearer(signToken({ sub: 'root', role: 'admin' as never, exp: now() + 60 })), 401, /portal role/);
    });

    it('AUTH_JWT_SECRET replaces the dev secret', async () => {
      process.env.AUTH_JWT_SECRET = 'laptop-secret';
      const token = signToken({ sub: 'p', role: 'patient', exp: now() + 60 });
      assert.ok(await callerFrom(bearer(token)));
      delete process.env.AUTH_JWT_SECRET;
      await refused(bearer(token), 401, /signature/);
    });
  });
});
