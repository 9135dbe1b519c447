import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReversePath } from '../core/address.js';
import { senderAllowed } from './sender-policy.js';

const mb = (local: string, domain: string): ReversePath => ({ kind: 'mailbox', mailbox: { local, domain } });
const NULL: ReversePath = { kind: 'null' };
const nobody = { uid: 65534, user: 'nobody' };

test('senderAllowed: SenderPolicy Own by owner, Any, root, the null sender', () => {
  const cases: { name: string; policy: 'own' | 'any'; who: { uid: number; user: string }; from: ReversePath; want: boolean }[] = [
    { name: 'own address', policy: 'own', who: nobody, from: mb('nobody', 'gw.test'), want: true },
    { name: 'domain in any case', policy: 'own', who: nobody, from: mb('nobody', 'GW.Test'), want: true },
    { name: 'local part is exact', policy: 'own', who: nobody, from: mb('NOBODY', 'gw.test'), want: false },
    { name: 'someone else', policy: 'own', who: nobody, from: mb('ceo', 'example.test'), want: false },
    { name: 'own name at another domain', policy: 'own', who: nobody, from: mb('nobody', 'example.test'), want: false },
    { name: 'null sender', policy: 'own', who: nobody, from: NULL, want: true },
    { name: 'root may use any', policy: 'own', who: { uid: 0, user: 'root' }, from: mb('ceo', 'example.test'), want: true },
    { name: 'Any', policy: 'any', who: nobody, from: mb('ceo', 'example.test'), want: true },
  ];
  for (const c of cases) assert.equal(senderAllowed(c.policy, c.who, 'gw.test', c.from), c.want, c.name);
});
