// The print-report spool entry (pdf-spool.ts): the header syntax and the exactly-once protocol
// per section, with a crash put at each step between "section recorded" and "entry visible".
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getCodePage } from '../codepage/index.js';
import { submitToSpool, spoolLayout } from '../spool/submit.js';
import { tempDir } from '../testing/peers.js';
import { HeaderError, parseHeader, runPdfSpoolEntry, sectionEntryId, type PdfSpoolContext, type PdfSpoolEntry } from './pdf-spool.js';

const h = (...texts: string[]): ReturnType<typeof parseHeader> => parseHeader(texts.map((text, i) => ({ text, recordNo: i + 1 })));

test('header: KEY=VALUE words like the pdfmail options, quoted values, continuation records, lists', () => {
  const x = h('%SPOOLGATE PDFMAIL SPLIT=marker:1-7=INVOICE RECIPIENT=tag:%%MAILTO: SUBJECT="Invoice {section} of ""ACME"""', '%SPOOLGATE+ CC=a@b.test,c@d.test CC=e@f.test carriage=ASA FORMAT=fb:133 LINES=60 PAPER=letter');
  assert.deepEqual(x.split, { start: { kind: 'marker', from: 1, to: 7, text: 'INVOICE' }, recipient: { kind: 'tag', prefix: '%%MAILTO:' } });
  assert.equal(x.subject, 'Invoice {section} of "ACME"');
  assert.deepEqual(x.cc, ['a@b.test', 'c@d.test', 'e@f.test']);
  assert.deepEqual([x.carriage, x.format, x.lines, x.paper], ['asa', { kind: 'fixed', length: 133 }, 60, 'LETTER']);
});

test('header: every refusal names the record and the fix', () => {
  const cases: [string[], RegExp][] = [
    [['%SPOOLGATE PDFMAIL TO=a@b.test X=1'], /record 1: unknown key X \(known: SPLIT/],
    [['%SPOOLGATE PDFMAIL TO=a@b.test', '%SPOOLGATE+ LINES=0'], /record 2: LINES=0: give 1\.\.255/],
    [['%SPOOLGATE PDFMAIL SPLIT=page'], /SPLIT and RECIPIENT go together/],
    [['%SPOOLGATE PDFMAIL TO=a@b.test junk'], /record 1: expected KEY=VALUE at column 32, found "junk"/],
    [['%SPOOLGATE PDFMAIL TO=a@b.test SUBJECT=a"b'], /quote inside the bare value of SUBJECT/],
    [['%SPOOLGATE PDFMAIL TO=a@b.test SUBJECT="x\u0007"'], /value of SUBJECT holds a control character/],
    [['%SPOOLGATE PDFMAIL TO=a@b.test FORMAT=fb:0'], /FORMAT=fb:0: give text, nl, fb:LEN or vb/],
    [[`%SPOOLGATE PDFMAIL TO=a@b.test TEXT=${'t'.repeat(999)}`], /value of TEXT is 999 characters/],
  ];
  for (const [recs, re] of cases) assert.throws(() => h(...recs), (e: unknown) => e instanceof HeaderError && re.test(e.message), recs.join(' | '));
});

function setup(t: TestContext, sections: number): { root: string; ctx: (recorded: number[], record: (n: number) => Promise<void>) => PdfSpoolContext; entry: () => Promise<PdfSpoolEntry> } {
  const root = tempDir(t);
  const report = '%SPOOLGATE PDFMAIL SPLIT=page RECIPIENT=tag:TO: SUBJECT="S {section}"\n' + Array.from({ length: sections }, (_, i) => `TO: c${i + 1}@cust.test\nsection ${i + 1}\n`).join('\f');
  return {
    root,
    entry: async () => submitToSpool({ root, writer: 'TESTW', attrs: { jobName: 'RPT', recordFormat: 'text', encoding: 'ISO8859-1' }, data: Buffer.from(report) }),
    ctx: (recorded, record) => ({
      target: { root, writer: 'TESTW', hostName: 'gw.test' }, codepage: getCodePage('ISO8859-1')!, recordFormat: 'text', recordLength: 80, nullTrnc: false,
      senderPolicy: { policy: 'any', domain: 'gw.test', gatewayUid: undefined }, recorded, record,
    }),
  };
}

/** Section mail entries in incoming/: section number → count (by the recipient in envelope.json). */
function queued(root: string, reportId: string): Map<number, number> {
  const dir = spoolLayout(root, 'TESTW').incoming;
  const out = new Map<number, number>();
  for (const id of readdirSync(dir).filter((n) => n !== reportId)) {
    const env = readFileSync(join(dir, id, 'envelope.json'), 'utf8');
    const n = Number(/c(\d+)@cust\.test/.exec(env)![1]);
    out.set(n, (out.get(n) ?? 0) + 1);
  }
  return out;
}

test('crash after a section is recorded and before its entry is visible: the restart makes it visible, mails nothing twice, loses nothing', async (t) => {
  const s = setup(t, 4);
  const entry = await s.entry();
  const recorded: number[] = [];
  // The process "dies" right after section 2 is recorded: nothing after that point runs (the
  // first run never resumes; the second plays the restarted gateway).
  let died!: () => void;
  const dead = new Promise<void>((r) => { died = r; });
  const crashAt = async (n: number): Promise<void> => { recorded.push(n); if (n === 2) { died(); await new Promise(() => undefined); } };
  void runPdfSpoolEntry(entry, s.ctx([], crashAt));
  await dead;
  assert.deepEqual([...queued(s.root, entry.id)], [[1, 1]], 'section 1 visible, section 2 staged only');
  assert.ok(readdirSync(spoolLayout(s.root, 'TESTW').tmp).includes(sectionEntryId(entry, 2)), 'section 2 is kept in tmp/ once recorded');
  const again: number[] = [];
  const r = await runPdfSpoolEntry(entry, s.ctx(recorded, async (n) => { again.push(n); }));
  assert.deepEqual(r?.problems, []);
  assert.equal(r?.mails, 2, 'sections 3 and 4 mailed now');
  assert.deepEqual(again, [3, 4]);
  assert.deepEqual([...queued(s.root, entry.id)].sort(), [[1, 1], [2, 1], [3, 1], [4, 1]]);
  assert.deepEqual(readdirSync(spoolLayout(s.root, 'TESTW').tmp), []);
});

test('crash before a section is recorded: its half-written tmp/ entry is replaced, the section mailed once', async (t) => {
  const s = setup(t, 3);
  const entry = await s.entry();
  // What a kill during section 2's write leaves: a partial tmp/<id>, not recorded.
  const stale = join(spoolLayout(s.root, 'TESTW').tmp, sectionEntryId(entry, 2));
  mkdirSync(stale);
  writeFileSync(join(stale, 'data'), 'half');
  await runPdfSpoolEntry(entry, s.ctx([1], async () => undefined)); // section 1 recorded and visible before (here: not queued, so not re-sent)
  assert.deepEqual([...queued(s.root, entry.id)].sort(), [[2, 1], [3, 1]], 'section 1 is not mailed again; 2 and 3 once');
  assert.equal(readFileSync(join(spoolLayout(s.root, 'TESTW').incoming, sectionEntryId(entry, 2), 'data'), 'latin1').includes('section 2'), false, 'the PDF is base64, not the stale bytes');
  assert.notEqual(readFileSync(join(spoolLayout(s.root, 'TESTW').incoming, sectionEntryId(entry, 2), 'data'), 'latin1'), 'half');
});

test('not a print report: a batch-SMTP entry is left to the batch parser', async (t) => {
  const root = tempDir(t);
  const e = await submitToSpool({ root, writer: 'TESTW', attrs: { recordFormat: 'text', encoding: 'ISO8859-1' }, data: Buffer.from('HELO x\r\nMAIL FROM:<a@b.test>\r\n') });
  const r = await runPdfSpoolEntry(e, {
    target: { root, writer: 'TESTW', hostName: 'gw.test' }, codepage: getCodePage('ISO8859-1')!, recordFormat: 'text', recordLength: 80, nullTrnc: false,
    senderPolicy: { policy: 'any', domain: 'gw.test', gatewayUid: undefined }, recorded: [], record: async () => undefined,
  });
  assert.equal(r, undefined);
});

test('a gateway stop ends the report between two sections; the next start mails the rest once', async (t) => {
  const s = setup(t, 4);
  const entry = await s.entry();
  const recorded: number[] = [];
  const r1 = await runPdfSpoolEntry(entry, { ...s.ctx([], async (n) => { recorded.push(n); }), stopping: () => recorded.length >= 2 });
  assert.equal(r1?.interrupted, true);
  assert.deepEqual([...queued(s.root, entry.id)].sort(), [[1, 1], [2, 1]]);
  const r2 = await runPdfSpoolEntry(entry, { ...s.ctx(recorded, async (n) => { recorded.push(n); }), stopping: () => false });
  assert.equal(r2?.interrupted, undefined);
  assert.deepEqual([...queued(s.root, entry.id)].sort(), [[1, 1], [2, 1], [3, 1], [4, 1]]);
});
