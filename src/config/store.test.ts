// (ext) Store statement ([P2], docs/cluster.md): SQLite by default, PostgreSQL with its URL, node,
// pool, timeouts, lease and TLS; the error texts are pinned (file, line, parameter, what to do).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from './index.js';
import { formatConfigDisplay } from './display.js';

const T = 'TargetServer { TargetIP 192.0.2.1 }\n';

function parse(text: string): ReturnType<typeof parseConfig> {
  return parseConfig(T + text, '/etc/sg/sg.conf', {}, { hostName: 'gw1.example.test' });
}

function errors(text: string): string[] {
  const r = parse(text);
  return r.ok ? [] : r.error.map((e) => e.message);
}

test('Store: absent means the embedded SQLite, nothing else to set', () => {
  const r = parse('');
  assert.ok(r.ok);
  assert.deepEqual(r.value.config.store, { backend: 'sqlite', postgres: null });
});

test('Store Backend PostgreSQL: values and defaults', () => {
  const r = parse(`Store {
  Backend PostgreSQL
  Url postgres://spoolgate@db.example.test:5433/mail
  PasswordFile secrets/pg.password
  LeaseTime 60 Heartbeat 20 PoolSize 4 Tls YES TlsCaFile /etc/ssl/db-ca.pem
}
`);
  assert.ok(r.ok, r.ok ? '' : r.error.map((e) => e.message).join('\n'));
  assert.deepEqual(r.value.warnings, []);
  assert.deepEqual(r.value.config.store, {
    backend: 'postgresql',
    postgres: {
      url: 'postgres://spoolgate@db.example.test:5433/mail', passwordFile: '/etc/sg/secrets/pg.password', node: 'gw1', schema: 'public',
      poolSize: 4, statementTimeout: 30, connectTimeout: 10, leaseTime: 60, heartbeat: 20, tls: true, tlsVerify: true, tlsCaFile: '/etc/ssl/db-ca.pem',
    },
  });
  const shown = formatConfigDisplay(r.value.config).join('\n');
  assert.match(shown, /STORE +: POSTGRESQL +NODE +: gw1/);
  assert.match(shown, /URL +: postgres:\/\/spoolgate@db\.example\.test:5433\/mail/);
});

test('Store: bad values name file, line, parameter and the fix', () => {
  assert.deepEqual(errors('Store { Backend PostgreSQL }\n'), [
    '/etc/sg/sg.conf:2: Store Url: missing (Backend PostgreSQL needs it); allowed Url postgres://user@host[:port]/database',
  ]);
  assert.deepEqual(errors('Store {\n Backend PostgreSQL\n Url postgres://sg:secret@db.example.test/sg\n}\n'), [
    '/etc/sg/sg.conf:4: Store Url: the URL holds a password, which would be shown in displays and logs; allowed postgres://user@host[:port]/database (the password from PasswordFile or SPOOLGATE_STORE_PASSWORD)',
  ]);
  assert.deepEqual(errors('Store { Backend PostgreSQL Url postgres://db.example.test/sg LeaseTime 30 Heartbeat 20 }\n'), [
    '/etc/sg/sg.conf:2: Store Heartbeat: 20 is more than half of LeaseTime 30: one late heartbeat would lose every lease of the node; allowed Heartbeat at most LeaseTime / 2 (e.g. LeaseTime 30 Heartbeat 10)',
  ]);
  assert.deepEqual(errors('Store { Backend MySQL }\n'), [
    "/etc/sg/sg.conf:2: Store Backend: value 'MySQL' not recognised; allowed SQLite, PostgreSQL",
  ]);
  assert.deepEqual(errors('Store { Backend PostgreSQL Url http://db.example.test/ }\n'), [
    "/etc/sg/sg.conf:2: Store Url: value 'http:' is not a PostgreSQL URL; allowed postgres://user@host[:port]/database (the password from PasswordFile or SPOOLGATE_STORE_PASSWORD)",
  ]);
  assert.deepEqual(errors('Store { Backend PostgreSQL Url postgres://db.example.test/sg Schema Public }\n'), [
    "/etc/sg/sg.conf:2: Store Schema: value 'Public' is not a plain schema name; allowed 1 to 63 characters of a-z 0-9 _ not starting with a digit",
  ]);
});

test('Store: PostgreSQL parameters with Backend SQLite are warned about, not silently used', () => {
  const r = parse('Store { Url postgres://db.example.test/sg }\n');
  assert.ok(r.ok);
  assert.deepEqual(r.value.warnings.map((w) => w.text), ['/etc/sg/sg.conf:2: Store Url: ignored with Backend SQLite; allowed Backend PostgreSQL to use it, or leave it out']);
  assert.equal(r.value.config.store.backend, 'sqlite');
});
