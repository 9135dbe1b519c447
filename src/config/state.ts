// The state directory's layout: every file and folder the gateway keeps under StateDirectory,
// named in one place (docs/operations.md lists them for backups).
import { join } from 'node:path';
import type { Config } from './types.js';

export interface StateLayout {
  readonly directory: string;
  /** The forwarder's checkpoint (SQLite), one per writer name. */
  readonly checkpoint: string;
  /** Mailboxes, users and the journal (SQLite). */
  readonly database: string;
  /** The demo user's password, written on the first start of an embedded default. */
  readonly demoPassword: string;
  /** The HTTP API's bearer token. */
  readonly httpToken: string;
  /** The send API's send-only bearer token (POST /api/v1/messages). */
  readonly httpSendToken: string;
  /** Mail kept by a receiver Filter with Action Keep. */
  readonly quarantine: string;
  /** Messages held by the operator (src/queue/holds.ts), one file per writer name. */
  readonly holds: string;
}

export function stateLayout(c: Pick<Config, 'stateDirectory' | 'extWrtName'>): StateLayout {
  const d = c.stateDirectory;
  return {
    directory: d,
    checkpoint: join(d, `${c.extWrtName}.checkpoint.db`),
    database: join(d, 'spoolgate.db'),
    demoPassword: join(d, 'demo.password'),
    httpToken: join(d, 'http.token'),
    httpSendToken: join(d, 'http-send.token'),
    quarantine: join(d, 'quarantine'),
    holds: join(d, `${c.extWrtName}.holds.json`),
  };
}
