import { test } from 'node:test';
import assert from 'node:assert/strict';
import { heloArgumentProblem } from './helo.js';
import { parseCommand } from './parse-command.js';

test('heloArgumentProblem: RFC 5321 §4.1.1.1 form, lenient on what real clients send', () => {
  const cases: { arg: string; ok: boolean }[] = [
    { arg: 'client.example', ok: true },
    { arg: 'Client.Example.', ok: true },
    { arg: 'localhost', ok: true },
    { arg: 'DESKTOP-4F2K9', ok: true },
    { arg: 'my_pc.lan', ok: true }, // Windows machine names
    { arg: '192.168.1.5', ok: true }, // a bare IPv4 address, as some clients send it
    { arg: '[192.0.2.1]', ok: true },
    { arg: '[IPv6:2001:db8::1]', ok: true },
    { arg: '[ipv6:::1]', ok: true },
    { arg: '[::1]', ok: true },
    { arg: '[x-tag:some-content]', ok: true },
    { arg: 'bücher.example', ok: true },
    { arg: 'a'.repeat(63) + '.example', ok: true },
    { arg: 'bad\0name', ok: false },
    { arg: 'bad\x01', ok: false },
    { arg: 'evil\x7f', ok: false },
    { arg: 'evil\rX-Header: 1', ok: false },
    { arg: '', ok: false },
    { arg: 'a..b', ok: false },
    { arg: '.', ok: false },
    { arg: '<script>', ok: false },
    { arg: 'user@host', ok: false },
    { arg: 'a(b)', ok: false },
    { arg: 'a'.repeat(64) + '.example', ok: false },
    { arg: 'x'.repeat(256), ok: false },
    { arg: '[192.0.2.1', ok: false },
    { arg: '[300.1.1.1]', ok: false },
    { arg: '[IPv6:nonsense]', ok: false },
    { arg: '[a]b]', ok: false },
  ];
  for (const c of cases) assert.equal(heloArgumentProblem(c.arg) === undefined, c.ok, JSON.stringify(c.arg));
});

test('parseCommand refuses an EHLO/HELO argument with a NUL (issue #15 item 10) as a syntax error', () => {
  for (const line of ['EHLO bad\0name', 'HELO a<b>']) {
    const r = parseCommand(line);
    assert.equal(r.ok, false, line);
    assert.deepEqual(r.ok ? undefined : r.error, { kind: 'syntax', verb: line.slice(0, 4), text: `${line.slice(0, 4)} argument is not a domain name or address literal` });
  }
});
