import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideSender, localDomain } from './policy.js';
import { formatMailbox } from '../core/index.js';

const alice = { uid: 1001, user: 'alice' };
const root = { uid: 0, user: 'root' };

test('decideSender: SenderPolicy Own / Any for privileged and unprivileged callers', () => {
  const cases: { name: string; policy: 'own' | 'any'; caller: { uid: number; user: string }; from?: string; want: string }[] = [
    { name: 'default sender is the caller at the local domain', policy: 'own', caller: alice, want: 'alice@corp.test' },
    { name: 'own address given explicitly', policy: 'own', caller: alice, from: 'alice@CORP.test', want: 'alice@CORP.test' },
    { name: 'unprivileged user cannot pose as another', policy: 'own', caller: alice, from: 'ceo@corp.test', want: 'SG_NOTE_SENDER_NOT_ALLOWED' },
    { name: 'local part is compared case-sensitively', policy: 'own', caller: alice, from: 'Alice@corp.test', want: 'SG_NOTE_SENDER_NOT_ALLOWED' },
    { name: 'own name at another domain is another sender', policy: 'own', caller: alice, from: 'alice@other.test', want: 'SG_NOTE_SENDER_NOT_ALLOWED' },
    { name: 'root may choose any sender', policy: 'own', caller: root, from: 'ceo@corp.test', want: 'ceo@corp.test' },
    { name: 'policy Any lets everyone choose', policy: 'any', caller: alice, from: 'ceo@corp.test', want: 'ceo@corp.test' },
    { name: 'invalid --from is refused under any policy', policy: 'any', caller: root, from: 'no-at-sign', want: 'SG_NOTE_BAD_SENDER' },
    { name: 'a user name that is no local part', policy: 'own', caller: { uid: 5, user: 'a b' }, want: 'SG_NOTE_BAD_SENDER' },
  ];
  for (const c of cases) {
    const r = decideSender({ policy: c.policy, caller: c.caller, domain: 'corp.test', ...(c.from === undefined ? {} : { from: c.from }) });
    assert.equal(r.ok ? formatMailbox(r.value) : r.error.code, c.want, c.name);
  }
  const refused = decideSender({ policy: 'own', caller: alice, domain: 'corp.test', from: 'ceo@corp.test' });
  assert.ok(!refused.ok);
  assert.equal(refused.error.message, 'user alice may not send as ceo@corp.test: SenderPolicy Own allows only alice@corp.test');
});

test('localDomain: DefaultDomain, else HostName', () => {
  assert.equal(localDomain({ users: { defaultDomain: 'corp.test' }, hostName: 'gw.corp.test' }), 'corp.test');
  assert.equal(localDomain({ users: { defaultDomain: null }, hostName: 'gw.corp.test' }), 'gw.corp.test');
});
