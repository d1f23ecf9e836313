// What a patient can book: the packages the master data offers whose every test is offered too. A package is
// stored even when it names a test this system has not heard of yet (the master data source sends tests and
// packages under different keys, so on different partitions, in no order between them): it simply is not
// bookable until each of its tests is known and not withdrawn. Withdrawn tests and packages keep their rows
// (results and bookings name them).
import type { Db, Tx } from '../shared/db';

export interface BookableTest {
  code: string;
  loinc: string | null;
  name: string;
  unit: string | null;
  referenceRange: { low?: number; high?: number; text?: string } | null;
}

export interface BookablePackage {
  code: string;
  version: number;
  name: string;
  description: string | null;
  priceVnd: number;
  serviceId: string;
  sex: string | null;
  minAge: number | null;
  maxAge: number | null;
  tests: BookableTest[];
}

const rangeOf = (t: { referenceLow: number | null; referenceHigh: number | null; referenceText: string | null }) => {
  if (t.referenceLow === null && t.referenceHigh === null && t.referenceText === null) return null;
  return { ...(t.referenceLow !== null ? { low: t.referenceLow } : {}), ...(t.referenceHigh !== null ? { high: t.referenceHigh } : {}), ...(t.referenceText !== null ? { text: t.referenceText } : {}) };
};

/** The bookable packages (all, or those with the given codes), by name. */
export async function bookablePackages(db: Db | Tx, codes?: string[]): Promise<BookablePackage[]> {
  const packages = await db.cataloguePackage.findMany({ where: { withdrawnAt: null, ...(codes ? { code: { in: codes } } : {}) }, orderBy: [{ name: 'asc' }, { code: 'asc' }] });
  const tests = await db.catalogueTest.findMany({ where: { code: { in: [...new Set(packages.flatMap((p) => p.testCodes))] }, withdrawnAt: null } });
  const offered = new Map(tests.map((t) => [t.code, t]));
  return packages
    .filter((p) => p.testCodes.length > 0 && p.testCodes.every((c) => offered.has(c)))
    .map((p) => {
      return {
        code: p.code, version: Number(p.version), name: p.name, description: p.description, priceVnd: Number(p.priceVnd), serviceId: p.serviceId,
        sex: p.sex, minAge: p.minAge, maxAge: p.maxAge,
        tests: p.testCodes.map((c) => offered.get(c)!).map((t) => ({ code: t.code, loinc: t.loinc, name: t.name, unit: t.unit, referenceRange: rangeOf(t) })),
      };
    });
}

/** The last change anywhere in the catalogue (a withdrawal too): stored recommendations older than it are stale. */
export async function catalogueChangedAt(db: Db | Tx): Promise<Date | null> {
  const [p, t] = await Promise.all([
    db.cataloguePackage.aggregate({ _max: { updatedAt: true } }),
    db.catalogueTest.aggregate({ _max: { updatedAt: true } }),
  ]);
  const dates = [p._max.updatedAt, t._max.updatedAt].filter((d): d is Date => !!d);
  return dates.length ? dates.reduce((a, b) => (a > b ? a : b)) : null;
}
