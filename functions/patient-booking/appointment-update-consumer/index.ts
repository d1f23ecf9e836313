// The appointment system's visits (appointment-events), kept here so results of a clinical visit find their
// patient: each event says the whole visit (whose, where, when, its status and payment), and the copy takes
// it unless it already holds a newer one (by the event's time: an older event arriving late changes
// nothing). A sample the LIS reported names its accession: the accession is recorded as the visit's, so the
// LIS's results of it are matched to the patient and the appointment.
import { consume, type ConsumeContext } from '../../shared/consume';
import { tableOf } from '../../shared/db';
import { conflict } from '../../shared/domain-errors';
import type { EventData } from '../../shared/system';
import { events, topics } from '../events';
import { system } from '../system';
export { init, shutdown } from '../../shared/lifecycle';

type Ctx = ConsumeContext<typeof events>;
type VisitFacts = EventData<typeof events, 'com.medlab.appointment.booked'>;

const visitTable = tableOf(system, 'visit');

/** The visit as the event says it, unless the copy holds what a later event said. */
async function keep(e: Pick<VisitFacts, 'appointmentId' | 'patientId' | 'branchId' | 'visitTypeId' | 'start' | 'status' | 'paymentStatus'>, { tx, event }: Ctx) {
  // Events of one transaction share its time and arrive in emit order (one key, one partition): a tie applies.
  const changedAt = new Date(event.time ?? Date.now());
  const applied = await tx.$executeRaw`
    INSERT INTO ${visitTable} (appointment_id, patient_id, branch_id, visit_type_id, starts_at, status, payment_status, changed_at, updated_at)
    VALUES (${e.appointmentId}::uuid, ${e.patientId}, ${e.branchId}, ${e.visitTypeId}, ${new Date(e.start)}, ${e.status}, ${e.paymentStatus}, ${changedAt}, now())
    ON CONFLICT (appointment_id) DO UPDATE SET patient_id = EXCLUDED.patient_id, branch_id = EXCLUDED.branch_id,
      visit_type_id = EXCLUDED.visit_type_id, starts_at = EXCLUDED.starts_at, status = EXCLUDED.status,
      payment_status = EXCLUDED.payment_status, changed_at = EXCLUDED.changed_at, updated_at = now()
    WHERE ${visitTable}.changed_at <= EXCLUDED.changed_at`;
  return applied ? { visit: e.status } : { unchanged: 'a newer event was applied' };
}

const ignore = async () => ({ ignored: 'nothing results need' });

export const handle = consume(
  { name: 'appointment-update-consumer', system, topics: [topics.appointmentEvents], summary: 'Keep a copy of clinical visits and their accessions, so results find their patient' },
  {
    'com.medlab.appointment.booked': (e, ctx) => keep(e, ctx),
    'com.medlab.appointment.changed': (e, ctx) => keep(e, ctx),
    'com.medlab.appointment.cancelled': (e, ctx) => keep(e, ctx),
    'com.medlab.appointment.status-changed': (e, ctx) => keep(e, ctx),
    'com.medlab.appointment.payment-changed': (e, ctx) => keep(e, ctx),

    'com.medlab.appointment.sample-status-changed': async (e, ctx) => {
      const visit = await keep(e, ctx);
      // The LIS's accession belongs to this visit and its patient; results of it (or amendments) find both.
      await ctx.tx.resultOrder.createMany({ data: [{ accession: e.accession, patientId: e.patientId, appointmentId: e.appointmentId }], skipDuplicates: true });
      const order = await ctx.tx.resultOrder.findUniqueOrThrow({ where: { accession: e.accession } });
      // An accession already another patient's or visit's will not become this one's by retrying.
      if (order.patientId !== e.patientId) throw conflict('the accession belongs to another patient', 'accession');
      if (order.appointmentId && order.appointmentId !== e.appointmentId) throw conflict('the accession belongs to another visit', 'accession');
      // A result named the accession first (recorded without its visit): now it has one.
      if (!order.appointmentId) await ctx.tx.resultOrder.update({ where: { accession: e.accession }, data: { appointmentId: e.appointmentId } });
      return { ...visit, accession: e.accession };
    },

    'com.medlab.appointment.held': ignore,
    'com.medlab.appointment.reminder-due': ignore,
    'com.medlab.checkup.scheduled': ignore,
  },
);
