// Child process for smtp-memory.test.ts (not a test file): an SmtpServer on 127.0.0.1 port 0,
// measured from inside so the parent's own buffers never count. Prints "PORT <n>" on start and
// "BLOCKED" when a session stops reading because its client does not read the replies. Commands
// on stdin, one a line: "reset" (gc, then reset the peak RSS) and "peak" (gc, then the peak RSS
// since the reset), each answered with one JSON line.
import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { SmtpServer } from '../../src/smtp/server/index.js';
import { RecordingSink, serverOptions } from '../../src/testing/dialog.js';

const maxMessageSize = process.argv[2] ?? '1048576';
const gc = (globalThis as { gc?: () => void }).gc;

function status(key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

const server = new SmtpServer(serverOptions({ maxMessageSize }, new RecordingSink(), {
  onEvent: (e) => {
    if (e.kind === 'trace' && e.line.startsWith('(client not reading')) process.stdout.write('BLOCKED\n');
  },
}));
const [addr] = await server.listen([{ host: '127.0.0.1', port: 0 }]);
process.stdout.write(`PORT ${addr!.port}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  // Twice, with a turn of the event loop between: buffers' memory is freed by the sweep after a gc.
  gc?.();
  await new Promise((r) => setImmediate(r));
  gc?.();
  if (line === 'reset') {
    // Linux: writing 5 to clear_refs resets VmHWM to the current RSS (proc(5)).
    let reset = true;
    try { writeFileSync('/proc/self/clear_refs', '5'); } catch { reset = false; }
    const m = process.memoryUsage();
    process.stdout.write(JSON.stringify({ reset, rss: m.rss, hwm: status('VmHWM'), heapUsed: m.heapUsed, external: m.external }) + '\n');
  } else if (line === 'peak') {
    const m = process.memoryUsage();
    process.stdout.write(JSON.stringify({ rss: m.rss, hwm: status('VmHWM'), heapUsed: m.heapUsed, external: m.external }) + '\n');
  }
}
await server.close();
