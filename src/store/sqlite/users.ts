// UserDirectory on SQLite: users(name, domain, password_hash, active), aliases(alias → user).
import type BetterSqlite3 from 'better-sqlite3';
import type { Clock } from '../../core/clock.js';
import { err, ok, type Result } from '../../core/result.js';
import { canonicalAlias, canonicalUser, newUserFields, resolvableAddress } from '../names.js';
import { hashPassword, verifyPassword, type ScryptParams } from '../password.js';
import { StoreError, type UserDirectory, type UserInfo } from '../types.js';

interface UserRow { name: string; domain: string | null; active: number; created: number }

export class SqliteUserDirectory implements UserDirectory {
  constructor(private readonly db: BetterSqlite3.Database, private readonly clock: Clock, private readonly scrypt: ScryptParams) {}

  private row(name: string): UserRow | undefined {
    return this.db.prepare('SELECT name, domain, active, created FROM users WHERE name = ?').get(name) as UserRow | undefined;
  }

  private info(r: UserRow): UserInfo {
    const aliases = (this.db.prepare('SELECT alias FROM aliases WHERE user = ? ORDER BY alias').all(r.name) as { alias: string }[]).map((a) => a.alias);
    return { name: r.name, ...(r.domain === null ? {} : { domain: r.domain }), active: r.active === 1, created: r.created, aliases };
  }

  async addUser(name: string, password: string, opts: { domain?: string } = {}): Promise<Result<UserInfo, StoreError>> {
    const fields = newUserFields(name, password, opts.domain);
    if (!fields.ok) return fields;
    const { name: n, domain } = fields.value;
    const hash = await hashPassword(password, this.scrypt);
    const existing = this.row(n);
    if (existing !== undefined) return err(new StoreError('ERR_USER_EXISTS', `user "${n}" already exists${existing.active === 1 ? '' : ' (removed, not yet purged)'}`));
    this.db.prepare('INSERT INTO users (name, domain, password_hash, active, created) VALUES (?, ?, ?, 1, ?)').run(n, domain, hash, this.clock.now());
    return ok(this.info(this.row(n)!));
  }

  async removeUser(name: string, opts: { purge?: boolean } = {}): Promise<Result<void, StoreError>> {
    const n = canonicalUser(name);
    if (n === undefined || this.row(n) === undefined) return err(new StoreError('ERR_USER_UNKNOWN', `no user "${name}"`));
    if (opts.purge === true) {
      this.db.transaction(() => {
        this.db.prepare('DELETE FROM messages WHERE user = ?').run(n);
        this.db.prepare('DELETE FROM aliases WHERE user = ?').run(n);
        this.db.prepare('DELETE FROM users WHERE name = ?').run(n);
      })();
    } else {
      this.db.prepare('UPDATE users SET active = 0 WHERE name = ?').run(n);
    }
    return ok(undefined);
  }

  async setPassword(name: string, password: string): Promise<Result<void, StoreError>> {
    const n = canonicalUser(name);
    if (n === undefined || this.row(n) === undefined) return err(new StoreError('ERR_USER_UNKNOWN', `no user "${name}"`));
    if (password.length === 0) return err(new StoreError('ERR_BAD_NAME', 'the password must not be empty'));
    const hash = await hashPassword(password, this.scrypt);
    this.db.prepare('UPDATE users SET password_hash = ? WHERE name = ?').run(hash, n);
    return ok(undefined);
  }

  async verify(name: string, password: string): Promise<boolean> {
    return (await this.authenticate(name, password)) !== undefined;
  }

  async authenticate(name: string, password: string): Promise<{ name: string; active: boolean } | undefined> {
    const n = canonicalUser(name);
    // Read at every login, never cached: a removed user or a new password counts from the next login.
    const r = n === undefined ? undefined : (this.db.prepare('SELECT password_hash, active FROM users WHERE name = ?').get(n) as { password_hash: string; active: number } | undefined);
    const good = await verifyPassword(password, r?.password_hash);
    return good && r !== undefined ? { name: n!, active: r.active === 1 } : undefined;
  }

  async listUsers(): Promise<UserInfo[]> {
    return (this.db.prepare('SELECT name, domain, active, created FROM users ORDER BY name').all() as UserRow[]).map((r) => this.info(r));
  }

  async addAlias(alias: string, user: string): Promise<Result<void, StoreError>> {
    const a = canonicalAlias(alias);
    if (a === undefined) return err(new StoreError('ERR_BAD_NAME', `alias "${alias}" is not a valid local part or address`));
    const n = canonicalUser(user);
    if (n === undefined || this.row(n) === undefined) return err(new StoreError('ERR_USER_UNKNOWN', `no user "${user}"`));
    if (this.row(a) !== undefined) return err(new StoreError('ERR_ALIAS_EXISTS', `"${a}" is a user name`));
    const taken = this.db.prepare('SELECT user FROM aliases WHERE alias = ?').get(a) as { user: string } | undefined;
    if (taken !== undefined) return err(new StoreError('ERR_ALIAS_EXISTS', `alias "${a}" already points to "${taken.user}"`));
    this.db.prepare('INSERT INTO aliases (alias, user) VALUES (?, ?)').run(a, n);
    return ok(undefined);
  }

  async removeAlias(alias: string): Promise<Result<void, StoreError>> {
    const a = canonicalAlias(alias);
    const r = a === undefined ? undefined : this.db.prepare('DELETE FROM aliases WHERE alias = ?').run(a);
    return r !== undefined && r.changes > 0 ? ok(undefined) : err(new StoreError('ERR_USER_UNKNOWN', `no alias "${alias}"`));
  }

  async resolve(address: string): Promise<string | undefined> {
    const parts = resolvableAddress(address);
    if (parts === undefined) return undefined;
    const { local, domain } = parts;
    // Most specific first: alias for the full address, then alias for the local part, then the user.
    const aliasOf = (key: string): string | undefined =>
      (this.db.prepare('SELECT user FROM aliases WHERE alias = ?').get(key) as { user: string } | undefined)?.user;
    const candidates: { user: string | undefined; direct: boolean }[] = [
      { user: domain === undefined ? undefined : aliasOf(`${local}@${domain}`), direct: false },
      { user: aliasOf(local), direct: false },
      { user: local, direct: true },
    ];
    for (const c of candidates) {
      if (c.user === undefined) continue;
      const r = this.row(c.user);
      if (r === undefined || r.active !== 1) continue;
      // A user enrolled for one domain receives that domain's mail only (aliases were chosen explicitly).
      if (c.direct && r.domain !== null && domain !== undefined && r.domain !== domain) continue;
      return r.name;
    }
    return undefined;
  }
}
