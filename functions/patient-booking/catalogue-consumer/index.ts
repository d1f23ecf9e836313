// The test master data (test-master-data): tests with their LOINC codes, units, reference ranges and prices,
// and the packages patients book. Each test and package carries a version: a change is applied only when its
// version is newer than the stored one, so a redelivery, or an older change arriving late, changes nothing.
// A withdrawal keeps the row (results and bookings name it) and stops it being bookable; a later version
// offers it again. A package may name tests not heard of yet (another key, another partition): it is kept,
// and bookable once each of its tests is (catalogue.ts).
import { consume } from '../../shared/consume';
import type { Tx } from '../../shared/db';
import { system } from '../system';
import { topics } from '../events';
export { init, shutdown } from '../../shared/lifecycle';

const NAME = 'catalogue-consumer';

interface Versioned { code: string; version: number }

/**
 * Writes `data` over the stored row when `version` is newer (or creates it). A withdrawal of something never
 * seen leaves a withdrawn row, so an older offer arriving after it cannot make it bookable.
 */
async function applyNewer(
  model: { updateMany(args: object): Promise<{ count: number }>; findUnique(args: object): Promise<unknown>; create(args: object): Promise<unknown> },
  { code, version }: Versioned,
  data: object,
  created: object,
): Promise<boolean> {
  const { count } = await model.updateMany({ where: { code, version: { lt: version } }, data: { ...data, version } });
  if (count) return true;
  if (await model.findUnique({ where: { code } })) return false;
  // One code's changes come in order on its partition: nothing else creates this row meanwhile.
  await model.create({ data: { ...created, ...data, code, version } });
  return true;
}

const withdrawnAt = (given: string | undefined, time: string | undefined) => new Date(given ?? time ?? Date.now());

async function missingTests(tx: Tx, codes: string[]): Promise<string[]> {
  const known = await tx.catalogueTest.findMany({ where: { code: { in: codes } }, select: { code: true } });
  const have = new Set(known.map((t) => t.code));
  return codes.filter((c) => !have.has(c));
}

export const handle = consume(
  { name: NAME, system, topics: [topics.catalogue], summary: 'Keep the test catalogue (tests, packages, prices) by version; withdrawals stop booking, rows stay' },
  {
    'com.medlab.catalogue.test-upserted': async (t, { tx }) => {
      const data = {
        loinc: t.loinc ?? null, name: t.name, unit: t.unit ?? null, category: t.category ?? null, priceVnd: t.priceVnd ?? null,
        referenceLow: t.referenceRange?.low ?? null, referenceHigh: t.referenceRange?.high ?? null, referenceText: t.referenceRange?.text ?? null,
        withdrawnAt: null,
      };
      return { code: t.code, version: t.version, applied: await applyNewer(tx.catalogueTest, t, data, {}) };
    },
    'com.medlab.catalogue.test-withdrawn': async (t, { tx, event }) => {
      const applied = await applyNewer(tx.catalogueTest, t, { withdrawnAt: withdrawnAt(t.withdrawnAt, event.time) }, { name: t.code });
      return { code: t.code, version: t.version, applied, withdrawn: true };
    },
    'com.medlab.catalogue.package-upserted': async (p, { tx, log }) => {
      const data = {
        name: p.name, description: p.description ?? null, testCodes: p.testCodes, priceVnd: p.priceVnd, serviceId: p.serviceId,
        sex: p.sex ?? null, minAge: p.minAge ?? null, maxAge: p.maxAge ?? null, withdrawnAt: null,
      };
      const applied = await applyNewer(tx.cataloguePackage, p, data, {});
      const missing = applied ? await missingTests(tx, p.testCodes) : [];
      if (missing.length) log.warn({ packageCode: p.code, missingTests: missing }, 'package names tests not in the catalogue yet: not bookable until they arrive');
      return { code: p.code, version: p.version, applied, ...(missing.length ? { missingTests: missing } : {}) };
    },
    'com.medlab.catalogue.package-withdrawn': async (p, { tx, event }) => {
      const applied = await applyNewer(tx.cataloguePackage, p, { withdrawnAt: withdrawnAt(p.withdrawnAt, event.time) }, { name: p.code, testCodes: [], priceVnd: 0, serviceId: '' });
      return { code: p.code, version: p.version, applied, withdrawn: true };
    },
  },
);
