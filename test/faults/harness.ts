// The forwarder core wired for fault injection: the real SMTP client (SmtpConnector) against a
// FaultTarget over real sockets, a real checkpoint, and a SignallingClock for the forwarder's own
// waits (long retry, ConnectRetry), so a scenario goes through Count × Interval without waiting
// for it. Socket timeouts (DataTerm …) run in real time and are set short. Reusable: h5's
// scenarios build on forwarderRig() too.
import type { TestContext } from 'node:test';
import { join } from 'node:path';
import type { Recipient } from '../../src/core/index.js';
import { Logger } from '../../src/log/index.js';
import { SignallingClock } from '../../src/testing/clock.js';
import { tempDir } from '../../src/testing/peers.js';
import type { FaultTarget } from '../../src/testing/fault-target.js';
import { Checkpoint } from '../../src/forwarder/checkpoint.js';
import { Lifecycle, newCounters, type ExtendedRetryStore, type FinalOutcome, type WorkItem } from '../../src/forwarder/lifecycle.js';
import { Target } from '../../src/forwarder/pool.js';
import { Router } from '../../src/forwarder/router.js';
import { SmtpConnector } from '../../src/forwarder/smtp-connector.js';
import type { TargetServerSpec } from '../../src/forwarder/types.js';

export interface RigOptions {
  readonly connectLimit?: number;
  readonly retryCount?: number;
  readonly retryIntervalMs?: number;
  readonly connectRetryMs?: number;
  /** DataTerm in real milliseconds (default 300). */
  readonly dataTermMs?: number;
  readonly extended?: ExtendedRetryStore;
}

export function recipient(a: string): Recipient {
  const [local, domain] = a.split('@') as [string, string];
  return { mailbox: { local, domain } };
}

export type Rig = ReturnType<typeof forwarderRig>;

export function forwarderRig(t: TestContext, target: FaultTarget, o: RigOptions = {}) {
  const clock = new SignallingClock();
  const log = Logger.silent();
  const spec: TargetServerSpec = {
    targetIp: [target.host], targetName: [], port: target.port, connectLimit: o.connectLimit ?? 2, maxMsgSent: 0, messageSize: 524288, secure: false,
    tls: { caFile: null, servername: null, minVersion: 'TLSv1.2', verify: true }, auth: null, sourceIp: null,
  };
  const dataTerm = o.dataTermMs ?? 300;
  const connector = new SmtpConnector({
    heloName: () => 'gw.test', tlsEhlo: () => false, log,
    timeouts: () => ({ connect: 5_000, initialMsg: 5_000, mailCmd: 5_000, rcptCmd: 5_000, dataCmd: 5_000, dataBlock: 5_000, dataTerm, anyCmd: 5_000 }),
  });
  const targetObj = new Target({ address: target.host, port: target.port, source: { kind: 'TargetIP' }, server: spec }, connector, clock, { connectRetryMs: o.connectRetryMs ?? 120_000, idleMs: 60_000 });
  t.after(() => targetObj.close(true));
  const router = new Router([targetObj], clock);
  const checkpoint = Checkpoint.open(join(tempDir(t), 'cp.db'), { batchMs: 0 });
  t.after(() => checkpoint.close());
  const counters = newCounters();
  const undeliverable: WorkItem[] = [];
  const extended: WorkItem[] = [];
  const lifecycle = new Lifecycle({
    router, checkpoint, clock, log, counters,
    undeliverable: { handle: async (item) => { undeliverable.push({ ...item, failed: [...item.failed] }); return 'notified'; } },
    retry: () => ({ count: o.retryCount ?? 2, intervalMs: o.retryIntervalMs ?? 60_000 }),
    extended: () => ({ active: o.extended !== undefined, intervalMs: 1_800_000, ageMs: 5 * 86_400_000, store: o.extended }),
    onFinished: (item, outcome) => { if (outcome === 'extended') extended.push(item); },
  });
  let no = 0;
  const item = (subject: string, recipients: readonly string[] = ['rcpt@remote.test']): WorkItem => ({
    origin: { kind: 'spool', entryId: 'faults', messageNo: ++no, tkid: 1 },
    envelope: { from: { kind: 'mailbox', mailbox: { local: 'job', domain: 'corp.test' } }, recipients: recipients.map(recipient), requireTls: false },
    data: Buffer.from(`From: job@corp.test\r\nSubject: ${subject}\r\n\r\nbody of ${subject}\r\n`, 'latin1'),
    job: { jobName: 'FAULTS', jobId: 'J1', originUser: 'u' }, arrival: new Date(clock.now()),
    pending: recipients.map(recipient), failed: [], attempts: 0,
  });

  /** Resolves when the lifecycle parks on a timer or `run` settles; true when settled. */
  const parkedOrDone = async (run: Promise<unknown>): Promise<boolean> => {
    let done = false;
    const settled = run.then(() => { done = true; }, () => { done = true; });
    let bound: NodeJS.Timeout | undefined;
    const never = new Promise<never>((_, reject) => { bound = setTimeout(() => reject(new Error('lifecycle neither waits nor ends')), 60_000); });
    try {
      while (!done && lifecycle.waitingCount() === 0) await Promise.race([clock.nextTimer(), settled, never]);
    } finally {
      clearTimeout(bound);
    }
    return done;
  };

  /** Runs messages to their outcomes, moving the fake clock one step each time they all wait; at most maxSteps steps. */
  const drive = async (runs: Promise<FinalOutcome | undefined>[], stepMs: number, maxSteps: number): Promise<(FinalOutcome | undefined)[]> => {
    const all = Promise.all(runs);
    for (let i = 0; !(await parkedOrDone(all)); i++) {
      if (i >= maxSteps) throw new Error(`not finished after ${maxSteps} steps of ${stepMs} ms (${target.received.length} copies at the target): resending in a loop?`);
      clock.advance(stepMs);
    }
    return all;
  };

  return { clock, target: targetObj, router, checkpoint, counters, lifecycle, undeliverable, extended, item, parkedOrDone, drive };
}
