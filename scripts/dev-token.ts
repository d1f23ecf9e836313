// Mints a bearer token for local use, signed with AUTH_JWT_SECRET (or the dev secret when unset).
//   npm run token -- patient patient-demo [--tier vip]
//   npm run token -- staff staff-1 --branch hcm-d1
//   npm run token -- service patient-booking
import { signToken, type Role } from '../functions/shared/auth';

const [role, sub, ...rest] = process.argv.slice(2);
if (!['patient', 'staff', 'service'].includes(role) || !sub) {
  console.error('usage: npm run token -- <patient|staff|service> <subject> [--branch ID] [--tier svip|vip] [--days N]');
  process.exit(2);
}
const opt = (name: string) => {
  const i = rest.indexOf(`--${name}`);
  return i >= 0 ? rest[i + 1] : undefined;
};
const days = Number(opt('days') ?? 30);
const tier = opt('tier');
console.log(signToken({
  sub, role: role as Role, branchId: opt('branch'),
  tier: tier === 'svip' || tier === 'vip' ? tier : undefined,
  exp: Math.floor(Date.now() / 1000) + days * 86400,
}));
