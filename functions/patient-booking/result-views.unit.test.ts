import { strict as assert } from 'node:assert';
import { changesBetween, isAbnormal, observationView, statusOf, trendOf, type ObservationRow } from './result-views';

const row = (o: Partial<ObservationRow> & { code: string; seq: number }): ObservationRow => ({
  loinc: null, display: null, valueType: 'NM', valueNumber: null, valueText: null, unit: null, referenceLow: null, referenceHigh: null,
  referenceText: null, interpretation: [], status: 'final', effectiveAt: null, ...o,
});

describe('result views (pure)', () => {
  it('abnormal means a flag outside the range (L, H, LL, HH, A, AA, <, >), not N or a susceptibility', () => {
    assert.deepEqual([isAbnormal(['H']), isAbnormal(['LL']), isAbnormal(['N']), isAbnormal(['S']), isAbnormal([])], [true, true, false, false, false]);
  });

  it('results are matched by LIS code, not by their place: a reordered panel changes nothing', () => {
    const before = [row({ seq: 1, code: 'A', valueNumber: 1 }), row({ seq: 2, code: 'B', valueNumber: 2 })];
    const after = [row({ seq: 1, code: 'B', valueNumber: 2 }), row({ seq: 2, code: 'A', valueNumber: 1 })];
    assert.deepEqual(changesBetween(before, after), []);
  });

  it('a changed unit and range are listed as such, with both sides', () => {
    const [c] = changesBetween([row({ seq: 1, code: 'GLU', valueNumber: 5, unit: 'mmol/L', referenceLow: 3.9, referenceHigh: 5.5 })], [row({ seq: 1, code: 'GLU', valueNumber: 90, unit: 'mg/dL', referenceLow: 70, referenceHigh: 100 })]);
    assert.deepEqual([c.change, c.fields, c.before?.unit, c.after?.unit, c.before?.referenceRange, c.after?.referenceRange], ['changed', ['value', 'unit', 'referenceRange'], 'mmol/L', 'mg/dL', '3.9-5.5', '70-100']);
  });

  it('an older version still shown says final (the first), corrected (its results say so) or amended', () => {
    const report = { status: 'amended' as const, version: 3 };
    assert.deepEqual([statusOf(report, 3, []), statusOf(report, 1, []), statusOf(report, 2, [{ status: 'corrected' }]), statusOf(report, 2, [{ status: 'final' }])], ['amended', 'final', 'corrected', 'amended']);
  });

  it('a text value is valueString; a number with the LIS\'s "<" keeps it as the comparator', () => {
    assert.deepEqual(observationView(row({ seq: 1, code: 'X', valueText: 'positive' })).valueString, 'positive');
    assert.deepEqual(observationView(row({ seq: 1, code: 'X', valueNumber: 0.1, valueText: '<0.1', unit: 'mg/L' })).valueQuantity, { value: 0.1, unit: 'mg/L', comparator: '<' });
  });

  it('a trend is oldest first whatever order it was read in; each unit change is marked where it happens', () => {
    const point = (day: number, unit: string) => ({ reportId: `r${day}`, accession: `a${day}`, version: 1, at: new Date(Date.UTC(2026, 0, day)), observation: row({ seq: 1, code: 'GLU', valueNumber: day, unit }) });
    const t = trendOf([point(3, 'mmol/L'), point(1, 'mmol/L'), point(2, 'mg/dL')]);
    assert.deepEqual(t.points.map((p) => [p.value, p.unit, p.unitChanged ?? false]), [[1, 'mmol/L', false], [2, 'mg/dL', true], [3, 'mmol/L', true]]);
    assert.deepEqual([t.units, t.unitsDiffer], [['mmol/L', 'mg/dL'], true]);
  });
});
