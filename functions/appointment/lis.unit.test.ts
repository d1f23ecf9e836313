import { strict as assert } from 'node:assert';
import { Hl7Message } from '@medplum/core';
import { advance, containerReports, orderReports, type SampleReport } from './lis';
import { readMessage } from '../shared/hl7';

const AT = new Date('2026-12-08T02:00:00Z');
const APPOINTMENT = '5b1f0a52-8f0e-4c1a-9d3e-0a1b2c3d4e5f';
const msh = (type: string) => `MSH|^~\\&|LIS|MEDLAB-HCM|PORTAL|MEDLAB|20261208090000+0700||${type}|CTRL-1|P|2.5.1`;
const parse = (...segments: string[]) => Hl7Message.parse(segments.join('\r'));
const orc = (status: string, { filler = 'ACC-1', placer = APPOINTMENT } = {}) => `ORC|SC|${placer}|${filler}||${status}`;
const spm = ({ collected = '', received = '', reject = '', id = '' } = {}) => `SPM|1|${id}||BLD^Blood^HL70487|||||||||||||${collected}|${received}|||${reject}`;
const sac = (status: string, { accession = 'ACC-1', external = '', container = '' } = {}) => `SAC|${external}|${accession}|${container}|||||${status}`;
const one = (reports: SampleReport[]) => { assert.equal(reports.length, 1); return reports[0]; };
const fieldOf = (fn: () => unknown) => {
  try { fn(); } catch (err) { return (err as { invalidParams?: Array<{ name: string }> }).invalidParams?.[0]?.name; }
  assert.fail('expected a malformed-message refusal');
};

describe('LIS messages → sample reports (no database)', () => {
  describe('OML^O21 / ORL^O22: the order (ORC) and its specimens (SPM)', () => {
    it('reads the accession from ORC-3, our appointment id from ORC-2 and the order status from ORC-5', () => {
      const r = one(orderReports(parse(msh('OML^O21'), orc('SC')), AT));
      assert.deepEqual(r, { accession: 'ACC-1', accessionField: 'ORC-3', at: AT, placerOrder: APPOINTMENT, orderStatus: 'SC' });
    });

    it('an ORC-2 that is not a uuid is not taken for an appointment id', () => {
      assert.equal(one(orderReports(parse(msh('OML^O21'), orc('SC', { placer: 'HIS-778' })), AT)).placerOrder, undefined);
    });

    it('falls back to SPM-2 (filler id, then placer id) when ORC-3 is empty', () => {
      assert.equal(one(orderReports(parse(msh('ORL^O22'), orc('IP', { filler: '' }), spm({ id: 'PL-9^ACC-7' })), AT)).accession, 'ACC-7');
      const placerOnly = one(orderReports(parse(msh('ORL^O22'), orc('IP', { filler: '' }), spm({ id: 'ACC-8' })), AT));
      assert.deepEqual([placerOnly.accession, placerOnly.accessionField], ['ACC-8', 'SPM-2']);
    });

    it('collection time → collected, received time → received, ORC-5 IP or A → in-process, CM → completed', () => {
      const status = (...segments: string[]) => one(orderReports(parse(msh('OML^O21'), ...segments), AT)).sampleStatus;
      assert.equal(status(orc('SC'), spm({ collected: '202612080815' })), 'collected');
      assert.equal(status(orc('SC'), spm({ collected: '202612080815', received: '202612080840' })), 'received');
      assert.equal(status(orc('IP'), spm({ collected: '202612080815', received: '202612080840' })), 'in-process');
      assert.equal(status(orc('A')), 'in-process');
      assert.equal(status(orc('CM'), spm({ collected: '202612080815' })), 'completed');
      assert.equal(status(orc('SC')), undefined, 'scheduled: nothing about the sample yet');
      assert.equal(status(orc('CA')), undefined, 'cancelled: the order status is kept, the sample does not move');
    });

    it('a specimen reject reason (SPM-21) rejects the sample whatever else the message says', () => {
      const r = one(orderReports(parse(msh('OML^O21'), orc('IP'), spm({ collected: '202612080815', reject: 'RH^Hemolysis^HL70490' })), AT));
      assert.deepEqual([r.sampleStatus, r.rejectReason, r.orderStatus], ['rejected', 'RH', 'IP']);
    });

    it('one report per ORC, each with the SPM segments that follow it', () => {
      const reports = orderReports(parse(msh('OML^O21'), orc('SC', { filler: 'ACC-1' }), spm({ collected: '202612080815' }), orc('SC', { filler: 'ACC-2' }), spm({ reject: 'QS' })), AT);
      assert.deepEqual(reports.map((r) => [r.accession, r.sampleStatus]), [['ACC-1', 'collected'], ['ACC-2', 'rejected']]);
    });

    it('refuses what cannot be kept, naming the field: no order, no accession, a bad status, code or time', () => {
      assert.equal(fieldOf(() => orderReports(parse(msh('OML^O21'), 'PID|1'), AT)), 'hl7/ORC');
      assert.equal(fieldOf(() => orderReports(parse(msh('OML^O21'), orc('SC', { filler: '' })), AT)), 'hl7/ORC-3');
      assert.equal(fieldOf(() => orderReports(parse(msh('OML^O21'), orc('SC', { filler: 'ACC 1' })), AT)), 'hl7/ORC-3');
      assert.equal(fieldOf(() => orderReports(parse(msh('OML^O21'), orc('INPROGRESS')), AT)), 'hl7/ORC-5');
      assert.equal(fieldOf(() => orderReports(parse(msh('OML^O21'), orc('SC'), spm({ reject: 'hemolysed sample!' })), AT)), 'hl7/SPM-21');
      assert.equal(fieldOf(() => orderReports(parse(msh('OML^O21'), orc('SC'), spm({ collected: 'yesterday' })), AT)), 'hl7/SPM-17');
    });
  });

  describe('SSU^U03: containers (SAC-8, HL7 table 0370)', () => {
    it('I identified → collected, P in position → received, O in process → in-process, R process completed → completed', () => {
      const status = (code: string) => one(containerReports(parse(msh('SSU^U03'), sac(code)), AT)).sampleStatus;
      assert.deepEqual(['I', 'P', 'O', 'R'].map(status), ['collected', 'received', 'in-process', 'completed']);
    });

    it('M missing and X unavailable mark the container missing without a status; L and U change nothing', () => {
      for (const code of ['M', 'X']) {
        const r = one(containerReports(parse(msh('SSU^U03'), sac(code)), AT));
        assert.deepEqual([r.missing, r.sampleStatus, r.containerStatus], [true, undefined, code]);
      }
      for (const code of ['L', 'U']) {
        const r = one(containerReports(parse(msh('SSU^U03'), sac(code)), AT));
        assert.deepEqual([r.missing, r.sampleStatus], [undefined, undefined]);
      }
    });

    it('an SPM with SPM-21 after the container rejects its sample', () => {
      const r = one(containerReports(parse(msh('SSU^U03'), sac('P'), spm({ reject: 'RC^Clotting^HL70490' })), AT));
      assert.deepEqual([r.sampleStatus, r.rejectReason], ['rejected', 'RC']);
    });

    it('the accession is SAC-2, else SAC-1, else SAC-3', () => {
      const read = (segment: string) => { const r = one(containerReports(parse(msh('SSU^U03'), segment), AT)); return [r.accession, r.accessionField]; };
      assert.deepEqual(read(sac('I')), ['ACC-1', 'SAC-2']);
      assert.deepEqual(read(sac('I', { accession: '', external: 'EXT-5' })), ['EXT-5', 'SAC-1']);
      assert.deepEqual(read(sac('I', { accession: '', container: 'TUBE-3' })), ['TUBE-3', 'SAC-3']);
      assert.equal(fieldOf(() => containerReports(parse(msh('SSU^U03'), sac('I', { accession: '' })), AT)), 'hl7/SAC-2');
    });

    it('refuses a container status outside table 0370, naming SAC-8', () => {
      assert.equal(fieldOf(() => containerReports(parse(msh('SSU^U03'), sac('Z')), AT)), 'hl7/SAC-8');
    });
  });

  describe('the message header (MSH)', () => {
    const handled = ['OML^O21', 'ORL^O22', 'SSU^U03'];
    it('reads type, control id, sender and time; segments may end with \\r, \\n or \\r\\n', () => {
      for (const sep of ['\r', '\n', '\r\n']) {
        const { message, header } = readMessage(Buffer.from([msh('SSU^U03^SSU_U03'), sac('I')].join(sep) + sep), handled);
        assert.deepEqual(header, { type: 'SSU^U03', controlId: 'CTRL-1', sender: 'LIS|MEDLAB-HCM', sentAt: new Date('2026-12-08T02:00:00Z') });
        assert.equal(one(containerReports(message, header.sentAt)).sampleStatus, 'collected');
      }
    });

    it('a time without an offset is the LIS\'s (Vietnam, +07:00)', () => {
      const { header } = readMessage(msh('SSU^U03').replace('+0700', ''), handled);
      assert.equal(header.sentAt.toISOString(), '2026-12-08T02:00:00.000Z');
    });

    it('refuses, naming the field: no MSH, other separators, a type not handled, no control id, a bad time, bytes that are not text', () => {
      assert.equal(fieldOf(() => readMessage('PID|1||P-1', handled)), 'hl7/MSH');
      assert.equal(fieldOf(() => readMessage(Buffer.from([0xff, 0xfe, 0x00, 0x81]), handled)), 'hl7/MSH');
      assert.equal(fieldOf(() => readMessage({ hello: 'json' }, handled)), 'hl7/MSH');
      assert.equal(fieldOf(() => readMessage(msh('SSU^U03').replace('^~\\&', '^~\\&#'), handled)), 'hl7/MSH-2');
      assert.equal(fieldOf(() => readMessage(msh('SSU^U03').replace('^~\\&', '*~\\&'), handled)), 'hl7/MSH-2');
      assert.equal(fieldOf(() => readMessage(msh('SSU^U03').replace(/\|/g, '#'), handled)), 'hl7/MSH-1');
      assert.equal(fieldOf(() => readMessage(msh('ORU^R01'), handled)), 'hl7/MSH-9');
      assert.equal(fieldOf(() => readMessage(msh(''), handled)), 'hl7/MSH-9');
      assert.equal(fieldOf(() => readMessage(msh('SSU^U03').replace('CTRL-1', ''), handled)), 'hl7/MSH-10');
      assert.equal(fieldOf(() => readMessage(msh('SSU^U03').replace('20261208090000+0700', '20261340'), handled)), 'hl7/MSH-7');
    });
  });
});

describe('a sample only moves forward (no database)', () => {
  const t = (minutes: number) => new Date(AT.getTime() + minutes * 60_000);
  const state = (sampleStatus: SampleReport['sampleStatus'] | 'ordered', at: number | null = 0) => ({ sampleStatus: sampleStatus!, statusAt: at === null ? null : t(at) });

  it('each later stage moves it; the same or an earlier one does not, whenever it was sent', () => {
    assert.equal(advance(state('ordered', null), { sampleStatus: 'collected', at: t(0) }), 'collected');
    assert.equal(advance(state('collected'), { sampleStatus: 'completed', at: t(5) }), 'completed', 'stages can be skipped');
    assert.equal(advance(state('received', 10), { sampleStatus: 'in-process', at: t(5) }), 'in-process', 'a message that overtook another still moves forward');
    assert.equal(advance(state('completed', 10), { sampleStatus: 'received', at: t(20) }), undefined);
    assert.equal(advance(state('in-process'), { sampleStatus: 'in-process', at: t(5) }), undefined);
  });

  it('a rejection comes at any stage before completed, unless it is older than the last move', () => {
    for (const s of ['ordered', 'collected', 'received', 'in-process'] as const) assert.equal(advance(state(s), { sampleStatus: 'rejected', at: t(5) }), 'rejected', s);
    assert.equal(advance(state('completed'), { sampleStatus: 'rejected', at: t(5) }), undefined);
    assert.equal(advance(state('received', 10), { sampleStatus: 'rejected', at: t(5) }), undefined);
  });

  it('after a rejection a newer report starts the sample again; an older one (the first sample\'s) does not', () => {
    assert.equal(advance(state('rejected', 10), { sampleStatus: 'collected', at: t(30) }), 'collected');
    assert.equal(advance(state('rejected', 10), { sampleStatus: 'collected', at: t(5) }), undefined);
    assert.equal(advance(state('rejected', 10), { sampleStatus: 'rejected', at: t(30) }), undefined);
  });
});
