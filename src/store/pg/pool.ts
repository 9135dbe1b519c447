// The PostgreSQL connection pool of the shared store ([P2], docs/cluster.md): node-postgres'
// Pool with every wait bounded — a statement timeout enforced by the server (statement_timeout,
// so a stuck statement is cancelled there and its locks released), the same plus a margin on the
// client (query_timeout, for a server that does not answer at all), a connect timeout, and a
// bounded pool. TLS to the database and the schema (search_path) come from the Store statement.
//
// The password is never part of what is logged or displayed: redactUrl() removes it from a URL,
// and a password from a file or the environment is handed to the driver only.
import pg from 'pg';
import type { ConnectionOptions } from 'node:tls';

export interface PgOptions {
  /** postgres://user[:password]@host[:port]/database[?…] */
  readonly url: string;
  /** Overrides a password in the URL (read from Store PasswordFile or the environment). */
  readonly password?: string;
  /** Connections in this process's pool. */
  readonly poolSize: number;
  /** Milliseconds one statement may run (server-side statement_timeout). */
  readonly statementTimeoutMs: number;
  /** Milliseconds to wait for a connection (TCP + TLS + authentication). */
  readonly connectTimeoutMs?: number;
  /** The schema holding spoolgate's tables (search_path); default public. */
  readonly schema?: string;
  /** null/undefined = what the URL says (sslmode); else TLS options for the database connection. */
  readonly tls?: ConnectionOptions | null;
  /** Shown in pg_stat_activity: the node name, so a DBA sees which node holds what. */
  readonly applicationName?: string;
}

/** A URL as it may be shown or logged: the password replaced by `***`. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

function withPassword(url: string, password: string | undefined): string {
  if (password === undefined) return url;
  const u = new URL(url);
  u.password = encodeURIComponent(password);
  return u.toString();
}

/** A schema name spoolgate accepts (it is written into SQL as an identifier). */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function quoteIdent(name: string): string {
  if (!SCHEMA_NAME.test(name)) throw new Error(`not a plain SQL name: ${JSON.stringify(name)}`);
  return `"${name}"`;
}

/** Either the pool or one transaction's client: what a helper needs to run a statement. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
}

export class PgPool {
  readonly pool: pg.Pool;
  readonly schema: string;
  /** Errors of idle connections (the server went away): reported here, never thrown. */
  lastError: Error | undefined;

  constructor(readonly options: PgOptions) {
    this.schema = options.schema ?? 'public';
    quoteIdent(this.schema);
    const config = this.clientConfig();
    this.pool = new pg.Pool({ ...config, max: options.poolSize, idleTimeoutMillis: 30_000 });
    // An idle client's error (server restart, network cut) would otherwise crash the process.
    this.pool.on('error', (e) => { this.lastError = e; });
    // And a checked-out client's: pg-pool listens only while a client is idle or inside its own
    // query(), so the server's FATAL (57P01 at a shutdown) reaching a client between those — seen
    // in CI as an uncaught 'error' that ended a node during the outage test — would end the
    // process. Every client keeps this listener for life; the statement in progress (if any)
    // still fails with the error, and a broken client is not reused (transaction() releases it
    // with the error, pg-pool drops clients that are not queryable).
    this.pool.on('connect', (c) => { c.on('error', (e: Error) => { this.lastError = e; }); });
  }

  /** The settings of one connection (also used for the dedicated LISTEN connection). */
  clientConfig(): pg.ClientConfig {
    const o = this.options;
    const st = Math.max(1, Math.floor(o.statementTimeoutMs));
    return {
      // node-postgres lets the connection string's fields win over the separate ones, so a
      // password from a file or the environment is put into the URL handed to the driver.
      connectionString: withPassword(o.url, o.password),
      ...(o.tls !== undefined && o.tls !== null ? { ssl: o.tls } : {}),
      connectionTimeoutMillis: o.connectTimeoutMs ?? 10_000,
      statement_timeout: st,
      // The client gives up a little after the server would have cancelled the statement.
      query_timeout: st + 5_000,
      application_name: (o.applicationName ?? 'spoolgate').slice(0, 63),
      options: `-c search_path=${quoteIdent(this.schema)}`,
    };
  }

  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    return this.pool.query<R>(sql, params);
  }

  /** Runs fn in one transaction on one connection: COMMIT when it resolves, ROLLBACK when it throws. */
  async transaction<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    let broken: Error | undefined;
    // A checked-out connection has no 'error' listener of the pool's: the server going away while
    // fn awaits something other than a statement (57P01 at a shutdown, a network cut) would be an
    // uncaught 'error' event that ends the process. The next statement fails; the connection is
    // not reused.
    const cut = (e: Error): void => { broken = e; this.lastError = e; };
    c.on('error', cut);
    try {
      await c.query('BEGIN');
      const v = await fn(c);
      await c.query('COMMIT');
      return v;
    } catch (e) {
      try {
        await c.query('ROLLBACK');
      } catch (r) {
        broken = r instanceof Error ? r : new Error(String(r)); // the connection is unusable: do not reuse it
      }
      throw e;
    } finally {
      c.removeListener('error', cut);
      c.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
