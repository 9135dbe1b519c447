// UserDirectory on PostgreSQL: mail_users(name, domain, password_hash, active), mail_aliases
// (alias → user). The same rules as store/sqlite/users.ts: names validated by ../names.ts before
// any statement, passwords only as scrypt hashes (../password.ts), the same work for an unknown
// user as for a wrong password, read at every login (never cached: a password changed or a user
// removed on one node counts on every node from the next login).
import type { Clock } from '../../core/clock.js';
import { err, ok, type Result } from '../../core/result.js';
import { canonicalAlias, canonicalUser, newUserFields, resolvableAddress } from '../names.js';
import { hashPassword, verifyPassword, type ScryptParams } from '../password.js';
import { StoreError, type UserDirectory, type UserInfo } from '../types.js';
import type { PgPool, Queryable } from './pool.js';

interface UserRow { name: string; domain: string | null; active: boolean; created: string }

const COLUMNS = 'name, domain, active, created';

export class PgUserDirectory implements UserDirectory {
  constructor(private readonly db: PgPool, private readonly clock: Clock, private readonly scrypt: ScryptParams) {}

  private async row(name: string, q: Queryable = this.db): Promise<UserRow | undefined> {
    return (await q.query<UserRow>(`SELECT ${COLUMNS} FROM mail_users WHERE name = $1`, [name])).rows[0];
  }

  private async info(r: UserRow): Promise<UserInfo> {
    const a = await this.db.query<{ alias: string }>('SELECT alias FROM mail_aliases WHERE username = $1 ORDER BY alias COLLATE "C"', [r.name]);
    return { name: r.name, ...(r.domain === null ? {} : { domain: r.domain }), active: r.active, created: Number(r.created), aliases: a.rows.map((x) => x.alias) };
  }

  async addUser(name: string, password: string, opts: { domain?: string } = {}): Promise<Result<UserInfo, StoreError>> {
    const fields = newUserFields(name, password, opts.domain);
    if (!fields.ok) return fields;
    const { name: n, domain } = fields.value;
    const hash = await hashPassword(password, this.scrypt);
    // Two nodes adding the same name at once: the primary key decides, one of them is told it exists.
    const r = await this.db.query<UserRow>(
      `INSERT INTO mail_users (name, domain, password_hash, active, created) VALUES ($1, $2, $3, true, $4) ON CONFLICT (name) DO NOTHING RETURNING ${COLUMNS}`,
      [n, domain, hash, this.clock.now()]);
    const added = r.rows[0];
    if (added === undefined) {
      const existing = await this.row(n);
      return err(new StoreError('ERR_USER_EXISTS', `user "${n}" already exists${existing === undefined || existing.active ? '' : ' (removed, not yet purged)'}`));
    }
    return ok(await this.info(added));
  }

  async removeUser(name: string, opts: { purge?: boolean } = {}): Promise<Result<void, StoreError>> {
    const n = canonicalUser(name);
    if (n === undefined) return err(new StoreError('ERR_USER_UNKNOWN', `no user "${name}"`));
    const found = await this.db.transaction(async (c) => {
      if (opts.purge !== true) return ((await c.query('UPDATE mail_users SET active = false WHERE name = $1', [n])).rowCount ?? 0) > 0;
      // The user row first (locks it against a concurrent deliver, which reads it FOR SHARE),
      // then the mail: all or none. Aliases go with the user (ON DELETE CASCADE); chunks with their messages.
      const gone = ((await c.query('DELETE FROM mail_users WHERE name = $1', [n])).rowCount ?? 0) > 0;
      if (gone) await c.query('DELETE FROM mail_messages WHERE username = $1', [n]);
      return gone;
    });
    return found ? ok(undefined) : err(new StoreError('ERR_USER_UNKNOWN', `no user "${name}"`));
  }

  async setPassword(name: string, password: string): Promise<Result<void, StoreError>> {
    const n = canonicalUser(name);
    if (n === undefined || (await this.row(n)) === undefined) return err(new StoreError('ERR_USER_UNKNOWN', `no user "${name}"`));
    if (password.length === 0) return err(new StoreError('ERR_BAD_NAME', 'the password must not be empty'));
    const hash = await hashPassword(password, this.scrypt);
    const r = await this.db.query('UPDATE mail_users SET password_hash = $1 WHERE name = $2', [hash, n]);
    return (r.rowCount ?? 0) > 0 ? ok(undefined) : err(new StoreError('ERR_USER_UNKNOWN', `no user "${name}"`));
  }

  async verify(name: string, password: string): Promise<boolean> {
    return (await this.authenticate(name, password)) !== undefined;
  }

  async authenticate(name: string, password: string): Promise<{ name: string; active: boolean } | undefined> {
    const n = canonicalUser(name);
    const r = n === undefined ? undefined
      : (await this.db.query<{ password_hash: string; active: boolean }>('SELECT password_hash, active FROM mail_users WHERE name = $1', [n])).rows[0];
    // verifyPassword derives a dummy hash for an unknown user: the same time as a wrong password.
    const good = await verifyPassword(password, r?.password_hash);
    return good && r !== undefined ? { name: n!, active: r.active } : undefined;
  }

  async listUsers(): Promise<UserInfo[]> {
    const rows = (await this.db.query<UserRow>(`SELECT ${COLUMNS} FROM mail_users ORDER BY name COLLATE "C"`)).rows;
    const out: UserInfo[] = [];
    for (const r of rows) out.push(await this.info(r));
    return out;
  }

  async addAlias(alias: string, user: string): Promise<Result<void, StoreError>> {
    const a = canonicalAlias(alias);
    if (a === undefined) return err(new StoreError('ERR_BAD_NAME', `alias "${alias}" is not a valid local part or address`));
    const n = canonicalUser(user);
    if (n === undefined || (await this.row(n)) === undefined) return err(new StoreError('ERR_USER_UNKNOWN', `no user "${user}"`));
    if ((await this.row(a)) !== undefined) return err(new StoreError('ERR_ALIAS_EXISTS', `"${a}" is a user name`));
    const r = await this.db.query('INSERT INTO mail_aliases (alias, username) SELECT $1, name FROM mail_users WHERE name = $2 ON CONFLICT (alias) DO NOTHING', [a, n]);
    if ((r.rowCount ?? 0) > 0) return ok(undefined);
    const taken = (await this.db.query<{ username: string }>('SELECT username FROM mail_aliases WHERE alias = $1', [a])).rows[0];
    return taken === undefined
      ? err(new StoreError('ERR_USER_UNKNOWN', `no user "${user}"`))
      : err(new StoreError('ERR_ALIAS_EXISTS', `alias "${a}" already points to "${taken.username}"`));
  }

  async removeAlias(alias: string): Promise<Result<void, StoreError>> {
    const a = canonicalAlias(alias);
    const r = a === undefined ? undefined : await this.db.query('DELETE FROM mail_aliases WHERE alias = $1', [a]);
    return r !== undefined && (r.rowCount ?? 0) > 0 ? ok(undefined) : err(new StoreError('ERR_USER_UNKNOWN', `no alias "${alias}"`));
  }

  async resolve(address: string): Promise<string | undefined> {
    const parts = resolvableAddress(address);
    if (parts === undefined) return undefined;
    const { local, domain } = parts;
    // One statement: the candidates, most specific first (alias of the full address, alias of the
    // local part, the user itself), each with its user's row.
    const r = await this.db.query<{ rank: number; name: string; domain: string | null; active: boolean }>(
      `SELECT c.rank, u.name, u.domain, u.active FROM (
         SELECT 1 AS rank, username AS name FROM mail_aliases WHERE alias = $1
         UNION ALL SELECT 2, username FROM mail_aliases WHERE alias = $2
         UNION ALL SELECT 3, $2::text) c
       JOIN mail_users u ON u.name = c.name ORDER BY c.rank`,
      [domain === undefined ? null : `${local}@${domain}`, local]);
    for (const u of r.rows) {
      if (!u.active) continue;
      // A user enrolled for one domain receives that domain's mail only (aliases were chosen explicitly).
      if (u.rank === 3 && u.domain !== null && domain !== undefined && u.domain !== domain) continue;
      return u.name;
    }
    return undefined;
  }
}
