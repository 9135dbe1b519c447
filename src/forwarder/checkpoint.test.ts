import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Checkpoint } from './checkpoint.js';
import { tempDir } from '../testing/peers.js';

test('checkpoint records survive reopen; cold start discards them; forget removes a file', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'cp.db');
  const cp = Checkpoint.open(path);
  await Promise.all([
    cp.markRecipient('e1', 1, { address: 'a@x.test', outcome: 'accepted' }),
    cp.markRecipient('e1', 2, { address: 'b@x.test', outcome: 'failed', reply: '550 5.1.1 no' }),
    cp.markMessage('e1', 1, 'delivered'),
    cp.markMessage('e2', 1, 'extended'),
  ]);
  cp.close();
  const again = Checkpoint.open(path);
  const f = again.load('e1');
  assert.equal(f.messages.get(1), 'delivered');
  assert.equal(f.recipients.get(2)?.get('b@x.test')?.reply, '550 5.1.1 no');
  assert.deepEqual(again.entries().sort(), ['e1', 'e2']);
  await again.forget('e1');
  assert.deepEqual(again.entries(), ['e2']);
  again.close();
  const cold = Checkpoint.open(path, { cold: true });
  assert.deepEqual(cold.entries(), []);
  cold.close();
});
