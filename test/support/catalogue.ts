// A small, realistic test catalogue as the master data source sends it (test-master-data): tests with LOINC
// codes, UCUM units and adult reference ranges, and four packages taken in the booking queue's 'blood-draw'
// service (the slots fixtures.ts creates). Put it through the catalogue consumer (as the master data source
// would) or straight into the tables (tests about something else). The recommendation rules
// (knative/base/patient-booking/recommendation-rules.yaml) name these package codes.
import { db } from '../../functions/shared/db';
import { deliver } from './fixtures';

export interface TestFacts {
  code: string; version: number; loinc: string; name: string; unit?: string;
  referenceRange?: { low?: number; high?: number; text?: string }; category?: string; priceVnd: number;
}
export interface PackageFacts {
  code: string; version: number; name: string; description?: string; testCodes: string[]; priceVnd: number; serviceId: string;
  sex?: 'female' | 'male'; minAge?: number; maxAge?: number;
}

export const TESTS: TestFacts[] = [
  { code: 'HBA1C', version: 1, loinc: '4548-4', name: 'Hemoglobin A1c', unit: '%', referenceRange: { low: 4, high: 5.6 }, priceVnd: 150_000 },
  { code: 'GLU', version: 1, loinc: '2345-7', name: 'Glucose, fasting (serum)', unit: 'mg/dL', referenceRange: { low: 70, high: 99 }, priceVnd: 40_000 },
  { code: 'CHOL', version: 1, loinc: '2093-3', name: 'Cholesterol, total', unit: 'mg/dL', referenceRange: { high: 200 }, priceVnd: 50_000 },
  { code: 'LDL', version: 1, loinc: '13457-7', name: 'LDL cholesterol (calculated)', unit: 'mg/dL', referenceRange: { high: 100 }, priceVnd: 60_000 },
  { code: 'HDL', version: 1, loinc: '2085-9', name: 'HDL cholesterol', unit: 'mg/dL', referenceRange: { low: 40 }, priceVnd: 60_000 },
  { code: 'TG', version: 1, loinc: '2571-8', name: 'Triglycerides', unit: 'mg/dL', referenceRange: { high: 150 }, priceVnd: 50_000 },
  { code: 'ALT', version: 1, loinc: '1742-6', name: 'Alanine aminotransferase (ALT)', unit: 'U/L', referenceRange: { low: 7, high: 56 }, priceVnd: 40_000 },
  { code: 'CREA', version: 1, loinc: '2160-0', name: 'Creatinine', unit: 'mg/dL', referenceRange: { low: 0.7, high: 1.3 }, priceVnd: 40_000 },
  { code: 'CBC', version: 1, loinc: '58410-2', name: 'Complete blood count (CBC) panel', referenceRange: { text: 'see each count' }, priceVnd: 90_000 },
  { code: 'PSA', version: 1, loinc: '2857-1', name: 'Prostate specific antigen (PSA)', unit: 'ng/mL', referenceRange: { high: 4 }, category: 'tumour-marker', priceVnd: 250_000 },
];

export const PACKAGES: PackageFacts[] = [
  { code: 'DIABETES', version: 1, name: 'Diabetes screening', description: 'HbA1c and fasting glucose', testCodes: ['HBA1C', 'GLU'], priceVnd: 170_000, serviceId: 'blood-draw', minAge: 18 },
  { code: 'LIPID', version: 1, name: 'Heart health (lipid panel)', description: 'Total, LDL and HDL cholesterol, triglycerides', testCodes: ['CHOL', 'LDL', 'HDL', 'TG'], priceVnd: 200_000, serviceId: 'blood-draw', minAge: 18 },
  { code: 'GENERAL', version: 1, name: 'General health check', description: 'Blood count, glucose, cholesterol, liver and kidney', testCodes: ['CBC', 'GLU', 'CHOL', 'ALT', 'CREA'], priceVnd: 230_000, serviceId: 'blood-draw' },
  { code: 'PROSTATE', version: 1, name: 'Prostate screening (men 50+)', testCodes: ['PSA'], priceVnd: 250_000, serviceId: 'blood-draw', sex: 'male', minAge: 50 },
];

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
