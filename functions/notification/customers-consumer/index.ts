// The CRM's customers (crm-customers), kept as the notification system's own copy of what it needs to reach a
// patient: email, phone, language, time zone, tier. An update is applied only when its version is newer than
// the copy's (updates of one customer may arrive out of order or twice: an older one never overwrites a newer).
// An erasure anonymises for good: contacts gone, push subscriptions, preferences and inbox items deleted,
// waiting notices cancelled, and the row kept as a tombstone so no late update brings a contact back.
// Contacts are never logged: results carry ids, versions and what changed, not the values.
import { consume } from '../../shared/consume';
import { Prisma, tableOf } from '../../shared/db';
import { topics } from '../events';
import { system } from '../system';
export { init, shutdown } from '../../shared/lifecycle';

const NAME = 'notification-customers-consumer';
const contacts = tableOf(system, 'contact_point');

export const handle = consume(
  { name: NAME, system, topics: [topics.customers], summary: 'Keep the copy of customers\' contacts, language and zone (newer versions only); anonymise on erasure' },
  {
    'com.medlab.crm.customer-updated': async (c, { tx }) => {
      // A field the update leaves out keeps its value; null clears a contact.
      const given = (['email', 'phone', 'language', 'timezone', 'tier'] as const).filter((f) => c[f] !== undefined);
      const set = [...given.map((f) => Prisma.sql`${Prisma.raw(f)} = ${c[f] ?? null}`), Prisma.sql`crm_version = ${c.version}`, Prisma.sql`updated_at = now()`];
      const applied = await tx.$executeRaw`
        INSERT INTO ${contacts} AS cp (patient_id, email, phone, language, timezone, tier, crm_version, updated_at)
        VALUES (${c.patientId}, ${c.email ?? null}, ${c.phone ?? null}, ${c.language ?? 'vi'}, ${c.timezone ?? 'Asia/Ho_Chi_Minh'}, ${c.tier ?? 'standard'}, ${c.version}, now())
        ON CONFLICT (patient_id) DO UPDATE SET ${Prisma.join(set, ', ')}
        WHERE cp.crm_version < ${c.version} AND NOT cp.erased`;
      return { patientId: c.patientId, version: c.version, applied: applied > 0 };
    },
    'com.medlab.crm.customer-erased': async (c, { tx }) => {
      // Whatever the versions say: an erasure always applies, and the tombstone outranks every update before it.
      await tx.$executeRaw`
        INSERT INTO ${contacts} AS cp (patient_id, email, phone, erased, crm_version, updated_at)
        VALUES (${c.patientId}, NULL, NULL, true, ${c.version}, now())
        ON CONFLICT (patient_id) DO UPDATE SET
          email = NULL, phone = NULL, erased = true, crm_version = GREATEST(cp.crm_version, ${c.version}), updated_at = now()`;
      const subscriptions = await tx.pushSubscription.deleteMany({ where: { patientId: c.patientId } });
      const preferences = await tx.preference.deleteMany({ where: { patientId: c.patientId } });
      const inbox = await tx.inboxItem.deleteMany({ where: { patientId: c.patientId } });
      const cancelled = await tx.notification.updateMany({ where: { patientId: c.patientId, status: 'pending' }, data: { status: 'cancelled' } });
      return { patientId: c.patientId, erased: true, removed: { pushSubscriptions: subscriptions.count, preferences: preferences.count, inboxItems: inbox.count }, cancelled: cancelled.count };
    },
  },
);
