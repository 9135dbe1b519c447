// Micro-benchmark of the forwarder's checkpoint (issue #20 [B2]): the CPU one forwarded message
// costs in the checkpoint, and the batch sizes of its group commit. C concurrent "connections"
// each forward spool files of 10 messages of one recipient, as the lifecycle does: mark the
// recipient accepted, then the message delivered (each awaited: a durable commit), and forget
// the file after its last message. Real SQLite file in the temp dir (WAL, synchronous = FULL).
// Not part of `npm run bench`. Run: node --import tsx bench/checkpoint-cpu.ts [messages] [connections]
// Prints CPU µs per message of the JavaScript thread (from /proc/self/task/<pid>/stat) and of the
// whole process (process.cpuUsage: + the commit worker and libuv threads), and the batches.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Checkpoint } from '../src/forwarder/checkpoint.js';

const MESSAGES = Number(process.argv[2] ?? 20_000);
const CONNECTIONS = Number(process.argv[3] ?? 10);
const PER_FILE = 10;

/** Batch sizes, counted where any version of the checkpoint hands a batch to its worker. */
const batches: number[] = [];
const post = Worker.prototype.postMessage;
Worker.prototype.postMessage = function (this: Worker, m: unknown, ...rest: unknown[]) {
  const x = m as { ops?: unknown[]; writes?: unknown[]; n?: number };
  const n = x.n ?? x.ops?.length ?? x.writes?.length;
  if (n !== undefined) batches.push(n);
  return (post as (...a: unknown[]) => void).call(this, m, ...rest);
} as typeof Worker.prototype.postMessage;

/** CPU seconds of the main (JavaScript) thread: utime + stime of task <pid>, in clock ticks (1/100 s). */
function mainThreadCpu(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

const dir = mkdtempSync(join(tmpdir(), 'cp-bench-'));
const cp = Checkpoint.open(join(dir, 'W.checkpoint.db'));
await cp.markMessage('warm', 1, 'delivered'); // the worker is up
await cp.forget('warm');
batches.length = 0;

let next = 0;
async function connection(): Promise<void> {
  for (;;) {
    const file = next;
    next += PER_FILE;
    if (file >= MESSAGES) return;
    const entry = `entry-${file}`;
    for (let no = 1; no <= PER_FILE; no++) {
      await cp.markRecipient(entry, no, { address: 'rcpt@remote.test', outcome: 'accepted' });
      await cp.markMessage(entry, no, 'delivered');
    }
    await cp.forget(entry);
  }
}

const cpu0 = process.cpuUsage();
const main0 = mainThreadCpu();
const t0 = process.hrtime.bigint();
await Promise.all(Array.from({ length: CONNECTIONS }, () => connection()));
const wall = Number(process.hrtime.bigint() - t0) / 1e9;
const main = mainThreadCpu() - main0;
const cpu = process.cpuUsage(cpu0);
cp.close();
rmSync(dir, { recursive: true, force: true });

const total = (cpu.user + cpu.system) / 1e6;
const sorted = [...batches].sort((a, b) => a - b);
const pct = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
const writes = batches.reduce((a, b) => a + b, 0);
console.log(JSON.stringify({
  messages: MESSAGES, connections: CONNECTIONS, wallS: +wall.toFixed(2), msgPerS: Math.round(MESSAGES / wall),
  mainThreadUsPerMsg: Math.round((main * 1e6) / MESSAGES), processUsPerMsg: Math.round((total * 1e6) / MESSAGES),
  batches: batches.length, writesPerBatch: { mean: +(writes / Math.max(1, batches.length)).toFixed(2), p50: pct(0.5), p90: pct(0.9), max: sorted.at(-1) ?? 0 },
}));
