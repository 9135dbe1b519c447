import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RelayMode } from '../config/types.js';
import { classifyRecipient, relayAllowed } from './recipients.js';

const LOCAL = new Set(['local.test', 'second.test']);

test('classifyRecipient: local, relay and routing tricks', () => {
  const cases: { local: string; domain: string; want: string }[] = [
    { local: 'alice', domain: 'local.test', want: 'local alice@local.test' },
    { local: 'Alice', domain: 'LOCAL.Test', want: 'local alice@local.test' },
    { local: 'alice', domain: 'local.test.', want: 'local alice@local.test' },
    { local: 'bob', domain: 'second.test', want: 'local bob@second.test' },
    { local: '"alice"', domain: 'local.test', want: 'local alice@local.test' },
    { local: 'postmaster', domain: '', want: 'local postmaster' },
    { local: 'x', domain: 'remote.test', want: 'relay remote.test' },
    { local: 'x', domain: 'sub.local.test', want: 'relay sub.local.test' },
    { local: 'x', domain: '[192.0.2.1]', want: 'relay [192.0.2.1]' },
    { local: 'x%remote.test', domain: 'local.test', want: 'trick' },
    { local: 'remote.test!x', domain: 'local.test', want: 'trick' },
    { local: '"x@remote.test"', domain: 'local.test', want: 'trick' },
    { local: '"x%remote.test"', domain: 'local.test', want: 'trick' },
    { local: '"@a:x"', domain: 'local.test', want: 'trick' },
    { local: '"x\\@remote.test"', domain: 'local.test', want: 'trick' },
    { local: 'x', domain: 'local..test', want: 'trick' },
    { local: 'alice', domain: '', want: 'trick' },
  ];
  for (const c of cases) {
    const r = classifyRecipient({ local: c.local, domain: c.domain }, LOCAL);
    const got = r.kind === 'local' ? `local ${r.lookup}` : r.kind === 'relay' ? `relay ${r.domain}` : 'trick';
    assert.equal(got, c.want, `${c.local}@${c.domain}`);
  }
  assert.equal(classifyRecipient({ local: 'x', domain: '[192.0.2.1]' }, new Set(['[192.0.2.1]'])).kind, 'local');
});

test('relayAllowed: the five modes and authenticated sessions', () => {
  const base = { nearDomains: ['near.test'], relayAddresses: [{ address: '192.0.2.0', prefix: 24 }] } as const;
  const inList = '192.0.2.5';
  const outside = '198.51.100.5';
  // [mode, client, domain, want]
  const table: [RelayMode, string, string, boolean][] = [
    ['none', inList, 'near.test', false],
    ['all', outside, 'far.test', true],
    ['nearDomains', outside, 'near.test', true],
    ['nearDomains', outside, 'mx.near.test', true],
    ['nearDomains', outside, 'evilnear.test', false],
    ['nearDomains', inList, 'far.test', false],
    ['addressList', inList, 'far.test', true],
    ['addressList', outside, 'near.test', false],
    ['addressList', `::ffff:${inList}`, 'far.test', true],
    ['both', inList, 'far.test', true],
    ['both', outside, 'near.test', true],
    ['both', outside, 'far.test', false],
  ];
  for (const [mode, ip, domain, want] of table) {
    const cfg = { ...base, relayMode: mode, relayAddresses: base.relayAddresses.map((r) => ({ ...r, text: '', family: 4 as const })) };
    assert.equal(relayAllowed(cfg, { clientIp: ip }, domain).allowed, want, `${mode} ${ip} → ${domain}`);
  }
  assert.equal(relayAllowed({ ...base, relayMode: 'none', relayAddresses: [] }, { clientIp: outside, authUser: 'alice' }, 'far.test').allowed, true);
});

test('issue #15 item 10: LocalDomain address literals match RCPT domain-literals in any spelling', async () => {
  const { parseConfig } = await import('../config/index.js');
  const { domainMatchKey } = await import('./recipients.js');
  const r = parseConfig('TargetServer { TargetIP 127.0.0.1 }\nReceiver { Listen 127.0.0.1:0 LocalDomain [192.0.2.1] LocalDomain [IPv6:2001:DB8:0::1] LocalDomain [2001:db8::2] LocalDomain Example.TEST }\n', 'rx.conf');
  assert.ok(r.ok, r.ok ? '' : r.error.map(String).join('\n'));
  const domains = r.value.config.receiver!.localDomains;
  assert.deepEqual(domains, ['[192.0.2.1]', '[IPv6:2001:db8::1]', '[IPv6:2001:db8::2]', 'example.test']);
  const keys = new Set(domains.map(domainMatchKey));
  const cases: [string, string][] = [
    ['[192.0.2.1]', 'local alice'],
    ['[IPv6:2001:db8::1]', 'local alice'],
    ['[ipv6:2001:0DB8:0:0::1]', 'local alice'],
    ['[IPv6:2001:db8::2]', 'local alice'],
    ['[192.0.2.2]', 'relay [192.0.2.2]'],
    ['[IPv6:2001:db8::3]', 'relay [ipv6:2001:db8::3]'],
  ];
  for (const [domain, want] of cases) {
    const c = classifyRecipient({ local: 'Alice', domain }, keys);
    assert.equal(c.kind === 'local' ? `local ${c.lookup}` : c.kind === 'relay' ? `relay ${c.domain}` : 'trick', want, domain);
  }
  const bad = parseConfig('TargetServer { TargetIP 127.0.0.1 }\nReceiver { Listen 127.0.0.1:0 LocalDomain [300.1.1.1] }\n', 'rx.conf');
  assert.equal(bad.ok, false);
  assert.match(bad.ok ? '' : bad.error.map(String).join('\n'), /rx\.conf:2: .*LocalDomain.*not a host name or address literal/);
});
