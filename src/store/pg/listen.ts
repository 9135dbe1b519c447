// A LISTEN connection that comes back by itself: the one mechanism behind the queue's wake-ups
// (queue.ts subscribe, NOTIFY_CHANNEL) and the operator's control requests (operator.ts listen,
// CONTROL_CHANNEL). LISTEN needs a session of its own, so it is a dedicated client, not a pooled
// one. A lost connection (server restart, pg_terminate_backend, network) is retried after a bounded
// delay; onReconnected runs after each reconnection, since notifications sent meanwhile are lost
// (they are hints: every user also polls).
import pg from 'pg';
import type { PgPool } from './pool.js';

export interface ListenOptions {
  /** Delay before a reconnection attempt (each failed attempt waits again). */
  readonly reconnectMs: number;
  /** Runs after a successful reconnection (not after the first connect). */
  readonly onReconnected?: () => void;
}

/** LISTENs on `channel` (a fixed identifier, never user input); resolves to a stop function once listening. */
export async function listenReconnecting(db: PgPool, channel: string, onPayload: (payload: string) => void, opts: ListenOptions): Promise<() => Promise<void>> {
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`LISTEN channel ${channel}: not a plain identifier`);
  let current: pg.Client | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const schedule = (): void => {
    if (stopped || timer !== undefined) return;
    timer = setTimeout(() => { timer = undefined; connect().then(() => opts.onReconnected?.(), schedule); }, opts.reconnectMs);
    timer.unref();
  };
  const connect = async (): Promise<void> => {
    const c = new pg.Client(db.clientConfig());
    current = c;
    c.on('notification', (n) => { if (n.channel === channel && n.payload !== undefined) onPayload(n.payload); });
    const lost = (): void => {
      if (c !== current) return;
      current = undefined;
      c.end().catch(() => undefined);
      schedule();
    };
    c.on('error', lost);
    c.on('end', lost);
    await c.connect();
    await c.query(`LISTEN ${channel}`);
  };
  await connect();
  return async () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    const c = current;
    current = undefined;
    if (c !== undefined) await c.end();
  };
}
