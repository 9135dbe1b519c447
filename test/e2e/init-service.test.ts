// O2 #18 item 3: `spoolgate init` lays out a production install, the systemd unit passes
// `systemd-analyze verify`, and the gateway then runs from that layout as the non-root service
// user: a message queued with `sendmail` by that user reaches a real SMTP server, SIGHUP is a
// REFRESH (the process keeps running), SIGTERM stops it with exit 0. `start` refuses a state
// directory inside an installed package (a reinstall would delete it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runCli } from '../../src/testing/cli.js';
import { run as init, layoutUnder } from '../../src/cli/init.js';
import { insidePackage } from '../../src/cli/start.js';
import { isRoot, inCI, tempDir } from '../../src/testing/peers.js';
import { startRelayTarget } from './relay-harness.js';

const ROOT = resolve(import.meta.dirname, '../..');

test('init --dry-run changes nothing and says what it would do', async (t) => {
  const prefix = join(tempDir(t), 'root');
  const r = await runCli(init, ['--prefix', prefix, '--dry-run']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\(dry run\) write .*etc\/spoolgate\/spoolgate\.conf/);
  assert.equal(existsSync(prefix), false);
  const bad = await runCli(init, ['--user', 'Bad User']);
  assert.equal(bad.code, 2);
});

test('start refuses a StateDirectory inside an installed package, not inside a checkout', () => {
  assert.equal(insidePackage('/usr/lib/node_modules/spoolgate/var/state', '/usr/lib/node_modules/spoolgate'), '/usr/lib/node_modules/spoolgate');
  assert.equal(insidePackage('/var/lib/spoolgate', '/usr/lib/node_modules/spoolgate'), undefined);
  assert.equal(insidePackage('/home/me/spoolgate/var/state', '/home/me/spoolgate'), undefined, 'a checkout (npm start) keeps var/ inside');
});

test('init --user: layout, modes, a verified systemd unit; the gateway runs from it as that user', async (t) => {
  if (!isRoot) {
    if (inCI) throw new Error('CI runs as root: init --user needs it');
    t.skip('needs root (useradd, runuser)');
    return;
  }
  const user = `sgt${process.pid % 100000}`;
  const producers = `sgp${process.pid % 100000}`;
  t.after(() => { spawnSync('userdel', [user]); spawnSync('groupdel', [producers]); });
  const dir = tempDir(t);
  chmodSync(dir, 0o755);
  const prefix = join(dir, 'root');
  const r = await runCli(init, ['--prefix', prefix, '--user', user, '--producers', producers]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const l = layoutUnder(prefix);
  const uid = Number(spawnSync('id', ['-u', user], { encoding: 'utf8' }).stdout);
  assert.ok(uid > 0, 'service user created');
  for (const [path, mode] of [[l.spool, 0o2710], [l.state, 0o700], [l.logDir, 0o750]] as const) {
    const st = statSync(path);
    assert.equal(st.mode & 0o7777, mode, path);
    assert.equal(st.uid, uid, path);
  }
  const producerGid = Number(spawnSync('getent', ['group', producers], { encoding: 'utf8' }).stdout.split(':')[2]);
  assert.equal(statSync(l.spool).gid, producerGid, 'the spool root belongs to the producers\' group');
  assert.equal(statSync(l.config).mode & 0o777, 0o640);
  const conf = readFileSync(l.config, 'utf8');
  assert.match(conf, new RegExp(`^StateDirectory ${l.state}$`, 'm'));
  assert.match(conf, new RegExp(`^LogFile ${l.logFile}$`, 'm'));
  assert.match(conf, /^\s*Demo\s+NO$/m, 'no demo user in production');
  // A second run keeps the configuration.
  writeFileSync(l.config, conf + '# edited by the admin\n');
  const again = await runCli(init, ['--prefix', prefix, '--user', user, '--producers', producers]);
  assert.equal(again.code, 0);
  assert.match(readFileSync(l.config, 'utf8'), /# edited by the admin\n$/);

  const verify = spawnSync('systemd-analyze', ['verify', l.unit], { encoding: 'utf8' });
  assert.equal(verify.status, 0, `systemd-analyze verify: ${verify.stderr}`);
  assert.equal(verify.stderr.split('\n').filter((x) => x.includes('spoolgate.service')).join('\n'), '', 'no warning about the unit');

  // The admin's edits: the smart host, and ports of our own choosing (no fixed ports in tests).
  const target = await startRelayTarget(t);
  const edited = readFileSync(l.config, 'utf8')
    .replace(/TargetIP(\s+)127\.0\.0\.1\n(\s*)ConnectPort(\s+)2525/, `TargetIP$1127.0.0.1\n$2ConnectPort$3${target.port}`)
    .replace(/127\.0\.0\.1:(2525|1110|8025)/g, '127.0.0.1:0')
    .replace(/RescanInterval 5/, 'RescanInterval 1');
  writeFileSync(l.config, edited);
  const node = process.execPath;
  const bin = join(ROOT, 'bin/spoolgate.js');
  // setpriv execs the gateway itself (no runuser in between), so the signals below reach it.
  const child = spawn('setpriv', ['--reuid', user, '--regid', user, '--init-groups', node, bin, 'start', '--config', l.config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  await new Promise<void>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`not running after 60 s: ${out}`)), 60_000);
    const check = (): void => { if (out.includes(': running')) { clearTimeout(timer); done(); } };
    child.stdout.on('data', check);
    void exited.then((c) => { clearTimeout(timer); fail(new Error(`start exited ${c}: ${out}`)); });
  });
  const sent = spawnSync('setpriv', ['--reuid', user, '--regid', user, '--init-groups', node, bin, 'sendmail', '-C', l.config, '-i', 'ops@remote.test'], { input: 'Subject: from the service layout\n\nhello\n', encoding: 'utf8' });
  assert.equal(sent.status, 0, sent.stderr);
  await target.waitFor(1);
  assert.equal(target.mails[0]!.from, `${user}@example.test`);
  assert.ok(!existsSync(join(l.state, 'demo.password')), 'no demo user made');
  assert.match(target.mails[0]!.data.toString(), /\r\n\r\nhello\r\n$/);
  // systemctl reload: SIGHUP is a REFRESH; the gateway keeps running and says so in its log.
  const logged = (re: RegExp): Promise<void> => new Promise((done, fail) => {
    const until = Date.now() + 60_000;
    const tick = (): void => {
      if (existsSync(l.logFile) && re.test(readFileSync(l.logFile, 'utf8'))) done();
      else if (Date.now() > until) fail(new Error(`no ${String(re)} in ${l.logFile} within 60 s`));
      else setTimeout(tick, 50);
    };
    tick();
  });
  child.kill('SIGHUP');
  await logged(/operator\.command command=REFRESH ok=true/);
  assert.equal(child.exitCode, null, 'still running after SIGHUP');
  child.kill('SIGTERM');
  assert.equal(await exited, 0, out);
});
