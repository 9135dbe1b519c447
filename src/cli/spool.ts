// `spoolgate spool` — the operator's view of held spool files (SPEC.md §1.2 ext): list them,
// show one's problem report, release one back into the writer's queue, or purge it. Works while the gateway runs: the
// gateway never reads held/, and a release is a single rename into incoming/. With Store Backend
// PostgreSQL in the configuration, the held files of every node (the shared tables,
// spool/held-files.ts): a release queues the file on the shared queue, for any node.
import { DirectoryHeldFiles, TableHeldFiles, type HeldFiles } from '../spool/held-files.js';
import { pgOptions, PgHeldTable, PgPool, requireCurrentSchema } from '../store/pg/index.js';
import { queueIdFor } from '../core/ids.js';
import { spoolLayout } from '../spool/submit.js';
import { resolveSpoolTarget } from './submit.js';
import { processIo, type CliIo } from './io.js';
import { configPath } from './config-file.js';
import { parseCommand, usageError } from './parse.js';

export async function run(argv: string[], io: CliIo = processIo): Promise<number> {
  const args = parseCommand('spool', argv, io);
  if (typeof args === 'number') return args;
  const v = args.values as { config?: string; 'spool-dir'?: string; writer?: string; json?: boolean };
  const usage = (msg: string): number => usageError('spool', io, msg);
  const [action, id, ...extra] = args.positionals;
  if (action === undefined) return usage('no action given');
  if (action === 'held' ? id !== undefined : id === undefined || extra.length > 0) return usage(`wrong arguments for "${action}"`);
  if (action !== 'held' && action !== 'release' && action !== 'purge' && action !== 'show') return usage(`unknown action "${action}"`);
  const target = await resolveSpoolTarget({
    ...(v['spool-dir'] === undefined && configPath(v.config, io) !== undefined ? { config: configPath(v.config, io)! } : {}),
    ...(v['spool-dir'] === undefined ? {} : { spoolDir: v['spool-dir'] }),
    ...(v.writer === undefined ? {} : { writer: v.writer }),
  }, io.env);
  if (!target.ok) {
    io.stderr.write(`spoolgate spool: ${target.error}\n`);
    return 2;
  }
  const l = spoolLayout(target.value.root, target.value.writer);
  // The configuration's Store: with PostgreSQL the cluster's held files (not with --spool-dir).
  const file = v['spool-dir'] === undefined ? configPath(v.config, io) : undefined;
  let pgc = null;
  if (file !== undefined) {
    const { loadConfig } = await import('../config/index.js');
    const r = loadConfig(file, io.env);
    if (r.ok && r.value.config.store.backend === 'postgresql') pgc = r.value.config.store.postgres;
  }
  let db: PgPool | undefined;
  let held: HeldFiles = new DirectoryHeldFiles(l);
  if (pgc !== null) {
    try {
      const { options } = await pgOptions(pgc, io.env);
      db = new PgPool({ ...options, poolSize: 1 });
      await requireCurrentSchema(db);
    } catch (e) {
      await db?.close();
      io.stderr.write(`spoolgate spool: the shared store (schema ${pgc.schema}): ${(e as Error).message}\n`);
      return 1;
    }
    held = new TableHeldFiles(new PgHeldTable(db, pgc.node), l);
  }
  try {
    return await act(held, action, id, v.json === true, l.writer, io);
  } finally {
    await db?.close();
  }
}

async function act(held: HeldFiles, action: string, id: string | undefined, json: boolean, writer: string, io: CliIo): Promise<number> {
  if (action === 'held') {
    const list = await held.list();
    if (json) {
      io.stdout.write(JSON.stringify({ writer, held: list.map((h) => ({ ...h, queueId: queueIdFor(h.id, h.jobId ?? '', 0) })) }, null, 2) + '\n');
      return 0;
    }
    for (const h of list) {
      const job = h.jobName === undefined ? '-' : `${h.jobName}(${h.jobId ?? '?'})`;
      io.stdout.write(`${h.id} ${h.heldAt?.toISOString() ?? '-'} ${job}${h.node === undefined ? '' : ` node ${h.node}`} ${h.reason.replace(/\s+/g, ' ')}\n`);
    }
    if (list.length === 0) io.stderr.write(`no held spool files for writer ${writer}\n`);
    return 0;
  }
  if (action === 'show') {
    const h = (await held.list()).find((x) => x.id === id || queueIdFor(x.id, x.jobId ?? '', 0) === id);
    if (h === undefined) { io.stderr.write(`spoolgate spool: no held spool file ${id!} for writer ${writer}\n`); return 1; }
    const job = h.jobName === undefined ? '-' : `${h.jobName}(${h.jobId ?? '?'})`;
    if (json) {
      io.stdout.write(JSON.stringify({ ...h, queueId: queueIdFor(h.id, h.jobId ?? '', 0), report: await held.report(h) }, null, 2) + '\n');
      return 0;
    }
    io.stdout.write(`${h.id} queue id ${queueIdFor(h.id, h.jobId ?? '', 0)} held ${h.heldAt?.toISOString() ?? '-'} job ${job}\nreason: ${h.reason}\n\n${await held.report(h)}\n`);
    return 0;
  }
  const r = action === 'release' ? await held.release(id!) : await held.purge(id!);
  if (!r.ok) {
    io.stderr.write(`spoolgate spool: ${r.error}\n`);
    return 1;
  }
  if (json) io.stdout.write(JSON.stringify({ [action === 'release' ? 'released' : 'purged']: r.value }) + '\n');
  else io.stdout.write(`${action === 'release' ? 'released' : 'purged'} ${r.value}\n`);
  return 0;
}
