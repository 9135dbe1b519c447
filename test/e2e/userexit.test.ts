// F5 item 5 acceptance: the user exit end to end — a real gateway (startGateway) reading spool
// files and delivering to a FakeSmtpServer, with exit modules run in worker threads. Each answer's
// effect on the mail (what reaches the server) and on the spool file (finished or held, report
// content); MAIL FROM replacement; a throwing and a hanging exit; USEREXIT and REFRESH taking
// effect at the next spool file, while a file being read keeps its exit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import type { Config } from '../../src/config/index.js';
import { FakeSmtpServer } from '../../src/testing/fake-smtp-server.js';
import { tempDir } from '../../src/testing/peers.js';
import { batchFile, disposedJob, runGateway, subjects, submitText, until, writeConfig } from '../../src/testing/gateway.js';
import type { Gateway } from '../../src/main.js';

const SAMPLE = resolve(import.meta.dirname, '../../examples/userexit-sender.mjs');
const ME = userInfo().username;

// Decides by the Subject the batchFile() helper writes: "<TAG> message <n>".
const BY_SUBJECT = `
export default async function (ev) {
  if (ev.kind !== 'mail') return 'CONTINUE';
  const [, tag, n] = /Subject: (\\S+) message (\\d+)/.exec(ev.headers) ?? [];
  switch (tag) {
    case 'ACC': return 'ACCEPT';
    case 'CONT': return 'CONTINUE';
    case 'RMAIL': return n === '2' ? { action: 'REJECT_MAIL', reason: 'message 2 refused' } : 'ACCEPT';
    case 'RFILE': return n === '2' ? { action: 'REJECT_FILE', reason: 'stop here' } : 'ACCEPT';
    case 'FROM': return { action: 'ACCEPT', mailFrom: ev.job.originUser + '@corp.example' };
    case 'THROW': throw new Error('exit bug');
    case 'HANG': while (true) {}
    default: return 'CONTINUE';
  }
}
`;

interface Disposed { held: boolean; report: string }

/**
 * Waits until the gateway is done with the job's spool file (its SPOOL record), then tells whether
 * it was held and what its report says — through the gateway's held files, on both backends.
 */
async function disposed(gw: Gateway, job: string): Promise<Disposed> {
  const o = await disposedJob(gw, job);
  assert.equal(o.held, o.disposition === 'held', `job ${job}: the SPOOL record (${o.disposition}) and the held files agree`);
  return { held: o.held, report: o.report };
}

/** Submits a file as job `job` and waits until it is finished or held. */
async function run(gw: Gateway, config: Config, text: string, job: string): Promise<Disposed> {
  await submitText(config, text, job);
  return disposed(gw, job);
}

test('each answer: what reaches the server, and whether the file is finished or held with a report', async (t) => {
  const server = await FakeSmtpServer.start();
  t.after(() => server.close());
  const dir = tempDir(t);
  const exit = join(dir, 'ux.mjs');
  writeFileSync(exit, BY_SUBJECT);
  // The timeout also bounds loading the module in its worker: on a loaded CI machine that took
  // over 1.5 s once, and the well-behaved exits failed. Only HANG waits it out.
  const { config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${server.port} }\nUserExit ${exit}\nUserExitTimeout 6000\nBadSpoolDisp Hold\nReport Sysout\nSMF119 { SPOOL YES }`);
  const gw = await runGateway(config);
  t.after(() => gw.stop());

  const tags = [['ACC', 2], ['CONT', 2], ['RMAIL', 3], ['RFILE', 3], ['FROM', 1], ['THROW', 1], ['HANG', 1]] as const;
  for (const [tag, n] of tags) await submitText(config, batchFile(tag, n).text, `J${tag}`);
  const d = new Map<string, Disposed>();
  for (const [tag] of tags) d.set(tag, await disposed(gw, `J${tag}`));

  // What reached the server: once each, nothing of the rejected mail or after REJECT_FILE.
  const seen = subjects(server);
  assert.deepEqual([...seen.keys()].sort(), [
    'ACC message 1', 'ACC message 2', 'CONT message 1', 'CONT message 2', 'FROM message 1',
    'RFILE message 1', 'RMAIL message 1', 'RMAIL message 3',
  ]);
  assert.ok([...seen.values()].every((n) => n === 1), 'each mail once');

  // Files: accepted ones finished without a report; rejections and failures held and reported.
  for (const tag of ['ACC', 'CONT', 'FROM']) assert.deepEqual(d.get(tag), { held: false, report: '' }, tag);
  for (const tag of ['RMAIL', 'RFILE', 'THROW', 'HANG']) assert.equal(d.get(tag)?.held, true, `${tag} held`);
  assert.match(d.get('RMAIL')!.report, /\s2\s+550 5\.7\.1 Rejected by user exit ux\.mjs: message 2 refused\n/);
  assert.match(d.get('RFILE')!.report, /550 5\.7\.1 Rejected by user exit ux\.mjs: stop here; the rest of the spool file is not processed/);
  assert.doesNotMatch(d.get('RFILE')!.report, /\s3\s+550/, 'message 3 was never read');
  assert.match(d.get('THROW')!.report, /451 4\.3\.0 User exit ux\.mjs failed \(throw\): Error: exit bug; mail and the rest of the spool file not sent \(UserExitFailure REJECT_FILE\)/);
  assert.match(d.get('HANG')!.report, /451 4\.3\.0 User exit ux\.mjs failed \(timeout\): no answer within 6000 ms/);

  // MAIL FROM replaced by the exit; the others keep the job's sender.
  const from = server.messages.find((m) => m.data.toString('latin1').includes('Subject: FROM message 1'))?.from;
  assert.equal(from, `${ME}@corp.example`);
  assert.ok(server.messages.filter((m) => !m.data.toString('latin1').includes('Subject: FROM')).every((m) => m.from === 'job@corp.test'));

  // The hung exit did not stop the gateway: a later file through the same exits is delivered.
  assert.deepEqual(await run(gw, config, batchFile('ACCLATE', 1).text, 'JLATE'), { held: false, report: '' });
  assert.equal(subjects(server).get('ACCLATE message 1'), 1);
  const c = gw.forwarder.tasks.reduce((s, x) => ({ rejected: s.rejected + x.exitCounters.rejected, failures: s.failures + x.exitCounters.failures }), { rejected: 0, failures: 0 });
  assert.deepEqual(c, { rejected: 2, failures: 2 });
});

test('UserExitFailure CONTINUE: a throwing exit lets the mail go, and the file is still reported', async (t) => {
  const server = await FakeSmtpServer.start();
  t.after(() => server.close());
  const dir = tempDir(t);
  const exit = join(dir, 'ux.mjs');
  writeFileSync(exit, BY_SUBJECT);
  const { config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${server.port} }\nUserExit ${exit}\nUserExitFailure CONTINUE\nSMF119 { SPOOL YES }`);
  const gw = await runGateway(config);
  t.after(() => gw.stop());
  const d = await run(gw, config, batchFile('THROW', 2).text, 'JTHROW');
  assert.deepEqual(Object.fromEntries(subjects(server)), { 'THROW message 1': 1, 'THROW message 2': 1 });
  assert.equal(d.held, true);
  assert.match(d.report, /451 4\.3\.0 User exit ux\.mjs failed \(throw\): Error: exit bug; mail sent without the exit's decision \(UserExitFailure CONTINUE\)/);
});

test('USEREXIT and REFRESH take effect at the next spool file; a file being read keeps its exit', async (t) => {
  const server = await FakeSmtpServer.start();
  t.after(() => server.close());
  const dir = tempDir(t);
  const { config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${server.port} }\nUserExitTimeout 20000\nBadSpoolDisp Hold\nReport Sysout\nSMF119 { SPOOL YES }`);
  const gw = await runGateway(config);
  t.after(() => gw.stop());
  const fromOf = (tag: string): string[] => server.messages.filter((m) => m.data.toString('latin1').includes(`Subject: ${tag} message`)).map((m) => m.from);

  // NONE: the job's sender goes unchanged.
  assert.deepEqual(await run(gw, config, batchFile('NONE', 1).text, 'JNONE'), { held: false, report: '' });
  assert.deepEqual(fromOf('NONE'), ['job@corp.test']);

  // A module that does not load is refused with the reason; the exit in force stays NONE.
  const bad = await gw.setUserExit(join(dir, 'missing.mjs'));
  assert.equal(bad.ok, false);
  assert.match(bad.ok ? '' : bad.error, /missing\.mjs NOT LOADED: /);
  assert.equal(gw.userExit(), null);

  // The sample sender-verification exit: a foreign sender is rewritten to the origin user,
  // a colleague's address in the domain is refused. Modules come only from UserExitDirectory
  // (default: the configuration file's folder), so the sample is copied there.
  const outside = await gw.setUserExit(SAMPLE);
  assert.match(outside.ok ? '' : outside.error, /REFUSED: not inside UserExitDirectory/);
  const sample = join(dir, 'userexit-sender.mjs');
  copyFileSync(SAMPLE, sample);
  assert.deepEqual(await gw.setUserExit(sample), { ok: true, value: undefined });
  assert.equal(gw.userExit(), sample);
  assert.deepEqual(await run(gw, config, batchFile('SAMPLE', 2).text, 'JSAMPLE'), { held: false, report: '' });
  assert.deepEqual(fromOf('SAMPLE'), [`${ME}@corp.example`, `${ME}@corp.example`]);
  const posing = batchFile('POSE', 1).text.replace('MAIL FROM:<job@corp.test>', 'MAIL FROM:<boss@corp.example>');
  const pd = await run(gw, config, posing, 'JPOSE');
  assert.equal(pd.held, true);
  assert.match(pd.report, new RegExp(`550 5\\.7\\.1 Rejected by user exit userexit-sender\\.mjs: sender boss@corp\\.example is not the job's origin user ${ME}@corp\\.example`));
  assert.deepEqual(fromOf('POSE'), []);

  // A file being read keeps the exit it started with: the exit holds message 1 until the test
  // has switched USEREXIT to NONE; message 2 still goes through it, the next file does not.
  const marker = join(dir, 'reading');
  const go = join(dir, 'go');
  const gate = join(dir, 'gate.mjs');
  writeFileSync(gate, `
    import { existsSync, writeFileSync } from 'node:fs';
    export default async function (ev) {
      if (ev.kind !== 'mail') return 'CONTINUE';
      if (ev.messageNo === 1) {
        writeFileSync(${JSON.stringify(marker)}, '');
        while (!existsSync(${JSON.stringify(go)})) await new Promise((r) => setTimeout(r, 10));
      }
      return { action: 'ACCEPT', mailFrom: 'gate@corp.example' };
    }`);
  assert.equal((await gw.setUserExit(gate)).ok, true);
  await submitText(config, batchFile('GATED', 2).text, 'JGATED');
  await until('the exit holds message 1', () => existsSync(marker), 30_000);
  assert.equal((await gw.setUserExit(null)).ok, true);
  writeFileSync(go, '');
  assert.deepEqual(await disposed(gw, 'JGATED'), { held: false, report: '' });
  assert.deepEqual(fromOf('GATED'), ['gate@corp.example', 'gate@corp.example']);
  assert.deepEqual(await run(gw, config, batchFile('AFTER', 1).text, 'JAFTER'), { held: false, report: '' });
  assert.deepEqual(fromOf('AFTER'), ['job@corp.test']);

  // REFRESH: the new file's UserExit is in force from the next spool file.
  gw.applyConfig({ ...gw.config(), userExit: SAMPLE });
  assert.equal(gw.userExit(), SAMPLE);
  assert.deepEqual(await run(gw, config, batchFile('REFRESHED', 1).text, 'JREFR'), { held: false, report: '' });
  assert.deepEqual(fromOf('REFRESHED'), [`${ME}@corp.example`]);
});
