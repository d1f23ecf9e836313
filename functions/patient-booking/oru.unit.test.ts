import { strict as assert } from 'node:assert';
import { Hl7Message } from '@medplum/core';
import { referenceRange, resultReports, unescape } from './oru';
import { chemistry, hivScreen, obx, oru, type OruReport } from '../../test/support/results';

const parse = (text: string) => Hl7Message.parse(text);
const reports = (...r: OruReport[]) => resultReports(parse(oru('P-1', r)));
const one = (r: OruReport) => { const all = reports(r); assert.equal(all.length, 1); return all[0]; };
const fieldOf = (fn: () => unknown) => {
  try { fn(); } catch (err) { return (err as { invalidParams?: Array<{ name: string }> }).invalidParams?.[0]?.name; }
  assert.fail('expected a malformed-message refusal');
};
const refused = (r: OruReport) => fieldOf(() => reports(r));
const withObx = (o: Partial<OruReport['observations'][number]>) => chemistry('ACC-1', { observations: [{ code: 'K', value: '4.2', unit: 'mmol/L', ...o }] });

describe('ORU^R01 → reports (HL7 v2.5.1, no database)', () => {
  it('one report per OBR with its OBX: accession OBR-3, order number OBR-2, patient PID-3, LOINC from the LN coding, times in +07:00', () => {
    const [first, second] = reports(chemistry('ACC-1', { placer: 'ORD-9', priority: 'S' }), hivScreen('ACC-1'));
    assert.deepEqual({ ...first, report: { ...first.report, observations: undefined } }, {
      patientId: 'P-1', accession: 'ACC-1', orderNumber: 'ORD-9', index: 1,
      report: {
        code: 'CHEM7', loinc: '24323-8', display: 'Comprehensive metabolic panel', status: 'final',
        effectiveAt: '2026-12-08T01:15:00.000Z', issuedAt: '2026-12-08T03:00:00.000Z', priority: 'stat', observations: undefined,
      },
    });
    assert.deepEqual(first.report.observations[0], {
      seq: 1, code: 'K', loinc: '2823-3', display: 'Potassium', valueType: 'NM', value: 4.2, unit: 'mmol/L',
      referenceRange: { low: 3.5, high: 5, text: '3.5-5.0' }, status: 'final', effectiveAt: '2026-12-08T01:15:00.000Z',
    });
    assert.deepEqual([second.index, second.report.code, second.report.observations[0].value, second.report.observations[0].valueType], [2, 'HIVAGAB', 'Non-reactive', 'ST']);
  });

  it('OBR-25 maps by the v2-to-FHIR ConceptMap (table 0123): F final, C corrected, P preliminary, A/R partial, O/I/S registered, X cancelled', () => {
    const statusOf = (code: string) => one(chemistry('ACC-1', { status: code })).report.status;
    assert.deepEqual(['F', 'C', 'P', 'A', 'R', 'O', 'I', 'S', 'X'].map(statusOf), ['final', 'corrected', 'preliminary', 'partial', 'partial', 'registered', 'registered', 'registered', 'cancelled']);
    assert.equal(refused(chemistry('ACC-1', { status: 'Y' })), 'hl7/OBR-25', 'Y is for queries: not mapped');
    assert.equal(refused(chemistry('ACC-1', { status: '' })), 'hl7/OBR-25');
  });

  it('OBX-11 maps by table 0085 (F, P, C, A, D/W entered-in-error, X cancelled); a final report with an amended result is amended; every result deleted is entered-in-error', () => {
    const status = (code: string) => one(withObx({ status: code })).report.observations[0].status;
    assert.deepEqual(['F', 'P', 'C', 'A', 'D', 'W', 'X'].map(status), ['final', 'preliminary', 'corrected', 'amended', 'entered-in-error', 'entered-in-error', 'cancelled']);
    assert.equal(one(withObx({ status: 'A' })).report.status, 'amended');
    assert.equal(one(withObx({ status: 'D' })).report.status, 'entered-in-error');
    assert.equal(refused(withObx({ status: 'V' })), 'hl7/OBX-11', 'V (verified) is left unmapped by the ConceptMap');
    assert.equal(refused(withObx({ status: '' })), 'hl7/OBX-11');
  });

  it('values by OBX-2: NM a number, SN a number or its text when bounded or a ratio, TX lines unescaped, CWE its text and code', () => {
    const obs = (o: Partial<OruReport['observations'][number]>) => one(withObx(o)).report.observations[0];
    assert.deepEqual([obs({ type: 'SN', value: '<^0.1' }).value, obs({ type: 'SN', value: '<^0.1' }).valueText], [null, '<0.1']);
    assert.deepEqual([obs({ type: 'SN', value: '^5.2' }).value, obs({ type: 'SN', value: '^5.2' }).valueText], [5.2, undefined]);
    assert.equal(obs({ type: 'SN', value: '^1^:^128' }).valueText, '1:128');
    assert.equal(obs({ type: 'SN', value: '>=^1000' }).valueText, '>=1000');
    assert.equal(obs({ type: 'TX', value: 'Lipaemic sample~Repeat advised \\T\\ noted', unit: undefined }).value, 'Lipaemic sample\nRepeat advised & noted');
    const coded = obs({ type: 'CWE', value: '260385009^Negative^SCT', unit: undefined });
    assert.deepEqual([coded.value, coded.valueText], ['Negative', '260385009']);
    assert.equal(obs({ value: '' }).value, null, 'no value yet (a pending result)');
  });

  it('reference ranges (OBX-7) and abnormal flags (OBX-8, repeating)', () => {
    assert.deepEqual(referenceRange('3.5-5.0'), { low: 3.5, high: 5, text: '3.5-5.0' });
    assert.deepEqual(referenceRange('<5.0'), { high: 5, text: '<5.0' });
    assert.deepEqual(referenceRange('>40'), { low: 40, text: '>40' });
    assert.deepEqual(referenceRange('-2 - 2'), { low: -2, high: 2, text: '-2 - 2' });
    assert.deepEqual(referenceRange('Negative'), { text: 'Negative' });
    assert.equal(referenceRange(''), undefined);
    assert.deepEqual(one(withObx({ value: '6.9', flags: ['HH', 'A'] })).report.observations[0].interpretation, ['HH', 'A']);
    assert.equal(unescape('a\\F\\b\\S\\c\\E\\d'), 'a|b^c\\d');
  });

  it('falls back to ORC-2 and ORC-3 when OBR-2 and OBR-3 are empty', () => {
    const text = oru('P-1', [chemistry('ACC-1', { placer: 'ORD-1' })]).replace(/OBR\|1\|ORD-1\|ACC-1\^LIS\|/, 'OBR|1|||');
    const [r] = resultReports(parse(text));
    assert.deepEqual([r.accession, r.orderNumber], ['ACC-1', 'ORD-1']);
  });

  it('refuses what cannot be read, naming the field: no patient, accession, code, a bad number, value type, flag, time or set id', () => {
    assert.equal(fieldOf(() => resultReports(parse(oru('', [chemistry('ACC-1')])))), 'hl7/PID-3');
    assert.equal(fieldOf(() => resultReports(parse(oru('P-1', [chemistry('ACC-1')]).replace(/^PID.*$/m, 'NTE|1||x')))), 'hl7/PID');
    assert.equal(fieldOf(() => resultReports(parse(oru('P-1', []) + '\r' + obx(1, { code: 'K', value: '1' })))), 'hl7/OBX');
    assert.equal(fieldOf(() => resultReports(parse(oru('P-1', [])))), 'hl7/OBR');
    assert.equal(refused(chemistry('ACC 1')), 'hl7/OBR-3');
    assert.equal(refused(chemistry('ACC-1', { code: '' })), 'hl7/OBR-4');
    assert.equal(refused(withObx({ value: 'high' })), 'hl7/OBX-5');
    assert.equal(refused(withObx({ type: 'SN', value: '~^5' })), 'hl7/OBX-5');
    assert.equal(refused(withObx({ type: 'SN', value: '<^abc' })), 'hl7/OBX-5');
    assert.equal(refused(withObx({ type: 'ED', value: 'x' })), 'hl7/OBX-2');
    assert.equal(refused(withObx({ type: '', value: '4.2' })), 'hl7/OBX-2');
    assert.equal(refused(withObx({ flags: ['VERYHIGH'] })), 'hl7/OBX-8');
    assert.equal(refused(withObx({ time: 'yesterday' })), 'hl7/OBX-14');
    assert.equal(refused(withObx({ code: '' })), 'hl7/OBX-3');
    assert.equal(refused(chemistry('ACC-1', { observedAt: '20261332' })), 'hl7/OBR-7');
    assert.equal(fieldOf(() => resultReports(parse(oru('P-1', [chemistry('ACC-1')]).replace('OBX|2|', 'OBX|1|')))), 'hl7/OBX-1');
  });
});
