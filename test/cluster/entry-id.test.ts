// [P2] #19 on the real PostgreSQL 15: a stored entry keeps the id it was given (docs/cluster.md
// "Spool entry ids on the shared queue"). Two gateway nodes in this process (startServices, each
// its own spool, state directory and control socket, one schema):
// - a batch file written into node A's spool is stored in the shared queue under its spool entry
//   id: on node B, `spoolgate journal --id <that id>` shows its messages' attempts (`<id>#<n>`),
//   and the queue tools (D,QUEUE over the control socket) list and show it under the queue id made
//   from that entry id; after the target accepts again it is delivered once, and the journal on B
//   shows each message delivered once;
// - a message relayed by A's receiver is known by what its 250 and the journal's "queued" event
//   name: B's journal follows the 250's id to the queued event, and B's D,QUEUE,ID= with the queue
//   id that event names finds the entry;
// - a file of the same spool entry id in both nodes' spools: the first stored keeps the id, the
//   other is `<id>@<node>`; each is listed, journaled and delivered once under its own name.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Logger } from '../../src/log/index.js';
import { startServices, type Services } from '../../src/main.js';
import { sendCommand, type ControlResponse } from '../../src/control/index.js';
import { newId, queueIdFor } from '../../src/core/ids.js';
import { run as journalCli } from '../../src/cli/journal.js';
import { captureIo } from '../../src/testing/cli.js';
import { smtpSend } from '../../src/testing/cluster-nodes.js';
import { FakeSmtpServer } from '../../src/testing/fake-smtp-server.js';
import { tempDir } from '../../src/testing/peers.js';
import { needPostgres, type TestDatabase } from '../../src/testing/pg.js';
import { batchFile, submitText, until, writeConfig } from '../../src/testing/gateway.js';
import { migrate } from '../../src/store/pg/migrations.js';
import { submitToSpool } from '../../src/spool/submit.js';
import type { Config } from '../../src/config/index.js';
import { storeLine } from './service-nodes.js';

interface Node { readonly name: string; readonly path: string; readonly config: Config; readonly services: Services }

async function start(t: TestContext, tdb: TestDatabase, name: string, target: number, receiver: boolean): Promise<Node> {
  const { path, config } = writeConfig(join(tempDir(t, `spoolgate-eid-${name}-`)), [
    `TargetServer { TargetIP 127.0.0.1 ConnectPort ${target} }`,
    'RetryLimit { Count 5 Interval 1 }',
    storeLine(tdb, name),
    ...(receiver ? [`Receiver { Listen 127.0.0.1:0 HostName mx.${name}.test LocalDomain local.test RelayMode AddressList RelayAddress 127.0.0.1/32 }`] : []),
  ].join('\n'));
  const services = await startServices(config, { log: process.env.GW_LOG ? undefined : Logger.silent() });
  t.after(() => services.stop());
  await services.gateway.forwarder.start();
  return { name, path, config, services };
}

async function cmd(n: Node, line: string): Promise<ControlResponse> {
  const r = await sendCommand(n.config.controlSocket, line, { timeoutMs: 60_000 });
  assert.ok(r.ok, `${n.name} ${line}: ${r.ok ? '' : r.error}`);
  return r.value;
}

/** `spoolgate journal --id <id>` with the node's configuration (the shared journal). */
async function journal(n: Node, id: string): Promise<string[]> {
  const io = captureIo();
  assert.equal(await journalCli(['--config', n.path, '--id', id], io), 0, io.err());
  return io.out().split('\n').filter((l) => l !== '');
}

type Item = { id: string; state: string; jobName: string; jobId: string; node?: string };

test('a file written into node A\'s spool is known on node B by its spool entry id (journal, queue tools) and delivered once; relayed mail by the id its 250 and "queued" event give', { timeout: 300_000 }, async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  await migrate(tdb.pool());
  let refuse = true;
  const srv = await FakeSmtpServer.start({ rcpt: () => (refuse ? '451 4.3.0 try later' : undefined) });
  t.after(() => srv.close());
  const a = await start(t, tdb, 'a', srv.port, true);
  const b = await start(t, tdb, 'b', srv.port, false);

  // The job writes into A's spool; A stores it (the file leaves A's spool), some node tries it
  // (451) and releases it for long retry.
  const entry = await submitText(a.config, batchFile('EID', 2).text, 'EIDJOB');
  const items = async (n: Node, q = 'D,QUEUE'): Promise<Item[]> => ((await cmd(n, q)).data as { items: Item[] }).items;
  let file: Item | undefined;
  await until('node B lists the file in long retry', async () => { file = (await items(b)).find((x) => x.jobName === 'EIDJOB' && x.state === 'retry'); return file !== undefined; });
  // A file released for long retry is listed per waiting message (its id as in memory, message
  // 1 or 2); a file no node has tried as message 0: either way made from A's spool entry id.
  assert.ok([0, 1, 2].some((no) => file!.id === queueIdFor(entry, file!.jobId, no)), `B's queue id is made from A's spool entry id ${entry}: ${JSON.stringify(file)}`);
  const shown = await cmd(b, `D,QUEUE,ID=${file!.id}`);
  assert.ok(shown.ok, shown.lines.join('\n'));
  assert.equal((shown.data as { item: Item }).item.jobName, 'EIDJOB');

  // B's journal, by the spool entry id: the attempts of both messages, under <entry>#<n>.
  let lines: string[] = [];
  await until('B\'s journal shows both messages tried', async () => { lines = await journal(b, entry); return [1, 2].every((n) => lines.some((l) => l.includes(` ${entry}#${n} `))); });
  assert.ok(lines.every((l) => l.includes(` ${entry}#`)), lines.join('\n'));

  // Relayed mail on A's receiver: the 250 names the message, the journal's "queued" event the
  // entry and its queue id, and B finds the entry by that queue id.
  const port = a.services.listening.find((l) => l.role === 'smtp')!.port;
  const sent = await smtpSend(port, 'me@client.test', 'far@remote.test', Buffer.from('From: me@client.test\r\nSubject: RLY message 1\r\n\r\nhello\r\n'));
  assert.equal(sent.code, 250, sent.text);
  const received = /queued as (\S+)/.exec(sent.text)?.[1];
  assert.ok(received !== undefined, sent.text);
  const trace = await journal(b, received);
  const queued = trace.map((l) => /queued for relay as spool entry (\S+), queue id (\S+)$/.exec(l)).find((m) => m !== null);
  assert.ok(queued, trace.join('\n'));
  const [, relayEntry, relayQid] = queued;
  await until('node B shows the relayed entry by the queue id of the queued event', async () => {
    const r = await sendCommand(b.config.controlSocket, `D,QUEUE,ID=${relayQid}`, { timeoutMs: 60_000 });
    return r.ok && r.value.ok;
  });
  assert.match(relayEntry!, /^[0-9a-z]{20}$/, 'a spool entry id, as a local message entry has');

  // The target accepts again; B makes the next attempts now: every message delivered once.
  refuse = false;
  // Both entries released for long retry: listed per waiting message (the file's two, the relayed one).
  await until('the three messages in long retry', async () => (await items(b, 'D,QUEUE,STATE=RETRY')).length === 3);
  const fl = await cmd(b, 'FLUSHRETRY,TKID=0');
  assert.ok(fl.ok, fl.lines.join('\n'));
  const subjects = (): string[] => srv.messages.map((m) => /Subject: (\S+ message \d+)/.exec(m.data.toString('latin1'))?.[1] ?? '?');
  await until('all three messages at the target', () => subjects().length >= 3);
  await until('the queue is empty on B', async () => ((await cmd(b, 'D,QUEUE')).data as { total: number }).total === 0);
  assert.deepEqual(subjects().sort(), ['EID message 1', 'EID message 2', 'RLY message 1'], 'each once');
  const done = (await journal(b, entry)).filter((l) => l.split(/\s+/)[1] === 'delivered');
  assert.deepEqual(done.map((l) => /#(\d+) /.exec(l)?.[1]).sort(), ['1', '2'], done.join('\n'));
});

test('two nodes\' spools with a file of the same spool entry id: the first stored keeps the id, the other is <id>@<node>; both found by their names on either node and delivered once', { timeout: 300_000 }, async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  await migrate(tdb.pool());
  let refuse = true;
  const srv = await FakeSmtpServer.start({ rcpt: () => (refuse ? '451 4.3.0 try later' : undefined) });
  t.after(() => srv.close());
  const a = await start(t, tdb, 'a', srv.port, false);
  const b = await start(t, tdb, 'b', srv.port, false);
  // The spools are separate directories: nothing stops a job on each node from using one name.
  const id = newId();
  for (const [n, tag] of [[a, 'TWA'], [b, 'TWB']] as const) {
    await submitToSpool({ root: n.config.spool.directory, writer: n.config.extWrtName, data: Buffer.from(batchFile(tag, 1).text, 'latin1'), attrs: { jobName: `${tag}JOB`, recordFormat: 'text', encoding: 'ISO8859-1' }, id });
  }
  const items = async (n: Node, q = 'D,QUEUE'): Promise<Item[]> => ((await cmd(n, q)).data as { items: Item[] }).items;
  let files: Item[] = [];
  await until('both files in long retry', async () => { files = (await items(a, 'D,QUEUE,STATE=RETRY')).filter((x) => x.jobName.startsWith('TW')); return files.length === 2; });
  // Each file's queue id is made from its name: the id itself for one, <id>@<its node> for the other.
  const nameOf = (x: Item): string => {
    const node = x.jobName === 'TWAJOB' ? 'a' : 'b';
    // Listed per waiting message once released for long retry (message 1), or as the file (0).
    const name = [id, `${id}@${node}`].find((c) => [0, 1].some((no) => queueIdFor(c, x.jobId, no) === x.id));
    assert.ok(name !== undefined, `${JSON.stringify(x)} is named neither ${id} nor ${id}@${node}`);
    return name;
  };
  const names = files.map(nameOf).sort();
  assert.equal(names.filter((x) => x === id).length, 1, `exactly one keeps the id: ${names.join(' ')}`);
  // The journal on either node tells them apart by name.
  for (const name of names) {
    let lines: string[] = [];
    await until(`journal of ${name}`, async () => { lines = await journal(b, name); return lines.length > 0; });
    assert.ok(lines.every((l) => l.includes(` ${name}#1 `)), lines.join('\n'));
  }
  refuse = false;
  for (const x of files) assert.ok((await cmd(b, `RETRY,ID=${x.id},BY=ops`)).ok);
  const subjects = (): string[] => srv.messages.map((m) => /Subject: (\S+ message \d+)/.exec(m.data.toString('latin1'))?.[1] ?? '?');
  await until('both at the target', () => subjects().length >= 2);
  await until('the queue is empty', async () => ((await cmd(a, 'D,QUEUE')).data as { total: number }).total === 0);
  assert.deepEqual(subjects().sort(), ['TWA message 1', 'TWB message 1'], 'each once');
});
