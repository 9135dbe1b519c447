// `spoolgate journal` — "where is my mail?" (SPEC.md §8): prints the journal events that match,
// oldest first. The database is <stateDirectory>/spoolgate.db from --config, or --db PATH; it is
// opened read-only in effect (only queries run) and never created by this command.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { describeError } from '../core/errors.js';
import type { Journal, JournalEntry, JournalQuery } from '../store/types.js';
import { openSqliteStore } from '../store/sqlite/index.js';
import { processIo, type CliIo } from './io.js';
import { configPath, noConfig, configHelpLine } from './config-file.js';

const USAGE = `usage: spoolgate journal (--config FILE | --db PATH) [filters] [--json]
  --id ID         events of one message (the id in "250 ok, queued as ID", or a spool entry id),
                  followed to the forwarder's attempts and extended retry
  --from ADDR     sender address (case-insensitive)
  --to ADDR       recipient address (case-insensitive)
  --since ISO     events at or after this time, e.g. 2026-11-22 or 2026-11-22T12:00:00Z
  --type TYPE     received, received-relay, delivered, queued, relay-refused, connection-refused, filtered,
                  attempt, deferred, undeliverable, notified, dead-letter, dropped, extended, ...
  --user NAME     mailbox user
  --limit N       at most N events (default 10000)
  --json          one JSON object per line`;

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
        const link = e.type === 'queued' ? /spool entry (\S+)/.exec(e.detail ?? '') : e.type === 'extended' ? /as (x:\S+)/.exec(e.detail ?? '') : null;
        if (link !== null && !seen.has(link[1]!)) next.push(link[1]!);
      }
    }
    ids = next;
  }
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq).slice(0, q.limit ?? 10000);
}

export async function run(argv: string[], io: CliIo = processIo): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' }, db: { type: 'string' }, id: { type: 'string' }, from: { type: 'string' },
        to: { type: 'string' }, since: { type: 'string' }, type: { type: 'string' }, user: { type: 'string' },
        limit: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    io.stderr.write(`spoolgate journal: ${describeError(e)}\n${USAGE}\n`);
    return 2;
  }
  const o = args.values;
  if (o.help === true) { io.stdout.write(`${USAGE}\n${configHelpLine(o.config, io)}\n`); return 0; }
  const q: { -readonly [K in keyof JournalQuery]: JournalQuery[K] } = {};
  if (o.id !== undefined) q.id = o.id;
  if (o.from !== undefined) q.from = o.from.replace(/^<|>$/g, '');
  if (o.to !== undefined) q.to = o.to.replace(/^<|>$/g, '');
  if (o.type !== undefined) q.type = o.type;
  if (o.user !== undefined) q.user = o.user.toLowerCase();
  if (o.since !== undefined) {
    const t = Date.parse(o.since);
    if (Number.isNaN(t)) { io.stderr.write(`spoolgate journal: --since "${o.since}" is not an ISO 8601 time\n`); return 2; }
    q.since = t;
  }
  if (o.limit !== undefined) {
    const n = Number(o.limit);
    if (!Number.isInteger(n) || n < 1) { io.stderr.write(`spoolgate journal: --limit must be a positive integer\n`); return 2; }
    q.limit = n;
  }
  let path: string;
  if (o.db !== undefined) path = o.db;
  else if (configPath(o.config, io) !== undefined) {
    const { loadConfig } = await import('../config/index.js');
    const r = loadConfig(configPath(o.config, io)!, io.env);
    if (!r.ok) { io.stderr.write(r.error.map((e) => e.message).join('\n') + '\n'); return 2; }
    path = join(r.value.config.stateDirectory, 'spoolgate.db');
  } else { io.stderr.write(`spoolgate journal: ${noConfig('--db PATH')}\n${USAGE}\n`); return 2; }
  if (!existsSync(path)) { io.stderr.write(`spoolgate journal: no database at ${path}\n`); return 1; }
  let store;
  try {
    store = openSqliteStore(path);
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
