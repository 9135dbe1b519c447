// FaultTarget: a scriptable SMTP target for fault-injection tests (test/faults/), built on
// FakeSmtpServer. The fault can be changed while the test runs and applies from the next
// command: hang after the final dot, answer the final dot late, drop the connection mid-DATA,
// refuse recipients with 4xx/5xx by address, crash (stop listening, cut every connection) and
// restart on the same port. It records every message whose final dot arrived (`received`) and
// those it answered 250 (`accepted`), and emits 'change' after each, so tests wait on events.
//
// The conservation check (conservation(), assertConserved()) is the acceptance rule of the
// fault suite: every message read ends delivered, in retry, in extended retry, notified or a
// dead letter; none is lost; duplicates (more than one copy at the target) are counted.
import { EventEmitter } from 'node:events';
import assert from 'node:assert/strict';
import { FakeSmtpServer, type FakeAction, type FakeMessage } from './fake-smtp-server.js';

export type Fault =
  | { readonly kind: 'none' }
  /** Take the message, never answer the final dot (the client's DataTerm fires). */
  | { readonly kind: 'hang-after-data' }
  /** Take the message, answer the final dot with 250 after delayMs (slower than DataTerm: stored, reply lost). */
  | { readonly kind: 'slow-dot'; readonly delayMs: number }
  /** Close the connection once afterBytes of message data arrived (default 1). */
  | { readonly kind: 'drop-mid-data'; readonly afterBytes?: number }
  /** Answer the final dot with this reply (e.g. '451 4.3.0 try later'). */
  | { readonly kind: 'reply-at-dot'; readonly reply: string };

export interface FaultTargetOptions {
  /** Reply to RCPT by address (e.g. 4xx/5xx for some); undefined = 250. */
  readonly rcpt?: (address: string) => string | undefined;
}

export class FaultTarget extends EventEmitter {
  fault: Fault = { kind: 'none' };
  /** Messages whose final dot arrived (whatever the answer, or none). */
  readonly received: FakeMessage[] = [];
  /** Messages answered 250 at the final dot (the sender was told). */
  readonly accepted: FakeMessage[] = [];
  private readonly server: FakeSmtpServer;
  private portNo = 0;
  private down = false;

  private constructor(private readonly opts: FaultTargetOptions) {
    super();
    this.server = new FakeSmtpServer(() => {
      // The fault in force when the connection opens decides the mid-DATA drop; the final-dot
      // behaviour is read at the dot, so a change applies to connections already open.
      const f = this.fault;
      const rcpt = this.opts.rcpt;
      return {
        ...(f.kind === 'drop-mid-data' ? { disconnectAfterDataBytes: f.afterBytes ?? 1 } : {}),
        ...(rcpt !== undefined ? { rcpt: (a: string) => rcpt(a) } : {}),
        onDot: (m) => this.onDot(m),
      };
    });
  }

  static async start(opts: FaultTargetOptions = {}): Promise<FaultTarget> {
    const t = new FaultTarget(opts);
    t.portNo = await t.server.listen(0);
    return t;
  }

  get host(): string { return '127.0.0.1'; }
  get port(): number { return this.portNo; }
  /** Connections accepted so far (over restarts). */
  get connections(): number { return this.server.connections; }

  private onDot(m: FakeMessage): FakeAction {
    this.received.push(m);
    const f = this.fault;
    const done = (): void => { this.emit('change'); };
    if (f.kind === 'hang-after-data') { queueMicrotask(done); return { hang: true }; }
    if (f.kind === 'reply-at-dot') {
      if (f.reply.startsWith('2')) this.accepted.push(m);
      queueMicrotask(done);
      return f.reply;
    }
    if (f.kind === 'slow-dot') {
      // Stored now; the 250 goes out late (to a client that may have given up).
      this.accepted.push(m);
      queueMicrotask(done);
      return { delayMs: f.delayMs, then: `250 2.0.0 queued as ${this.received.length} (late)` };
    }
    this.accepted.push(m);
    queueMicrotask(done);
    return `250 2.0.0 queued as ${this.received.length}`;
  }

  /** Resolves when cond() holds, checked now and after every message; rejects after maxMs (a bound, not a timing). */
  waitFor(what: string, cond: () => boolean, maxMs = 60_000): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => { if (cond()) { cleanup(); resolve(); } };
      const bound = setTimeout(() => { cleanup(); reject(new Error(`FaultTarget: timed out waiting for ${what}`)); }, maxMs);
      const cleanup = (): void => { clearTimeout(bound); this.off('change', check); };
      this.on('change', check);
    });
  }

  /** The target dies: stops listening and cuts every connection (connects are refused). */
  async crash(): Promise<void> {
    if (this.down) return;
    this.down = true;
    await this.server.close();
  }

  /** The target comes back on the same port. */
  async restart(): Promise<void> {
    if (!this.down) return;
    await this.server.listen(this.portNo);
    this.down = false;
  }

  async close(): Promise<void> {
    if (!this.down) await this.server.close();
    this.down = true;
  }
}

/** The Subject of a message (the key generated batch files carry: "<tag> message <n>"). */
export function subjectOf(data: Buffer): string {
  return /^Subject: (.*)$/im.exec(data.toString('latin1'))?.[1]?.trim() ?? '';
}

export interface ConservationInput {
  /** The key of every message read (e.g. every subject submitted). */
  readonly read: readonly string[];
  /** Keys of the copies the target accepted (repeats = duplicates). */
  readonly delivered: readonly string[];
  /** Keys still in the forwarder's hands: long retry, WAIT, or in the spool for the next start. */
  readonly retrying?: readonly string[];
  /** Keys in extended retry (the mail directory). */
  readonly extended?: readonly string[];
  /** Keys whose sender was notified (a DSN was made for them). */
  readonly notified?: readonly string[];
  /** Keys stored as dead letters. */
  readonly deadLetters?: readonly string[];
}

export interface ConservationReport {
  /** Read, and in none of the outcomes. */
  readonly lost: readonly string[];
  /** Copies at the target beyond the first, over all keys. */
  readonly duplicates: number;
  readonly counts: { readonly delivered: number; readonly retrying: number; readonly extended: number; readonly notified: number; readonly deadLetters: number };
}

/** Accounts for every message read: where it ended, which are lost, how many copies too many. */
export function conservation(i: ConservationInput): ConservationReport {
  const delivered = new Map<string, number>();
  for (const k of i.delivered) delivered.set(k, (delivered.get(k) ?? 0) + 1);
  const sets = {
    retrying: new Set(i.retrying ?? []), extended: new Set(i.extended ?? []),
    notified: new Set(i.notified ?? []), deadLetters: new Set(i.deadLetters ?? []),
  };
  const lost = i.read.filter((k) => !delivered.has(k) && !sets.retrying.has(k) && !sets.extended.has(k) && !sets.notified.has(k) && !sets.deadLetters.has(k));
  let duplicates = 0;
  for (const n of delivered.values()) duplicates += n - 1;
  const readSet = new Set(i.read);
  const inRead = (s: Set<string>): number => [...s].filter((k) => readSet.has(k)).length;
  return {
    lost, duplicates,
    counts: { delivered: [...delivered.keys()].filter((k) => readSet.has(k)).length, retrying: inRead(sets.retrying), extended: inRead(sets.extended), notified: inRead(sets.notified), deadLetters: inRead(sets.deadLetters) },
  };
}

/** The suite's acceptance: nothing lost, and no more duplicates than the test counted in flight. */
export function assertConserved(r: ConservationReport, opts: { readonly maxDuplicates: number }): void {
  assert.deepEqual(r.lost, [], `lost messages: ${r.lost.join(', ')}`);
  assert.ok(r.duplicates <= opts.maxDuplicates, `${r.duplicates} duplicates, more than the ${opts.maxDuplicates} in flight`);
}
