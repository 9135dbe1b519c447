// `spoolgate journal` — "where is my mail?" (SPEC.md §8): prints the journal events that match,
// oldest first. The database is <stateDirectory>/spoolgate.db from --config, or --db PATH; it is
// opened read-only in effect (only queries run) and never created by this command.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describeError } from '../core/errors.js';
import type { Journal, JournalEntry, JournalQuery, Store } from '../store/types.js';
import { openSqliteStore } from '../store/sqlite/index.js';
import type { PgStoreSettings } from '../store/pg/index.js';
import { openShared } from './shared-store.js';
import { processIo, type CliIo } from './io.js';
import { configPath, noConfig } from './config-file.js';
import { parseCommand, usageError } from './parse.js';
import { parseSince, sinceError } from './since.js';

export function formatEntry(e: JournalEntry): string {
  const parts = [new Date(e.at).toISOString(), e.type.padEnd(18), e.messageId ?? '-'];
  if (e.from !== undefined || e.to !== undefined) parts.push(`<${e.from ?? ''}> -> <${e.to ?? ''}>`);
  if (e.ip !== undefined) parts.push(`ip=${e.ip}`);
  if (e.user !== undefined) parts.push(`user=${e.user}`);
  if (e.detail !== undefined) parts.push(e.detail);
  return parts.join(' ');
}

/** At most this many linked ids are followed for one --id (a message is relayed once, parked once). */
const MAX_LINKS = 16;

/**
 * --id follows the message where it went: a receiver's `queued` event names the spool entry the
 * forwarder sends it from, and an `extended` event names the extended-retry id (x:…). One
 * command then shows received → queued → attempts → delivered (issue #16 item 14).
 */
export async function traceQuery(journal: Journal, q: JournalQuery): Promise<JournalEntry[]> {
  const seen = new Set<string>();
  const bySeq = new Map<number, JournalEntry>();
  let ids = [q.id!];
  while (ids.length > 0 && seen.size < MAX_LINKS) {
    const next: string[] = [];
    for (const id of ids) {
      if (seen.has(id) || seen.size >= MAX_LINKS) continue;
      seen.add(id);
      for (const e of await journal.query({ ...q, id })) {
        bySeq.set(e.seq, e);
        const link = e.type === 'queued' ? /spool entry ([^\s,]+)/.exec(e.detail ?? '') : e.type === 'extended' ? /as (x:\S+)/.exec(e.detail ?? '') : null;
        if (link !== null && !seen.has(link[1]!)) next.push(link[1]!);
      }
    }
    ids = next;
  }
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq).slice(0, q.limit ?? 10000);
}

export async function run(argv: string[], io: CliIo = processIo): Promise<number> {
  const args = parseCommand('journal', argv, io);
  if (typeof args === 'number') return args;
  const o = args.values as { config?: string; db?: string; id?: string; from?: string; to?: string; since?: string; type?: string; user?: string; limit?: string; json?: boolean };
  if (args.positionals.length > 0) return usageError('journal', io, `unexpected "${args.positionals[0]!}"`);
  const q: { -readonly [K in keyof JournalQuery]: JournalQuery[K] } = {};
  if (o.id !== undefined) q.id = o.id;
  if (o.from !== undefined) q.from = o.from.replace(/^<|>$/g, '');
  if (o.to !== undefined) q.to = o.to.replace(/^<|>$/g, '');
  if (o.type !== undefined) q.type = o.type;
  if (o.user !== undefined) q.user = o.user.toLowerCase();
  if (o.since !== undefined) {
    const t = parseSince(o.since, Date.now());
    if (t === undefined) return usageError('journal', io, sinceError('--since', o.since));
    q.since = t.getTime();
  }
  if (o.limit !== undefined) {
    const n = Number(o.limit);
    if (!Number.isInteger(n) || n < 1) { io.stderr.write(`spoolgate journal: --limit must be a positive integer\n`); return 2; }
    q.limit = n;
  }
  let path: string;
  let shared: PgStoreSettings | undefined;
  if (o.db !== undefined) path = o.db;
  else if (configPath(o.config, io) !== undefined) {
    const { loadConfig } = await import('../config/index.js');
    const r = loadConfig(configPath(o.config, io)!, io.env);
    if (!r.ok) { io.stderr.write(r.error.map((e) => e.message).join('\n') + '\n'); return 2; }
    const c = r.value.config;
    // Store Backend PostgreSQL: every node's journal is in the shared database.
    if (c.store.backend === 'postgresql' && c.store.postgres !== null) shared = c.store.postgres;
    path = shared !== undefined ? `the shared store (schema ${shared.schema})` : join(c.stateDirectory, 'spoolgate.db');
  } else return usageError('journal', io, noConfig('--db PATH'));
  if (shared === undefined && !existsSync(path)) { io.stderr.write(`spoolgate journal: no database at ${path}\n`); return 1; }
  let store: Store;
  try {
    store = shared !== undefined ? await openShared(shared, io.env) : openSqliteStore(path);
  } catch (e) {
    io.stderr.write(`spoolgate journal: cannot open ${path}: ${describeError(e)}\n`);
    return 1;
  }
  try {
    const entries = q.id === undefined ? await store.journal.query(q) : await traceQuery(store.journal, q);
    for (const e of entries) io.stdout.write((o.json === true ? JSON.stringify({ ...e, time: new Date(e.at).toISOString() }) : formatEntry(e)) + '\n');
    return 0;
  } finally {
    await store.close();
  }
}
