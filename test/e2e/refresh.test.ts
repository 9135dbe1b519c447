// F5 acceptance, REFRESH against a running gateway (startServices, the real refresh path, and
// `spoolgate modify` as a child process): a TargetServer change while mail flows loses nothing —
// mail held at the old target's final dot finishes there, the rest goes to the new target; an
// ExtWrtName change is ignored with a warning; a valid LogLevel change is applied; a file with an
// error is rejected whole and the configuration in force stays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { Logger } from '../../src/log/index.js';
import { startServices } from '../../src/main.js';
import { FakeSmtpServer } from '../../src/testing/fake-smtp-server.js';
import { tempDir } from '../../src/testing/peers.js';
import { accountingRecords } from '../../src/testing/records.js';
import { batchFile, spoolgateCli, submitText, subjects, until, writeConfig } from '../../src/testing/gateway.js';



/**
 * The old target: nodemailer's smtp-server (an independent implementation). It accepts the first
 * `free` messages at once and holds every later one at the final dot until released.
 */
async function gatedServer(t: import('node:test').TestContext, free: number): Promise<{ port: number; accepted: string[]; held: (() => void)[] }> {
  const accepted: string[] = [];
  const held: (() => void)[] = [];
  const srv = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'], authOptional: true, logger: false,
    onData(stream, _session, cb) {
      const parts: Buffer[] = [];
      stream.on('data', (d: Buffer) => parts.push(d));
      stream.on('end', () => {
        const subject = /Subject: (\S+ message \d+)/.exec(Buffer.concat(parts).toString('latin1'))?.[1] ?? '?';
        const answer = (): void => { accepted.push(subject); cb(null); };
        if (accepted.length < free) answer();
        else held.push(answer);
      });
    },
  });
  await new Promise<void>((done) => srv.listen(0, '127.0.0.1', () => done()));
  t.after(() => new Promise<void>((done) => { for (const h of held.splice(0)) h(); srv.close(() => done()); }));
  const a = srv.server.address();
  return { port: typeof a === 'object' && a !== null ? a.port : 0, accepted, held };
}

test('REFRESH while mail flows: TargetServer change loses nothing, ExtWrtName ignored with a warning, LogLevel applied, a bad file rejected whole', async (t) => {
  const oldTarget = await gatedServer(t, 20);
  const newTarget = await FakeSmtpServer.start({});
  t.after(() => newTarget.close());
  const dir = tempDir(t);
  const { path, config } = writeConfig(dir, `
    TargetServer { TargetIP 127.0.0.1 ConnectPort ${oldTarget.port} ConnectLimit 2 }
    RetryLimit { Count 5 Interval 1 }
    SMF119 { CONFIG YES }
    LogLevel 7`);
  const services = await startServices(config, { log: Logger.silent() });
  t.after(() => services.stop());
  // Runs before stop() (hooks run last-registered first): a failed test must not leave mail held.
  t.after(() => { for (const h of oldTarget.held.splice(0)) h(); });
  const gw = services.gateway;
  await gw.forwarder.start();

  const N = 60;
  await submitText(config, batchFile('FLOW', N).text, 'FLOWJOB');
  // 20 accepted, then both connections sit at the final dot: two messages in flight.
  await until('two messages held at the old target', () => oldTarget.held.length === 2);

  const original = readFileSync(path, 'utf8');
  writeFileSync(path, original
    .replace('ExtWrtName TESTW', 'ExtWrtName NEWW')
    .replace(`ConnectPort ${oldTarget.port}`, `ConnectPort ${newTarget.port}`)
    .replace('LogLevel 7', 'LogLevel 15'));
  let r = await spoolgateCli('modify', '--config', path, 'REFRESH');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  // The file now names writer NEWW, but the running instance keeps the socket it started with.
  assert.match(r.stderr, /note: .*NEWW\.sock does not exist; using .*TESTW\.sock/);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines[0], 'EZD1834I TEST MODIFY COMMAND ACCEPTED');
  assert.match(lines[1] ?? '', /^EZD1843I TEST REFRESH IGNORED EXTWRTNAME CHANGE : /);
  assert.equal(lines.at(-1), 'EZD1848I TEST MODIFY REFRESH COMMAND COMPLETED');
  assert.ok(lines.includes('EZD1840I TEST UPDATED CONFIGURATION'), r.stdout);
  assert.equal(gw.config().extWrtName, 'TESTW', 'ExtWrtName is not refreshable: the old value stays');
  assert.equal(gw.config().logLevel, 15);
  assert.equal(gw.log.level, 15);
  assert.equal(gw.config().targetServers[0]?.connectPort, newTarget.port);

  // The two in-flight messages finish on their old connections; nothing else goes there.
  for (const h of oldTarget.held.splice(0)) h();
  await until('every message delivered', () => oldTarget.accepted.length + newTarget.messages.length >= N);
  await until('spool file finished', async () => (await gw.queue.list()).length === 0);
  assert.equal(oldTarget.accepted.length, 22, '20 before REFRESH plus the 2 in flight');
  assert.equal(oldTarget.held.length, 0, 'no new mail reached the removed target');
  const seen = subjects(newTarget);
  for (const s of oldTarget.accepted) seen.set(s, (seen.get(s) ?? 0) + 1);
  const missing = Array.from({ length: N }, (_, i) => `FLOW message ${i + 1}`).filter((s) => !seen.has(s));
  assert.deepEqual(missing, [], 'no message lost');
  assert.deepEqual([...seen.entries()].filter(([, n]) => n > 1), [], 'and none sent twice');

  const config48 = (await accountingRecords(path, gw.accounting, '--type', 'CONFIG') as { name: string; reason?: string; changed?: string[]; logLevel?: number }[])
    .filter((x) => x.reason === 'refresh');
  assert.equal(config48.length, 1);
  assert.deepEqual([...(config48[0]?.changed ?? [])].sort(), ['LogLevel', 'TargetServer']);
  assert.equal(config48[0]?.logLevel, 15);

  // A file with an error: the whole REFRESH is rejected, naming file and line; nothing changes.
  const good = readFileSync(path, 'utf8');
  writeFileSync(path, good.replace('LogLevel 15', 'LogLevel 3').replace(`ConnectPort ${newTarget.port}`, 'ConnectPort 99999'));
  // `modify --config` checks the file first and stops there, without contacting the instance:
  r = await spoolgateCli('modify', '--config', path, 'REFRESH');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /spoolgate\.conf:\d+: TargetServer ConnectPort: value 99999 out of range/);
  // the instance itself, asked over its socket, rejects the whole file too.
  r = await spoolgateCli('modify', '--socket', config.controlSocket, 'REFRESH');
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^EZD1844E TEST REFRESH REJECTED : .*spoolgate\.conf:\d+.*ConnectPort/m);
  assert.match(r.stdout, /CONFIGURATION NOT CHANGED/);
  assert.equal(gw.config().logLevel, 15, 'the valid LogLevel change in the same file was not applied either');
  assert.equal(gw.config().targetServers[0]?.connectPort, newTarget.port);
  // A UserExit module that cannot be loaded is an error like any other: the whole file is refused.
  writeFileSync(path, good.replace('LogLevel 15', 'LogLevel 3') + `UserExit ${join(dir, 'no-such-exit.mjs')}\n`);
  r = await spoolgateCli('modify', '--config', path, 'REFRESH');
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^EZD1844E TEST REFRESH REJECTED : .*spoolgate\.conf: UserExit .*no-such-exit\.mjs cannot be used: NOT LOADED/m);
  assert.equal(gw.config().logLevel, 15);
  assert.equal(gw.config().userExit, null);
  writeFileSync(path, good);

  // Mail still flows to the target in force.
  await submitText(config, batchFile('AFTER', 3).text, 'AFTERJOB');
  await until('mail after the rejected REFRESH delivered', () => subjects(newTarget).has('AFTER message 3') && subjects(newTarget).has('AFTER message 1'));
});
