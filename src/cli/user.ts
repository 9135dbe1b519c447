// `spoolgate user` — enrollment of mailbox users (SPEC.md §6): add, remove, passwd, list, alias.
// The database is <stateDirectory>/spoolgate.db from --config, or --db PATH; with Store Backend
// PostgreSQL in the configuration (and no --db), the shared database every node reads ([P2]:
// a user added on one node logs in on every node). A password comes
// from --password-stdin (first line) or is generated and printed once; it is never a command-line
// argument (argv is visible to every local user in ps).
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describeError } from '../core/errors.js';
import type { Store } from '../store/types.js';
import { openSqliteStore } from '../store/sqlite/index.js';
import type { PgStoreSettings } from '../store/pg/index.js';
import { openShared } from './shared-store.js';
import { processIo, readAll, type CliIo } from './io.js';
import { locateConfig } from '../config/locate.js';
import { noConfig } from './config-file.js';
import { parseCommand, usageError } from './parse.js';

async function databasePath(o: { config?: string; db?: string }, env: NodeJS.ProcessEnv): Promise<{ ok: true; path: string; pg?: PgStoreSettings } | { ok: false; error: string }> {
  if (o.db !== undefined) return { ok: true, path: o.db };
  const file = locateConfig(o.config, env)?.path;
  if (file === undefined) return { ok: false, error: noConfig('--db PATH') };
  // Loaded only when asked for, so --db works without a configuration file.
  const { loadConfig } = await import('../config/index.js');
  const r = loadConfig(file, env);
  if (!r.ok) return { ok: false, error: r.error.map((e) => e.message).join('\n') };
  const c = r.value.config;
  if (c.store.backend === 'postgresql' && c.store.postgres !== null) return { ok: true, path: `the shared store (schema ${c.store.postgres.schema})`, pg: c.store.postgres };
  return { ok: true, path: join(c.stateDirectory, 'spoolgate.db') };
}

export async function run(argv: string[], io: CliIo = processIo): Promise<number> {
  const args = parseCommand('user', argv, io);
  if (typeof args === 'number') return args;
  const values = args.values as { config?: string; db?: string; domain?: string; 'password-stdin'?: boolean; purge?: boolean; remove?: boolean; json?: boolean };
  const [action, ...rest] = args.positionals;
  const want: Record<string, number> = { add: 1, passwd: 1, remove: 1, list: 0, alias: values.remove === true ? 1 : 2 };
  if (action === undefined || want[action] === undefined || rest.length !== want[action]) {
    return usageError('user', io, action === undefined ? 'missing action' : `wrong arguments for "${action}"`);
  }
  const where = await databasePath(values, io.env);
  if (!where.ok) { io.stderr.write(`spoolgate user: ${where.error}\n`); return 2; }
  let store: Store;
  try {
    if (where.pg !== undefined) {
      store = await openShared(where.pg, io.env);
    } else {
      mkdirSync(dirname(where.path), { recursive: true, mode: 0o700 });
      store = openSqliteStore(where.path);
    }
  } catch (e) {
    io.stderr.write(`spoolgate user: cannot open ${where.path}: ${describeError(e)}\n`);
    return 1;
  }
  try {
    return await act(store, action, rest, values, io);
  } finally {
    await store.close();
  }
}

async function password(fromStdin: boolean | undefined, io: CliIo): Promise<{ value: string; generated: boolean }> {
  if (fromStdin === true) return { value: (await readAll(io.stdin)).toString('utf8').split(/\r?\n/)[0] ?? '', generated: false };
  return { value: randomBytes(15).toString('base64url'), generated: true };
}

async function act(store: Store, action: string, a: string[], o: { domain?: string; 'password-stdin'?: boolean; purge?: boolean; remove?: boolean; json?: boolean }, io: CliIo): Promise<number> {
  const fail = (text: string): number => { io.stderr.write(`spoolgate user ${action}: ${text}\n`); return 1; };
  switch (action) {
    case 'add': {
      const pw = await password(o['password-stdin'], io);
      const r = await store.users.addUser(a[0]!, pw.value, o.domain === undefined ? {} : { domain: o.domain });
      if (!r.ok) return fail(r.error.message);
      io.stdout.write(`user ${r.value.name} added${r.value.domain === undefined ? '' : ` for ${r.value.domain}`}\n`);
      if (pw.generated) io.stdout.write(`password: ${pw.value}\n(shown once; it is stored only as a hash)\n`);
      return 0;
    }
    case 'passwd': {
      const pw = await password(o['password-stdin'], io);
      const r = await store.users.setPassword(a[0]!, pw.value);
      if (!r.ok) return fail(r.error.message);
      io.stdout.write(`password of ${a[0]!.toLowerCase()} changed\n`);
      if (pw.generated) io.stdout.write(`password: ${pw.value}\n(shown once; it is stored only as a hash)\n`);
      return 0;
    }
    case 'remove': {
      const r = await store.users.removeUser(a[0]!, { purge: o.purge === true });
      if (!r.ok) return fail(r.error.message);
      io.stdout.write(o.purge === true ? `user ${a[0]!.toLowerCase()} and their mail purged\n`
        : `user ${a[0]!.toLowerCase()} removed: no more delivery; remaining mail can be fetched until "user remove --purge"\n`);
      return 0;
    }
    case 'list': {
      const users = await store.users.listUsers();
      if (o.json === true) {
        const rows = [];
        for (const u of users) {
          const msgs = await store.mailboxes.list(u.name);
          rows.push({ name: u.name, domain: u.domain ?? null, active: u.active, messages: msgs.length, octets: msgs.reduce((s, m) => s + m.size, 0), aliases: u.aliases });
        }
        io.stdout.write(JSON.stringify(rows, null, 2) + '\n');
        return 0;
      }
      io.stdout.write('NAME                 DOMAIN               STATE    MESSAGES   OCTETS ALIASES\n');
      for (const u of users) {
        const msgs = await store.mailboxes.list(u.name);
        const octets = msgs.reduce((s, m) => s + m.size, 0);
        io.stdout.write(`${u.name.padEnd(20)} ${(u.domain ?? '*').padEnd(20)} ${(u.active ? 'active' : 'removed').padEnd(8)} ${String(msgs.length).padStart(8)} ${String(octets).padStart(8)} ${u.aliases.join(',')}\n`);
      }
      return 0;
    }
    case 'alias': {
      const r = o.remove === true ? await store.users.removeAlias(a[0]!) : await store.users.addAlias(a[0]!, a[1]!);
      if (!r.ok) return fail(r.error.message);
      io.stdout.write(o.remove === true ? `alias ${a[0]!.toLowerCase()} removed\n` : `alias ${a[0]!.toLowerCase()} -> ${a[1]!.toLowerCase()}\n`);
      return 0;
    }
    default:
      return fail('unknown action');
  }
}
