// The bench's OpenID Connect provider: a JWKS on 127.0.0.1 with one ES256 key, and tokens signed with it, so
// the functions verify tokens as they do in production (jose, JWKS, issuer, audience) rather than the
// laptop's HS256 dev tokens, which production refuses.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';

export interface BenchOidc {
  env: { AUTH_JWKS_URL: string; AUTH_ISSUER: string; AUTH_AUDIENCE: string };
  /** grants: staff grants carried beside the role (operator, phi); staff cover every branch. */
  token(sub: string, role: 'patient' | 'staff' | 'service', ttlSeconds?: number, grants?: string[]): Promise<string>;
  close(): Promise<void>;
}

export async function startOidc(): Promise<BenchOidc> {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench-1', alg: 'ES256', use: 'sig' };
  const server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const env = { AUTH_JWKS_URL: `${base}/jwks`, AUTH_ISSUER: base, AUTH_AUDIENCE: 'patient-portal-bench' };
  return {
    env,
    token: (sub, role, ttlSeconds = 6 * 3600, grants = []) => new SignJWT({ roles: [role, ...grants], ...(role === 'staff' ? { branch_id: '*' } : {}) })
      .setProtectedHeader({ alg: 'ES256', kid: 'bench-1' }).setSubject(sub).setIssuer(env.AUTH_ISSUER).setAudience(env.AUTH_AUDIENCE)
      .setIssuedAt().setExpirationTime(`${ttlSeconds}s`).sign(privateKey),
    close: () => new Promise((r) => server.close(() => r())),
  };
}
