// Extended retry on the shared store of a cluster ([P2], docs/cluster.md): the records of the
// mail directory (forwarder/mail-directory.ts: a control record and the message bytes per message)
// kept in the database, so any node serves them and a dead node's mail is still retried.
//
// One interface; the forwarder's ExtendedRetry uses it through forwarder/mail-directory.ts
// (StoreMailDirectory), or the local mail directory with Backend SQLite. The control record is the
// mail directory's own JSON (opaque here), so both keep one format.
//
// Claims: a due record is claimed by one node at a time (claimDue, SKIP LOCKED on PostgreSQL)
// until update() or remove() — the attempt's end — or until the claim runs out (a node that died
// in the middle); then any node claims it again. A claim lasts longer than any one attempt
// (EXTENDED_CLAIM_SECONDS), so a live node's attempt is not made twice.

/** How long a claimed extended-retry record is left to its node: longer than one attempt under the longest Timeouts. */
export const EXTENDED_CLAIM_SECONDS = 1800;

export interface ExtendedRow {
  readonly id: string;
  /** The control record (the mail directory's JSON). */
  readonly control: string;
  readonly nextAttempt: Date;
  readonly size: number;
}

export interface ExtendedRecordStore {
  /** Stores a record; false when the id is already stored (a record is changed with update()). */
  put(writer: string, id: string, control: string, data: Buffer, nextAttempt: Date): Promise<boolean>;
  /** Every record of the writer, by next attempt. */
  list(writer: string): Promise<ExtendedRow[]>;
  /** Claims for this node the due records no live claim holds, at most `max`, earliest first. */
  claimDue(writer: string, now: Date, max: number): Promise<ExtendedRow[]>;
  get(writer: string, id: string): Promise<ExtendedRow | undefined>;
  readData(writer: string, id: string): Promise<Buffer | undefined>;
  /** Rewrites the control record and next attempt, and ends this node's claim; false when gone. */
  update(writer: string, id: string, control: string, nextAttempt: Date): Promise<boolean>;
  /** Removes the record; false when it was not there. */
  remove(writer: string, id: string): Promise<boolean>;
}
