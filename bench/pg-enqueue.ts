// Relayed mail accepted per second on PostgreSQL ([P2] #19, docs/cluster.md "Group commit of
// message entries"): the real receiver (startReceiver, RelayMode All) on 127.0.0.1 port 0 whose
// relayed mail goes, as main.ts wires it with Store Backend PostgreSQL, through StoreMessageQueue
// into the shared queue (PgQueueStore.enqueueMessage). SESSIONS clients each send PER messages of
// 4 KB one after the other (MAIL, RCPT, DATA; 250 = committed). No forwarder. Prints the wall time,
// msg/s, this process's CPU, the committed transactions (distinct xmin of the stored rows) and
// checks that every message is stored.
//
//   SPOOLGATE_TEST_PG_URL=… node --import tsx bench/pg-enqueue.ts [sessions] [per-session]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import pg from 'pg';
import { Logger } from '../src/log/index.js';
import { startReceiver } from '../src/receiver/index.js';
import { StoreMessageQueue } from '../src/spool/message-queue.js';
import { PgPool } from '../src/store/pg/pool.js';
import { migrate } from '../src/store/pg/migrations.js';
import { PgQueueStore } from '../src/store/pg/queue.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import { writeConfig } from '../src/testing/gateway.js';

const SESSIONS = Number(process.argv[2] ?? '20');
const PER = Number(process.argv[3] ?? '50');
const url = process.env.SPOOLGATE_TEST_PG_URL;
if (!url) throw new Error('SPOOLGATE_TEST_PG_URL is not set');
const schema = `b_${randomBytes(6).toString('hex')}`;
const admin = new pg.Client({ connectionString: url });
await admin.connect();
await admin.query(`CREATE SCHEMA "${schema}"`);
const dir = mkdtempSync(join(tmpdir(), 'spoolgate-pg-enqueue-'));
const db = new PgPool({ url, poolSize: 8, statementTimeoutMs: 30_000, schema, applicationName: 'bench pg-enqueue' });
try {
  await migrate(db);
  const queue = new StoreMessageQueue(new PgQueueStore(db, { node: 'a', leaseSeconds: 30 }), () => ({ writer: 'CSSMTP', hostName: 'bench' }));
  delete process.env.SPOOLGATE_TEST_BACKEND;
  const { config } = writeConfig(dir, 'TargetServer { TargetIP 127.0.0.1 }\nReceiver {\n Listen 127.0.0.1:0\n HostName mx.local.test\n LocalDomain local.test\n RelayMode All\n MaxConnections 100\n MaxConnectionsPerIP 100\n}\n');
  const store = openSqliteStore(join(dir, 'rx.db'));
  const rx = await startReceiver({
    config, store, log: Logger.silent(), listen: [{ host: '127.0.0.1', port: 0 }],
    resolver: { resolveAddresses: async () => [], resolveMx: async () => [], resolve4: async () => [] },
    spoolSubmit: async (m) => (await queue.enqueue({ envelope: m.envelope, data: m.data, origin: { kind: 'receiver', ...m.origin }, jobName: 'RECEIVER' })).id,
  });
  const port = rx.addresses()[0]!.port;
  const body = `Subject: bench\r\n\r\n${'x'.repeat(76).concat('\r\n').repeat(52)}.\r\n`;
  const session = async (s: number): Promise<void> => {
    const sock = connect({ port, host: '127.0.0.1' });
    sock.setEncoding('latin1');
    let buf = '';
    const waiters: ((line: string) => void)[] = [];
    sock.on('data', (d: string) => {
      buf += d;
      for (let nl = buf.indexOf('\r\n'); nl >= 0; nl = buf.indexOf('\r\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        if (line[3] !== '-') waiters.shift()?.(line);
      }
    });
    const reply = (): Promise<string> => new Promise((r) => waiters.push(r));
    const cmd = async (c: string, want: string): Promise<void> => {
      const p = reply();
      sock.write(c);
      const line = await p;
      if (!line.startsWith(want)) throw new Error(`${c.trim().slice(0, 20)}: ${line}`);
    };
    const greet = reply();
    await new Promise<void>((res, rej) => { sock.once('connect', res); sock.once('error', rej); });
    await greet;
    await cmd('EHLO bench.test\r\n', '250');
    for (let i = 0; i < PER; i++) {
      await cmd('MAIL FROM:<job@corp.test>\r\n', '250');
      await cmd(`RCPT TO:<r${s}.${i}@remote.test>\r\n`, '250');
      await cmd('DATA\r\n', '354');
      await cmd(body, '250');
    }
    await cmd('QUIT\r\n', '221');
    sock.end();
  };
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: SESSIONS }, (_, s) => session(s)));
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const n = (await db.query<{ n: number; x: number }>(`SELECT count(*)::int AS n, count(DISTINCT xmin::text)::int AS x FROM queue_entries WHERE kind = 'message'`)).rows[0]!;
  if (n.n !== SESSIONS * PER) throw new Error(`${n.n} entries stored, not ${SESSIONS * PER}`);
  console.log(JSON.stringify({ sessions: SESSIONS, messages: n.n, transactions: n.x, wallSeconds: +wall.toFixed(3), perSecond: +(n.n / wall).toFixed(1), cpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(3) }));
  await rx.close();
  store.close();
} finally {
  await db.close();
  await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
  await admin.end();
  rmSync(dir, { recursive: true, force: true });
}
