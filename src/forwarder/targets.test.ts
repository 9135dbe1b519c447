import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { FakeResolver } from '../testing/resolver.js';
import { changedTargetSettings, resolveTargets, sameTargetSettings } from './targets.js';
import { Secret, type TargetServerSpec, type TargetSettings } from './types.js';

const base: TargetServerSpec = {
  targetIp: ['192.0.2.1'], targetName: [], port: 25, connectLimit: 5, maxMsgSent: 0, messageSize: 524288, secure: true,
  tls: { caFile: '/etc/ca-a.pem', servername: 'a.example', minVersion: 'TLSv1.2', verify: true },
  auth: { user: 'alice', password: new Secret('alice-secret') },
  sourceIp: null,
};

const SETTINGS_CASES: readonly { name: string; change: Partial<TargetServerSpec>; want: readonly (keyof TargetSettings)[] }[] = [
  { name: 'nothing', change: {}, want: [] },
  { name: 'an equal password in a new Secret', change: { auth: { user: 'alice', password: new Secret('alice-secret') } }, want: [] },
  { name: 'an equal TLS block built anew', change: { tls: { ...base.tls } }, want: [] },
  { name: 'where the target is (TargetIP/TargetName/TargetMx) is not a connection setting', change: { targetIp: ['192.0.2.1', '192.0.2.9'], targetName: ['mx.example'], targetMx: 'example' }, want: [] },
  { name: 'ConnectPort', change: { port: 587 }, want: ['port'] },
  { name: 'Secure', change: { secure: false }, want: ['secure'] },
  { name: 'ConnectLimit', change: { connectLimit: 1 }, want: ['connectLimit'] },
  { name: 'MaxMsgSent', change: { maxMsgSent: 10 }, want: ['maxMsgSent'] },
  { name: 'MessageSize', change: { messageSize: 1000 }, want: ['messageSize'] },
  { name: 'AuthPassword', change: { auth: { user: 'alice', password: new Secret('other') } }, want: ['auth'] },
  { name: 'AuthUser', change: { auth: { user: 'bob', password: new Secret('alice-secret') } }, want: ['auth'] },
  { name: 'AUTH removed', change: { auth: null }, want: ['auth'] },
  { name: 'TlsCaFile', change: { tls: { ...base.tls, caFile: '/etc/ca-b.pem' } }, want: ['tls'] },
  { name: 'TlsCaFile removed', change: { tls: { ...base.tls, caFile: null } }, want: ['tls'] },
  { name: 'TlsServerName', change: { tls: { ...base.tls, servername: 'b.example' } }, want: ['tls'] },
  { name: 'TlsMinVersion', change: { tls: { ...base.tls, minVersion: 'TLSv1.3' } }, want: ['tls'] },
  { name: 'TlsVerify', change: { tls: { ...base.tls, verify: false } }, want: ['tls'] },
  { name: 'SourceIP', change: { sourceIp: '192.0.2.200' }, want: ['sourceIp'] },
  { name: 'password and TLS together', change: { auth: { user: 'alice', password: new Secret('x') }, tls: { ...base.tls, verify: false } }, want: ['tls', 'auth'] },
];

for (const c of SETTINGS_CASES) {
  test(`target settings equality: ${c.name}`, () => {
    const next: TargetServerSpec = { ...base, ...c.change };
    assert.deepEqual(changedTargetSettings(base, next), c.want);
    assert.deepEqual(changedTargetSettings(next, base), c.want, 'symmetric');
    assert.equal(sameTargetSettings(base, next), c.want.length === 0);
  });
}

test('without AUTH on both sides the settings are equal; AUTH on one side only is a change', () => {
  const plain: TargetServerSpec = { ...base, auth: null };
  assert.equal(sameTargetSettings(plain, { ...plain }), true);
  assert.equal(sameTargetSettings(plain, base), false);
  assert.equal(sameTargetSettings(base, plain), false);
});

test('a Secret never shows its value: JSON, inspect, String and template strings give the placeholder', () => {
  const spec: TargetServerSpec = { ...base, auth: { user: 'alice', password: new Secret('s3cret-Value') } };
  for (const shown of [JSON.stringify(spec), inspect(spec, { depth: 10 }), String(spec.auth?.password), `${spec.auth?.password}`, JSON.stringify({ list: [spec] })]) {
    assert.doesNotMatch(shown, /s3cret-Value/);
  }
  assert.match(JSON.stringify(spec), /"password":"\(hidden\)"/);
  assert.equal(spec.auth?.password.reveal(), 's3cret-Value');
  assert.equal(new Secret('a').equals(new Secret('a')), true);
  assert.equal(new Secret('a').equals(new Secret('b')), false);
});

test('each resolved address carries its own statement, whatever order the statements are in', async () => {
  const resolver = new FakeResolver();
  resolver.addresses.set('b.example', ['192.0.2.2']);
  const a: TargetServerSpec = { ...base, targetIp: ['192.0.2.1'] };
  const b: TargetServerSpec = {
    ...base, targetIp: [], targetName: ['b.example'], port: 2525, secure: false, sourceIp: '192.0.2.100',
    tls: { caFile: '/etc/ca-b.pem', servername: 'b.example', minVersion: 'TLSv1.3', verify: false },
    auth: { user: 'bob', password: new Secret('bob-secret') },
  };
  for (const order of [[a, b], [b, a]]) {
    const { targets, warnings } = await resolveTargets(order, resolver);
    assert.deepEqual(warnings, []);
    const byAddress = new Map(targets.map((t) => [t.address, t]));
    assert.equal(byAddress.get('192.0.2.1')?.server, a);
    assert.equal(byAddress.get('192.0.2.1')?.port, 25);
    assert.equal(byAddress.get('192.0.2.2')?.server, b);
    assert.equal(byAddress.get('192.0.2.2')?.port, 2525);
    assert.deepEqual(byAddress.get('192.0.2.2')?.source, { kind: 'TargetName', name: 'b.example' });
  }
});
