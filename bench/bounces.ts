// The R3 audit scenario for bounces (issue #22, item 7): one batch file whose messages are all
// rejected 550 by recipient, plus one message whose recipient gets 451 (long retry), 4 spool
// tasks. Measures how long the gateway takes to drain everything but the long-retry message
// (every DSN delivered, the spool holding only the job file or nothing else), how many spool
// entries the DSNs took, and how long each task was held by the job file while all its remaining
// mail sat in long retry (task occupancy, sampled every 20 ms).
// Usage: node --import tsx bench/bounces.ts  [env MESSAGES=1000 RCPTS=5 CONNECT_LIMIT=4 FILES=1 INTERVAL=10]
// FILES > 1 splits the messages over that many job files, each ending with its own 451 message
// (so, before R3 item 7, FILES ≥ 4 held every task for an Interval, minutes).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '../src/log/index.js';
import { startGateway } from '../src/gateway.js';
import { FakeSmtpServer } from '../src/testing/fake-smtp-server.js';
import { submitText, writeConfig } from '../src/testing/gateway.js';

const messages = Number(process.env.MESSAGES ?? '1000');
const rcpts = Number(process.env.RCPTS ?? '5');
const connectLimit = Number(process.env.CONNECT_LIMIT ?? '4');
const files = Number(process.env.FILES ?? '1');
const interval = Number(process.env.INTERVAL ?? '10');

const target = await FakeSmtpServer.start({ rcpt: (a) => (a.startsWith('bad') ? '550 5.1.1 no such user' : a.startsWith('slow') ? '451 4.3.0 try later' : undefined) });
const dir = mkdtempSync(join(tmpdir(), 'bench-bounces-'));
const { config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${target.port} ConnectLimit ${connectLimit} }\nRetryLimit { Count 1 Interval ${interval} }`);
let entriesSeen = 0;
const log = Logger.create({ sink: { write: (r) => { if (r.event === 'spool.start') entriesSeen++; } }, instance: 'BENCH', level: 7 });
const gw = await startGateway(config, { log });
await gw.forwarder.start();

const job = (from: number, to: number): string => {
  let text = 'HELO JOBHOST\r\n';
  for (let i = from; i <= to; i++) {
    text += 'MAIL FROM:<job@corp.test>\r\n';
    for (let r = 1; r <= rcpts; r++) text += `RCPT TO:<bad${r}.${i}@remote.test>\r\n`;
    text += `DATA\r\nSubject: bounce ${i}\r\n\r\nbody ${i}\r\n.\r\n`;
  }
  return text + 'MAIL FROM:<job@corp.test>\r\nRCPT TO:<slow@remote.test>\r\nDATA\r\nSubject: long retry\r\n\r\nbody\r\n.\r\nQUIT\r\n';
};

const t0 = performance.now();
const per = Math.ceil(messages / files);
const jobIds = new Set<string>();
for (let f = 0; f < files; f++) jobIds.add(await submitText(config, job(f * per + 1, Math.min(messages, (f + 1) * per)), `BOUNCE${f}`));
// Task occupancy: per task, ms busy with any file, and ms holding the job file with every
// remaining message of it in long retry (pinned).
const busy = gw.forwarder.tasks.map(() => 0);
const pinned = gw.forwarder.tasks.map(() => 0);
let last = performance.now();
const sampler = setInterval(() => {
  const now = performance.now();
  gw.forwarder.tasks.forEach((t, i) => {
    if (t.state === 'IDLE') return;
    busy[i]! += now - last;
    if (t.entry !== undefined && jobIds.has(t.entry.id) && t.counters.pend > 0 && t.counters.pend === t.counters.lrt) pinned[i]! += now - last;
  });
  last = now;
}, 20);
const dsns = (): number => target.messages.filter((m) => m.from === '').length;
// The spool is listed only once every DSN arrived: a listing inspects every entry, and polling it
// would add its own load to what is measured.
const drainedOnce = async (): Promise<boolean> => dsns() >= messages && (await gw.queue.list()).every((e) => jobIds.has(e.id));
while (!(await drainedOnce())) {
  await new Promise((r) => setTimeout(r, 50));
  if (performance.now() - t0 > 900_000) throw new Error(`not drained after 900 s: ${dsns()} DSNs`);
}
const drained = performance.now() - t0;
clearInterval(sampler);
const s = (ms: number): string => (ms / 1000).toFixed(1);
console.log(JSON.stringify({
  messages, recipientsRejected: messages * rcpts, files, intervalMinutes: interval, connectLimit, tasks: gw.forwarder.tasks.length,
  drainSeconds: Number(s(drained)), dsnsDelivered: dsns(), spoolEntriesRead: entriesSeen,
  taskBusySeconds: busy.map((b) => Number(s(b))), taskPinnedByLongRetrySeconds: pinned.map((p) => Number(s(p))),
  parkedFiles: gw.forwarder.parkedFiles?.().length ?? 0, currentRetry: gw.forwarder.counters.currentRetry,
}));
await gw.stop();
await target.close();
rmSync(dir, { recursive: true, force: true });
