// Report → PDF, checked with poppler's pdftotext and pdfinfo as the oracle (nobody here wrote
// them): the text of each page, the page count, the page breaks, the orientation, and one PDF
// per section with the section's own content and recipient.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { reportPdfs, parseSectionStart, parseRecipientRule, type ReportOptions, type ReportPdf } from './index.js';
import { getCodePage } from '../codepage/index.js';
import { needPeer, tempDir } from '../testing/peers.js';

async function pdfs(input: Buffer, o: ReportOptions): Promise<ReportPdf[]> {
  const out: ReportPdf[] = [];
  for await (const p of reportPdfs(Readable.from([input]), o)) out.push(p);
  return out;
}

function oracle(t: TestContext, pdf: Buffer): { text: string; pages: number; size: string } | undefined {
  const pdftotext = needPeer(t, 'pdftotext');
  if (pdftotext === undefined) return undefined;
  const file = join(tempDir(t), 'out.pdf');
  writeFileSync(file, pdf);
  const text = execFileSync(pdftotext, ['-layout', '-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
  const info = execFileSync('pdfinfo', [file], { encoding: 'utf8' });
  return { text, pages: Number(/^Pages:\s+(\d+)/m.exec(info)![1]), size: /^Page size:\s+(.*)$/m.exec(info)![1]! };
}

const pageTexts = (text: string): string[] => text.split('\f').slice(0, -1).map((p) => p.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '').join('\n'));

test('EBCDIC FB133 with ASA carriage control → pages as the control says, landscape for 132 columns', async (t) => {
  const cp = getCodePage('IBM-1047')!;
  const wide = 'X'.repeat(60) + 'RIGHT EDGE'.padStart(72);
  const lines: [string, string][] = [['1', 'PAYROLL REPORT         PAGE 1'], ['0', 'EMPLOYEE   AMOUNT'], [' ', 'MUELLER    1200.50'], ['+', '_______'], ['-', wide], ['1', 'PAYROLL REPORT         PAGE 2'], [' ', 'TOTAL      1200.50'], ['1', 'PAGE 3 ONLY']];
  const records = Buffer.concat(lines.map(([cc, text]) => cp.encode((cc + text).padEnd(133))));
  const [out, ...more] = await pdfs(records, { format: { kind: 'fixed', length: 133 }, carriage: 'asa', codepage: cp, title: 'PAYROLL', date: new Date(Date.UTC(2026, 10, 27)) });
  assert.equal(more.length, 0);
  assert.equal(out!.pages, 3);
  const o = oracle(t, out!.pdf);
  if (o === undefined) return;
  assert.equal(o.pages, 3);
  assert.match(o.size, /^841\.89 x 595\.28 pts \(A4\)/, 'landscape A4 for 132 columns');
  const p = pageTexts(o.text);
  assert.equal(p.length, 3);
  assert.match(p[0]!, /^PAYROLL REPORT\s+PAGE 1\nEMPLOYEE\s+AMOUNT\n/);
  // The overprinted line keeps both passes (pdftotext may put them on two lines).
  for (const s of ['MUELLER', '_______', '1200.50']) assert.ok(p[0]!.includes(s), s);
  assert.match(p[0]!, /X{60}\s+RIGHT EDGE$/);
  assert.match(p[1]!, /^PAYROLL REPORT\s+PAGE 2\nTOTAL\s+1200\.50$/);
  assert.equal(p[2], 'PAGE 3 ONLY');
});

test('plain text with form feeds, 80 columns → portrait; Unicode text survives (embedded font)', async (t) => {
  // DejaVu Sans Mono: Latin, Greek, Cyrillic (not CJK: that needs a CJK font).
  const report = Buffer.from('Bericht für Müller € 12,50\nsecond line\n\fnew page: Ελλάδα Москва OK\n', 'utf8');
  const [out] = await pdfs(report, { format: { kind: 'text' }, carriage: 'none', title: 'T' });
  const o = oracle(t, out!.pdf);
  if (o === undefined) return;
  assert.equal(o.pages, 2);
  assert.match(o.size, /^595\.28 x 841\.89 pts \(A4\)/);
  assert.deepEqual(pageTexts(o.text), ['Bericht für Müller € 12,50\nsecond line', 'new page: Ελλάδα Москва OK']);
});

test('split by marker with tag-line recipients: one PDF per invoice, tag lines removed; header and footer overlay', async (t) => {
  const inv = (n: number, to: string): string => `INVOICE ${n}\n%%MAILTO: ${to}\nCustomer ${n}\nAmount ${n * 100}.00\n\f   (continued) invoice ${n}\nThank you\n\f`;
  const report = Buffer.from(`BANNER PAGE\n\f${inv(1, 'a@cust.test')}${inv(2, 'b@cust.test')}${inv(3, 'c@cust.test')}`);
  const start = parseSectionStart('marker:1-7=INVOICE');
  const rcpt = parseRecipientRule('tag:%%MAILTO:');
  assert.ok(start.ok && rcpt.ok);
  const out = await pdfs(report, { format: { kind: 'text' }, carriage: 'none', title: 'INV', job: 'BILLING', split: { start: start.value, recipient: rcpt.value }, header: 'Job {job} section {section}', footer: 'Page {page}' });
  // The banner is a section of its own, without a recipient; then one per invoice.
  assert.deepEqual(out.map((p) => [p.recipient, p.pages]), [[undefined, 1], ['a@cust.test', 2], ['b@cust.test', 2], ['c@cust.test', 2]]);
  const o = oracle(t, out[2]!.pdf);
  if (o === undefined) return;
  assert.equal(o.pages, 2);
  const p = pageTexts(o.text);
  assert.equal(p[0], 'Job BILLING section 3\nINVOICE 2\nCustomer 2\nAmount 200.00\nPage 1');
  assert.equal(p[1], 'Job BILLING section 3\n   (continued) invoice 2\nThank you\nPage 2');
  assert.ok(!o.text.includes('MAILTO'), 'the tag line is not printed');
});

test('split rules: parse errors name the expected form; columns rule reads the first page', async () => {
  const bad = parseSectionStart('marker:7-1=X');
  assert.ok(!bad.ok);
  assert.match(bad.error, /marker:FROM-TO=TEXT/);
  const bad2 = parseRecipientRule('columns:0:1-5');
  assert.ok(!bad2.ok);
  assert.match(bad2.error, /columns:LINE:FROM-TO/);
  const start = parseSectionStart('page');
  const cols = parseRecipientRule('columns:2:6-40');
  assert.ok(start.ok && cols.ok);
  const out = await pdfs(Buffer.from('Page one\nTo:  x@one.test\n\fPage two\nTo:  y@two.test\n'), { format: { kind: 'text' }, carriage: 'none', title: 'T', split: { start: start.value, recipient: cols.value } });
  assert.deepEqual(out.map((p) => p.recipient), ['x@one.test', 'y@two.test']);
});

test('hostile input: a record over 32,760 bytes and a truncated fixed record are errors, not growth', async () => {
  await assert.rejects(pdfs(Buffer.alloc(40_000, 0x41), { format: { kind: 'text' }, carriage: 'none', title: 'T' }), /longer than 32760 bytes/);
  await assert.rejects(pdfs(Buffer.alloc(100, 0x40), { format: { kind: 'fixed', length: 80 }, carriage: 'none', title: 'T' }), /ends inside record 2/);
  await assert.rejects(pdfs(Buffer.from('x\n'.repeat(50)), { format: { kind: 'text' }, carriage: 'none', title: 'T', linesPerPage: 1, maxPages: 10 }), /longer than 10 pages/);
});

test('writeReportPdf streams a report of any length into one file (no section page limit); pdfmail --output writes it', async (t) => {
  const pdftotext = needPeer(t, 'pdftotext');
  if (pdftotext === undefined) return;
  const dir = tempDir(t);
  const lines = Array.from({ length: 12 * 3 }, (_, i) => `${i % 12 === 0 ? '1' : ' '}PAGE ${Math.floor(i / 12) + 1} LINE ${i % 12}`);
  const file = join(dir, 'report.prt');
  writeFileSync(file, lines.join('\n') + '\n');
  const out = join(dir, 'report.pdf');
  const { run } = await import('../cli/pdfmail.js');
  const { runCli } = await import('../testing/cli.js');
  const r = await runCli(run, ['--carriage', 'asa', '--output', out, '--columns', '40', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${out}: 3 pages\n`);
  const text = execFileSync(pdftotext, ['-layout', out, '-'], { encoding: 'utf8' });
  const p = pageTexts(text);
  assert.equal(p.length, 3);
  assert.match(p[2]!, /^PAGE 3 LINE 0\n/);
  // A report past the section limit: reportPdfs refuses it, writeReportPdf does not care.
  const many = Buffer.from('x\n'.repeat(30));
  await assert.rejects(pdfs(many, { format: { kind: 'text' }, carriage: 'none', title: 'T', linesPerPage: 1, maxPages: 10 }), /longer than 10 pages/);
  const { writeReportPdf } = await import('./index.js');
  const { createWriteStream } = await import('node:fs');
  const n = await writeReportPdf(Readable.from([many]), { format: { kind: 'text' }, carriage: 'none', title: 'T', linesPerPage: 1 }, createWriteStream(join(dir, 'many.pdf')));
  assert.equal(n, 30);
});
