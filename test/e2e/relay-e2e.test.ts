// [Q1] acceptance: relayed mail crosses every role — SMTP client → receiver → message spool entry
// → spool task → forwarder → a real SMTP target (nodemailer's smtp-server) — and leaves exactly
// as it was accepted: the same envelope with its parameters, and the same bytes below the one
// Received field the receiver adds. Before message entries, each of these was re-read under the
// JES batch rules and changed, refused after 250, or (80-byte "<" records) run as commands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { until } from '../../src/testing/gateway.js';
import { RawSmtp } from './receiver-harness.js';
import { belowOurReceived, startRelayGateway, startRelayTarget } from './relay-harness.js';

const CRLF = '\r\n';

/** One SMTP transaction with exact bytes: MAIL and RCPT lines as given, DATA dot-stuffed. */
async function relay(port: number, mail: string, rcpts: readonly string[], message: Buffer): Promise<{ codes: number[]; final: number }> {
  const { c } = await RawSmtp.open(port);
  try {
    assert.equal((await c.cmd('EHLO client.test')).code, 250);
    const codes = [(await c.cmd(mail)).code];
    for (const r of rcpts) codes.push((await c.cmd(r)).code);
    const final = (await c.data(message)).code;
    return { codes, final };
  } finally {
    await c.quit();
  }
}

function msg(lines: readonly (string | Buffer)[]): Buffer {
  return Buffer.concat(lines.map((l) => Buffer.concat([typeof l === 'string' ? Buffer.from(l, 'latin1') : l, Buffer.from(CRLF)])));
}

const CASES: readonly { name: string; mail: string; rcpts: string[]; message: Buffer; want: { from: string; rcpts: string[]; body?: string; smtpUtf8?: boolean } }[] = [
  {
    name: 'ESC (ISO-2022-JP), form feed and 8-bit octets',
    mail: 'MAIL FROM:<jp@client.test> BODY=8BITMIME',
    rcpts: ['RCPT TO:<a@far.test>'],
    message: msg([
      'Subject: =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=', 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=ISO-2022-JP', '',
      Buffer.from([0x1b, 0x24, 0x42, 0x25, 0x46, 0x25, 0x39, 0x25, 0x48, 0x1b, 0x28, 0x42]),
      'page one\x0cpage two', Buffer.from([0x80, 0x81, 0xa0, 0xc3, 0xa4, 0xfe, 0xff, 0x7f, 0x01, 0x08]), '.', '..two dots',
    ]),
    want: { from: 'jp@client.test', rcpts: ['a@far.test'], body: '8bitmime' },
  },
  {
    name: 'trailing blanks, an 80-octet line ending in "<", and 80/160-octet boundaries',
    mail: 'MAIL FROM:<flowed@client.test>',
    rcpts: ['RCPT TO:<b@far.test>'],
    message: msg([
      'Subject: format=flowed   ', 'Content-Type: text/plain; format=flowed', '',
      'soft break ', 'hard break', 'tab at end\t', 'x'.repeat(79) + '<', 'MAIL FROM:<forged@evil.test>', 'RCPT TO:<victim@evil.test>',
      'y'.repeat(159) + '<', 'z'.repeat(80), 'w'.repeat(160), '<', '   ',
    ]),
    want: { from: 'flowed@client.test', rcpts: ['b@far.test'] },
  },
  {
    // Decision (docs/flow.md): the receiver accepts lines over 998 octets (RFC 5321 §4.5.3.1 asks
    // for as few limits as possible) and the gateway relays them as they are; it never refuses
    // after 250. The next hop may refuse them, and then the sender gets a DSN.
    name: 'a 1,200-octet line',
    mail: 'MAIL FROM:<long@client.test>',
    rcpts: ['RCPT TO:<c@far.test>'],
    message: msg(['Subject: long', '', 'L'.repeat(1200), 'short']),
    want: { from: 'long@client.test', rcpts: ['c@far.test'] },
  },
  {
    name: 'SMTPUTF8 sender and recipient, BODY=8BITMIME, DSN parameters',
    mail: 'MAIL FROM:<jörg@clïent.test> SMTPUTF8 BODY=8BITMIME RET=HDRS ENVID=env+2B1',
    rcpts: ['RCPT TO:<müller@fär.test> NOTIFY=SUCCESS,FAILURE', 'RCPT TO:<plain@far.test> NOTIFY=NEVER ORCPT=rfc822;plain+2Bx@far.test'],
    message: Buffer.from('Subject: Grüße\r\nFrom: jörg@clïent.test\r\n\r\nÄÖÜ äöü ß €\r\n', 'utf8'),
    want: { from: 'jörg@clïent.test', rcpts: ['müller@fär.test', 'plain@far.test'], body: '8bitmime', smtpUtf8: true },
  },
];

test('relay end to end: receiver → message entry → forwarder → smtp-server, envelope and bytes as accepted', async (t) => {
  const target = await startRelayTarget(t);
  const gw = await startRelayGateway(t, target.port);
  for (const c of CASES) {
    // RawSmtp writes command lines as UTF-8: the SMTPUTF8 case sends real UTF-8 octets.
    const r = await relay(gw.receiverPort, c.mail, c.rcpts, c.message);
    assert.deepEqual(r.codes, [250, ...c.rcpts.map(() => 250)], c.name);
    assert.equal(r.final, 250, c.name);
  }
  await target.waitFor(CASES.length);
  assert.equal(target.mails.length, CASES.length, 'each message once');
  for (const c of CASES) {
    const m = target.mails.find((x) => x.from === c.want.from);
    assert.ok(m !== undefined, `${c.name}: reached the target (got ${JSON.stringify(target.mails.map((x) => [x.from, x.rcpts]))})`);
    assert.deepEqual(m.rcpts.map((r) => r.address), c.want.rcpts, `${c.name}: recipients`);
    assert.equal(m.bodyType, c.want.body ?? '7bit', `${c.name}: BODY`);
    assert.equal(m.smtpUtf8, c.want.smtpUtf8 ?? false, `${c.name}: SMTPUTF8`);
    // Exactly one trace field above the client's bytes: ours, from the receiver.
    assert.match(m.data.toString('latin1'), /^Received: from client\.test \(/, `${c.name}: our Received field first`);
    assert.ok(belowOurReceived(m.data).equals(c.message), `${c.name}: byte-exact below our Received field`);
    assert.equal((m.data.toString('latin1').match(/^Received: /gm) ?? []).length, 1, `${c.name}: no second trace field`);
  }
  const dsn = target.mails.find((x) => x.from === 'jörg@clïent.test')!;
  assert.equal(dsn.ret, 'HDRS');
  assert.equal(dsn.envid, 'env+1');
  assert.deepEqual(dsn.rcpts[0]!.notify, ['SUCCESS', 'FAILURE']);
  assert.deepEqual(dsn.rcpts[1]!.notify, ['NEVER']);
  assert.equal(dsn.rcpts[1]!.orcpt, 'rfc822;plain+x@far.test');
  await until('spool empty: every entry finished', async () => (await gw.services.gateway.queue.list()).length === 0);
});
