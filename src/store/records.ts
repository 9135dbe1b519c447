// The row-level tables behind three records a cluster of nodes shares ([P2] #19, docs/cluster.md
// "Accounting, HTTP tokens and dead letters"): dead letters and HTTP token hashes. The roles see
// their own interface (notify's DeadLetters, web's HttpTokens) with a local implementation (files
// in the state directory) and one over these tables (store/pg/records.ts). The accounting table's
// shape is declared in log/accounting.ts (log/ may not import store/); store/pg matches it.
// Untrusted input: ids and token hashes come from operators and HTTP clients: callers validate
// ids before they get here, and every statement is parameterised.

/** One stored dead letter as the table holds it: the header line (notify's JSON) and the bytes. */
export interface DeadLetterRow {
  readonly id: string;
  readonly node: string;
  readonly stored: Date;
  /** notify's header, one JSON object (line 1 of the file form). */
  readonly header: string;
  readonly size: number;
}

export interface DeadLetterTable {
  /** Stores the header and the bytes (chunked) in one transaction. */
  insert(row: { readonly id: string; readonly stored: Date; readonly header: string }, data: Buffer): Promise<void>;
  /** Every row, oldest first, without the bytes; at most `limit`. */
  list(limit: number): Promise<DeadLetterRow[]>;
  count(): Promise<number>;
  /** The row and its bytes, or undefined. */
  read(id: string): Promise<{ row: DeadLetterRow; data: Buffer } | undefined>;
  /** Deletes rows stored before `cutoff` (ms), oldest first, at most `max`, `batch` per statement. */
  prune(cutoff: number, max: number, batch: number): Promise<number>;
  remove(id: string): Promise<boolean>;
}

export type HttpTokenKind = 'api' | 'send';

/** SHA-256 hashes of the nodes' HTTP tokens (never the tokens): one per node and kind. */
export interface HttpTokenTable {
  /** Records (or replaces) this node's token hash of that kind. */
  register(kind: HttpTokenKind, hash: Buffer): Promise<void>;
  /** The hashes of every node's token of that kind. */
  hashes(kind: HttpTokenKind): Promise<Buffer[]>;
}
