// O1 #17: quarantined mail (the receiver's Filter Keep) released and bounced by the operator,
// across the roles: a real SMTP client hands mail to the receiver, a filter keeps it, the
// operator acts through REST, the CLI (control socket) and the console's route, and the
// forwarder sends the released copy to nodemailer's smtp-server (an implementation nobody here
// wrote), which must get the accepted bytes and envelope exactly. Then kill -9 at each step of a
// release (a real gateway process, receiver/release.ts steps) and a restart: the copy arrives
// once, never twice, and the quarantine is empty.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '../../src/log/index.js';
import { startServices, type Services } from '../../src/main.js';
import { run as queueCli } from '../../src/cli/queue.js';
import { runCli } from '../../src/testing/cli.js';
import { until, writeConfig } from '../../src/testing/gateway.js';
import { tempDir } from '../../src/testing/peers.js';
import type { QueueItem } from '../../src/queue/index.js';
import type { Config } from '../../src/config/index.js';
import { RawSmtp } from './receiver-harness.js';
import { belowOurReceived, startRelayTarget, type RelayTarget } from './relay-harness.js';

const CHILD = join(import.meta.dirname, 'quarantine-release-child.ts');

function configFor(dir: string, targetPort: number, extra = ''): { path: string; config: Config } {
  return writeConfig(dir, `
    TargetServer { TargetIP 127.0.0.1 ConnectPort ${targetPort} ConnectLimit 2 }
    RetryLimit { Count 2 Interval 1 }
    Receiver {
      Listen 127.0.0.1:0
      HostName mx.gw.test
      LocalDomain local.test
      RelayMode AddressList
      RelayAddress 127.0.0.1/32
    }
    Filter { Subject *ILOVEYOU* Action Keep }
    ${extra}`);
}

/** The message body as sent (dot-stuffed on the wire, this unstuffed): 8-bit, a leading dot, a long line. */
function message(tag: string): Buffer {
  return Buffer.concat([
    Buffer.from(`From: eve@far.test\r\nTo: bob@remote.test\r\nSubject: ILOVEYOU ${tag}\r\nMessage-ID: <${tag}@far.test>\r\n\r\n`, 'latin1'),
    Buffer.from('Gr\u00fc\u00dfe \u2014 kept by the filter\r\n.a line that starts with a dot\r\n', 'utf8'),
    Buffer.from(`${'x'.repeat(900)}\r\nend ${tag}\r\n`, 'latin1'),
  ]);
}

/** Sends one message that the filter keeps; resolves with the bytes sent. */
async function sendKept(port: number, tag: string): Promise<Buffer> {
  const { c, greeting } = await RawSmtp.open(port);
  assert.equal(greeting.code, 220);
  assert.equal((await c.send('EHLO client.test')).code, 250);
  assert.equal((await c.send(`MAIL FROM:<eve@far.test> BODY=8BITMIME ENVID=${tag}-env`)).code, 250);
  assert.equal((await c.send('RCPT TO:<bob@remote.test> NOTIFY=FAILURE ORCPT=rfc822;bob@remote.test')).code, 250);
  assert.equal((await c.send('DATA')).code, 354);
  const body = message(tag);
  const stuffed = Buffer.from(body.toString('latin1').replace(/\r\n\./g, '\r\n..') + '.\r\n', 'latin1');
  const r = await c.send(stuffed);
  assert.equal(r.code, 250, r.text);
  await c.send('QUIT');
  return body;
}

function checkArrived(target: RelayTarget, n: number, tag: string, sent: Buffer): void {
  const m = target.mails[n]!;
  assert.deepEqual(belowOurReceived(m.data), sent, 'the released copy is the accepted bytes, byte for byte');
  assert.equal(m.from, 'eve@far.test');
  assert.deepEqual(m.rcpts.map((r) => r.address), ['bob@remote.test']);
  assert.deepEqual(m.rcpts[0]!.notify, ['FAILURE'], 'NOTIFY kept');
  assert.equal(m.envid, `${tag}-env`, 'ENVID kept');
  assert.equal(m.bodyType, '8bitmime');
}

async function quarantined(path: string): Promise<QueueItem[]> {
  const r = await runCli(queueCli, ['list', '--config', path, '--json', '--state', 'quarantined']);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { items: QueueItem[] }).items;
}

test('quarantine: release over REST reaches smtp-server byte-exact, bounce by CLI notifies the sender, hold is a clear 409', async (t) => {
  const target = await startRelayTarget(t);
  const dir = tempDir(t);
  const { path, config } = configFor(dir, target.port, 'Http { Listen 127.0.0.1:0 }');
  const services: Services = await startServices(config, { log: process.env.GW_LOG ? undefined : Logger.silent() });
  t.after(() => services.stop());
  await services.gateway.forwarder.start();
  const rx = services.listening.find((l) => l.role === 'smtp')!;
  const http = services.listening.find((l) => l.role === 'http')!;
  const token = readFileSync(join(config.stateDirectory, 'http.token'), 'utf8').trim();
  const api = async (method: string, p: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
    const r = await fetch(`http://127.0.0.1:${http.port}${p}`, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    return { status: r.status, body: await r.json() as Record<string, unknown> };
  };

  const sent = await sendKept(rx.port, 'rel1');
  let items = await quarantined(path);
  assert.equal(items.length, 1);
  const qid = items[0]!.id;
  assert.equal(target.mails.length, 0, 'kept, not sent');

  // Hold and retry do not apply to kept mail: a 409 that says what does.
  const hold = await api('POST', `/api/v1/queue/${qid}/hold`, { reason: 'x' });
  assert.equal(hold.status, 409);
  assert.match(String(hold.body.error), /can be released \(sent on\), bounced \(the sender is notified\) or deleted/);

  // Release (the console's row action posts the same route).
  const rel = await api('POST', `/api/v1/queue/${qid}/release`, { reason: 'false positive', operator: 'dora' });
  assert.equal(rel.status, 200, JSON.stringify(rel.body));
  assert.deepEqual(await quarantined(path), [], 'out of the quarantine once the copy is durable');
  assert.deepEqual(readdirSync(join(config.stateDirectory, 'quarantine')), []);
  await target.waitFor(1);
  checkArrived(target, 0, 'rel1', sent);
  const journal = await services.store!.journal.query({ id: qid });
  const released = journal.find((e) => e.type === 'queue.release');
  assert.ok(released, JSON.stringify(journal));
  assert.equal(released.user, 'http:dora');
  assert.match(released.detail ?? '', /released: sent on as spool entry \S+, queue id [0-9a-f]{12}-1; by http:dora: false positive$/);
  assert.equal((await api('POST', `/api/v1/queue/${qid}/release`, {})).status, 404, 'a second release finds nothing');

  // Bounce through the CLI: the sender gets a failure notice (to eve@far.test, through the target).
  await sendKept(rx.port, 'bnc1');
  items = await quarantined(path);
  assert.equal(items.length, 1);
  const b = await runCli(queueCli, ['bounce', items[0]!.id, '--config', path, '--reason', 'phishing', '--yes'], { env: { ...process.env, USER: 'carol' } });
  assert.equal(b.code, 0, b.stderr + b.stdout);
  await target.waitFor(2);
  const dsn = target.mails[1]!;
  assert.equal(dsn.from, '', 'a notification has the null sender');
  assert.deepEqual(dsn.rcpts.map((r) => r.address), ['eve@far.test']);
  const text = dsn.data.toString('latin1');
  assert.match(text, /Status: 5\.7\.1/);
  assert.match(text, /phishing/);
  assert.match(text, /Subject: ILOVEYOU bnc1/, 'the notice names the refused message');
  assert.deepEqual(await quarantined(path), []);
  const bounced = (await services.store!.journal.query({ id: items[0]!.id })).find((e) => e.type === 'queue.bounce');
  assert.match(bounced?.detail ?? '', /bounced: refused; the sender is notified; by modify:carol: phishing$/);
});

interface Child { readonly child: ChildProcess; readonly out: () => string }

function startChild(path: string, step: string): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, path, step], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let errText = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { errText += d; });
  return { child, out: () => out + errText };
}

async function kill9(c: ChildProcess): Promise<void> {
  const gone = new Promise<void>((r) => { if (c.exitCode !== null || c.signalCode !== null) r(); else c.once('exit', () => r()); });
  c.kill('SIGKILL');
  await gone;
}

// kill -9 after each durable step of a release; the restart finishes it: one copy, never two.
for (const step of ['marked', 'staged', 'copies', 'removed'] as const) {
  test(`kill -9 at release step "${step}": after the restart the copy reaches the target once and the quarantine is empty`, async (t: TestContext) => {
    const target = await startRelayTarget(t);
    const dir = tempDir(t);
    const { path, config } = configFor(dir, target.port);
    const c = startChild(path, step);
    t.after(() => { c.child.kill('SIGKILL'); });
    await until('child ready', () => /READY \d+/.test(c.out()), 60_000);
    const port = Number(/READY (\d+)/.exec(c.out())![1]);
    const sent = await sendKept(port, `k${step}`);
    const items = await quarantined(path);
    assert.equal(items.length, 1);
    const release = runCli(queueCli, ['release', items[0]!.id, '--config', path, '--reason', 'crash test', '--timeout', '60']);
    await until(`child at ${step}`, () => c.out().includes(`AT ${step}`), 60_000);
    await kill9(c.child);
    assert.equal((await release).code, 1, 'the CLI saw the instance go away');

    const services = await startServices(config, { log: process.env.GW_LOG ? undefined : Logger.silent() });
    t.after(() => services.stop());
    // The receiver finished the release before it listened (release.ts recover()).
    const qdir = join(config.stateDirectory, 'quarantine');
    assert.deepEqual(existsSync(qdir) ? readdirSync(qdir) : [], [], 'nothing left in the quarantine');
    await services.gateway.forwarder.start();
    await target.waitFor(1);
    checkArrived(target, 0, `k${step}`, sent);
    // Everything the restart found is sent: the queue is empty and the target got one copy.
    await until('queue empty', async () => (await services.gateway.queueView.list({ limit: 100, offset: 0 })).total === 0);
    await until('spool task idle', () => services.gateway.forwarder.tasks.every((x) => x.entry === undefined));
    assert.equal(target.mails.length, 1, 'one copy, never two');
  });
}
