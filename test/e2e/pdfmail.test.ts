// X1 #21 item 1 end to end: an EBCDIC invoice run (FB133, ASA carriage control) → `spoolgate
// pdfmail --split` → one message entry per invoice → the gateway's forwarder → nodemailer's
// smtp-server. Each customer gets exactly one mail with one PDF; pdftotext (poppler) reads back
// that customer's invoice and nobody else's. A section without a recipient is reported, not sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { run as pdfmail } from '../../src/cli/pdfmail.js';
import { runCli } from '../../src/testing/cli.js';
import { needPeer, tempDir } from '../../src/testing/peers.js';
import { getCodePage } from '../../src/codepage/index.js';
import { startRelayGateway, startRelayTarget } from './relay-harness.js';

test('pdfmail --split: an EBCDIC ASA invoice run becomes one PDF mail per customer, each with only its invoice', async (t) => {
  const pdftotext = needPeer(t, 'pdftotext');
  if (pdftotext === undefined) return;
  const target = await startRelayTarget(t);
  const gw = await startRelayGateway(t, target.port);
  const cp = getCodePage('IBM-1047')!;
  const rec = (cc: string, text: string): Buffer => cp.encode((cc + text).padEnd(133));
  const invoice = (n: number, to: string | null): Buffer[] => [
    rec('1', `INVOICE ${String(n).padStart(6, '0')}                                   ACME BILLING`),
    rec(' ', to === null ? '' : `MAIL TO: ${to}`),
    rec('0', `CUSTOMER ${n}   AMOUNT ${(n * 1111).toFixed(2)} EUR`),
    rec('1', `   INVOICE ${n} CONTINUED: TERMS 30 DAYS`),
  ];
  const report = Buffer.concat([
    ...invoice(1, 'anna@cust1.test'), ...invoice(2, 'bert@cust2.test'), ...invoice(3, null), ...invoice(4, 'cleo@cust4.test'),
  ]);
  const file = join(tempDir(t), 'INVRUN.prt');
  writeFileSync(file, report);
  const r = await runCli(pdfmail, ['--config', join(gw.dir, 'spoolgate.conf'), '--from', 'billing@corp.test', '--format', 'fb:133', '--encoding', 'IBM-1047',
    '--carriage', 'asa', '--split', 'marker:1-7=INVOICE', '--recipient', 'columns:2:10-60', '--subject', 'Your invoice ({section})', '--job', 'INVRUN', file]);
  assert.equal(r.code, 1, 'one section was not sent');
  assert.match(r.stderr, /section 3 \(2 pages\) not sent: the split rule found no recipient/);
  assert.equal(r.stdout.trim().split('\n').length, 3, r.stdout);
  await target.waitFor(3);
  const byRcpt = new Map(target.mails.map((m) => [m.rcpts.map((x) => x.address).join(','), m]));
  assert.deepEqual([...byRcpt.keys()].sort(), ['anna@cust1.test', 'bert@cust2.test', 'cleo@cust4.test']);
  for (const [rcpt, n] of [['anna@cust1.test', 1], ['bert@cust2.test', 2], ['cleo@cust4.test', 4]] as const) {
    const m = byRcpt.get(rcpt)!;
    assert.equal(m.from, 'billing@corp.test');
    const parsed = await simpleParser(m.data);
    assert.equal(parsed.attachments.length, 1);
    const a = parsed.attachments[0]!;
    assert.equal(a.contentType, 'application/pdf');
    const pdf = join(tempDir(t), `${n}.pdf`);
    writeFileSync(pdf, a.content);
    const text: string = execFileSync(pdftotext, ['-layout', pdf, '-'], { encoding: 'utf8' });
    const pages: string[] = text.split('\f').filter((p: string) => p.trim() !== '');
    assert.equal(pages.length, 2, `${rcpt}: 2 pages`);
    assert.match(pages[0]!, new RegExp(`INVOICE ${String(n).padStart(6, '0')}`));
    assert.match(pages[0]!, new RegExp(`CUSTOMER ${n}\\s+AMOUNT ${(n * 1111).toFixed(2)} EUR`));
    assert.match(pages[1]!, new RegExp(`INVOICE ${n} CONTINUED`));
    for (const other of [1, 2, 3, 4].filter((x) => x !== n)) assert.ok(!text.includes(`CUSTOMER ${other} `), `${rcpt} must not see customer ${other}`);
    assert.match(parsed.subject ?? '', /^Your invoice \(\d\)$/);
  }
});

test('pdfmail: usage errors name the expected form; a report without --to or --split is refused', async (t) => {
  const gwDir = tempDir(t);
  writeFileSync(join(gwDir, 'r.txt'), 'x\n');
  const cases: [string[], RegExp][] = [
    [['--split', 'marker:1-7=INVOICE', join(gwDir, 'r.txt')], /--split and --recipient go together/],
    [['--split', 'bogus', '--recipient', 'tag:X', join(gwDir, 'r.txt')], /give "page" or "marker:FROM-TO=TEXT"/],
    [['--format', 'fb:80', '--to', 'a@b.test', join(gwDir, 'r.txt')], /holds EBCDIC records: give --encoding/],
    [[join(gwDir, 'r.txt')], /give --to, or --split with --recipient/],
  ];
  for (const [argv, re] of cases) {
    const r = await runCli(pdfmail, argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.stderr, re);
  }
});
