// Which notice an appointment event asks for: the template, whether it is critical (a same-day cancellation
// reaches the patient whatever the hour), and its variables. Variables are ids, times and codes only, never
// PHI: the visit's start as an instant and as the patient reads it (their date, clock time and weekday, in
// their zone and language), and a link into the portal. No database: the consumer says whose zone it is.
import type { EventData } from '../../shared/system';
import type { events } from '../events';
import { localWhen } from '../reminders';

type E = typeof events;
type Data<T extends keyof E> = EventData<E, T>;

export interface Notice {
  template: string;
  critical: boolean;
  variables: Record<string, string | number | boolean>;
}

/** The zone and language the patient reads in (from the event when it says, else their appointment's). */
export interface Reader { timezone?: string | null; language?: string | null }

type Visit = Data<'com.medlab.appointment.booked'> | Data<'com.medlab.appointment.changed'> | Data<'com.medlab.appointment.cancelled'> | Data<'com.medlab.appointment.reminder-due'>;

function about(visit: Visit, reader: Reader): Record<string, string> {
  return {
    appointmentId: visit.appointmentId,
    branchId: visit.branchId,
    visitTypeId: visit.visitTypeId,
    start: visit.start,
    ...localWhen(visit.start, reader.timezone, reader.language),
    link: `/appointments/${visit.appointmentId}`,
  };
}

export function bookedNotice(e: Data<'com.medlab.appointment.booked'>, reader: Reader): Notice | undefined {
  // booked: confirmed; pending: booked but held until the POS is paid (the patient must pay by holdExpiresAt).
  if (e.status === 'booked') return { template: 'appointment-confirmed', critical: false, variables: about(e, reader) };
  if (e.status === 'pending') {
    return { template: 'appointment-awaiting-payment', critical: false, variables: { ...about(e, reader), ...(e.holdExpiresAt ? { payBy: e.holdExpiresAt } : {}) } };
  }
  return undefined;
}

export function changedNotice(e: Data<'com.medlab.appointment.changed'>, reader: Reader): Notice {
  return { template: 'appointment-changed', critical: false, variables: { ...about(e, reader), change: e.change, ...(e.previousStart ? { previousStart: e.previousStart } : {}) } };
}

export function cancelledNotice(e: Data<'com.medlab.appointment.cancelled'>, reader: Reader): Notice | undefined {
  // A hold the patient never confirmed: they walked away from it, there is nothing to tell.
  if (e.reason === 'hold-expired') return undefined;
  const template = e.reason === 'payment-expired' ? 'appointment-payment-expired' : 'appointment-cancelled';
  return { template, critical: e.sameDay === true, variables: { ...about(e, reader), reason: e.reason, cancelledBy: e.cancelledBy } };
}

export function reminderNotice(e: Data<'com.medlab.appointment.reminder-due'>): Notice {
  return { template: 'appointment-reminder', critical: false, variables: { ...about(e, { timezone: e.patientTimezone, language: e.language }), reminder: e.reminder } };
}
