// `spoolgate spool` — the operator's view of held spool files (SPEC.md §1.2 ext): list them,
// show one's problem report, release one back into the writer's queue, or purge it. Works while the gateway runs: the
// gateway never reads held/, and a release is a single rename into incoming/.
import { listHeld, purgeHeld, readHeldReport, releaseHeld } from '../spool/disposition.js';
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

  if (action === 'held') {
    const held = await listHeld(l);
    if (v.json === true) {
      io.stdout.write(JSON.stringify({ writer: l.writer, held: held.map((h) => ({ ...h, queueId: queueIdFor(h.id, h.jobId ?? '', 0) })) }, null, 2) + '\n');
      return 0;
    }
    for (const h of held) {
      const job = h.jobName === undefined ? '-' : `${h.jobName}(${h.jobId ?? '?'})`;
      io.stdout.write(`${h.id} ${h.heldAt?.toISOString() ?? '-'} ${job} ${h.reason.replace(/\s+/g, ' ')}\n`);
    }
    if (held.length === 0) io.stderr.write(`no held spool files for writer ${l.writer}\n`);
    return 0;
  }
  if (action === 'show') {
    const h = (await listHeld(l)).find((x) => x.id === id || queueIdFor(x.id, x.jobId ?? '', 0) === id);
    if (h === undefined) { io.stderr.write(`spoolgate spool: no held spool file ${id!} for writer ${l.writer}\n`); return 1; }
    const job = h.jobName === undefined ? '-' : `${h.jobName}(${h.jobId ?? '?'})`;
    if (v.json === true) {
      io.stdout.write(JSON.stringify({ ...h, queueId: queueIdFor(h.id, h.jobId ?? '', 0), report: await readHeldReport(l, h) }, null, 2) + '\n');
      return 0;
    }
    io.stdout.write(`${h.id} queue id ${queueIdFor(h.id, h.jobId ?? '', 0)} held ${h.heldAt?.toISOString() ?? '-'} job ${job}\nreason: ${h.reason}\n\n${await readHeldReport(l, h)}\n`);
    return 0;
  }
  const r = action === 'release' ? await releaseHeld(l, id!) : await purgeHeld(l, id!);
  if (!r.ok) {
    io.stderr.write(`spoolgate spool: ${r.error}\n`);
    return 1;
  }
  if (v.json === true) io.stdout.write(JSON.stringify({ [action === 'release' ? 'released' : 'purged']: r.value }) + '\n');
  else io.stdout.write(`${action === 'release' ? 'released' : 'purged'} ${r.value}\n`);
  return 0;
}
