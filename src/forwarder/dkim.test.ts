// The forwarder's DKIM stage: one signature per message and key set (a retry sends the same
// one; new keys after a REFRESH sign again), the reason logged for mail of a signing domain
// that leaves unsigned, nothing at all without keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { Logger, type LogRecord } from '../log/logger.js';
import { DkimKeyring, loadDkimKeys } from '../dkim/index.js';
import { DkimStage } from './dkim.js';

const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
function keys(selector: string): DkimKeyring {
  const r = loadDkimKeys([{ domain: 'corp.test', selector, keyFile: 'k', headers: null, algorithm: 'ed25519-sha256', line: 1 }], 'x.conf', () => ({ bytes: Buffer.from(pem), mode: 0o100600 }));
  assert.ok(r.ok);
  return r.value.keyring;
}

test('DkimStage: a retry reuses the signature, new keys sign again, unsigned mail says why', () => {
  const logged: LogRecord[] = [];
  const log = Logger.create({ sink: { write: (r) => logged.push(r) }, instance: 'T', level: 255 });
  let ring = keys('s1');
  let now = new Date('2026-11-27T10:00:00Z');
  const stage = new DkimStage({ keyring: () => ring, now: () => now, log });
  const data = Buffer.from('From: a@corp.test\r\nSubject: x\r\n\r\nbody\r\n');
  const first = stage.prefixFor(data, 'm#1');
  assert.match(first?.toString('latin1') ?? '', /d=corp\.test; s=s1; *\r\n\tt=1795773600;/);
  now = new Date('2026-11-27T11:00:00Z');
  assert.equal(stage.prefixFor(data, 'm#1'), first, 'the same signature for a retry');
  ring = keys('s2');
  assert.match(stage.prefixFor(data, 'm#1')?.toString('latin1') ?? '', /s=s2;[^]*t=1795777200;/);

  // Another domain: no log line (most mail is of other domains); a signing domain's unreadable From: is logged.
  assert.equal(stage.prefixFor(Buffer.from('From: b@other.test\r\n\r\nx\r\n'), 'm#2'), undefined);
  assert.equal(stage.prefixFor(Buffer.from('From: a@corp.test\r\nFrom: b@corp.test\r\n\r\nx\r\n'), 'm#3'), undefined);
  assert.deepEqual(logged.filter((l) => l.event === 'mail.dkim-unsigned').map((l) => l.fields), [{ key: 'm#3', reason: 'several-from' }]);
  assert.equal(logged.filter((l) => l.event === 'mail.dkim-signed').length, 2);

  ring = DkimKeyring.EMPTY;
  assert.equal(stage.prefixFor(Buffer.from('From: a@corp.test\r\n\r\nx\r\n'), 'm#4'), undefined, 'no keys: nothing signed');
});
