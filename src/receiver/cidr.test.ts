import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cidrContains, dnsblQueryName } from './cidr.js';

test('cidrContains', () => {
  const cases: { range: string; ip: string; want: boolean }[] = [
    { range: '192.0.2.0/24', ip: '192.0.2.77', want: true },
    { range: '192.0.2.0/24', ip: '192.0.3.1', want: false },
    { range: '192.0.2.0/24', ip: '::ffff:192.0.2.9', want: true },
    { range: '10.0.0.0/8', ip: '10.255.1.1', want: true },
    { range: '10.1.2.3/32', ip: '10.1.2.4', want: false },
    { range: '172.16.0.0/12', ip: '172.31.255.255', want: true },
    { range: '172.16.0.0/12', ip: '172.32.0.0', want: false },
    { range: '0.0.0.0/0', ip: '8.8.8.8', want: true },
    { range: '2001:db8::/32', ip: '2001:db8:1::5', want: true },
    { range: '2001:db8::/32', ip: '2001:db9::5', want: false },
    { range: '::1/128', ip: '::1', want: true },
    { range: '192.0.2.0/24', ip: '2001:db8::1', want: false },
    { range: '192.0.2.0/24', ip: 'not-an-ip', want: false },
  ];
  for (const c of cases) {
    const [address, prefix] = c.range.split('/') as [string, string];
    assert.equal(cidrContains({ address, prefix: Number(prefix) }, c.ip), c.want, `${c.range} ∋ ${c.ip}`);
  }
});

test('dnsblQueryName (RFC 5782 §2.1, §2.4)', () => {
  assert.equal(dnsblQueryName('192.0.2.99', 'bl.example'), '99.2.0.192.bl.example');
  assert.equal(dnsblQueryName('::ffff:192.0.2.99', 'bl.example.'), '99.2.0.192.bl.example');
  assert.equal(dnsblQueryName('2001:db8:1:2:3:4:567:89ab', 'bl.example'), 'b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.bl.example');
  assert.equal(dnsblQueryName('x', 'bl.example'), undefined);
});
