// [Q1] acceptance: kill -9 between each write of enqueueMessage() loses nothing and leaves no half
// entry. A child process (enqueue-crash-child.ts) enqueues one message entry and stops after one
// durable step of the write protocol (submitEntry's afterStep hook); the parent kills it with
// SIGKILL there and then looks at the spool as the gateway would, through SpoolQueue.list():
//   - killed before the rename into incoming/: no entry (a partial directory may stay in tmp/,
//     which the gateway never reads);
//   - killed at or after the rename: exactly one complete, valid message entry — the envelope,
//     origin and bytes that were enqueued — and nothing else in incoming/;
//   - a child whose enqueueMessage() resolved (the moment the receiver answers 250) and is then
//     killed always has its entry listed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock } from '../../src/core/index.js';
import { SpoolQueue } from '../../src/spool/queue.js';
import type { SpoolEntry } from '../../src/spool/submit.js';
import { FakeSmtpServer } from '../../src/testing/fake-smtp-server.js';
import { runGateway, until, writeConfig } from '../../src/testing/gateway.js';
import { tempDir } from '../../src/testing/peers.js';
import { normaliseLineEnds } from '../../src/smtp/protocol/dot-stuff.js';
import { crashCase } from './enqueue-crash-case.js';

// The writer and spool directory writeConfig() uses, so a gateway can be started on a crashed spool.
const WRITER = 'TESTW';
const CHILD = join(import.meta.dirname, 'enqueue-crash-child.ts');

interface Run { child: ChildProcess; lines: string[] }

/** Starts the child; resolves when it printed a line matching `until` (rejects if it exits first). */
function runChild(root: string, step: string, until: RegExp): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, root, WRITER, step], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let errText = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { errText += d; });
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (until.test(out)) resolve({ child, lines: out.split('\n').filter((l) => l !== '') });
    });
    child.once('exit', (code, signal) => reject(new Error(`child (step ${step}) exited ${code ?? signal} before ${until}: ${out} ${errText}`)));
  });
}

async function kill9(c: ChildProcess): Promise<void> {
  const gone = new Promise<void>((r) => { if (c.exitCode !== null || c.signalCode !== null) r(); else c.once('exit', () => r()); });
  c.kill('SIGKILL');
  await gone;
  assert.equal(c.signalCode, 'SIGKILL');
}

async function listed(root: string): Promise<SpoolEntry[]> {
  const q = await SpoolQueue.open({ root, writer: WRITER, clock: systemClock });
  assert.ok(q.ok, 'the writer lock is free after the kill');
  try {
    return await q.value.list();
  } finally {
    await q.value.close();
  }
}

/** The one entry is complete and is exactly what the child enqueued. */
function assertComplete(root: string, entries: readonly SpoolEntry[], what: string): SpoolEntry {
  assert.equal(entries.length, 1, `${what}: exactly one entry`);
  const e = entries[0]!;
  const want = crashCase();
  assert.equal(e.problem, undefined, `${what}: entry has a problem: ${e.problem?.reason}`);
  assert.equal(e.kind, 'message', `${what}: a message entry (envelope.json present)`);
  assert.deepEqual(e.message?.envelope, want.envelope, `${what}: envelope`);
  assert.deepEqual(e.message?.origin, want.origin, `${what}: origin`);
  assert.equal(e.attrs.jobName, want.jobName, `${what}: job name from attrs.json`);
  assert.equal(e.attrs.taskType, 'DEST', `${what}: task type from attrs.json`);
  assert.ok(readFileSync(e.path).equals(want.data), `${what}: data bytes`);
  assert.equal(e.size, want.data.length, `${what}: size`);
  const incoming = join(root, WRITER, 'incoming');
  assert.deepEqual(readdirSync(incoming), [e.id], `${what}: nothing else in incoming/`);
  assert.deepEqual(readdirSync(join(incoming, e.id)).sort(), ['attrs.json', 'data', 'envelope.json'], `${what}: the entry's files`);
  assert.ok(!readdirSync(join(root, 'tmp')).includes(e.id), `${what}: the renamed entry is not also in tmp/`);
  return e;
}

test('kill -9 after each durable step of enqueueMessage: no entry before the rename, one complete entry from it on', async (t) => {
  // A run to the end names every step the write protocol has: each one is tested below.
  const full = join(tempDir(t, 'spoolgate-enqcrash-'), 'spool');
  const done = await runChild(full, 'none', /DONE \S+\n/);
  await kill9(done.child);
  const steps = done.lines.find((l) => l.startsWith('STEPS '))!.slice(6).split(',');
  const doneId = done.lines.find((l) => l.startsWith('DONE '))!.slice(5);
  assert.deepEqual(steps, ['data', 'attrs', 'extra:envelope.json', 'tmpdir', 'rename', 'incoming', 'tmp'], 'the steps of the write protocol');
  // Resolved, then killed: the entry is there.
  assert.equal(assertComplete(full, await listed(full), 'killed after resolving').id, doneId);

  const renameAt = steps.indexOf('rename');
  for (const [i, step] of steps.entries()) {
    await t.test(`killed after "${step}"`, async (st) => {
      const dir = tempDir(st, 'spoolgate-enqcrash-');
      const root = join(dir, 'spool');
      const run = await runChild(root, step, new RegExp(`AT ${step.replace(/[.]/g, '\\.')}\\n`));
      await kill9(run.child);
      const entries = await listed(root);
      if (i < renameAt) {
        assert.deepEqual(entries.map((e) => `${e.id} ${e.problem?.reason ?? e.kind}`), [], 'no entry before the rename');
        assert.deepEqual(readdirSync(join(root, WRITER, 'incoming')), [], 'nothing in incoming/');
        // What the kill left is a partial directory in tmp/ only.
        const left = readdirSync(join(root, 'tmp'));
        assert.equal(left.length, 1, 'the partial entry stays in tmp/');
        assert.ok(statSync(join(root, 'tmp', left[0]!)).isDirectory());
        // The spool still takes new mail after the crash: the next enqueue is the one entry.
        const next = await runChild(root, 'none', /DONE \S+\n/);
        await kill9(next.child);
        assertComplete(root, await listed(root), `enqueue after a kill at ${step}`);
      } else {
        assertComplete(root, entries, `killed after ${step}`);
        if (step === 'rename') {
          // Loses nothing: a gateway started on the crashed spool sends the entry as enqueued.
          const srv = await FakeSmtpServer.start({ extensions: ['PIPELINING', '8BITMIME', 'SMTPUTF8', 'SIZE 52428800', 'ENHANCEDSTATUSCODES', 'DSN'] });
          st.after(() => srv.close());
          const { config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${srv.port} }`);
          assert.equal(config.spool.directory, root);
          const gw = await runGateway(config);
          st.after(() => gw.stop());
          await until('the entry sent and finished', async () => srv.messages.length >= 1 && (await gw.queue.list()).length === 0);
          const want = crashCase();
          assert.equal(srv.messages.length, 1);
          assert.equal(srv.messages[0]!.from, 'jörg@clïent.test');
          assert.deepEqual(srv.messages[0]!.recipients, ['a@far.test', '"b c<"@far.test']);
          assert.ok(srv.messages[0]!.data.equals(normaliseLineEnds(want.data)), 'the bytes as enqueued');
        }
      }
    });
  }
});
