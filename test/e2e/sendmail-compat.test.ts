// O2 #18 item 1: the classic sendmail interface with the callers that use it on Linux, each
// through the whole gateway: caller → `sendmail` (bin/spoolgate.js linked under that name, as
// /usr/sbin/sendmail would be) → message spool entry → forwarder → smtp-server, checking the
// envelope and that the message arrives as the caller wrote it (Bcc: gone, our Received on top).
// Callers: Python's subprocess (the `-t -i -f` line of cron jobs and scripts), BSD mailx,
// git send-email, and a cron-style pipe of plain text with no header at all.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { belowOurReceived, startRelayGateway, startRelayTarget, type RelayTarget } from './relay-harness.js';
import { isRoot, needPeer, inCI, tempDir } from '../../src/testing/peers.js';
import { writeConfig } from '../../src/testing/gateway.js';

const ROOT = resolve(import.meta.dirname, '../..');

interface Caller { readonly bin: string; readonly env: NodeJS.ProcessEnv; readonly dir: string; readonly target: RelayTarget; readonly spool: string }

/** A gateway, a target, and a directory with `sendmail` on PATH pointing at the installed command. */
async function setup(t: TestContext, extra = '', onRcpt?: (address: string) => Error | undefined): Promise<Caller | undefined> {
  // bin/spoolgate.js runs the compiled copy: `npm test` builds it before the tests.
  if (!existsSync(join(ROOT, 'dist/cli/sendmail-classic.js')) || statSync(join(ROOT, 'dist/cli/sendmail-classic.js')).mtimeMs < statSync(join(ROOT, 'src/cli/sendmail-classic.ts')).mtimeMs) {
    const why = 'dist/ is missing or older than src/ (run npm run build)';
    if (inCI) throw new Error(why);
    t.skip(why);
    return undefined;
  }
  const target = await startRelayTarget(t, onRcpt === undefined ? {} : { onRcpt });
  const gw = await startRelayGateway(t, target.port, 'RelayMode AddressList\n RelayAddress 127.0.0.1/32', extra);
  const bin = join(gw.dir, 'bin');
  mkdirSync(bin);
  symlinkSync(join(ROOT, 'bin/spoolgate.js'), join(bin, 'sendmail'));
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, SPOOLGATE_CONFIG: join(gw.dir, 'spoolgate.conf') };
  return { bin: join(bin, 'sendmail'), env, dir: gw.dir, target, spool: gw.config.spool.directory };
}

function exec(file: string, args: readonly string[], opts: { env: NodeJS.ProcessEnv; input?: string | Buffer; cwd?: string; uid?: number; gid?: number }): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = execFile(file, args, { env: opts.env, cwd: opts.cwd, timeout: 60_000, ...(opts.uid === undefined ? {} : { uid: opts.uid, gid: opts.gid }) }, (e, stdout, stderr) => {
      done({ code: e === null ? 0 : typeof e.code === 'number' ? e.code : 99, stdout, stderr });
    });
    // A child that never reads its input (git init) may be gone before the write: EPIPE is not a failure.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(opts.input ?? '');
  });
}

const crlf = (s: string): string => s.replace(/\r?\n/g, '\r\n');

test('python subprocess: sendmail -t -i -f → the sink gets the envelope from the header, Bcc gone, body byte for byte', async (t) => {
  const python = needPeer(t, 'python3');
  const c = await setup(t);
  if (python === undefined || c === undefined) return;
  // A body a careless producer writes: a lone ".", a "..", trailing blanks, a tab, 8-bit text.
  const message = 'From: Nightly <batch@corp.test>\nTo: ops@remote.test, "Doe, Jane" <jane@remote.test>\nCc: team: lead@remote.test;\n'
    + 'Bcc: audit@corp.test\nSubject: ERP export 2026-11-27\nDate: Fri, 27 Nov 2026 06:00:00 +0000\nMessage-ID: <erp-1@corp.test>\n'
    + 'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n'
    + 'rows: 1200   \n.\n..\n\tTotal: 12,50 \u20ac\nFrom here on\n';
  const script = 'import subprocess, sys\n'
    + 'msg = sys.stdin.buffer.read()\n'
    + 'r = subprocess.run(["sendmail", "-t", "-i", "-f", "batch@corp.test"], input=msg)\n'
    + 'sys.exit(r.returncode)\n';
  const r = await exec(python, ['-c', script], { env: c.env, input: message });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '', 'sendmail prints nothing on success');
  await c.target.waitFor(1);
  const m = c.target.mails[0]!;
  assert.equal(m.from, 'batch@corp.test');
  assert.deepEqual(m.rcpts.map((x) => x.address), ['ops@remote.test', 'jane@remote.test', 'lead@remote.test', 'audit@corp.test']);
  assert.equal(m.bodyType, '8bitmime');
  assert.equal(belowOurReceived(m.data).toString('utf8'), crlf(message.replace('Bcc: audit@corp.test\n', '')));
});

test('a cron-style pipe as root: plain text without a header → From: added, Date/Message-ID added, text unaltered; "." ends it without -i', async (t) => {
  if (!isRoot) { t.skip('the default sender asserted is root@gw.test'); return; }
  const c = await setup(t);
  if (c === undefined) return;
  const r = await exec('sh', ['-c', 'printf "disk /var is 91%% full  \\nsee df\\n.\\nnot sent\\n" | sendmail -F "Cron Daemon" root-alerts@remote.test'], { env: c.env });
  assert.equal(r.code, 0, r.stderr);
  await c.target.waitFor(1);
  const m = c.target.mails[0]!;
  // The default sender: the calling user (root here) at the local domain (HostName gw.test).
  assert.equal(m.from, 'root@gw.test');
  assert.deepEqual(m.rcpts.map((x) => x.address), ['root-alerts@remote.test']);
  const text = belowOurReceived(m.data).toString('utf8');
  assert.match(text, /^From: Cron Daemon <root@gw\.test>\r\n/);
  assert.match(text, /\r\nDate: [^\r]+\r\nMessage-ID: <[^>]+>\r\n\r\ndisk \/var is 91% full {2}\r\nsee df\r\n$/);
});

test('BSD mailx with sendmail= set: subject, recipient and body arrive', async (t) => {
  const mailx = needPeer(t, 'mailx');
  const c = await setup(t);
  if (mailx === undefined || c === undefined) return;
  const rc = join(c.dir, 'mailrc');
  writeFileSync(rc, `set sendmail=${c.bin}\n`);
  const body = 'Job PAYROLL ended RC=0004\nsee the log\n';
  const r = await exec(mailx, ['-s', 'PAYROLL ended', '-r', 'payroll@corp.test', 'ops@remote.test'], { env: { ...c.env, MAILRC: rc }, input: body });
  assert.equal(r.code, 0, r.stderr);
  await c.target.waitFor(1);
  const m = c.target.mails[0]!;
  assert.equal(m.from, 'payroll@corp.test');
  assert.deepEqual(m.rcpts.map((x) => x.address), ['ops@remote.test']);
  const text = belowOurReceived(m.data).toString('utf8');
  assert.match(text, /\r\nSubject: PAYROLL ended\r\n/);
  assert.ok(text.endsWith(`\r\n\r\n${crlf(body)}`), text);
});

test('git send-email --sendmail-cmd: the patch arrives unaltered', async (t) => {
  needPeer(t, 'git-send-email');
  const c = await setup(t);
  if (c === undefined || !existsSync('/usr/lib/git-core/git-send-email')) return;
  const repo = join(c.dir, 'repo');
  mkdirSync(repo);
  const git = async (...args: string[]): Promise<string> => {
    const r = await exec('git', args, { env: { ...c.env, GIT_AUTHOR_NAME: 'Dev', GIT_AUTHOR_EMAIL: 'dev@corp.test', GIT_COMMITTER_NAME: 'Dev', GIT_COMMITTER_EMAIL: 'dev@corp.test', HOME: c.dir }, cwd: repo });
    assert.equal(r.code, 0, `git ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  await git('init', '-q');
  writeFileSync(join(repo, 'job.jcl'), '//PAYROLL JOB (ACCT),CLASS=A\n//STEP1   EXEC PGM=IEFBR14\n.\n');
  await git('add', 'job.jcl');
  await git('commit', '-q', '-m', 'Add the payroll job');
  await git('format-patch', '-1', '-o', join(c.dir, 'patches'));
  const patch = join(c.dir, 'patches', readdirSync(join(c.dir, 'patches'))[0]!);
  await git('send-email', `--sendmail-cmd=${c.bin}`, '--from=dev@corp.test', '--envelope-sender=auto', '--to=list@remote.test', '--confirm=never', '--suppress-cc=all', '--quiet', patch);
  await c.target.waitFor(1);
  const m = c.target.mails[0]!;
  assert.equal(m.from, 'dev@corp.test');
  assert.deepEqual(m.rcpts.map((x) => x.address), ['list@remote.test']);
  const text = belowOurReceived(m.data).toString('utf8');
  assert.match(text, /\r\nSubject: \[PATCH\] Add the payroll job\r\n/);
  assert.ok(text.includes('+//PAYROLL JOB (ACCT),CLASS=A\r\n+//STEP1   EXEC PGM=IEFBR14\r\n+.\r\n'), text);
});

test('a non-root caller under SenderPolicy Own: -f someone else → exit 77 and nothing is queued; a bad option value → exit 64', async (t) => {
  if (!isRoot) { t.skip('needs root to run the caller as uid 65534'); return; }
  const c = await setup(t, 'Users { SenderPolicy Own }');
  if (c === undefined) return;
  chmodSync(c.dir, 0o755);
  chmodSync(join(c.dir, 'spoolgate.conf'), 0o644);
  const r = await exec(c.bin, ['-f', 'ceo@corp.test', 'bank@remote.test'], { env: c.env, input: 'Subject: pay\n\nnow\n', uid: 65534, gid: 65534 });
  assert.equal(r.code, 77, r.stderr);
  assert.match(r.stderr, /^sendmail: user nobody may not send as ceo@corp\.test: SenderPolicy Own/);
  const bad = await exec(c.bin, ['-N', 'sometimes', 'x@remote.test'], { env: c.env, input: 'x\n' });
  assert.equal(bad.code, 64);
  assert.match(bad.stderr, /-N sometimes: give "never" or a comma list/);
  const incoming = join(c.spool, 'TESTW', 'incoming');
  assert.deepEqual(existsSync(incoming) ? readdirSync(incoming) : [], [], 'nothing queued');
  assert.equal(c.target.mails.length, 0);
});

test('sendmail -bs with swaks --pipe (the dialog Symfony Mailer speaks): the receiver engine on stdio, queued as a submission', async (t) => {
  const swaks = needPeer(t, 'swaks');
  const c = await setup(t);
  if (swaks === undefined || c === undefined) return;
  const r = await exec(swaks, ['--pipe', `${c.bin} -bs`, '--from', 'app@corp.test', '--to', 'ops@remote.test,dev@remote.test',
    '--header', 'Subject: via -bs', '--body', 'line one\n.\nline three', '--silent', '2'], { env: c.env });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  await c.target.waitFor(1);
  const m = c.target.mails[0]!;
  assert.equal(m.from, 'app@corp.test');
  assert.deepEqual(m.rcpts.map((x) => x.address), ['ops@remote.test', 'dev@remote.test']);
  const data = m.data.toString('utf8');
  assert.match(data, /^Received: by gw\.test \(spoolgate TEST sendmail, from user root\)\r\n/, 'our submission Received, not a socket one');
  assert.equal((data.match(/^Received:/gm) ?? []).length, 1);
  assert.match(data, /\r\nSubject: via -bs\r\n/);
  assert.ok(data.includes('\r\n\r\nline one\r\n.\r\nline three\r\n'), data);
});

test('sendmail -bs as uid 65534 under SenderPolicy Own: another sender is refused at RCPT (550 5.7.1), nothing queued', async (t) => {
  const swaks = needPeer(t, 'swaks');
  if (!isRoot) { t.skip('needs root to run the caller as uid 65534'); return; }
  const c = await setup(t, 'Users { SenderPolicy Own }');
  if (swaks === undefined || c === undefined) return;
  chmodSync(c.dir, 0o755);
  chmodSync(join(c.dir, 'spoolgate.conf'), 0o644);
  const r = await exec(swaks, ['--pipe', `${c.bin} -bs`, '--from', 'ceo@corp.test', '--to', 'bank@remote.test', '--body', 'pay now'], { env: c.env, uid: 65534, gid: 65534 });
  assert.notEqual(r.code, 0);
  assert.match(r.stdout, /<\*\* 550 5\.7\.1 user nobody may not send as ceo@corp\.test/);
  const incoming = join(c.spool, 'TESTW', 'incoming');
  assert.deepEqual(existsSync(incoming) ? readdirSync(incoming) : [], []);
});

test('mailq (sendmail -bp) lists the running gateway\'s queue; sendmail -q tries long-retry mail now (postqueue -p / -f)', async (t) => {
  let refuse = true;
  const c = await setup(t, '', (a) => {
    if (a !== 'slow@remote.test' || !refuse) return undefined;
    return Object.assign(new Error('451 4.2.1 mailbox busy, try later'), { responseCode: 451 });
  });
  if (c === undefined) return;
  symlinkSync(join(ROOT, 'bin/spoolgate.js'), join(c.dir, 'bin', 'mailq'));
  const sent = await exec(c.bin, ['-i', '-f', 'batch@corp.test', 'slow@remote.test'], { env: c.env, input: 'Subject: waits\n\nbody\n' });
  assert.equal(sent.code, 0, sent.stderr);
  // RetryLimit Interval 1 (minute): the message waits in long retry after the 451.
  let listing = { code: -1, stdout: '', stderr: '' };
  for (let i = 0; i < 300 && !/retry/i.test(listing.stdout); i++) {
    listing = await exec(join(c.dir, 'bin', 'mailq'), [], { env: c.env });
    if (!/retry/i.test(listing.stdout)) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(listing.code, 0, listing.stderr);
  assert.match(listing.stdout, /slow@remote\.test/);
  assert.match(listing.stdout, /batch@corp\.test/);
  const bp = await exec(c.bin, ['-bp'], { env: c.env });
  const noAge = (x: string): string => x.replace(/\d\d:\d\d:\d\d/g, 'hh:mm:ss');
  assert.equal(noAge(bp.stdout), noAge(listing.stdout), 'sendmail -bp is mailq (the AGE column ticks)');
  assert.equal(c.target.mails.length, 0);
  refuse = false;
  const q = await exec(c.bin, ['-q'], { env: c.env });
  assert.equal(q.code, 0, q.stderr);
  await c.target.waitFor(1, 30_000);
  assert.deepEqual(c.target.mails[0]!.rcpts.map((r) => r.address), ['slow@remote.test']);
});

test('mailq with no gateway running: a clear line and EX_UNAVAILABLE (69), not a stack', async (t) => {
  if (!existsSync(join(ROOT, 'dist/cli/sendmail-classic.js'))) {
    if (inCI) throw new Error('dist/ is missing (run npm run build)');
    t.skip('dist/ is missing (run npm run build)');
    return;
  }
  const dir = tempDir(t);
  const { path } = writeConfig(dir, 'TargetServer { TargetIP 127.0.0.1 }');
  mkdirSync(join(dir, 'bin'));
  symlinkSync(join(ROOT, 'bin/spoolgate.js'), join(dir, 'bin', 'mailq'));
  const r = await exec(join(dir, 'bin', 'mailq'), [], { env: { ...process.env, SPOOLGATE_CONFIG: path } });
  assert.equal(r.code, 69, r.stderr);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.match(r.stderr, /not running|cannot reach|no instance|connect/i);
});
