// `spoolgate db migrate|status [--config FILE] [--to N]`: the schema of the PostgreSQL store
// ([P2], docs/cluster.md). migrate applies the pending versions (each in one transaction, under a
// lock, so two nodes upgraded at once are safe; no superuser right needed); status shows the
// version the database is at and what is pending; nodes lists the nodes that heartbeat on it (what
// D,NODES will show). The database is the one of the Store statement;
// the password comes from its PasswordFile or SPOOLGATE_STORE_PASSWORD and is never printed.
// Exit codes: 0 done / up to date, 1 database unreachable, behind (status) or newer than this
// program, 2 usage or configuration error.
import { loadConfig, formatDiagnostic } from '../config/index.js';
import { migrate, pgOptions, PgPool, PgQueueStore, redactUrl, requireCurrentSchema, schemaStatus, PG_SCHEMA_VERSION, SchemaError } from '../store/pg/index.js';
import { processIo, type CliIo } from './io.js';
import { configPath, noConfig } from './config-file.js';
import { parseCommand, usageError } from './parse.js';

/** A database error as one line: its message and SQLSTATE, never the connection string. */
function dbFailure(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && code !== '' ? `${e.message} (${code})` : e.message;
}

export async function run(argv: string[], io: CliIo = processIo): Promise<number> {
  const parsed = parseCommand('db', argv, io);
  if (typeof parsed === 'number') return parsed;
  const values = parsed.values as { config?: string; to?: string; json?: boolean };
  const { positionals } = parsed;
  const action = positionals[0];
  if ((action !== 'migrate' && action !== 'status' && action !== 'nodes') || positionals.length > 1 || (values.to !== undefined && action !== 'migrate')) {
    return usageError('db', io, action === undefined ? 'name the action: migrate, status or nodes' : values.to !== undefined && action !== 'migrate' ? '--to goes with migrate' : `wrong arguments for "${positionals.join(' ')}"`);
  }
  let target: number | undefined;
  if (values.to !== undefined) {
    if (!/^[0-9]{1,6}$/.test(values.to) || Number(values.to) < 1 || Number(values.to) > PG_SCHEMA_VERSION) {
      io.stderr.write(`spoolgate db: --to ${values.to}: allowed 1..${PG_SCHEMA_VERSION}\n`);
      return 2;
    }
    target = Number(values.to);
  }
  const file = configPath(values.config, io);
  if (file === undefined) { io.stderr.write(`spoolgate db: ${noConfig()}\n`); return 2; }
  const loaded = loadConfig(file, io.env);
  if (!loaded.ok) {
    for (const e of loaded.error) io.stderr.write(formatDiagnostic(e) + '\n');
    io.stderr.write(`spoolgate db: ${loaded.error.length} configuration error(s)\n`);
    return 2;
  }
  const pgc = loaded.value.config.store.postgres;
  if (pgc === null) {
    if (values.json === true) io.stdout.write(JSON.stringify({ backend: 'SQLite', file }, null, 2) + '\n');
    else io.stdout.write(`${file}: Store Backend is SQLite: nothing to do here (the SQLite files bring their schema up to date when opened)\n`);
    return 0;
  }
  let db: PgPool | undefined;
  try {
    const { options, warnings } = await pgOptions(pgc, io.env);
    for (const w of warnings) io.stderr.write(`warning: ${w}\n`);
    db = new PgPool({ ...options, poolSize: 2 });
    const where = `${redactUrl(pgc.url)} (schema ${pgc.schema})`;
    if (action === 'migrate') {
      const applied = await migrate(db, target === undefined ? {} : { target });
      const s = await schemaStatus(db);
      io.stdout.write(applied.length === 0
        ? `${where}: schema at version ${s.current}, nothing to do\n`
        : `${where}: applied version${applied.length === 1 ? '' : 's'} ${applied.join(', ')}; schema at version ${s.current} of ${s.latest}\n`);
      return 0;
    }
    if (action === 'nodes') {
      await requireCurrentSchema(db);
      const nodes = await new PgQueueStore(db, { node: pgc.node, leaseSeconds: pgc.leaseTime }).nodes();
      if (values.json === true) { io.stdout.write(JSON.stringify({ database: where, nodes }, null, 2) + '\n'); return 0; }
      const rows = [['NODE', 'ADDRESS', 'VERSION', 'HEARTBEAT', 'CLAIMED'], ...nodes.map((n) => [n.name, n.address ?? '-', n.version ?? '-', `${Math.round(n.heartbeatAge)}s ago`, String(n.claimed)])];
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      io.stdout.write(`${where}: ${nodes.length} node${nodes.length === 1 ? '' : 's'}\n` + rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n');
      return 0;
    }
    const s = await schemaStatus(db);
    const upToDate = s.current === s.latest && s.pending.length === 0;
    if (values.json === true) {
      io.stdout.write(JSON.stringify({ database: where, current: s.current, latest: s.latest, upToDate, applied: s.applied, pending: s.pending.map((m) => ({ version: m.version, name: m.name })) }, null, 2) + '\n');
      return upToDate ? 0 : 1;
    }
    const lines = [`${where}: schema at version ${s.current}; this spoolgate needs ${s.latest}`];
    for (const a of s.applied) lines.push(`  applied ${String(a.version).padStart(3)} ${a.name} (${a.appliedAt.toISOString()})`);
    for (const m of s.pending) lines.push(`  pending ${String(m.version).padStart(3)} ${m.name}`);
    if (s.current > s.latest) lines.push('  the database is newer than this spoolgate: upgrade spoolgate on this node');
    else if (s.pending.length > 0) lines.push('  run `spoolgate db migrate` to apply the pending versions');
    io.stdout.write(lines.join('\n') + '\n');
    return s.current === s.latest && s.pending.length === 0 ? 0 : 1;
  } catch (e) {
    io.stderr.write(`spoolgate db ${action}: ${e instanceof SchemaError ? e.message : dbFailure(e)}\n`);
    return 1;
  } finally {
    await db?.close();
  }
}
