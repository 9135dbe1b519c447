// Composition root, cluster side of the operator view ([P2] item 4, docs/cluster.md "The operator
// view"): with Store Backend PostgreSQL, this node
// - publishes its status (targets, tasks, counters: control/cluster-view.ts) every Heartbeat, so
//   D,TARGETS and D,SPOOLSTATUS on any node show every node;
// - LISTENs for control requests of other nodes and carries them out: REFRESH (the asking node's
//   REFRESH,ALL) through this node's own control socket, exactly as an operator's command; and
//   the queue operations of the cluster-wide queue tools (queue/cluster-queue.ts) on this node's
//   own queue. Nothing else is accepted from a request (never USEREXIT, never a display of
//   secrets): a request is an operator command from another node, not a shell;
// - asks the other live nodes (heartbeat within LeaseTime) and waits a bounded time for them.
import type { Clock, Timer } from './core/index.js';
import { monotonic } from './core/clock.js';
import { describeError } from './core/errors.js';
import type { Logger } from './log/index.js';
import { askNodes, type NodeAnswer, type OperatorStore } from './store/operator-store.js';
import type { JsonValue } from './store/queue-store.js';
import type { QueueApi } from './queue/index.js';
import { serveQueueOp, QUEUE_OP_PREFIX } from './queue/cluster-queue.js';

/** How long REFRESH,ALL waits for the other nodes' answers (a dead node's is reported missing). */
export const REFRESH_ALL_BOUND_MS = 10_000;
/** How long a cluster-wide queue listing or action waits for the other nodes. */
export const QUEUE_ASK_BOUND_MS = 5_000;

export interface ServeHandlers {
  /** Carries out one operator command on this node (the control socket: main.ts). */
  execute(line: string): Promise<{ ok: boolean; lines: readonly string[]; data: unknown }>;
  /** This node's own queue (not the cluster-wide one: a request must not fan out again). */
  readonly queue: QueueApi;
  /** This node's status now (control/cluster-view.ts nodeStatusOf). */
  status(): JsonValue;
}

export class ClusterOperator {
  private readonly waiting = new Map<string, Set<() => void>>();
  private stopListen: (() => Promise<void>) | undefined;
  private publishTimer: Timer | undefined;
  private running = false;
  private publishFailed = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(readonly store: OperatorStore, private readonly o: {
    readonly clock: Clock; readonly log: Logger; readonly leaseSeconds: number; readonly heartbeatMs: number;
  }) {}

  get node(): string {
    return this.store.node;
  }

  /** Starts publishing this node's status and answering other nodes' requests. */
  async serve(h: ServeHandlers): Promise<void> {
    this.running = true;
    this.stopListen = await this.store.listen({
      onRequest: (id) => { this.track(this.handle(id, h)); },
      onReply: (id) => { for (const wake of this.waiting.get(id) ?? []) wake(); },
    });
    this.track(this.publishLoop(h));
  }

  /** Publishes this node's status now and every Heartbeat until stop() (one write at a time). */
  private publishLoop(h: ServeHandlers): Promise<void> {
    let busy = false;
    const once = async (): Promise<void> => {
      if (busy || !this.running) return;
      busy = true;
      try {
        await this.store.publishStatus(h.status());
        if (this.publishFailed) this.o.log.event('cluster.status-published', {});
        this.publishFailed = false;
      } catch (e) {
        if (!this.publishFailed) this.o.log.warn('cluster.status-failed', { error: describeError(e) });
        this.publishFailed = true;
      } finally {
        busy = false;
      }
    };
    // A repeating timer (Clock has one-shot timers only): it does not keep the process alive.
    const interval = setInterval(() => this.track(once()), this.o.heartbeatMs);
    interval.unref();
    this.publishTimer = { cancel: () => clearInterval(interval) };
    return once();
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    // p's own failures are logged where it is made (handle, publish): here it is only forgotten.
    p.finally(() => this.inFlight.delete(p)).catch(() => undefined);
  }

  private async handle(id: string, h: ServeHandlers): Promise<void> {
    try {
      const req = await this.store.requestFor(id);
      if (req === undefined) return; // for other nodes
      let reply: { ok: boolean; lines: readonly string[]; data: unknown };
      if (req.command === 'REFRESH') {
        this.o.log.event('cluster.refresh-requested', { from: req.origin, request: id });
        reply = await h.execute('REFRESH');
      } else if (req.command.startsWith(QUEUE_OP_PREFIX)) {
        reply = await serveQueueOp(h.queue, req.command);
      } else {
        this.o.log.warn('cluster.request-refused', { from: req.origin, request: id, command: req.command.slice(0, 100) });
        reply = { ok: false, lines: [], data: { error: `command not accepted from another node: ${req.command.slice(0, 100)}` } };
      }
      await this.store.answer(id, reply);
    } catch (e) {
      this.o.log.warn('cluster.request-failed', { request: id, error: describeError(e) });
      await this.store.answer(id, { ok: false, lines: [], data: { error: describeError(e) } }).catch(() => undefined);
    }
  }

  /** Waits until a reply to `id` may have arrived, or `ms` passed. */
  private waitReply(id: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiting.get(id);
      if (set === undefined) this.waiting.set(id, (set = new Set()));
      const s = set;
      const done = (): void => { timer.cancel(); s.delete(done); if (s.size === 0) this.waiting.delete(id); resolve(); };
      const timer = this.o.clock.setTimer(ms, done);
      s.add(done);
    });
  }

  /** Asks every other live node (heartbeat within LeaseTime) to carry out `command`; bounded. */
  async ask(command: string, boundMs: number): Promise<NodeAnswer[]> {
    const nodes = await this.store.liveNodes(this.o.leaseSeconds);
    return askNodes(this.store, command, nodes, { boundMs, waitReply: (id, ms) => this.waitReply(id, ms), now: () => monotonic(this.o.clock) });
  }

  refreshOthers(): Promise<NodeAnswer[]> {
    return this.ask('REFRESH', REFRESH_ALL_BOUND_MS);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.publishTimer?.cancel();
    await this.stopListen?.();
    await Promise.allSettled([...this.inFlight]);
  }
}
