// Demo data for a fresh laptop database: two branches, three services and a week of slots (plus two
// slots starting within the hour, so the book → check-in → board walk-through works at any time of day).
import { db } from '../../functions/shared/db';

const BRANCHES = [
  { id: 'hcm-d1', name: 'Medlab District 1', timezone: 'Asia/Ho_Chi_Minh' },
  { id: 'hn-bd', name: 'Medlab Ba Dinh', timezone: 'Asia/Ho_Chi_Minh' },
];
const SERVICES = [
  { id: 'blood-draw', name: 'Blood draw', ticketPrefix: 'A', durationMinutes: 5 },
  { id: 'check-up', name: 'General check-up', ticketPrefix: 'B', durationMinutes: 20, requiresConfirmation: true },
  { id: 'imaging', name: 'X-ray and ultrasound', ticketPrefix: 'C', durationMinutes: 15 },
];

/** The UTC instant of a wall-clock time in a timezone (two passes settle DST edges). */
export function zonedInstant(day: string, minutes: number, timezone: string): Date {
  const wall = Date.parse(`${day}T00:00:00Z`) + minutes * 60_000;
  let guess = wall;
  for (let i = 0; i < 2; i++) {
    const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', {
      timeZone: timezone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
    }).formatToParts(new Date(guess)).map((p) => [p.type, p.value]));
    const shown = Date.parse(`${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:00Z`);
    guess += wall - shown;
  }
  return new Date(guess);
}

export async function seedDemoData(now = new Date()): Promise<{ seeded: boolean; slots: number }> {
  if (await db().branch.count()) return { seeded: false, slots: 0 };
  await db().branch.createMany({ data: BRANCHES });
  await db().service.createMany({ data: SERVICES });
  const slots: Array<{ branchId: string; serviceId: string; startsAt: Date; endsAt: Date; capacity: number }> = [];
  for (const branch of BRANCHES) {
    for (let d = 0; d < 7; d++) {
      const day = new Date(now.getTime() + d * 86_400_000).toLocaleDateString('en-CA', { timeZone: branch.timezone });
      for (let m = 7 * 60; m < 20 * 60; m += 30) {
        const startsAt = zonedInstant(day, m, branch.timezone);
        if (startsAt <= now) continue;
        slots.push({ branchId: branch.id, serviceId: 'blood-draw', startsAt, endsAt: new Date(startsAt.getTime() + 30 * 60_000), capacity: 6 });
        if (m % 60 === 0 && m >= 8 * 60 && m < 17 * 60) {
          slots.push({ branchId: branch.id, serviceId: 'check-up', startsAt, endsAt: new Date(startsAt.getTime() + 60 * 60_000), capacity: 2 });
          slots.push({ branchId: branch.id, serviceId: 'imaging', startsAt, endsAt: new Date(startsAt.getTime() + 60 * 60_000), capacity: 3 });
        }
      }
    }
    // Walk-through slots: the next two quarter hours, whatever the time of day.
    const quarter = Math.ceil(now.getTime() / 900_000) * 900_000;
    for (const t of [quarter + 900_000, quarter + 1_800_000]) {
      const startsAt = new Date(t);
      if (!slots.some((s) => s.branchId === branch.id && s.serviceId === 'blood-draw' && s.startsAt.getTime() === t)) {
        slots.push({ branchId: branch.id, serviceId: 'blood-draw', startsAt, endsAt: new Date(t + 15 * 60_000), capacity: 6 });
      }
    }
  }
  const { count } = await db().slot.createMany({ data: slots, skipDuplicates: true });
  return { seeded: true, slots: count };
}
