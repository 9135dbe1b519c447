import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig, diffForRefresh, type Config } from './index.js';
import { NOT_REFRESHABLE, type NotRefreshable } from './refresh.js';

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

test('refresh: MaxReceivedHeaders is applied', () => {
  const d = diffForRefresh(cfg(BASE), cfg(BASE + '\nMaxReceivedHeaders 40\n'));
  assert.deepEqual(d.ignored, []);
  assert.deepEqual(d.changed, ['MaxReceivedHeaders']);
  assert.equal(d.apply.maxReceivedHeaders, 40);
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

/**
 * The "no" rows of the R column in docs/configuration.md. A statement row whose second cell is a
 * parameter (`Spool` | `Directory`) names that parameter; a statement that is "no" as a whole
 * (`Http`) covers its parameter rows.
 */
function docNotRefreshable(): string[] {
  const doc = readFileSync(join(import.meta.dirname, '../../docs/configuration.md'), 'utf8');
  const out: string[] = [];
  let statement = '';
  let wholeNo = false;
  for (const line of doc.split('\n')) {
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    if (cells.length !== 5 || cells[0] === 'Statement' || cells[0]?.startsWith('---')) continue;
    const [first, second, , , r] = cells as [string, string, string, string, string];
    const params = /^(?:\*\*\(ext\)\*\* )?((?:`[^`]+`(?:, )?)+)/.exec(second)?.[1]?.match(/`[^`]+`/g)?.map((p) => p.slice(1).split(/[ `]/)[0]!) ?? [];
    if (first !== '') {
      statement = /`([^`]+)`/.exec(first)?.[1] ?? first;
      wholeNo = params.length === 0 && r === 'no';
      if (wholeNo) out.push(statement);
    }
    if (r !== 'no' || params.length === 0 || (first === '' && wholeNo)) continue;
    for (const p of params) out.push(`${statement} ${p}`);
  }
  return out.sort();
}

test('refresh: the statements docs/configuration.md marks "no" are exactly the ones REFRESH keeps (NOT_REFRESHABLE)', () => {
  assert.deepEqual(docNotRefreshable(), [...NOT_REFRESHABLE].sort());
});

const FULL = `${BASE}
Pop3 { Listen 127.0.0.1:1110 ListenTls 127.0.0.1:1995 TlsCert /c.pem TlsKey /k.pem }
Http { Listen 127.0.0.1:8025 }
Spool { Directory /var/sg/spool RescanInterval 5 }
Undeliverable { DeadLetterDirectory /var/sg/dead }
Users { Demo NO }
Store { Backend SQLite }
`.replace('Receiver { Listen 127.0.0.1:2525', 'Receiver { Listen 127.0.0.1:2525 TlsCert /c.pem TlsKey /k.pem');

// One change per non-refreshable statement: REFRESH keeps the old value and names it.
const CHANGES: Record<NotRefreshable, readonly [string, string]> = {
  'ChkPointSizeLimit': ['ChkPointSizeLimit 64000', 'ChkPointSizeLimit 1000'],
  'ExtendedRetry MailDirectory': ['/var/sg/mail', '/var/sg/mail2'],
  'ExtWrtName': ['ExtWrtName CSSMTP', 'ExtWrtName OTHER'],
  'Options TestMode': ['TestMode NO', 'TestMode YES'],
  'Translate': ['Translate IBM-1047', 'Translate IBM-273'],
  'Instance': ['ExtWrtName CSSMTP', 'ExtWrtName CSSMTP\nInstance other'],
  'StateDirectory': ['ExtWrtName CSSMTP', 'ExtWrtName CSSMTP\nStateDirectory /var/other'],
  'ControlSocket': ['ExtWrtName CSSMTP', 'ExtWrtName CSSMTP\nControlSocket /run/other.sock'],
  'Spool Directory': ['/var/sg/spool', '/var/sg/spool2'],
  'Spool RescanInterval': ['RescanInterval 5', 'RescanInterval 9'],
  'Undeliverable DeadLetterDirectory': ['/var/sg/dead', '/var/sg/dead2'],
  'Http': ['127.0.0.1:8025', '127.0.0.1:8026'],
  'Receiver Listen': ['127.0.0.1:2525', '127.0.0.1:2526'],
  'Receiver TlsCert': ['Receiver { Listen 127.0.0.1:2525 TlsCert /c.pem', 'Receiver { Listen 127.0.0.1:2525 TlsCert /c2.pem'],
  'Receiver TlsKey': ['Receiver { Listen 127.0.0.1:2525 TlsCert /c.pem TlsKey /k.pem', 'Receiver { Listen 127.0.0.1:2525 TlsCert /c.pem TlsKey /k2.pem'],
  'Pop3 Listen': ['127.0.0.1:1110', '127.0.0.1:1111'],
  'Pop3 ListenTls': ['127.0.0.1:1995', '127.0.0.1:1996'],
  'Pop3 TlsCert': ['1995 TlsCert /c.pem', '1995 TlsCert /c2.pem'],
  'Pop3 TlsKey': ['1995 TlsCert /c.pem TlsKey /k.pem', '1995 TlsCert /c.pem TlsKey /k2.pem'],
  'Users Demo': ['Users { Demo NO }', 'Users { Demo YES }'],
  'Store': ['Store { Backend SQLite }', 'Store { Backend PostgreSQL Url postgres://sg@db.example.test/sg Node n1 }'],
};

for (const statement of NOT_REFRESHABLE) {
  test(`refresh: a change of ${statement} is kept back and warned about`, () => {
    const [from, to] = CHANGES[statement];
    assert.ok(FULL.includes(from), from);
    const old = cfg(FULL);
    const d = diffForRefresh(old, cfg(FULL.replace(from, to)));
    assert.deepEqual(d.ignored.map((x) => x.statement), [statement]);
    assert.deepEqual(d.changed, []);
    assert.deepEqual(d.apply, old);
  });
}

test('refresh: turning ExtendedRetry on needs a restart; its Age and Interval are applied', () => {
  const without = BASE.replace(/ExtendedRetry \{[^\n]*\n/, '');
  const d = diffForRefresh(cfg(without), cfg(BASE));
  assert.equal(d.apply.extendedRetry.active, false);
  assert.deepEqual(d.ignored.map((x) => x.statement), ['ExtendedRetry']);
  const d2 = diffForRefresh(cfg(BASE), cfg(BASE.replace('Age 5', 'Age 7')));
  assert.equal(d2.apply.extendedRetry.age, 7);
  assert.deepEqual(d2.ignored, []);
});
