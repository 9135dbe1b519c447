// [P2] #19 on the real PostgreSQL 15: accounting, HTTP tokens and dead letters shared by two nodes
// (two gateways, each its own spool and state directory, one database schema):
// - an accounting record written by A is listed by `spoolgate accounting` on B, with node=a;
// - the HTTP token made on A authenticates on B's HTTP API (curl); a wrong one does not;
// - a dead letter made by A (a target that answers 5xx, DeadLetterAction Store) is listed by
//   `spoolgate deadletter list` on B and resent from B; hostile ids are refused on B.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Logger } from '../../src/log/index.js';
import { startServices, type Services } from '../../src/main.js';
import { FaultTarget } from '../../src/testing/fault-target.js';
import { tempDir } from '../../src/testing/peers.js';
import { needPostgres, type TestDatabase } from '../../src/testing/pg.js';
import { submitText, until, writeConfig } from '../../src/testing/gateway.js';
import { runCli } from '../../src/testing/cli.js';
import { migrate } from '../../src/store/pg/migrations.js';
import { run as accountingCli } from '../../src/cli/accounting.js';
import { runDeadLetter } from '../../src/cli/queue.js';
import type { Config } from '../../src/config/index.js';

const run = promisify(execFile);

interface Node { readonly name: string; readonly services: Services; readonly config: Config; readonly path: string; readonly httpPort: number; readonly token: string }

async function node(t: TestContext, tdb: TestDatabase, name: string, targetPort: number): Promise<Node> {
  const dir = tempDir(t);
  const u = new URL(tdb.url);
  const passwordFile = join(dir, 'db.password');
  writeFileSync(passwordFile, decodeURIComponent(u.password) + '\n', { mode: 0o600 });
  u.password = '';
  const { path, config } = writeConfig(dir, `
    TargetServer { TargetIP 127.0.0.1 ConnectPort ${targetPort} ConnectLimit 2 }
    Http { Listen 127.0.0.1:0 }
    RetryLimit { Count 0 Interval 1 }
    SMF119 { CONFIG YES MAIL YES }
    Undeliverable { DeadLetterAction Store }
    Store { Backend PostgreSQL Url ${u.toString()} PasswordFile ${passwordFile} Schema ${tdb.schema} Node ${name} LeaseTime 10 Heartbeat 2 PoolSize 4 }`);
  const services = await startServices(config, { log: process.env.GW_LOG ? undefined : Logger.silent() });
  t.after(() => services.stop());
  const httpPort = services.listening.find((l) => l.role === 'http')!.port;
  const token = readFileSync(join(config.stateDirectory, 'http.token'), 'utf8').trim();
  return { name, services, config, path, httpPort, token };
}

async function curl(port: number, token: string, path: string, method = 'GET'): Promise<{ status: number; body: string }> {
  const { stdout } = await run('curl', ['-s', '-X', method, '-w', '\n%{http_code}', '-H', `Authorization: Bearer ${token}`, `http://127.0.0.1:${port}${path}`]);
  const i = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(i + 1)), body: stdout.slice(0, i) };
}

test('two nodes on one schema share accounting, HTTP tokens and dead letters', async (t) => {
  const tdb = await needPostgres(t);
  if (tdb === undefined) return;
  await migrate(tdb.pool());
  const refuse = new Map<string, string>([['hard@remote.test', '550 5.1.1 no such user']]);
  const target = await FaultTarget.start({ rcpt: (a) => refuse.get(a.replace(/^<|>$/g, '').toLowerCase()) });
  t.after(() => target.close());
  const a = await node(t, tdb, 'a', target.port);
  const b = await node(t, tdb, 'b', target.port);
  const env = { ...process.env, SPOOLGATE_STORE_PASSWORD: '' };

  // Tokens: each node its own file; A's works on B, a wrong or over-long one does not.
  assert.notEqual(a.token, b.token);
  assert.equal((await curl(b.httpPort, a.token, '/api/v1/display/targets')).status, 200);
  assert.equal((await curl(a.httpPort, b.token, '/api/v1/display/targets')).status, 200);
  for (const wrong of ['abc', a.token.slice(0, -1), a.token + 'x', 'x'.repeat(4000)]) {
    assert.equal((await curl(b.httpPort, wrong, '/api/v1/display/targets')).status, 401, wrong.slice(0, 20));
  }

  // Only A sends: a null-sender message to an address the target refuses is a dead letter of A.
  await a.services.gateway.forwarder.start();
  await submitText(a.config, [
    'HELO JOBHOST', 'MAIL FROM:<>', 'RCPT TO:<hard@remote.test>', 'DATA',
    'From: job@corp.test', 'To: hard@remote.test', 'Subject: DEADONE', 'Message-ID: <deadone@corp.test>', '', 'body', '.', 'QUIT', '',
  ].join('\r\n'), 'DEADJOB');
  let list = '';
  await until('B lists the dead letter A made', async () => {
    const r = await runCli(runDeadLetter, ['list', '--config', b.path], { env });
    list = r.stdout;
    return /hard@remote\.test/.test(list);
  });

  // Accounting: A's MAIL record (deadletter) and both CONFIG records, listed on B.
  await until('the MAIL record is in the table', async () => {
    const r = await runCli(accountingCli, ['--config', b.path, '--type', 'MAIL', '--json'], { env });
    return r.code === 0 && r.stdout.includes('DEADJOB');
  });
  const acct = await runCli(accountingCli, ['--config', b.path, '--json'], { env });
  assert.equal(acct.code, 0, acct.stderr);
  const records = acct.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const mail = records.find((r) => r.name === 'MAIL' && r.jobName === 'DEADJOB')!;
  assert.equal(mail.node, 'a');
  assert.equal(mail.result, 'undeliverable');
  assert.deepEqual(records.filter((r) => r.name === 'CONFIG').map((r) => r.node).sort(), ['a', 'b']);
  const readable = await runCli(accountingCli, ['--config', b.path, '--job', 'DEADJOB'], { env });
  assert.match(readable.stdout, / 50 MAIL +node=a .*DEADJOB.* undeliverable /);

  // Hostile dead-letter ids on B: refused, nothing touched.
  for (const id of ['12345', '../../etc/passwd', "x'; DROP TABLE dead_letters; --"]) {
    const r = await curl(b.httpPort, b.token, `/api/v1/deadletters/${encodeURIComponent(id)}/requeue`, 'POST');
    assert.equal(r.status, 400, `${id}: ${r.body}`);
  }
  const dead = (JSON.parse((await curl(b.httpPort, b.token, '/api/v1/deadletters')).body) as { items: { id: string }[] }).items;
  assert.equal(dead.length, 1);

  // The address exists now: B resends the dead letter (B's forwarder sends it) and it is gone for A too.
  refuse.clear();
  await b.services.gateway.forwarder.start();
  const letterId = /\b([0-9a-z]{20})\b/.exec(list)?.[1];
  assert.ok(letterId !== undefined, list);
  const rq = await runCli(runDeadLetter, ['requeue', letterId, '--config', b.path, '--reason', 'user exists now'], { env });
  assert.equal(rq.code, 0, rq.stdout + rq.stderr);
  await target.waitFor('the resent dead letter', () => target.accepted.some((m) => m.recipients.includes('hard@remote.test')));
  assert.equal(await a.services.gateway.deadLetters.count(), 0);
  assert.doesNotMatch((await runCli(runDeadLetter, ['list', '--config', a.path], { env })).stdout, /hard@remote\.test/);
});
