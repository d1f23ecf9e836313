// Demo data for a fresh laptop database: two branches, three services and a week of slots (plus two
// slots starting within the hour, so the book → check-in → board walk-through works at any time of day).
import { db } from '../../functions/shared/db';
import { branchDay, localTimeToUtc } from '../../functions/booking-queue/calendar';

const hhmm = (minutes: number) => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

const BRANCHES = [
  { id: 'hcm-d1', name: 'Medlab District 1', timezone: 'Asia/Ho_Chi_Minh' },
  { id: 'hn-bd', name: 'Medlab Ba Dinh', timezone: 'Asia/Ho_Chi_Minh' },
];
const SERVICES = [
  { id: 'blood-draw', name: 'Blood draw', ticketPrefix: 'A', durationMinutes: 5 },
  { id: 'check-up', name: 'General check-up', ticketPrefix: 'B', durationMinutes: 20, requiresConfirmation: true },
  { id: 'imaging', name: 'X-ray and ultrasound', ticketPrefix: 'C', durationMinutes: 15 },
];

export async function seedDemoData(now = new Date()): Promise<{ seeded: boolean; slots: number }> {
  if (await db().branch.count()) return { seeded: false, slots: 0 };
  await db().branch.createMany({ data: BRANCHES });
  await db().service.createMany({ data: SERVICES });
  const slots: Array<{ branchId: string; serviceId: string; startsAt: Date; endsAt: Date; capacity: number }> = [];
  for (const branch of BRANCHES) {
    for (let d = 0; d < 7; d++) {
      const day = branchDay(new Date(now.getTime() + d * 86_400_000), branch.timezone);
      for (let m = 7 * 60; m < 20 * 60; m += 30) {
        const startsAt = localTimeToUtc(day, hhmm(m), branch.timezone);
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

const EVERY_DAY = Object.fromEntries(['1', '2', '3', '4', '5', '6', '7'].map((d) => [d, [['07:00', '12:00'], ['13:00', '17:00']]]));
const resourceId = (n: number) => `d0000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/**
 * The appointment system's demo clinic, into a database with no resource yet: at each branch two doctors,
 * two exam rooms, an ECG and an ultrasound working 07:00–12:00 and 13:00–17:00 every day (lunch is the
 * break), and three visit types: a GP consultation, an annual check-up (a doctor, a room and the ECG) and an
 * abdominal ultrasound paid at the POS first. Fixed ids, so README's walkthrough can name them.
 */
export async function seedDemoClinic(): Promise<boolean> {
  if (await db().resource.count()) return false;
  const data = BRANCHES.flatMap((branch, b) => [
    { name: 'Dr. An', kind: 'practitioner' as const, capabilities: ['general-practice'] },
    { name: 'Dr. Binh', kind: 'practitioner' as const, capabilities: ['general-practice', 'cardiology'] },
    { name: 'Exam room 1', kind: 'room' as const, capabilities: ['exam'] },
    { name: 'Exam room 2', kind: 'room' as const, capabilities: ['exam'] },
    { name: 'ECG 1', kind: 'device' as const, capabilities: ['ecg'] },
    { name: 'Ultrasound 1', kind: 'device' as const, capabilities: ['ultrasound'] },
  ].map((r, i) => ({ ...r, id: resourceId(b * 100 + i + 1), branchId: branch.id, timezone: branch.timezone, hours: EVERY_DAY })));
  await db().resource.createMany({ data });
  await db().visitType.createMany({
    data: [
      { id: 'gp-consult', name: 'GP consultation', durationMinutes: 15, requirements: [{ kind: 'practitioner', capability: 'general-practice' }, { kind: 'room', capability: 'exam' }] },
      {
        id: 'annual-checkup', name: 'Annual check-up', durationMinutes: 30,
        requirements: [{ kind: 'practitioner', capability: 'general-practice' }, { kind: 'room', capability: 'exam' }, { kind: 'device', capability: 'ecg' }],
      },
      { id: 'abdominal-ultrasound', name: 'Abdominal ultrasound (paid first)', durationMinutes: 20, requiresPayment: true, requirements: [{ kind: 'practitioner', capability: 'general-practice' }, { kind: 'device', capability: 'ultrasound' }] },
    ],
    skipDuplicates: true,
  });
  return true;
}

/**
 * The dead-letter console's demo: a booking request from a legacy producer that names a slot by its old id
 * (not a slot of this system), which the booking consumer refuses (400: slotId must be a uuid). It goes to
 * booking-requests like any record, fails at the consumer and reaches the intake through the KafkaSource's
 * dead-letter sink, so the console shows a real letter at once. A patient of its own: no demo booking sees it.
 */
export const demoPoisonEvent = {
  specversion: '1.0', type: 'com.medlab.booking.requested', source: '/demo/legacy-booking-form', id: 'demo-poison-1', datacontenttype: 'application/json',
  data: { requestId: 'demo-legacy-request-1', patientId: 'patient-legacy-demo', slotId: 'legacy-slot-0001' },
} as const;

/** Only into a database with no dead letter at all (unless SEED_DEMO=false): a restart adds nothing. */
export async function wantsDemoPoisonEvent(): Promise<boolean> {
  return process.env.SEED_DEMO !== 'false' && (await db().deadLetter.count()) === 0;
}

/**
 * The demo patients as the CRM would announce them on crm-customers (so the notification system knows where
 * to reach them): the dev tokens' patient-demo and the walkthroughs' patient-42 and patient-7. Contacts on
 * example.com and the 0900 test range: npm start's catcher receives every message, nothing leaves the laptop.
 * Fixed ids and version 1: a restart puts them again and changes nothing.
 */
export const demoCustomers = [
  { patientId: 'patient-demo', email: 'patient-demo@example.com', phone: '+84900000001', language: 'vi', timezone: 'Asia/Ho_Chi_Minh', tier: 'standard', sex: 'male', birthDate: '1974-03-15' },
  { patientId: 'patient-42', email: 'patient-42@example.com', phone: '+84900000042', language: 'en', timezone: 'Asia/Ho_Chi_Minh', tier: 'svip1', sex: 'female', birthDate: '1981-09-02' },
  { patientId: 'patient-7', email: 'patient-7@example.com', phone: '+84900000007', language: 'vi', timezone: 'Asia/Ho_Chi_Minh', tier: 'standard', sex: 'female', birthDate: '1992-05-20' },
].map((c) => ({
  specversion: '1.0', type: 'com.medlab.crm.customer-updated', source: '/demo/crm', id: `demo-customer-${c.patientId}`,
  datacontenttype: 'application/json', data: { ...c, version: 1 },
}));

// ---- patient-booking: the test catalogue as the master data source sends it (test-master-data) ----
// Tests with LOINC codes, UCUM units and adult reference ranges, and four packages taken in the booking
// queue's 'blood-draw' service. The recommendation rules (knative/base/patient-booking/recommendation-rules.yaml)
// name these package codes; the tests (test/support/catalogue.ts) use the same catalogue.

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

/** The demo catalogue as CloudEvents on test-master-data (tests first). Fixed ids and version 1: a restart changes nothing. */
export const demoCatalogue = [
  ...TESTS.map((data) => ({ type: 'com.medlab.catalogue.test-upserted', data })),
  ...PACKAGES.map((data) => ({ type: 'com.medlab.catalogue.package-upserted', data })),
].map((e) => ({
  specversion: '1.0', type: e.type, source: '/demo/master-data', id: `demo-catalogue-${e.data.code}`, datacontenttype: 'application/json', data: e.data,
}));
