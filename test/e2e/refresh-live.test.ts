// [Q1] acceptance, "one configuration source": a REFRESH reaches the running receiver, POP3
// server and logger, not only D,CONFIG. Each test starts a real instance (startServices), talks to
// it with real clients (raw-socket SMTP, the POP3 test client), edits the configuration file and
// runs `spoolgate modify --config FILE REFRESH` as an operator does, then checks the very next
// connection, message or log line.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '../../src/log/index.js';
import { startServices, type Services } from '../../src/main.js';
import { tempDir } from '../../src/testing/peers.js';
import { Pop3TestClient } from '../../src/testing/pop3-client.js';
import { spoolgateCli, until, writeConfig } from '../../src/testing/gateway.js';
import { RawSmtp, sendOne } from './receiver-harness.js';

interface Live {
  readonly services: Services;
  readonly path: string;
  readonly dir: string;
  port(role: 'smtp' | 'pop3'): number;
  /** Rewrites the configuration file and runs REFRESH; returns the console answer. */
  refresh(edit: (text: string) => string): Promise<string>;
}

/** A Receiver block on 127.0.0.1 port 0 with local domain local.test; `more` goes inside it. */
const receiver = (more = ''): string => `Receiver {\n Listen 127.0.0.1:0\n HostName mx.local.test\n LocalDomain local.test\n${more}}\n`;

async function live(t: TestContext, body: string, opts: { log?: Logger } = { log: Logger.silent() }): Promise<Live> {
  const dir = tempDir(t, 'spoolgate-refresh-live-');
  const { path, config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 }\n${body}`);
  const services = await startServices(config, opts.log === undefined ? {} : { log: opts.log });
  t.after(() => services.stop());
  await services.store?.users.addUser('alice', 'secret-alice');
  return {
    services, path, dir,
    port: (role) => {
      const l = services.listening.find((x) => x.role === role);
      assert.ok(l, `no ${role} listener`);
      return l.port;
    },
    refresh: async (edit) => {
      const before = readFileSync(path, 'utf8');
      const after = edit(before);
      assert.notEqual(after, before, 'the edit changes the file');
      writeFileSync(path, after);
      const r = await spoolgateCli('modify', '--config', path, 'REFRESH');
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /EZD1848I TEST MODIFY REFRESH COMMAND COMPLETED/);
      assert.doesNotMatch(r.stdout, /EZD1843I/, 'nothing ignored');
      return r.stdout;
    },
  };
}

const message = (subject: string): Buffer => Buffer.from(`From: s@client.test\r\nTo: alice@local.test\r\nSubject: ${subject}\r\n\r\nbody of ${subject}\r\n`);

async function subjectsIn(s: Services, user: string): Promise<string[]> {
  const out: string[] = [];
  for (const m of await s.store!.mailboxes.list(user)) {
    const data = await s.store!.mailboxes.read(user, m.id);
    out.push(/^Subject: (.*)$/m.exec(data?.toString('latin1') ?? '')?.[1]?.trim() ?? '?');
  }
  return out.sort();
}

test('REFRESH: a new Discard filter applies to the next message', async (t) => {
  const g = await live(t, receiver());
  const port = g.port('smtp');
  let r = await sendOne(port, 's@client.test', ['alice@local.test'], message('cheap pills 1'));
  assert.equal(r.data?.code, 250);
  assert.deepEqual(await subjectsIn(g.services, 'alice'), ['cheap pills 1'], 'no filter yet: delivered');

  const answer = await g.refresh((c) => `${c}Filter { Subject "*pills*" Action Discard }\n`);
  assert.match(answer, /EZD1840I TEST UPDATED CONFIGURATION/);
  r = await sendOne(port, 's@client.test', ['alice@local.test'], message('cheap pills 2'));
  assert.equal(r.data?.code, 250, 'a discarded message is accepted (the client must not retry it)');
  r = await sendOne(port, 's@client.test', ['alice@local.test'], message('lunch'));
  assert.equal(r.data?.code, 250);
  // accept() resolves after the mailbox copy is durable, so the 250 above means "stored".
  assert.deepEqual(await subjectsIn(g.services, 'alice'), ['cheap pills 1', 'lunch'], 'the matching message was discarded, the other delivered');
  const journal = await g.services.store!.journal.query({ type: 'filtered' });
  assert.equal(journal.length, 1);
  assert.match(journal[0]?.detail ?? '', /subject "\*pills\*" matched "cheap pills 2": discarded/);
});

test('REFRESH: RelayMode None → AddressList → None (relay refused, allowed, refused)', async (t) => {
  const g = await live(t, receiver(' RelayMode None\n'));
  const port = g.port('smtp');
  const relayRcpt = async (): Promise<number> => {
    const { c } = await RawSmtp.open(port);
    try {
      await c.cmd('EHLO client.test');
      assert.equal((await c.cmd('MAIL FROM:<s@client.test>')).code, 250);
      return (await c.cmd('RCPT TO:<far@remote.test>')).code;
    } finally {
      await c.quit();
    }
  };
  assert.equal(await relayRcpt(), 550, 'RelayMode None');
  await g.refresh((c) => c.replace('RelayMode None', 'RelayMode AddressList\n RelayAddress 127.0.0.0/8'));
  assert.equal(g.services.gateway.config().receiver?.relayMode, 'addressList');
  assert.equal(await relayRcpt(), 250, 'RelayMode AddressList with the client listed');
  await g.refresh((c) => c.replace('RelayMode AddressList\n RelayAddress 127.0.0.0/8', 'RelayMode None'));
  assert.equal(await relayRcpt(), 550, 'RelayMode None again');
});

test('REFRESH: a new DenyAddress refuses the next connection', async (t) => {
  const g = await live(t, receiver());
  const port = g.port('smtp');
  const first = await RawSmtp.open(port);
  assert.equal(first.greeting.code, 220);
  await first.c.quit();

  await g.refresh((c) => c.replace(' LocalDomain local.test\n', ' LocalDomain local.test\n DenyAddress 127.0.0.0/8\n'));
  const second = await RawSmtp.open(port);
  try {
    assert.equal(second.greeting.code, 554, second.greeting.text);
    assert.match(second.greeting.text, /5\.7\.1/);
  } finally {
    second.c.destroy();
  }
  const refused = await g.services.store!.journal.query({ type: 'connection-refused' });
  assert.equal(refused.length, 1);
});

test('REFRESH: Pop3 AllowPlaintext YES → NO (USER/PASS over a plain connection accepted, then refused)', async (t) => {
  const g = await live(t, 'Pop3 {\n Listen 127.0.0.1:0\n AllowPlaintext YES\n}\n');
  const port = g.port('pop3');
  const login = async (): Promise<[string, string]> => {
    const c = await Pop3TestClient.connect(port);
    try {
      assert.match(await c.readLine(), /^\+OK/);
      const user = await c.cmd('USER alice');
      const pass = user.startsWith('+OK') ? await c.cmd('PASS secret-alice') : '';
      await c.cmd('QUIT');
      return [user, pass];
    } finally {
      await c.close();
    }
  };
  const [user1, pass1] = await login();
  assert.match(user1, /^\+OK/);
  assert.match(pass1, /^\+OK alice has 0 messages/);

  await g.refresh((c) => c.replace('AllowPlaintext YES', 'AllowPlaintext NO'));
  const [user2] = await login();
  assert.equal(user2, '-ERR [AUTH] plaintext authentication is disabled on an unencrypted connection: use STLS first');
});

test('REFRESH: LogFormat Text → Json, then a new LogFile (the next lines are JSON, in the new file)', async (t) => {
  const dir = tempDir(t, 'spoolgate-refresh-log-');
  const logFile = join(dir, 'log', 'gw.log');
  const g = await live(t, `${receiver()}LogLevel 15\nLogFile ${logFile}\nLogFormat Text\n`, {});
  const lines = (file: string): string[] => (existsSync(file) ? readFileSync(file, 'utf8') : '').split('\n').slice(0, -1);
  const isJson = (l: string): boolean => { try { return typeof JSON.parse(l) === 'object'; } catch { return false; } };
  await until('text lines in the log file', () => lines(logFile).some((l) => / event listener\.started role=smtp /.test(l)));
  assert.ok(lines(logFile).every((l) => !isJson(l)), 'text before the REFRESH');
  const textLines = lines(logFile).length;

  await g.refresh((c) => c.replace('LogFormat Text', 'LogFormat Json'));
  // The next event: a connection (LogLevel 8 logs smtp.connect).
  await (await RawSmtp.open(g.port('smtp'))).c.quit();
  await until('smtp.connect in JSON', () => lines(logFile).slice(textLines).some((l) => isJson(l) && (JSON.parse(l) as { event: string }).event === 'smtp.connect'));
  const after = lines(logFile).slice(textLines);
  assert.deepEqual(after.filter((l) => !isJson(l)), [], 'every line after the REFRESH is JSON');

  const newFile = join(dir, 'log2', 'gw.log');
  await g.refresh((c) => c.replace(`LogFile ${logFile}`, `LogFile ${newFile}`));
  await (await RawSmtp.open(g.port('smtp'))).c.quit();
  await until('smtp.connect in the new file', () => lines(newFile).some((l) => isJson(l) && (JSON.parse(l) as { event: string }).event === 'smtp.connect'));
  const oldCount = lines(logFile).length;
  await (await RawSmtp.open(g.port('smtp'))).c.quit();
  await until('a second smtp.connect in the new file', () => lines(newFile).filter((l) => l.includes('"smtp.connect"')).length >= 2);
  assert.equal(lines(logFile).length, oldCount, 'nothing more is written to the old file');
});
