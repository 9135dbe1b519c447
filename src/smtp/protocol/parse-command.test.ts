import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommand, decodeXtext } from './parse-command.js';

const good: { input: string; want: unknown; utf8?: boolean }[] = [
  { input: 'EHLO client.example', want: { verb: 'EHLO', domain: 'client.example' } },
  { input: 'helo [127.0.0.1]', want: { verb: 'HELO', domain: '[127.0.0.1]' } },
  { input: 'MAIL FROM:<>', want: { verb: 'MAIL', from: { kind: 'null' }, params: {} } },
  { input: 'mail from: <a@b.example> SIZE=100 BODY=8bitmime', want: { verb: 'MAIL', from: { kind: 'mailbox', mailbox: { local: 'a', domain: 'b.example' } }, params: { size: 100, body: '8BITMIME' } } },
  { input: 'MAIL FROM:<a@b> RET=HDRS ENVID=QQ+2B1 AUTH=<> SMTPUTF8', want: { verb: 'MAIL', from: { kind: 'mailbox', mailbox: { local: 'a', domain: 'b' } }, params: { ret: 'HDRS', envid: 'QQ+1', auth: '<>', smtputf8: true } } },
  { input: 'MAIL FROM:<"a b>c"@b>', want: { verb: 'MAIL', from: { kind: 'mailbox', mailbox: { local: '"a b>c"', domain: 'b' } }, params: {} } },
  { input: 'MAIL FROM:<jörg@b> SMTPUTF8', want: { verb: 'MAIL', from: { kind: 'mailbox', mailbox: { local: 'jörg', domain: 'b' } }, params: { smtputf8: true } } },
  { input: 'RCPT TO:<c@d> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;c+2Bx@d', want: { verb: 'RCPT', to: { local: 'c', domain: 'd' }, params: { notify: { kind: 'on', success: true, failure: true, delay: false }, orcpt: { type: 'rfc822', address: 'c+x@d' } } } },
  { input: 'RCPT TO:<c@d> NOTIFY=never', want: { verb: 'RCPT', to: { local: 'c', domain: 'd' }, params: { notify: { kind: 'never' } } } },
  { input: 'RCPT TO:<Postmaster>', want: { verb: 'RCPT', to: { local: 'postmaster', domain: '' }, params: {} } },
  { input: 'RCPT TO:<jörg@d>', utf8: true, want: { verb: 'RCPT', to: { local: 'jörg', domain: 'd' }, params: {} } },
  { input: 'DATA', want: { verb: 'DATA' } },
  { input: 'rset', want: { verb: 'RSET' } },
  { input: 'NOOP hello', want: { verb: 'NOOP', arg: 'hello' } },
  { input: 'HELP', want: { verb: 'HELP', arg: '' } },
  { input: 'VRFY alice', want: { verb: 'VRFY', arg: 'alice' } },
  { input: 'EXPN list', want: { verb: 'EXPN', arg: 'list' } },
  { input: 'AUTH PLAIN AGEAYg==', want: { verb: 'AUTH', mechanism: 'PLAIN', initial: 'AGEAYg==' } },
  { input: 'auth login', want: { verb: 'AUTH', mechanism: 'LOGIN' } },
  { input: 'STARTTLS', want: { verb: 'STARTTLS' } },
  { input: 'TURN', want: { verb: 'TURN' } },
];

for (const c of good) {
  test(`parse ok: ${c.input}`, () => {
    const r = parseCommand(c.input, { utf8: c.utf8 ?? false });
    assert.deepEqual(r, { ok: true, value: c.want });
  });
}

const bad: { input: string; kind: string; keyword?: string }[] = [
  { input: 'FOO bar', kind: 'unknown-command' },
  { input: '', kind: 'unknown-command' },
  { input: 'GET / HTTP/1.1', kind: 'unknown-command' },
  { input: 'EHLO', kind: 'syntax' },
  { input: 'MAIL', kind: 'syntax' },
  { input: 'MAIL TO:<a@b>', kind: 'syntax' },
  { input: 'MAIL FROM:<a@b>x', kind: 'syntax' },
  { input: 'MAIL FROM:a@b', kind: 'bad-address' },
  { input: 'MAIL FROM:<a@>', kind: 'bad-address' },
  { input: 'MAIL FROM:<jörg@b>', kind: 'bad-address' },
  { input: 'MAIL FROM:<a@b> SIZE=x', kind: 'bad-parameter', keyword: 'SIZE' },
  { input: 'MAIL FROM:<a@b> SIZE=1 SIZE=2', kind: 'bad-parameter', keyword: 'SIZE' },
  { input: 'MAIL FROM:<a@b> BODY=BINARYMIME', kind: 'bad-parameter', keyword: 'BODY' },
  { input: 'MAIL FROM:<a@b> ENVID=a+zz', kind: 'bad-parameter', keyword: 'ENVID' },
  { input: 'MAIL FROM:<a@b> FOO=1', kind: 'unknown-parameter', keyword: 'FOO' },
  { input: 'RCPT TO:<c@d> NOTIFY=NEVER,SUCCESS', kind: 'bad-parameter', keyword: 'NOTIFY' },
  { input: 'RCPT TO:<c@d> ORCPT=c@d', kind: 'bad-parameter', keyword: 'ORCPT' },
  { input: 'RCPT TO:<c@d> XYZ', kind: 'unknown-parameter', keyword: 'XYZ' },
  { input: 'RCPT TO:<>', kind: 'bad-address' },
  { input: 'DATA now', kind: 'syntax' },
  { input: 'VRFY', kind: 'syntax' },
];

for (const c of bad) {
  test(`parse error: ${JSON.stringify(c.input)}`, () => {
    const r = parseCommand(c.input);
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.error.kind, c.kind);
    if (c.keyword !== undefined) assert.equal('keyword' in r.error ? r.error.keyword : undefined, c.keyword);
  });
}

test('xtext', () => {
  assert.equal(decodeXtext('a+2Bb+3Dc'), 'a+b=c');
  assert.equal(decodeXtext('a+2b'), undefined);
  assert.equal(decodeXtext('a=b'), undefined);
  // Octets are UTF-8: the client encodes the UTF-8 form, so a relayed value keeps its octets.
  assert.equal(decodeXtext('m+C3+BCller@f+C3+A4r.test'), 'müller@fär.test');
  assert.equal(decodeXtext('a+0Db'), 'a\rb');
  assert.equal(decodeXtext('+FF'), undefined, 'not UTF-8: refused, not changed');
});

test('fuzz: random lines never throw', () => {
  let s = 12345;
  const rnd = () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const alphabet = 'MAIL FROM:<>@RCPT TO:=;+,"\\ SIZE BODY NOTIFY ORCPT abc.\u00e9\x00\t';
  for (let i = 0; i < 5000; i++) {
    let line = '';
    const len = Math.floor(rnd() * 60);
    for (let j = 0; j < len; j++) line += alphabet[Math.floor(rnd() * alphabet.length)];
    parseCommand(line, { utf8: rnd() < 0.5 });
  }
});
