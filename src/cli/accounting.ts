// `spoolgate accounting --config FILE [--file PATH] [--since WHEN] [--user ID] [--job NAME]
// [--type T]... [--summary] [--json]`: reads the accounting records (SMF 119 analog, SPEC.md §8)
// from `<stateDirectory>/accounting.jsonl` and prints those that match, one line each, or with
// --summary the MAIL records grouped by origin user ("who sends e-mail").
// WHEN is an ISO date/time or a duration back from now: 30m, 12h, 7d.
// [P2] With Store Backend PostgreSQL (and no --file) the records of every node are read from the
// shared table; each carries "node", the node that wrote it.
import { describeError } from '../core/errors.js';
import { formatDiagnostic, loadConfig } from '../config/index.js';
import { accountingPath, parseAccountingType, readAccounting, summarizeSenders, TableAccountingSink, type AccountingFilter, type AccountingRecord, type AccountingType } from '../log/accounting.js';
import { pgOptions, PgAccountingTable, PgPool, redactUrl, requireCurrentSchema, type PgStoreSettings } from '../store/pg/index.js';
import { processIo, type CliIo } from './io.js';
import { configPath, noConfig } from './config-file.js';
import { parseCommand, usageError } from './parse.js';
import { parseSince, sinceError } from './since.js';

/** (The parser moved to cli/since.ts, the one --since of every command; kept here for importers.) */
export { parseSince } from './since.js';

function str(v: unknown): string {
  if (v === undefined || v === null) return '-';
  if (Array.isArray(v)) return v.map(String).join(',');
  return String(v);
}

/** One readable line per record: time, type, then the fields that say the most for that type. */
export function formatRecord(r: AccountingRecord): string {
  // [P2] A record from the shared table names its node.
  const head = `${r.time} ${String(r.type)} ${r.name.padEnd(7)}${typeof r.node === 'string' ? ` node=${r.node}` : ''}`;
  switch (r.name) {
    case 'MAIL': return `${head} ${str(r.user)} ${str(r.jobName)}(${str(r.jobId)}) ${str(r.result)} from=${str(r.from)} to=${str(r.recipients)} size=${str(r.size)}${r.attachments === undefined ? '' : ` attachments=${str(r.attachments)}${r.attachmentsPartial === true ? '+' : ''}`}${r.target === undefined ? '' : ` target=${str(r.target)}`}${r.subject === undefined ? '' : ` subject=${JSON.stringify(r.subject)}`}`;
    case 'SPOOL': return `${head} ${str(r.user)} ${str(r.jobName)}(${str(r.jobId)}) ${str(r.disposition)} tkid=${str(r.tkid)} read=${str(r.mailRead)} undeliverable=${str(r.undeliverable)} problems=${str(r.problems)}`;
    case 'CONNECT': return `${head} ${str(r.address)}:${str(r.port)} ${str(r.result)} messages=${str(r.messages)} tls=${str(r.tls)}${r.detail === undefined ? '' : ` ${str(r.detail)}`}`;
    case 'CONFIG': return `${head} ${str(r.reason)} loglevel=${str(r.logLevel)} userexit=${str(r.userExit)}${r.changed === undefined ? '' : ` changed=${str(r.changed)}`}`;
    case 'STATS': return `${head} ${str(r.reason)} ${Object.entries((r.counters ?? {}) as Record<string, unknown>).map(([k, v]) => `${k}=${str(v)}`).join(' ')}`;
  }
}

export async function run(argv: string[], io: CliIo = processIo): Promise<number> {
  const args = parseCommand('accounting', argv, io);
  if (typeof args === 'number') return args;
  const v = args.values as { config?: string; file?: string; since?: string; user?: string; job?: string; type?: string[]; summary?: boolean; json?: boolean };
  if (args.positionals.length > 0) return usageError('accounting', io, `unexpected "${args.positionals[0]!}"`);
  const usage = (msg: string): number => usageError('accounting', io, msg);
  let path = v.file;
  let pgc: PgStoreSettings | null = null;
  if (path === undefined) {
    const file = configPath(v.config, io);
    if (file === undefined) return usage(noConfig('--file PATH'));
    const loaded = loadConfig(file, io.env);
    if (!loaded.ok) {
      for (const e of loaded.error) io.stderr.write(formatDiagnostic(e) + '\n');
      return 2;
    }
    path = accountingPath(loaded.value.config.stateDirectory);
    // [P2] Store Backend PostgreSQL: every node's records are in the shared table.
    pgc = loaded.value.config.store.postgres;
  }
  const since = v.since === undefined ? undefined : parseSince(v.since, Date.now());
  if (v.since !== undefined && since === undefined) return usage(sinceError('--since', v.since));
  const types: AccountingType[] = [];
  for (const t of v.type ?? []) {
    const k = parseAccountingType(t);
    if (k === undefined) return usage(`--type "${t}" is not one of CONFIG, CONNECT, MAIL, SPOOL, STATS (or 48-52)`);
    types.push(k);
  }
  const filter = {
    ...(since === undefined ? {} : { since }),
    ...(v.user === undefined ? {} : { user: v.user }),
    ...(v.job === undefined ? {} : { job: v.job }),
    ...(types.length === 0 ? {} : { types }),
  };
  let db: PgPool | undefined;
  let where = path;
  try {
    let read = (f: AccountingFilter): AsyncGenerator<AccountingRecord> => readAccounting(path, f);
    if (pgc !== null) {
      const { options, warnings } = await pgOptions(pgc, io.env);
      for (const w of warnings) io.stderr.write(`warning: ${w}\n`);
      const pool = (db = new PgPool({ ...options, poolSize: 1 }));
      where = `${redactUrl(pgc.url)} (schema ${pgc.schema})`;
      await requireCurrentSchema(pool);
      const sink = new TableAccountingSink(new PgAccountingTable(pool, pgc.node));
      read = (f) => sink.read(f);
    }
    if (v.summary === true) {
      const records: AccountingRecord[] = [];
      for await (const r of read({ ...filter, types: ['MAIL'] })) records.push(r);
      const rows = summarizeSenders(records);
      if (v.json === true) { for (const s of rows) io.stdout.write(JSON.stringify(s) + '\n'); return 0; }
      io.stdout.write(`${'USER'.padEnd(12)} ${'MESSAGES'.padStart(9)} ${'RECIPIENTS'.padStart(10)} ${'BYTES'.padStart(12)} ${'UNDELIVERABLE'.padStart(13)}\n`);
      for (const s of rows) io.stdout.write(`${s.user.padEnd(12)} ${String(s.messages).padStart(9)} ${String(s.recipients).padStart(10)} ${String(s.bytes).padStart(12)} ${String(s.undeliverable).padStart(13)}\n`);
      return 0;
    }
    for await (const r of read(filter)) io.stdout.write((v.json === true ? JSON.stringify(r) : formatRecord(r)) + '\n');
  } catch (e) {
    io.stderr.write(`spoolgate accounting: cannot read ${where}: ${describeError(e)}\n`);
    return 1;
  } finally {
    await db?.close();
  }
  return 0;
}
