// The screen in a branch's waiting room: for each service with a queue today, who is being served at
// which counter, how many wait, and how long a wait has been today. It is public, so it shows ticket
// numbers and counters and never who holds them.
import { route, ok } from '../../shared/http';
import { notFound } from '../../shared/domain-errors';
import { Prisma, tableOf } from '../../shared/db';
import { branchDaySql } from '../calendar';
import { system } from '../system';
import { query, board } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'queue-board', system, method: 'GET', path: '/api/queue/board',
    summary: "Today's queue board of a branch", auth: 'public', query,
    responses: { 200: { description: 'the board', schema: board } },
    refuses: { 'not-found': 'no such branch' },
  },
  // Screens poll this all day: two raw statements, no query for Prisma to plan on a cold pod's first request.
  async ({ query, transaction }) =>
    transaction(async (tx) => {
      // Today is the branch's calendar day (its time zone), as PostgreSQL reckons it.
      const [branch] = await tx.$queryRaw<Array<{ id: string; day: string }>>`
        SELECT id, ${branchDaySql(Prisma.sql`now()`, Prisma.raw('timezone'))} AS day FROM ${tableOf(system, 'branch')} WHERE id = ${query.branchId}`;
      if (!branch) throw notFound('branchId', 'no such branch');
      const { day } = branch;
      const tickets = await tx.$queryRaw<BoardTicket[]>`
        SELECT t.service_id AS "serviceId", s.name AS "serviceName", t.number, t.status::text AS status, t.counter,
          t.issued_at AS "issuedAt", t.called_at AS "calledAt"
        FROM ${tableOf(system, 'ticket')} t JOIN ${tableOf(system, 'service')} s ON s.id = t.service_id
        WHERE t.branch_id = ${branch.id} AND t.day = ${day}
        ORDER BY t.service_id, t.called_at NULLS LAST, t.seq`;
      return ok({ branchId: branch.id, day, services: servicesOf(tickets) });
    }),
);

interface BoardTicket {
  serviceId: string;
  number: string;
  status: string;
  counter: string | null;
  issuedAt: Date;
  calledAt: Date | null;
  serviceName: string;
}

function servicesOf(tickets: BoardTicket[]) {
  const byService = new Map<string, BoardTicket[]>();
  for (const t of tickets) {
    if (!byService.has(t.serviceId)) byService.set(t.serviceId, []);
    byService.get(t.serviceId)!.push(t);
  }
  return [...byService].map(([serviceId, queue]) => {
    const called = queue.filter((t) => t.calledAt);
    const waited = called.reduce((sum, t) => sum + (t.calledAt!.getTime() - t.issuedAt.getTime()), 0);
    return {
      serviceId,
      name: queue[0].serviceName,
      nowServing: queue.filter((t) => t.status === 'called').map((t) => ({ number: t.number, counter: t.counter! })),
      waiting: queue.filter((t) => t.status === 'waiting').length,
      averageWaitMinutes: called.length ? Math.round(waited / called.length / 60000) : 0,
    };
  });
}
