// The appointment system's own events (appointment-events), turned into what the patient should be told:
// a notification.requested on notification-requests for a confirmation, a change, a cancellation or a
// reminder (templates.ts says which). The request id comes from the event, so a redelivery asks once.
// Events that tell the patient nothing (held, status, payment and sample changes, check-up summaries) are
// answered 200 and ignored: a KafkaSource cannot filter by type, and a 400 would dead-letter each one.
import { createHash } from 'node:crypto';
import { consume, type ConsumeContext } from '../../shared/consume';
import { topics } from '../events';
import { system } from '../system';
import { bookedNotice, cancelledNotice, changedNotice, reminderNotice, type Notice, type Reader } from './templates';
export { init, shutdown } from '../../shared/lifecycle';

const NAME = 'appointment-notification-consumer';

type Ctx = ConsumeContext<typeof system.events>;

/** One request per event, whichever delivery of it this is (the notification system keeps requestIds). */
function requestIdOf(eventId: string): string {
  const id = `appointment:${eventId}`;
  return id.length <= 200 ? id : `appointment:${createHash('sha256').update(eventId).digest('hex')}`;
}

/** Where the patient reads: what their appointment says (events other than reminders do not carry it). */
async function readerOf(tx: Ctx['tx'], appointmentId: string): Promise<Reader> {
  const found = await tx.appointment.findUnique({ where: { id: appointmentId }, select: { patientTimezone: true, language: true } });
  return { timezone: found?.patientTimezone, language: found?.language };
}

async function ask(notice: Notice | undefined, patientId: string, { emit, event }: Ctx) {
  if (!notice) return { ignored: true };
  const requestId = requestIdOf(event.id);
  await emit('com.medlab.notification.requested', {
    requestId, template: notice.template, recipient: { kind: 'patient', patientId }, category: 'appointment', critical: notice.critical, variables: notice.variables,
  });
  return { requested: notice.template, requestId };
}

const ignore = async () => ({ ignored: true });

export const handle = consume(
  { name: NAME, system, topics: [topics.events], summary: 'Ask the notification system to tell patients of confirmations, changes, cancellations and reminders' },
  {
    'com.medlab.appointment.booked': async (e, ctx) => ask(bookedNotice(e, await readerOf(ctx.tx, e.appointmentId)), e.patientId, ctx),
    'com.medlab.appointment.changed': async (e, ctx) => ask(changedNotice(e, await readerOf(ctx.tx, e.appointmentId)), e.patientId, ctx),
    'com.medlab.appointment.cancelled': async (e, ctx) => ask(e.reason === 'hold-expired' ? undefined : cancelledNotice(e, await readerOf(ctx.tx, e.appointmentId)), e.patientId, ctx),
    'com.medlab.appointment.reminder-due': async (e, ctx) => ask(reminderNotice(e), e.patientId, ctx),
    // Nothing to tell the patient (a rejected sample's request comes from the LIS consumer itself).
    'com.medlab.appointment.held': ignore,
    'com.medlab.appointment.status-changed': ignore,
    'com.medlab.appointment.payment-changed': ignore,
    'com.medlab.appointment.sample-status-changed': ignore,
    'com.medlab.checkup.scheduled': ignore,
  },
);
