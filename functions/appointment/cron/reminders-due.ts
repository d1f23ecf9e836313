// Reminders due at an instant: each booked visit gets its 24 h and its 2 h reminder once (reminders.ts says
// when). One statement per batch claims the visits (sets reminded_24h_at / reminded_2h_at, skipping rows
// another run holds) and their reminder-due events commit with it: two overlapping runs never both remind.
import { Prisma, tableOf } from '../../shared/db';
import { transaction } from '../../shared/outbox';
import { inBatches } from '../../shared/scheduled';
import { facts } from '../appointments';
import { zoneOf } from '../../shared/calendar';
import { REMINDER_LEAD, languageOf, reminderDue, type Reminder } from '../reminders';
import { system } from '../system';

const appointments = tableOf(system, 'appointment');
const BATCH = 200;
/** 25 batches (5,000 visits) a minute at most: a larger backlog goes on in the next minute's run. */
const MAX_BATCHES = 25;

const plus = (at: Date, ms: number) => new Date(at.getTime() + ms);

/** The SQL form of reminderDue() (reminders.ts): the visits whose `reminder` is due at `now`, claimed. */
function claim(reminder: Reminder, now: Date): Prisma.Sql {
  const lead = REMINDER_LEAD[reminder];
  const due = reminder === '24h'
    // From 24 h before until the 2 h one is due; never after the 2 h one went.
    ? Prisma.sql`reminded_24h_at IS NULL AND reminded_2h_at IS NULL
        AND starts_at > ${plus(now, REMINDER_LEAD['2h'])}::timestamptz AND starts_at <= ${plus(now, lead)}::timestamptz`
    // From 2 h before while the visit is still ahead.
    : Prisma.sql`reminded_2h_at IS NULL AND starts_at > ${now}::timestamptz AND starts_at <= ${plus(now, lead)}::timestamptz`;
  const column = reminder === '24h' ? Prisma.raw('reminded_24h_at') : Prisma.raw('reminded_2h_at');
  return Prisma.sql`
    WITH due AS (
      SELECT id FROM ${appointments}
      WHERE status = 'booked' AND ${due}
        -- Booked closer to the start than the lead: the confirmation was the reminder.
        AND created_at <= starts_at - make_interval(secs => ${lead / 1000})
      ORDER BY starts_at
      LIMIT ${BATCH}
      FOR UPDATE SKIP LOCKED)
    UPDATE ${appointments} a SET ${column} = ${now}::timestamptz
    FROM due WHERE a.id = due.id
    RETURNING a.id::text AS id`;
}

export async function sendDueReminders(source: string, now: Date): Promise<Record<Reminder, number>> {
  const sent: Record<Reminder, number> = { '24h': 0, '2h': 0 };
  for (const reminder of ['2h', '24h'] as const) {
    sent[reminder] += await inBatches(BATCH, MAX_BATCHES, () => transaction(system, source, async (tx, emit) => {
      const claimed = await tx.$queryRaw<Array<{ id: string }>>(claim(reminder, now));
      if (!claimed.length) return 0;
      const visits = await tx.appointment.findMany({ where: { id: { in: claimed.map((c) => c.id) } }, orderBy: { startsAt: 'asc' } });
      for (const a of visits) {
        // The SQL above is reminderDue() for many rows at once; should they ever disagree, the batch rolls
        // back (the run answers 500) rather than remind anyone at the wrong time.
        const unclaimed = { ...a, ...(reminder === '24h' ? { reminded24hAt: null } : { reminded2hAt: null }) };
        if (reminderDue(unclaimed, now) !== reminder) throw new Error(`reminder rule and its SQL disagree on appointment ${a.id} (${reminder} at ${now.toISOString()})`);
        await emit('com.medlab.appointment.reminder-due', { ...facts(a), reminder, patientTimezone: zoneOf(a.patientTimezone), language: languageOf(a.language) });
      }
      return claimed.length;
    }));
  }
  return sent;
}
