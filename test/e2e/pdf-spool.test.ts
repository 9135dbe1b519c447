// X1 #21 item 1, the spool entry kind: a job writes its print report to the spool with a
// `%SPOOLGATE PDFMAIL` header record naming the split rule; the forwarder turns it into one PDF
// mail per section, each queued as a message entry, and sends them to nodemailer's smtp-server
// on 127.0.0.1 port 0. pdftotext (poppler) is the oracle: each PDF holds exactly its section's
// text. Bad headers, hostile values, refused senders and sectionless reports are held with a
// report that says why. Before this change such a file was read as batch SMTP and held for
// "HELO expected" problems, nothing mailed.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { chown, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { submitToSpool } from '../../src/spool/submit.js';
import { getCodePage } from '../../src/codepage/index.js';
import { needPeer, needRoot, tempDir } from '../../src/testing/peers.js';
import { disposedJob, runGateway, until, writeConfig } from '../../src/testing/gateway.js';
import type { Config } from '../../src/config/index.js';
import type { Gateway } from '../../src/main.js';
import { startRelayTarget, type TargetMail } from './relay-harness.js';

/** The text of a PDF as pdftotext reads it: per page, lines without trailing blanks, no empty lines. */
function pdfText(pdftotext: string, dir: string, name: string, pdf: Buffer): string[][] {
  const file = join(dir, `${name}.pdf`);
  writeFileSync(file, pdf);
  const text = execFileSync(pdftotext, ['-layout', file, '-'], { encoding: 'utf8' });
  return text.split('\f').map((p) => p.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '')).filter((p) => p.length > 0);
}

async function attachment(m: TargetMail): Promise<{ pdf: Buffer; subject: string; name: string }> {
  const parsed = await simpleParser(m.data);
  assert.equal(parsed.attachments.length, 1, 'one attachment');
  const a = parsed.attachments[0]!;
  assert.equal(a.contentType, 'application/pdf');
  return { pdf: a.content, subject: parsed.subject ?? '', name: a.filename ?? '' };
}

async function gateway(t: TestContext): Promise<{ config: Config; target: Awaited<ReturnType<typeof startRelayTarget>>; writerDir: string; dir: string; gw: Gateway }> {
  const target = await startRelayTarget(t);
  const dir = tempDir(t);
  const { config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${target.port} }\nBadSpoolDisp Hold\nReport Sysout\nSMF119 { SPOOL YES }`);
  const gw = await runGateway(config);
  t.after(() => gw.stop());
  return { config, target, writerDir: join(config.spool.directory, config.extWrtName), dir, gw };
}

const heldIds = (writerDir: string): string[] => readdirSync(join(writerDir, 'held')).filter((f) => !f.includes('.'));

test('spool pdfmail: an ASCII report with a split header becomes one PDF mail per section, each holding exactly its section, to its recipient', async (t) => {
  const pdftotext = needPeer(t, 'pdftotext');
  if (pdftotext === undefined) return;
  const { config, target, writerDir } = await gateway(t);
  const customers = [['anna@cust1.test', 1], ['bert@cust2.test', 2], ['cleo@cust3.test', 3]] as const;
  const section = (to: string, n: number): string[] => [`INVOICE ${String(n).padStart(6, '0')}          ACME BILLING`, `%%MAILTO: ${to}`, `CUSTOMER ${n}   AMOUNT ${(n * 1111).toFixed(2)} EUR`, `TERMS 30 DAYS (${n})`];
  const report = '%SPOOLGATE PDFMAIL SPLIT=marker:1-7=INVOICE RECIPIENT=tag:%%MAILTO: FROM=billing@corp.test SUBJECT="Invoice {section} of ""ACME""" NAME=inv-{section}\n'
    + customers.map(([to, n]) => section(to, n).join('\n')).join('\n\f') + '\n';
  const entry = await submitToSpool({ root: config.spool.directory, writer: config.extWrtName, attrs: { jobName: 'INVRUN', recordFormat: 'text', encoding: 'ISO8859-1' }, data: Buffer.from(report, 'latin1') });
  await target.waitFor(3);
  await until('the report finished (deleted)', () => !existsSync(join(writerDir, 'incoming', entry.id)) && readdirSync(join(writerDir, 'incoming')).length === 0);
  assert.deepEqual(heldIds(writerDir), []);
  assert.equal(target.mails.length, 3);
  for (const [to, n] of customers) {
    const mails = target.mails.filter((m) => m.rcpts.map((r) => r.address).join(',') === to);
    assert.equal(mails.length, 1, `one mail to ${to}`);
    assert.equal(mails[0]!.from, 'billing@corp.test');
    const a = await attachment(mails[0]!);
    assert.equal(a.subject, `Invoice ${n} of "ACME"`);
    assert.equal(a.name, `inv-${n}.pdf`);
    const want = section(to, n).filter((l) => !l.startsWith('%%MAILTO:'));
    assert.deepEqual(pdfText(pdftotext, tempDir(t), `s${n}`, a.pdf), [want], `${to}: exactly its section, the tag line removed`);
  }
});

test('spool pdfmail: an EBCDIC FB133 report with ASA carriage control (header in EBCDIC too, on an FB80 spool)', async (t) => {
  const pdftotext = needPeer(t, 'pdftotext');
  if (pdftotext === undefined) return;
  const { config, target, writerDir } = await gateway(t);
  const cp = getCodePage('IBM-1047')!;
  const rec = (text: string): Buffer => cp.encode(text.padEnd(133));
  const invoice = (n: number, to: string): Buffer[] => [
    rec(`1INVOICE ${String(n).padStart(6, '0')}`), rec(` MAIL TO: ${to}`), rec(`0CUSTOMER ${n}   AMOUNT ${(n * 1111).toFixed(2)} EUR`), rec(`1   INVOICE ${n} CONTINUED`),
  ];
  const data = Buffer.concat([
    rec('%SPOOLGATE PDFMAIL FORMAT=fb:133 CARRIAGE=asa SPLIT=marker:1-7=INVOICE RECIPIENT=columns:2:10-60'),
    rec('%SPOOLGATE+ FROM=billing@corp.test SUBJECT="Your invoice ({section})"'),
    ...invoice(1, 'anna@cust1.test'), ...invoice(2, 'bert@cust2.test'),
  ]);
  await submitToSpool({ root: config.spool.directory, writer: config.extWrtName, attrs: { jobName: 'INVEBC', recordFormat: 'fixed', encoding: 'IBM-1047' }, data });
  await target.waitFor(2);
  await until('the report finished', () => readdirSync(join(writerDir, 'incoming')).length === 0);
  assert.deepEqual(heldIds(writerDir), []);
  for (const [to, n] of [['anna@cust1.test', 1], ['bert@cust2.test', 2]] as const) {
    const m = target.mails.filter((x) => x.rcpts[0]?.address === to);
    assert.equal(m.length, 1, to);
    const a = await attachment(m[0]!);
    assert.equal(a.subject, `Your invoice (${n})`);
    const pages = pdfText(pdftotext, tempDir(t), `e${n}`, a.pdf);
    assert.equal(pages.length, 2, `${to}: two pages (ASA 1 starts a page)`);
    assert.equal(pages[0]![0], `INVOICE ${String(n).padStart(6, '0')}`);
    assert.equal(pages[0]![1], `MAIL TO: ${to}`);
    assert.match(pages[0]![2]!, new RegExp(`^CUSTOMER ${n}\\s+AMOUNT ${(n * 1111).toFixed(2)} EUR$`));
    assert.deepEqual(pages[1], [`   INVOICE ${n} CONTINUED`.trim()].map((l) => l), `${to}: page 2`);
    for (const other of [1, 2].filter((x) => x !== n)) assert.ok(!pages.flat().join('\n').includes(`CUSTOMER ${other} `));
  }
});

test('spool pdfmail: bad and hostile headers, sections without or with bad recipients, empty reports are held with a report saying why', async (t) => {
  const { config, target, gw } = await gateway(t);
  const put = async (job: string, text: string): Promise<string> =>
    (await submitToSpool({ root: config.spool.directory, writer: config.extWrtName, attrs: { jobName: job, recordFormat: 'text', encoding: 'ISO8859-1' }, data: Buffer.from(text, 'latin1') })).id;
  const cases: [string, string, RegExp][] = [
    ['UNKNOWN', '%SPOOLGATE PDFMAIL SPLIT=page RECIPIENT=tag:TO: COLOUR=red\nTO: a@b.test\nx\n', /501 5\.5\.4 print report header: record 1: unknown key COLOUR/],
    ['LONGVAL', `%SPOOLGATE PDFMAIL TO=a@b.test SUBJECT="${'s'.repeat(1200)}"\nx\n`, /the value of SUBJECT is 1200 characters \(at most 998\)/],
    ['CRLF', '%SPOOLGATE PDFMAIL TO=a@b.test\rRCPT TO:<evil@x.test> SUBJECT=x\nbody\n', /print report header: record 1: .*control/i],
    ['TWICE', '%SPOOLGATE PDFMAIL TO=a@b.test FROM=x@y.test FROM=z@y.test\nbody\n', /FROM is given twice/],
    ['NOQUOTE', '%SPOOLGATE PDFMAIL TO=a@b.test SUBJECT="open\nbody\n', /quoted value of SUBJECT has no closing quote/],
    ['BADRULE', '%SPOOLGATE PDFMAIL SPLIT=marker:9-1=X RECIPIENT=tag:TO:\nbody\n', /SPLIT=marker:9-1=X: split rule .*give "page" or "marker:FROM-TO=TEXT"/],
    ['NOTO', '%SPOOLGATE PDFMAIL SUBJECT=x\nbody\n', /give TO=ADDRESS, or SPLIT= with RECIPIENT=/],
    ['BADFROM', '%SPOOLGATE PDFMAIL TO=a@b.test FROM=not-an-address\nbody\n', /501 5\.1\.7 print report: FROM/],
    ['HUGE', `%SPOOLGATE PDFMAIL TO=a@b.test SUBJECT=${'x'.repeat(40_000)}\nbody\n`, /print report header: record 1: .*longer than 32760/],
    ['EMPTY', '%SPOOLGATE PDFMAIL TO=a@b.test\n', /print report: the report has no pages after its header/],
    ['NORCPT', '%SPOOLGATE PDFMAIL SPLIT=page RECIPIENT=tag:TO:\nTO: ok@cust.test\nfirst\n\fsecond, no tag\n\fTO: bad address@x.test\nthird\n', /section 2 \(1 pages\) not sent: the split rule found no recipient/],
  ];
  const entries = new Map<string, string>();
  for (const [job, text] of cases) entries.set(job, await put(job, text));
  // The end of each file through the gateway (its SPOOL record, the held files and their reports).
  const reports = new Map<string, string>();
  for (const [job, , re] of cases) {
    // The file's own record: NORCPT's section mail, a spool entry of the same job name, may end first.
    const o = await disposedJob(gw, job, 30_000, entries.get(job));
    assert.equal(o.held, true, `${job} held`);
    assert.match(o.report, re, job);
    reports.set(job, o.report);
  }
  assert.match(reports.get('NORCPT')!, /section 3 \(1 pages\) not sent: /);
  // The one good section of NORCPT went out; nothing else did (no evil@x.test, no a@b.test).
  await target.waitFor(1);
  assert.deepEqual(target.mails.map((m) => m.rcpts.map((r) => r.address).join(',')), ['ok@cust.test']);
});

const NOBODY = 65534;

test('spool pdfmail: SenderPolicy Own — a report owned by uid 65534 may not name another sender; it is held, nothing sent', async (t) => {
  if (!needRoot(t, 'give spool files to uid 65534')) return;
  const { config, target, writerDir, dir, gw } = await gateway(t);
  const staging = join(dir, 'staging');
  const arrive = async (text: string, job: string): Promise<string> => {
    const { id } = await submitToSpool({ root: staging, writer: config.extWrtName, attrs: { jobName: job, recordFormat: 'text', encoding: 'ISO8859-1' }, data: Buffer.from(text, 'latin1') });
    const d = join(staging, config.extWrtName, 'incoming', id);
    for (const f of await readdir(d)) await chown(join(d, f), NOBODY, NOBODY);
    chownSync(d, NOBODY, NOBODY);
    renameSync(d, join(writerDir, 'incoming', id));
    return id;
  };
  await arrive('%SPOOLGATE PDFMAIL TO=a@b.test FROM=ceo@example.test\nreport\n', 'FORGED');
  await arrive('%SPOOLGATE PDFMAIL TO=own@b.test\nown report\n', 'OWN');
  await target.waitFor(1);
  const forged = await disposedJob(gw, 'FORGED');
  assert.equal(forged.held, true, 'the forged report is held');
  assert.match(forged.report, /553 5\.7\.1 print report: spool file owner nobody may not send as ceo@example\.test/);
  assert.deepEqual(target.mails.map((m) => [m.from, m.rcpts[0]?.address]), [['nobody@gw.test', 'own@b.test']]);
});
