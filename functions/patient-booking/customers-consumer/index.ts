// The CRM's customers (crm-customers), kept as patient-booking's own copy of what it needs: tier (the lane a
// patient's results take), language and time zone (what the portal shows), sex and birth date (which
// packages are recommended). No name, no contact: this system sends no messages itself. An update applies
// only when its version is newer than the copy's. An erasure anonymises the profile for good (the row stays
// as a tombstone so no late update brings data back), detaches the patient's results (the lab's record
// stays, audited, but belongs to no one here), deletes their recommendations and tells the bundle
// (patient.erased) so the systems that keep patient data erase theirs; a second erasure changes nothing.
import { consume } from '../../shared/consume';
import { audit } from '../release';
import { system } from '../system';
import { topics } from '../events';
export { init, shutdown } from '../../shared/lifecycle';

const NAME = 'patient-booking-customers-consumer';
const ACTOR = `system:${NAME}`;

/** What an anonymised profile keeps: the id, and the defaults of everything else. */
const ANONYMOUS = { tier: 'standard', language: 'vi', timezone: 'Asia/Ho_Chi_Minh', sex: null, birthDate: null };

export const handle = consume(
  { name: NAME, system, topics: [topics.customers], summary: 'Keep the copy of customers\' tier, language, zone, sex and birth date (newer versions only); anonymise and detach results on erasure' },
  {
    'com.medlab.crm.customer-updated': async (c, { tx }) => {
      // A field the update leaves out keeps its value. Contacts and the name are not kept here at all.
      const profile = {
        tier: c.tier, language: c.language, timezone: c.timezone, sex: c.sex,
        birthDate: c.birthDate ? new Date(`${c.birthDate}T00:00:00Z`) : undefined,
      };
      const { count } = await tx.patient.updateMany({ where: { patientId: c.patientId, crmVersion: { lt: c.version }, erasedAt: null }, data: { ...profile, crmVersion: c.version } });
      let applied = count > 0;
      if (!applied && !(await tx.patient.findUnique({ where: { patientId: c.patientId }, select: { patientId: true } }))) {
        // One customer's events come in order on their partition (key patientId): nothing else creates the row meanwhile.
        await tx.patient.create({ data: { patientId: c.patientId, ...profile, crmVersion: c.version } });
        applied = true;
      }
      return { patientId: c.patientId, version: c.version, applied };
    },
    'com.medlab.crm.customer-erased': async (c, { tx, emit }) => {
      const erasedAt = new Date();
      // Whatever the versions say, an erasure applies once: the tombstone outranks every update before it.
      const existing = await tx.patient.findUnique({ where: { patientId: c.patientId }, select: { crmVersion: true, erasedAt: true } });
      if (existing?.erasedAt) return { patientId: c.patientId, erased: true, already: true };
      const crmVersion = existing && existing.crmVersion > BigInt(c.version) ? existing.crmVersion : BigInt(c.version);
      if (!existing) await tx.patient.create({ data: { patientId: c.patientId, ...ANONYMOUS, erasedAt, crmVersion } });
      else if ((await tx.patient.updateMany({ where: { patientId: c.patientId, erasedAt: null }, data: { ...ANONYMOUS, erasedAt, crmVersion } })).count === 0) {
        return { patientId: c.patientId, erased: true, already: true };
      }

      const reports = await tx.diagnosticReport.findMany({ where: { patientId: c.patientId, detachedAt: null }, select: { id: true, version: true } });
      if (reports.length) await tx.diagnosticReport.updateMany({ where: { id: { in: reports.map((r) => r.id) } }, data: { detachedAt: erasedAt } });
      for (const r of reports) await audit(tx, { reportId: r.id, patientId: c.patientId, action: 'detached', actor: ACTOR, reason: 'erasure requested by the CRM', version: r.version, at: erasedAt });
      const recommendations = await tx.recommendation.deleteMany({ where: { patientId: c.patientId } });

      await emit('com.medlab.patient.erased', { patientId: c.patientId, erasedAt: erasedAt.toISOString() });
      return { patientId: c.patientId, erased: true, detachedReports: reports.length, removed: { recommendations: recommendations.count } };
    },
  },
);
