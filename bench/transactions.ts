// Row 6 — where rows 1 and 2 lose time: the same transaction through Prisma's interactive transaction (what the
// kit's transaction() uses) and through pg directly, in one process, the same number of statements, as many in
// flight as the pipeline has partitions. Statements are trivial (SELECT $1), so PostgreSQL's own work is the same
// small amount on both sides and the difference is the client's. No target: it explains rows 1 and 2.
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../functions/shared/generated/prisma/client';
import type { BenchContext, Row } from './lib/context';
import { median, fmt, ms, ratio, runs } from './lib/stats';

/** Statements between BEGIN and COMMIT: booking-consumer's transaction has 7 (9 with BEGIN and COMMIT). */
const STATEMENTS = 7;
const IN_FLIGHT = 4;
const TRANSACTIONS = 800;

interface Measure { perSecond: number; p50: number; cpuUs: number }

async function measure(one: () => Promise<unknown>): Promise<Measure> {
  for (let i = 0; i < 100; i++) await one();
  const latencies: number[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    for (let i = 0; i < TRANSACTIONS / IN_FLIGHT; i++) {
      const s = performance.now();
      await one();
      latencies.push(performance.now() - s);
    }
  }));
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { perSecond: (TRANSACTIONS / wall) * 1000, p50: median(latencies), cpuUs: (cpu.user + cpu.system) / TRANSACTIONS };
}

export async function transactionOverhead(ctx: BenchContext): Promise<Row> {
  const pool = new pg.Pool({ connectionString: ctx.databaseUrl, max: 10 });
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: ctx.databaseUrl, max: 10 }) });
  try {
    const viaPg = async () => {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        for (let i = 0; i < STATEMENTS; i++) await c.query('SELECT $1::int AS x', [i]);
        await c.query('COMMIT');
      } finally {
        c.release();
      }
    };
    const viaPrisma = () => prisma.$transaction(async (tx) => {
      for (let i = 0; i < STATEMENTS; i++) await tx.$queryRaw`SELECT ${i}::int AS x`;
    });
    const p: Measure[] = [];
    const r: Measure[] = [];
    for (let i = 0; i < ctx.config.repeats; i++) {
      p.push(await measure(viaPrisma));
      r.push(await measure(viaPg));
      ctx.log(`  run ${i + 1}: Prisma ${fmt(p[i].perSecond)} tx/s (p50 ${ms(p[i].p50)}, ${fmt(p[i].cpuUs)} µs CPU each); pg ${fmt(r[i].perSecond)} tx/s (p50 ${ms(r[i].p50)}, ${fmt(r[i].cpuUs)} µs CPU each)`);
    }
    const pm = median(p.map((x) => x.perSecond));
    const rm = median(r.map((x) => x.perSecond));
    const pCpu = median(p.map((x) => x.cpuUs));
    const rCpu = median(r.map((x) => x.cpuUs));
    return {
      n: 6,
      name: `Transactions: Prisma interactive transaction vs pg (${STATEMENTS} statements + BEGIN/COMMIT, ${IN_FLIGHT} in flight)`,
      result: `${fmt(pm)} tx/s`,
      reference: `${fmt(rm)} tx/s (pg, same statements)`,
      ratio: ratio(pm, rm),
      target: 'none (explains rows 1 and 2)',
      notes: [
        `client CPU per transaction: Prisma ${fmt(pCpu)} µs, pg ${fmt(rCpu)} µs, i.e. ${fmt((pCpu - rCpu) / (STATEMENTS + 2))} µs more per statement`,
        `p50 latency per transaction: Prisma ${ms(median(p.map((x) => x.p50)))}, pg ${ms(median(r.map((x) => x.p50)))}`,
      ],
      inputs: [
        `${TRANSACTIONS} transactions per run, ${IN_FLIGHT} at a time, each BEGIN; ${STATEMENTS} × SELECT $1::int; COMMIT; pools of 10 connections; both in the bench process`,
        `Prisma: $transaction(async (tx) => tx.$queryRaw…) through @prisma/adapter-pg, as functions/shared/outbox.ts runs every unit; pg: pool.connect() and client.query`,
        `${ctx.config.repeats} runs alternating, after 100 unmeasured transactions of each`,
      ],
      runs: [
        `Prisma tx/s: ${runs(p.map((x) => x.perSecond))}; pg tx/s: ${runs(r.map((x) => x.perSecond))}`,
        `Prisma CPU µs/tx: ${runs(p.map((x) => x.cpuUs))}; pg CPU µs/tx: ${runs(r.map((x) => x.cpuUs))}`,
      ],
      ok: true,
    };
  } finally {
    await prisma.$disconnect();
    await pool.end();
  }
}
