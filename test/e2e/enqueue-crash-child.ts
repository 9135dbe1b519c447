// Child process for enqueue-crash.test.ts (not a test file): enqueues one message entry with
// enqueueMessage() and, after the durable step named on the command line, prints "AT <step>" and
// waits to be killed (SIGKILL from the parent). With step "none" it runs to the end, prints
// "STEPS <step,step,...>" (every step the write protocol reported) and "DONE <id>", then waits too:
// the parent kills it after the promise resolved, as a crash right after the 250 would.
// Usage: enqueue-crash-child.ts SPOOLROOT WRITER STEP
import { enqueueMessage } from '../../src/spool/enqueue.js';
import { crashCase } from './enqueue-crash-case.js';

const [root, writer, stopAt] = process.argv.slice(2);
if (root === undefined || writer === undefined || stopAt === undefined) throw new Error('usage: enqueue-crash-child.ts SPOOLROOT WRITER STEP');

// Keeps the process alive while it waits for the parent's SIGKILL.
const wait = (): Promise<never> => new Promise(() => { setInterval(() => undefined, 1 << 30); });
const steps: string[] = [];
const c = crashCase();
const entry = await enqueueMessage({
  root, writer, envelope: c.envelope, data: c.data, origin: c.origin, jobName: c.jobName,
  afterStep: async (step) => {
    steps.push(step);
    if (step !== stopAt) return;
    process.stdout.write(`AT ${step}\n`);
    await wait();
  },
});
process.stdout.write(`STEPS ${steps.join(',')}\nDONE ${entry.id}\n`);
await wait();
