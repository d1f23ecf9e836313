// Mints an HS256 dev token for npm start and local calls, signed with AUTH_JWT_SECRET (or the dev secret),
// with the claim names the verifier reads (AUTH_ROLES_CLAIM, AUTH_BRANCH_CLAIM, AUTH_TIER_CLAIM, …).
// Production accepts only the OpenID Connect provider's tokens, so this refuses to run with NODE_ENV=production.
//   npm run token -- patient patient-demo [--tier vip]
//   npm run token -- staff staff-1 --branch hcm-d1      (no --branch: every branch)
//   npm run token -- staff ops-1 --grant operator --grant phi   (the dead-letter console; phi: unmasked data)
//   npm run token -- staff dr-lan --grant clinician --grant phi  (results: release held ones; phi: read results)
//   npm run token -- service patient-booking
import { signToken, type Grant, type Role } from '../functions/shared/auth';

const [role, sub, ...rest] = process.argv.slice(2);
if (!['patient', 'staff', 'service'].includes(role) || !sub) {
  console.error('usage: npm run token -- <patient|staff|service> <subject> [--branch ID] [--tier svip|vip] [--grant operator|phi|admin|clinician]… [--days N]');
  process.exit(2);
}
const opt = (name: string) => {
  const i = rest.indexOf(`--${name}`);
  return i >= 0 ? rest[i + 1] : undefined;
};
const days = Number(opt('days') ?? 30);
const grants = rest.flatMap((a, i) => (rest[i - 1] === '--grant' ? [a] : []));
if (grants.some((g) => !['operator', 'phi', 'admin', 'clinician'].includes(g)) || (grants.length && role !== 'staff')) {
  console.error('--grant is operator, phi, admin or clinician, for staff only');
  process.exit(2);
}
const tier = opt('tier');
if (!Number.isFinite(days) || days <= 0) {
  console.error('--days must be a positive number');
  process.exit(2);
}
if (tier !== undefined && tier !== 'svip' && tier !== 'vip') {
  console.error('--tier must be svip or vip');
  process.exit(2);
}
try {
  console.log(signToken({
    sub, role: role as Role, branchId: opt('branch'), tier, grants: grants as Grant[],
    exp: Math.floor(Date.now() / 1000) + Math.round(days * 86400),
  }));
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
