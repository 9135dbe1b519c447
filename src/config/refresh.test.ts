import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, diffForRefresh, type Config } from './index.js';

function cfg(text: string): Config {
  const r = parseConfig(text, '/etc/sg/sg.conf', {}, { hostName: 'h.example' });
  if (!r.ok) assert.fail(r.error.map((e) => e.message).join('\n'));
  return r.value.config;
}

const BASE = `
ExtWrtName CSSMTP
Translate IBM-1047
ChkPointSizeLimit 64000
LogLevel 7
Options { TestMode NO TLSEhlo NO }
ExtendedRetry { Age 5 MailDirectory /var/sg/mail }
TargetServer { TargetIP 192.0.2.1 }
Receiver { Listen 127.0.0.1:2525 LocalDomain example.test MaxRecipients 100 }
`;

test('refresh: an identical file changes nothing', () => {
  const d = diffForRefresh(cfg(BASE), cfg(BASE));
  assert.deepEqual(d.changed, []);
  assert.deepEqual(d.ignored, []);
  assert.deepEqual(d.apply, cfg(BASE));
});

test('refresh: refreshable statements are applied and named', () => {
  const next = BASE.replace('LogLevel 7', 'LogLevel 255').replace('TargetIP 192.0.2.1', 'TargetIP 192.0.2.2')
    .replace('TLSEhlo NO', 'TLSEhlo YES').replace('Age 5', 'Age 9').replace('MaxRecipients 100', 'MaxRecipients 50');
  const d = diffForRefresh(cfg(BASE), cfg(next));
  assert.deepEqual(d.ignored, []);
  assert.deepEqual(d.changed, ['ExtendedRetry', 'LogLevel', 'Options', 'TargetServer', 'Receiver']);
  assert.equal(d.apply.logLevel, 255);
  assert.deepEqual(d.apply.targetServers[0]?.targetIp, ['192.0.2.2']);
  assert.equal(d.apply.options.tlsEhlo, true);
  assert.equal(d.apply.extendedRetry.age, 9);
  assert.equal(d.apply.receiver?.maxRecipients, 50);
});

test('refresh: a file without LogLevel goes back to 7 (seed: MODIFY REFRESH)', () => {
  const d = diffForRefresh(cfg(BASE.replace('LogLevel 7', 'LogLevel 31')), cfg(BASE.replace('LogLevel 7', '')));
  assert.equal(d.apply.logLevel, 7);
  assert.deepEqual(d.changed, ['LogLevel']);
});

test('refresh: non-refreshable changes keep the old value, each with a warning', () => {
  const next = BASE.replace('ExtWrtName CSSMTP', 'ExtWrtName OTHER').replace('Translate IBM-1047', 'Translate IBM-273')
    .replace('ChkPointSizeLimit 64000', 'ChkPointSizeLimit 1000').replace('TestMode NO', 'TestMode YES')
    .replace('/var/sg/mail', '/var/sg/mail2').replace('Listen 127.0.0.1:2525', 'Listen 127.0.0.1:2526')
    .replace('LogLevel 7', 'LogLevel 15');
  const old = cfg(BASE);
  const d = diffForRefresh(old, cfg(next));
  assert.equal(d.apply.extWrtName, 'CSSMTP');
  assert.equal(d.apply.translate, 'IBM-1047');
  assert.equal(d.apply.chkPointSizeLimit, 64000);
  assert.equal(d.apply.options.testMode, false);
  assert.equal(d.apply.extendedRetry.mailDirectory, '/var/sg/mail');
  assert.deepEqual(d.apply.receiver?.listen, [{ host: '127.0.0.1', port: 2525 }]);
  assert.equal(d.apply.logLevel, 15);
  assert.deepEqual(d.ignored.map((x) => x.statement), ['ExtWrtName', 'Translate', 'ChkPointSizeLimit', 'Options TestMode', 'ExtendedRetry MailDirectory', 'Receiver Listen']);
  assert.equal(d.ignored[0]?.message, 'ExtWrtName: change from CSSMTP to OTHER ignored; it takes effect at the next start (not refreshable)');
  // Only LogLevel really changed; the default socket and dead-letter directory follow the kept writer name.
  assert.deepEqual(d.changed, ['LogLevel']);
  assert.equal(d.apply.controlSocket, old.controlSocket);
  assert.equal(d.apply.undeliverable.deadLetterDirectory, old.undeliverable.deadLetterDirectory);
});

test('refresh: turning a listener on or off is ignored until restart', () => {
  const without = BASE.replace(/Receiver \{[^\n]*\n/, '');
  const d = diffForRefresh(cfg(BASE), cfg(without));
  assert.ok(d.apply.receiver !== null);
  assert.deepEqual(d.ignored.map((x) => x.message), ['Receiver: removal ignored; it takes effect at the next start (not refreshable)']);
  const d2 = diffForRefresh(cfg(without), cfg(`${without}Http { Listen 127.0.0.1:8025 }\n`));
  assert.equal(d2.apply.http, null);
  assert.deepEqual(d2.ignored.map((x) => x.statement), ['Http']);
});

test('refresh: the result is a new object; inputs are not modified', () => {
  const old = cfg(BASE);
  const next = cfg(BASE.replace('LogLevel 7', 'LogLevel 1'));
  const snapshot = JSON.stringify([old, next]);
  diffForRefresh(old, next);
  assert.equal(JSON.stringify([old, next]), snapshot);
});
