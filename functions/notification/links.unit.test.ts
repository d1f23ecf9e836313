import { strict as assert } from 'node:assert';
import { resultsLink, verifyLink, linkSecret } from './links';

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';
const issued = new Date('2026-12-08T03:00:00Z');
const expiresAt = new Date(issued.getTime() + 7 * 86_400_000);
const N = '7b0a3f9e-3c1d-4e55-9a1b-2f7c9d3e4a10';

describe('results links (signed, expiring)', () => {
  const link = resultsLink('https://portal.example/', { accession: 'ACC-1', notificationId: N, expiresAt }, SECRET);

  it('names the accession and notification, the expiry in unix seconds and an HMAC-SHA256 signature', () => {
    const url = new URL(link);
    assert.equal(`${url.origin}${url.pathname}`, 'https://portal.example/results');
    assert.deepEqual([url.searchParams.get('accession'), url.searchParams.get('n'), url.searchParams.get('exp')], ['ACC-1', N, String(expiresAt.getTime() / 1000)]);
    assert.match(url.searchParams.get('sig')!, /^[A-Za-z0-9_-]{43}$/);
  });
  it('verifies until it expires, and not from then on', () => {
    assert.deepEqual(verifyLink(link, issued, SECRET), { ok: true, accession: 'ACC-1', notificationId: N, expiresAt });
    assert.equal(verifyLink(link, new Date(expiresAt.getTime() - 1000), SECRET).ok, true);
    assert.deepEqual(verifyLink(link, expiresAt, SECRET), { ok: false, reason: 'expired' });
  });
  it('an edited accession, notification or expiry, another secret, or a missing part is refused', () => {
    const edit = (key: string, value: string) => { const u = new URL(link); u.searchParams.set(key, value); return u.toString(); };
    assert.deepEqual(verifyLink(edit('accession', 'ACC-2'), issued, SECRET), { ok: false, reason: 'bad-signature' });
    assert.deepEqual(verifyLink(edit('n', '00000000-0000-4000-8000-000000000000'), issued, SECRET), { ok: false, reason: 'bad-signature' });
    assert.deepEqual(verifyLink(edit('exp', String(expiresAt.getTime() / 1000 + 86_400)), issued, SECRET), { ok: false, reason: 'bad-signature' });
    assert.deepEqual(verifyLink(link, issued, `${SECRET}-other`), { ok: false, reason: 'bad-signature' });
    const u = new URL(link); u.searchParams.delete('sig');
    assert.deepEqual(verifyLink(u.toString(), issued, SECRET), { ok: false, reason: 'malformed' });
  });
  it('production refuses a missing or short secret; a laptop has a fixed one', () => {
    const saved = { env: process.env.NODE_ENV, secret: process.env.NOTIFICATION_LINK_SECRET };
    try {
      delete process.env.NOTIFICATION_LINK_SECRET;
      process.env.NODE_ENV = 'production';
      assert.throws(() => linkSecret(), /NOTIFICATION_LINK_SECRET must be set in production/);
      process.env.NOTIFICATION_LINK_SECRET = 'short';
      assert.throws(() => linkSecret(), /at least 32 characters/);
      process.env.NOTIFICATION_LINK_SECRET = SECRET;
      assert.equal(linkSecret(), SECRET);
      process.env.NODE_ENV = 'development';
      delete process.env.NOTIFICATION_LINK_SECRET;
      assert.ok(linkSecret().length >= 32);
    } finally {
      if (saved.env === undefined) delete process.env.NODE_ENV; else process.env.NODE_ENV = saved.env;
      if (saved.secret === undefined) delete process.env.NOTIFICATION_LINK_SECRET; else process.env.NOTIFICATION_LINK_SECRET = saved.secret;
    }
  });
});
