// S1 acceptance: `spoolgate note` (its run(argv, io) in-process; a child process where the test
// needs another uid) → spool → forwarder → FakeSmtpServer. The
// target receives exactly the composed MIME (plus our Received header), the envelope carries the
// Bcc recipient, which no header names, and mailparser gets every part back byte-equal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { simpleParser } from 'mailparser';
import { run } from '../../src/cli/note.js';
import { runCli } from '../../src/testing/cli.js';
import { FakeSmtpServer } from '../../src/testing/fake-smtp-server.js';
import { tempDir } from '../../src/testing/peers.js';
import { runGateway, until, withoutTrace, writeConfig } from '../../src/testing/gateway.js';

const REPO = resolve(import.meta.dirname, '..', '..');

function cli(args: string[], opts: { uid?: number; gid?: number } = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: REPO, encoding: 'utf8', ...opts, ...(opts.uid === undefined ? {} : { env: { ...process.env, HOME: '/tmp' } }),
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `spoolgate note` in this process, as the current user. */
async function inProcess(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const [name, ...rest] = args;
  assert.equal(name, 'note');
  const r = await runCli(run, rest);
  return { status: r.code, stdout: r.stdout, stderr: r.stderr };
}

test('note → spool → forwarder: exact MIME at the target, Bcc only in the envelope, parts byte-equal', async (t) => {
  const srv = await FakeSmtpServer.start();
  t.after(() => srv.close());
  const dir = tempDir(t);
  const { path: conf, config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${srv.port} }\nUsers { DefaultDomain corp.test SenderPolicy Own }`);
  const files = {
    body: join(dir, 'body.txt'), html: join(dir, 'body.html'),
    bin: join(dir, 'random.bin'), pdf: join(dir, 'Bericht für Müller.pdf'), big: join(dir, 'large.dat'),
  };
  const text = 'Grüße,\n\nder Bericht liegt bei.  \n.\n.. zwei Punkte\n' + 'lang '.repeat(300) + '\n';
  const html = '<html><body><p>Grüße — der <b>Bericht</b> €</p></body></html>';
  const bin = randomBytes(10_000);
  const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(3000)]);
  const big = randomBytes(2 * 1024 * 1024);
  await writeFile(files.body, text);
  await writeFile(files.html, html);
  await writeFile(files.bin, bin);
  await writeFile(files.pdf, pdf);
  await writeFile(files.big, big);
  const subject = 'Monatsbericht für Müller — März';

  const r = await inProcess(['note', '--config', conf, '--to', 'Bruce Wayne <wayne@bar.test>', '--cc', 'gordon@bar.test', '--bcc', 'hidden@bar.test',
    '--subject', subject, '--body', files.body, '--html', files.html, '--attach', files.bin, '--attach', files.pdf, '--attach', files.big, '--job', 'notejob']);
  assert.equal(r.status, 0, r.stderr);
  const [id, job] = r.stdout.trim().split(' ');
  assert.match(job!, /^NOTEJOB\(J\d{7}\)$/);
  const entryDir = join(config.spool.directory, config.extWrtName, 'incoming', id!);
  const attrs = JSON.parse(await readFile(join(entryDir, 'attrs.json'), 'utf8')) as Record<string, string>;
  assert.equal(attrs.taskType, 'DEST');
  const envelope = JSON.parse(await readFile(join(entryDir, 'envelope.json'), 'utf8')) as { from: string; recipients: { to: string }[]; origin: unknown };
  assert.equal(envelope.from, 'root@corp.test');
  assert.deepEqual(envelope.recipients.map((r) => r.to), ['wayne@bar.test', 'gordon@bar.test', 'hidden@bar.test']);
  assert.deepEqual(envelope.origin, { kind: 'submission', tool: 'note' });
  const stored = await readFile(join(entryDir, 'data'));
  assert.match(stored.toString('latin1'), /^Received: by gw\.test \(spoolgate [A-Z0-9]+ note, from user root\)\r\n/);

  const gw = await runGateway(config);
  t.after(() => gw.stop());
  await until('the note at the target', () => srv.messages.length >= 1);
  await until('spool empty', async () => (await gw.queue.list()).length === 0);
  const m = srv.messages[0]!;
  assert.equal(m.from, 'root@corp.test');
  assert.deepEqual(m.recipients, ['wayne@bar.test', 'gordon@bar.test', 'hidden@bar.test']);
  assert.ok(Buffer.from(m.data).equals(stored), 'byte-exact as queued: the forwarder adds nothing to a message entry');

  const lines = withoutTrace(m.data).split('\r\n');
  assert.ok(lines.every((l) => l.length <= 998), 'lines ≤ 998');
  const head = lines.slice(0, lines.indexOf('')).join('\n');
  assert.doesNotMatch(head, /hidden@bar\.test|^bcc:/im);
  const p = await simpleParser(m.data);
  assert.equal(p.subject, subject);
  assert.equal(p.from?.text, 'root@corp.test');
  assert.equal(p.text, text);
  assert.equal(p.html, html);
  assert.equal(p.bcc, undefined);
  assert.deepEqual(p.attachments.map((a) => [a.filename, a.contentType]), [
    ['random.bin', 'application/octet-stream'], ['Bericht für Müller.pdf', 'application/pdf'], ['large.dat', 'application/octet-stream'],
  ]);
  assert.ok(p.attachments[0]!.content.equals(bin), 'binary attachment byte-equal');
  assert.ok(p.attachments[1]!.content.equals(pdf), 'UTF-8 named attachment byte-equal');
  assert.ok(p.attachments[2]!.content.equals(big), '2 MB attachment byte-equal');
});

test('note sender policy on the command line: root may choose --from; another user gets exit 2 and nothing is spooled', async (t) => {
  const dir = tempDir(t);
  const { path: conf, config } = writeConfig(dir, 'TargetServer { TargetIP 127.0.0.1 }\nUsers { DefaultDomain corp.test SenderPolicy Own }');
  const args = ['note', '--config', conf, '--to', 'a@bar.test', '--from', 'ceo@corp.test', '--subject', 'hi'];
  const incoming = join(config.spool.directory, config.extWrtName, 'incoming');
  const uid = process.getuid?.() ?? -1;
  if (uid === 0) {
    const asRoot = cli(args);
    assert.equal(asRoot.status, 0, asRoot.stderr);
    assert.equal((await readdir(incoming)).length, 1);
    // The same command as an unprivileged user (nobody): the configuration must be readable.
    await chmod(dir, 0o755);
    await chmod(conf, 0o644);
    const asNobody = cli(args, { uid: 65534, gid: 65534 });
    assert.equal(asNobody.status, 2, asNobody.stderr);
    assert.match(asNobody.stderr, /^spoolgate note: SG_NOTE_SENDER_NOT_ALLOWED: user nobody may not send as ceo@corp\.test: SenderPolicy Own allows only nobody@corp\.test\n$/);
    assert.equal((await readdir(incoming)).length, 1, 'nothing more spooled');
  } else {
    const refused = cli(args);
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /SG_NOTE_SENDER_NOT_ALLOWED/);
  }
});
