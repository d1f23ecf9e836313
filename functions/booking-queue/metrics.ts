// What the booking queue reports at scrape time besides the kit's metrics: how many patients wait in each
// branch's clinic queue today. Served by the system's outbox publisher (its spec names these gauges).
import { systemGauges } from '../shared/metrics';
import { Prisma, tableOf } from '../shared/db';
import { branchDaySql } from './calendar';
import { system } from './system';

const branch = tableOf(system, 'branch');
const service = tableOf(system, 'service');
const ticket = tableOf(system, 'ticket');

export const gauges = systemGauges(system, {
  booking_queue_patients_waiting: {
    help: "Patients waiting in a branch's clinic queue today (tickets issued and not yet called), per branch",
    labels: ['branch'],
    // Every branch appears (0 when nobody waits). Branches × services probe the (branch, service, day, status)
    // index, each on the branch's own today, so old days' tickets are never read.
    read: async (db) => (await db.$queryRaw<Array<{ branch: string; waiting: number }>>`
      SELECT b.id AS branch, count(t.id)::float8 AS waiting
      FROM ${branch} b
      CROSS JOIN ${service} s
      LEFT JOIN ${ticket} t ON t.branch_id = b.id AND t.service_id = s.id
        AND t.day = ${branchDaySql(Prisma.sql`now()`, Prisma.raw('b.timezone'))} AND t.status = 'waiting'
      GROUP BY b.id`).map((r) => ({ labels: { branch: r.branch }, value: r.waiting })),
  },
});
