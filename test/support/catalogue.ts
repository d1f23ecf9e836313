// A small, realistic test catalogue as the master data source sends it (test-master-data): tests with LOINC
// codes, UCUM units and adult reference ranges, and four packages taken in the booking queue's 'blood-draw'
// service (the slots fixtures.ts creates). Put it through the catalogue consumer (as the master data source
// would) or straight into the tables (tests about something else). The recommendation rules
// (knative/base/patient-booking/recommendation-rules.yaml) name these package codes.
import { db } from '../../functions/shared/db';
import { deliver } from './fixtures';

// The catalogue itself is npm start's demo catalogue (scripts/lib/seed.ts): one catalogue for the laptop,
// README's walkthroughs and the tests.
import { TESTS, PACKAGES, type TestFacts, type PackageFacts } from '../../scripts/lib/seed';
export { TESTS, PACKAGES, type TestFacts, type PackageFacts };

export const testByCode = (code: string) => TESTS.find((t) => t.code === code)!;

/** The catalogue as CloudEvents of test-master-data (tests first, as the master data source sends them). */
export function catalogueEvents(tests = TESTS, packages = PACKAGES): Array<{ type: string; data: unknown }> {
  return [
    ...tests.map((data) => ({ type: 'com.medlab.catalogue.test-upserted', data })),
    ...packages.map((data) => ({ type: 'com.medlab.catalogue.package-upserted', data })),
  ];
}

/** Delivers the catalogue to a running catalogue consumer, each event answered 200. */
export async function deliverCatalogue(consumerUrl: string, tests = TESTS, packages = PACKAGES): Promise<void> {
  for (const event of catalogueEvents(tests, packages)) {
    const res = await deliver(consumerUrl, event);
    if (res.status !== 200) throw new Error(`catalogue consumer answered ${res.status} to ${event.type}: ${JSON.stringify(res.body)}`);
  }
}

/** Writes the catalogue straight into patient_booking's tables (what the consumer would leave). */
export async function seedTestCatalogue(tests = TESTS, packages = PACKAGES): Promise<void> {
  await db().catalogueTest.createMany({
    data: tests.map((t) => ({
      code: t.code, version: t.version, loinc: t.loinc, name: t.name, unit: t.unit ?? null, category: t.category ?? null, priceVnd: t.priceVnd,
      referenceLow: t.referenceRange?.low ?? null, referenceHigh: t.referenceRange?.high ?? null, referenceText: t.referenceRange?.text ?? null,
    })),
  });
  await db().cataloguePackage.createMany({
    data: packages.map((p) => ({
      code: p.code, version: p.version, name: p.name, description: p.description ?? null, testCodes: p.testCodes, priceVnd: p.priceVnd,
      serviceId: p.serviceId, sex: p.sex ?? null, minAge: p.minAge ?? null, maxAge: p.maxAge ?? null,
    })),
  });
}

/**
 * A released report of one catalogue test with its one result, stored as the lane consumer leaves it (what
 * recommendations read: released, not detached). Straight into the tables: tests about what follows a release.
 */
export async function releasedResult(patientId: string, testCode: string, value: number, at: Date, opts: { accession?: string; interpretation?: string[] } = {}) {
  const test = testByCode(testCode);
  const high = test.referenceRange?.high;
  const low = test.referenceRange?.low;
  const flag = high !== undefined && value > high ? ['H'] : low !== undefined && value < low ? ['L'] : ['N'];
  return db().diagnosticReport.create({
    data: {
      patientId, accession: opts.accession ?? `ACC-${patientId}-${testCode}-${at.getTime()}`, code: test.code, loinc: test.loinc, display: test.name,
      lane: 'standard', status: 'final', effectiveAt: at, issuedAt: at, receivedAt: at, contentHash: `${testCode}:${value}`,
      releaseState: 'released', releasedAt: at, releasedVersion: 1,
      observations: {
        create: [{
          reportVersion: 1, patientId, seq: 1, code: test.code, loinc: test.loinc, display: test.name, valueType: 'NM', valueNumber: value,
          unit: test.unit ?? null, referenceLow: low ?? null, referenceHigh: high ?? null, interpretation: opts.interpretation ?? flag, status: 'final', effectiveAt: at,
        }],
      },
    },
  });
}
