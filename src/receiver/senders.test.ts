import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReversePath } from '../core/address.js';
import { classifyRecipient } from './recipients.js';
import { ReceiverSenderPolicy } from './senders.js';

const users: Record<string, string> = { 'alice@local.test': 'alice', 'bob@local.test': 'bob', 'sales@local.test': 'alice' };
const session = (authUser?: string) => ({ sessionId: 's', clientIp: '127.0.0.1', clientPort: 1, heloName: 'c', esmtp: true, tls: true, ...(authUser === undefined ? {} : { authUser }) });
const mb = (a: string): ReversePath => { const [local, domain] = a.split('@') as [string, string]; return { kind: 'mailbox', mailbox: { local, domain } }; };

test('ReceiverSenderPolicy: own address and aliases only, for authenticated sessions, while SenderLoginMatch is on', async () => {
  let on = true;
  const p = new ReceiverSenderPolicy(() => ({ senderLoginMatch: on }), (m) => classifyRecipient(m, new Set(['local.test'])), async (a) => users[a]);
  const kind = async (user: string | undefined, from: ReversePath): Promise<string> => (await p.checkSender(session(user), from)).kind;
  assert.equal(await kind('alice', mb('alice@local.test')), 'accept');
  assert.equal(await kind('Alice', mb('ALICE@Local.Test')), 'accept');
  assert.equal(await kind('alice', mb('sales@local.test')), 'accept');
  assert.equal(await kind('alice', { kind: 'null' }), 'accept');
  assert.equal(await kind('alice', mb('bob@local.test')), 'reject');
  assert.equal(await kind('alice', mb('ceo@example.test')), 'reject');
  assert.equal(await kind('alice', mb('a%b@local.test')), 'reject');
  assert.equal(await kind(undefined, mb('bob@local.test')), 'accept', 'not judged without AUTH');
  const r = await p.checkSender(session('alice'), mb('bob@local.test'));
  assert.ok(r.kind === 'reject');
  assert.equal(`${r.reply.code.code} ${r.reply.code.enhanced}`, '553 7.1');
  assert.equal(r.logReason, 'authenticated as alice: bob@local.test belongs to bob');
  on = false;
  assert.equal(await kind('alice', mb('bob@local.test')), 'accept', 'read at each MAIL (REFRESH)');
});
