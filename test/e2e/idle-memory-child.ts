// Child process for idle-memory.test.ts (not a test file): an SMTP server, a POP3 server and the
// HTTP listener on 127.0.0.1 port 0, each with connection limits above the test's 200 so that
// every idle connection is accepted and held, and timeouts long enough that none is closed while
// measured. Measured from inside so the parent's own sockets never count. Prints
// "PORTS <smtp> <pop3> <http>", then answers "reset" / "peak" / "open" on stdin with one JSON
// line each (the protocol of smtp-memory-child.ts; "open" = connections each server holds).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ok } from '../../src/core/result.js';
import { Logger } from '../../src/log/index.js';
import { Pop3Server } from '../../src/pop3/server.js';
import { SmtpServer } from '../../src/smtp/server/index.js';
import { RecordingSink, serverOptions } from '../../src/testing/dialog.js';
import { startHttp } from '../../src/web/http.js';

const gc = (globalThis as { gc?: () => void }).gc;
const LONG = 600_000;
const MANY = 1000;

function status(key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

const smtp = new SmtpServer(serverOptions({ maxConnections: String(MANY), maxConnectionsPerIp: String(MANY), commandTimeoutMs: String(LONG) }, new RecordingSink()));
const [smtpAddr] = await smtp.listen([{ host: '127.0.0.1', port: 0 }]);

const pop3 = new Pop3Server({
  users: { authenticate: async () => undefined },
  mailboxes: { list: async () => [], read: async () => undefined, delete: async () => 0 },
  journal: { record: async () => undefined },
  hostName: 'pop.test', idleTimeoutMs: LONG, loginTimeoutMs: LONG, maxConnections: MANY, maxConnectionsPerIp: MANY,
});
const pop3Addr = await pop3.listen({ host: '127.0.0.1', port: 0 });

const dir = mkdtempSync(join(tmpdir(), 'spoolgate-idle-'));
const http = await startHttp({
  listen: { host: '127.0.0.1', port: 0 }, tokenFile: join(dir, 'http.token'), log: Logger.silent(),
  headersTimeoutMs: LONG, requestTimeoutMs: LONG, idleMs: LONG, maxConnections: MANY, maxConnectionsPerIp: MANY,
  target: {
    execute: async (line) => ok({ ok: true, command: line, lines: [], data: null }),
    metrics: {
      forwarder: {
        counters: { mailSent: 0, totalRetry: 0, currentRetry: 0, deadLetter: 0, undeliver: 0, extendedCurrent: 0, extendedTotal: 0 },
        tasks: [], suspendMode: 'none', listTargets: () => [],
        suspend: () => undefined, resume: () => undefined, flushRetry: () => 0, flushExtended: async () => 0, resolve: async () => undefined, refreshTargets: () => undefined,
      },
      now: () => 0,
    },
  },
});
process.stdout.write(`PORTS ${smtpAddr!.port} ${pop3Addr.port} ${http.port}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  // Twice, with a turn of the event loop between: buffers' memory is freed by the sweep after a gc.
  gc?.();
  await new Promise((r) => setImmediate(r));
  gc?.();
  const m = process.memoryUsage();
  if (line === 'reset') {
    // Linux: writing 5 to clear_refs resets VmHWM to the current RSS (proc(5)).
    let reset = true;
    try { writeFileSync('/proc/self/clear_refs', '5'); } catch { reset = false; }
    process.stdout.write(JSON.stringify({ reset, rss: m.rss, hwm: status('VmHWM'), heapUsed: m.heapUsed, external: m.external }) + '\n');
  } else if (line === 'peak') {
    process.stdout.write(JSON.stringify({ rss: m.rss, hwm: status('VmHWM'), heapUsed: m.heapUsed, external: m.external }) + '\n');
  } else if (line === 'open') {
    process.stdout.write(JSON.stringify({ smtp: smtp.connectionCount, http: http.openConnections() }) + '\n');
  }
}
await Promise.all([smtp.close(), pop3.close(), http.close()]);
rmSync(dir, { recursive: true, force: true });
