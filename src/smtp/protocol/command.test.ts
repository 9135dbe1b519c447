import { test } from 'node:test';
import { decodeXtext } from './esmtp-params.js';
import assert from 'node:assert/strict';
import * as Cmd from './command.js';
import { ProtocolError } from '../../core/errors.js';

const from = { kind: 'mailbox' as const, mailbox: { local: 'job', domain: 'host.test' } };
const to = { local: 'user', domain: 'dest.test' };

const cases: { name: string; got: () => string; want: string }[] = [
  { name: 'EHLO', got: () => Cmd.ehlo('gw.test'), want: 'EHLO gw.test\r\n' },
  { name: 'HELO', got: () => Cmd.helo('gw.test'), want: 'HELO gw.test\r\n' },
  { name: 'MAIL plain', got: () => Cmd.mailFrom(from), want: 'MAIL FROM:<job@host.test>\r\n' },
  { name: 'MAIL null', got: () => Cmd.mailFrom({ kind: 'null' }), want: 'MAIL FROM:<>\r\n' },
  { name: 'MAIL all params', got: () => Cmd.mailFrom(from, { size: 1234, body: '8BITMIME', smtputf8: true, ret: 'HDRS', envid: 'QQ314159 x=y+' }),
    want: 'MAIL FROM:<job@host.test> SIZE=1234 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=QQ314159+20x+3Dy+2B\r\n' },
  { name: 'RCPT plain', got: () => Cmd.rcptTo(to), want: 'RCPT TO:<user@dest.test>\r\n' },
  { name: 'RCPT NOTIFY NEVER', got: () => Cmd.rcptTo(to, { notify: { kind: 'never' } }), want: 'RCPT TO:<user@dest.test> NOTIFY=NEVER\r\n' },
  { name: 'RCPT NOTIFY list + ORCPT', got: () => Cmd.rcptTo(to, { notify: { kind: 'on', success: true, failure: true, delay: false }, orcpt: { type: 'rfc822', address: 'Bob+x@dest.test' } }),
    want: 'RCPT TO:<user@dest.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Bob+2Bx@dest.test\r\n' },
  { name: 'AUTH PLAIN', got: () => Cmd.authPlain('u', 'p'), want: `AUTH PLAIN ${Buffer.from('\0u\0p').toString('base64')}\r\n` },
  { name: 'AUTH LOGIN response', got: () => Cmd.authResponse('user'), want: 'dXNlcg==\r\n' },
  { name: 'DATA', got: () => Cmd.DATA, want: 'DATA\r\n' },
  { name: 'trace hides AUTH', got: () => Cmd.traceable(Cmd.authPlain('u', 'secret'), true), want: 'AUTH PLAIN ***' },
];
for (const c of cases) test(`command: ${c.name}`, () => assert.equal(c.got(), c.want));

test('command: CR/LF injection refused', () => {
  assert.throws(() => Cmd.ehlo('a\r\nRCPT TO:<x@y>'), ProtocolError);
  assert.throws(() => Cmd.rcptTo({ local: 'a\nb', domain: 'x' }), ProtocolError);
});

test('xtext round trip', () => {
  for (const s of ['plain', 'a+b=c', 'sp ace', 'ünï', '\x01\x7f']) assert.equal(decodeXtext(Cmd.xtextEncode(s)), s);
  assert.equal(decodeXtext('+zz'), undefined);
  assert.equal(decodeXtext('a=b'), undefined);
});
