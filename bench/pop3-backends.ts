// POP3 reading on either store backend ([P2] #19, docs/cluster.md "Users, mailboxes and the
// journal"): a gateway (startServices) with Pop3 on 127.0.0.1 port 0 and a mailbox of COUNT
// messages of 50 KB delivered through the store's deliver(); one client logs in and RETRieves
// every message (no DELE), ROUNDS times. Prints, per round, the wall time and this process's CPU
// (server and client share it) of the RETR loop; checks the bytes.
//
//   node --import tsx bench/pop3-backends.ts sqlite|postgresql [count] [rounds]
// postgresql needs SPOOLGATE_TEST_PG_URL (a schema of its own, dropped at the end).
const backend = process.argv[2] ?? 'sqlite';
const COUNT = Number(process.argv[3] ?? '300');
const ROUNDS = Number(process.argv[4] ?? '3');
process.env.SPOOLGATE_TEST_BACKEND = backend;

const { mkdtempSync, rmSync } = await import('node:fs');
const { tmpdir } = await import('node:os');
const { join } = await import('node:path');
const { writeConfig } = await import('../src/testing/gateway.js');
const { startServices } = await import('../src/main.js');
const { Logger } = await import('../src/log/index.js');
const { Pop3TestClient } = await import('../src/testing/pop3-client.js');

const SIZE = 50 * 1024;
function message(i: number): Buffer {
  const head = `From: job@corp.test\r\nTo: alice@local.test\r\nSubject: pop3 read ${i}\r\n\r\n`;
  const lines: string[] = [];
  for (let n = 0, len = head.length; len < SIZE; n++, len += 78) lines.push(`${String(n).padStart(6, '0')} ${String.fromCharCode(0x41 + (i % 26)).repeat(69)}`);
  return Buffer.from(head + lines.join('\r\n') + '\r\n', 'latin1');
}

const dir = mkdtempSync(join(tmpdir(), 'spoolgate-pop3-read-'));
try {
  const { config } = writeConfig(dir, 'TargetServer { TargetIP 127.0.0.1 }\nPop3 {\n Listen 127.0.0.1:0\n AllowPlaintext YES\n}\n');
  const services = await startServices(config, { log: Logger.silent() });
  try {
    const store = services.store!;
    await store.users.addUser('alice', 'bench-secret');
    const sent: Buffer[] = [];
    for (let i = 0; i < COUNT; i += 10) {
      const batch = Array.from({ length: Math.min(10, COUNT - i) }, (_, k) => message(i + k));
      sent.push(...batch);
      await Promise.all(batch.map((m) => store.mailboxes.deliver('alice', m)));
    }
    const port = services.listening.find((l) => l.role === 'pop3')!.port;
    for (let round = 1; round <= ROUNDS; round++) {
      const c = await Pop3TestClient.connect(port);
      await c.readLine(); // the greeting
      await c.cmd('USER alice');
      await c.cmd('PASS bench-secret');
      const list = await c.multi('LIST');
      if (list.lines.length !== COUNT) throw new Error(`LIST: ${list.lines.length} messages, not ${COUNT}`);
      let bytes = 0;
      const cpu0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      for (let i = 1; i <= COUNT; i++) {
        const r = await c.multi(`RETR ${i}`);
        bytes += r.raw.length;
        if (i === 1 || i === COUNT) {
          // (Delivered ten at a time: the mailbox's order is the order the deliveries committed.)
          const got = r.lines.join('\r\n') + '\r\n';
          const k = Number(/^Subject: pop3 read (\d+)$/m.exec(got)?.[1]);
          if (got !== sent[k]?.toString('latin1')) throw new Error(`RETR ${i}: the bytes differ from message ${k} as delivered`);
        }
      }
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      const cpu = process.cpuUsage(cpu0);
      await c.cmd('QUIT');
      console.log(JSON.stringify({ backend, round, messages: COUNT, bytes, wallSeconds: +wall.toFixed(3), cpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(3) }));
    }
  } finally {
    await services.stop();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
