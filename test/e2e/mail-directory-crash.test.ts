// Crash safety of the forwarder's mail directory (moved here from src/forwarder/mail-directory.test.ts:
// it starts a child process per round and kills it -9, too slow for `npm run test:unit`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { watch } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { MailDirectory } from '../../src/forwarder/mail-directory.js';
import { tempDir } from '../../src/testing/peers.js';

// The child writes many messages and prints each id after put() returned; it is killed -9 at a
// random moment. Every acknowledged put must survive, every listed record must be complete.
const CHILD = `
const { MailDirectory } = await import(${JSON.stringify(resolve(import.meta.dirname, '../../src/forwarder/mail-directory.ts'))});
const md = await MailDirectory.open(process.argv[1]);
for (let i = Number(process.argv[2]); ; i++) {
  const id = 'm' + String(i).padStart(6, '0');
  const fill = String.fromCharCode(65 + (i % 26));
  const data = Buffer.from('Subject: ' + id + '\\r\\n\\r\\n' + fill.repeat(200000) + '\\r\\n');
  const r = await md.put({ id, data, envelope: { from: { kind: 'null' }, recipients: [{ mailbox: { local: 'a', domain: 'b.example' } }], requireTls: false },
    pendingRecipients: [], firstAttempt: new Date(0), nextAttempt: new Date(i * 1000), attempts: 1, jobName: 'J', jobId: 'JOB1', originUser: 'U' });
  if (!r.ok) throw r.error;
  process.stdout.write(id + '\\n');
}
`;

/**
 * Runs the child and kills it with SIGKILL once `killAfter` puts were acknowledged, at a moment
 * chosen by `when`: 'ack' right then; 'control' as soon as the next control record appears in the
 * directory (the instant a wrong write order would expose); a number = that many ms later.
 */
async function runAndKill(dir: string, start: number, killAfter: number, when: 'ack' | 'control' | number): Promise<string[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD, dir, String(start)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const acked: string[] = [];
  let stderr = '';
  let armed = false;
  const watcher = watch(dir, (_event, name) => {
    if (armed && when === 'control' && typeof name === 'string' && /^m\d+\.json$/.test(name) && !acked.includes(name.slice(0, -5))) child.kill('SIGKILL');
  });
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  try {
    await new Promise<void>((resolveDone, reject) => {
      let buf = '';
      child.stdout.on('data', (c: Buffer) => {
        buf += c.toString();
        const lines = buf.split('\n');
        buf = lines.pop()!;
        acked.push(...lines);
        if (acked.length < killAfter || armed) return;
        armed = true;
        if (when === 'ack') child.kill('SIGKILL');
        else if (typeof when === 'number') setTimeout(() => child.kill('SIGKILL'), when);
      });
      child.on('exit', (_code, signal) => (signal === 'SIGKILL' ? resolveDone() : reject(new Error(`child exited without kill: ${stderr}`))));
    });
  } finally {
    watcher.close();
  }
  return acked;
}

test('crash safety: kill -9 in the middle of many puts', async (t) => {
  const dir = tempDir(t);
  let start = 0;
  const rounds: [number, 'ack' | 'control' | number][] = [[5, 'ack'], [9, 'control'], [13, 'control'], [17, 'control'], [21, 1], [25, 3], [29, 7]];
  for (const [killAfter, when] of rounds) {
    const acked = await runAndKill(dir, start, killAfter, when);
    start += 1000;
    const md = await MailDirectory.open(dir);
    const { records, quarantined } = await md.list();
    assert.deepEqual(quarantined, [], 'no partial control record is ever visible');
    const ids = new Set(records.map((x) => x.id));
    for (const id of acked) assert.ok(ids.has(id), `acknowledged put ${id} survived`);
    for (const rec of records) {
      const d = await md.readData(rec.id);
      assert.ok(d.ok, `${rec.id} has its data file`);
      const i = Number(rec.id.slice(1));
      assert.equal(d.value.length, rec.size);
      assert.equal(d.value.toString(), `Subject: ${rec.id}\r\n\r\n${String.fromCharCode(65 + (i % 26)).repeat(200000)}\r\n`);
    }
    const names = await readdir(dir);
    assert.deepEqual(names.filter((n) => n.startsWith('.tmp-')), [], 'open() removed temp files');
    assert.deepEqual(names.filter((n) => n.endsWith('.msg') && !ids.has(n.slice(0, -4))), [], 'no orphan data files');
  }
});
