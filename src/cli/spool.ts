// `spoolgate spool` — the operator's view of held spool files (SPEC.md §1.2 ext): list them,
// show one's problem report, release one back into the writer's queue, or purge it. Works while the gateway runs: the
// gateway never reads held/, and a release is a single rename into incoming/.
import { parseArgs } from 'node:util';
import { describeError } from '../core/errors.js';
import { listHeld, purgeHeld, readHeldReport, releaseHeld } from '../spool/disposition.js';
import { queueIdFor } from '../core/ids.js';
import { spoolLayout } from '../spool/submit.js';
import { resolveSpoolTarget } from './submit.js';
import { processIo, type CliIo } from './io.js';
import { configPath, configHelpLine } from './config-file.js';

const USAGE = `usage: spoolgate spool held|show ID|release ID|purge ID (--config FILE | --spool-dir DIR --writer NAME)
  held         list held spool files: id, time held, job, reason
  show ID      a held file's problem report (its sysout report, or the reason); ID: the name or its queue id
  release ID   move a held file back to the writer's queue (processed again)
  purge ID     delete a held file`;

export async function run(argv: string[], io: CliIo = processIo): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { config: { type: 'string' }, 'spool-dir': { type: 'string' }, writer: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (e) {
    io.stderr.write(`spoolgate spool: ${describeError(e)}\n${USAGE}\n`);
    return 2;
  }
  const v = args.values;
  if (v.help === true) {
    io.stdout.write(`${USAGE}\n${configHelpLine(v.config, io)}\n`);
    return 0;
  }
  const usage = (msg: string): number => {
    io.stderr.write(`spoolgate spool: ${msg}\n${USAGE}\n`);
    return 2;
  };
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
    io.stdout.write(`${h.id} queue id ${queueIdFor(h.id, h.jobId ?? '', 0)} held ${h.heldAt?.toISOString() ?? '-'} job ${job}\nreason: ${h.reason}\n\n${await readHeldReport(l, h)}\n`);
    return 0;
  }
  const r = action === 'release' ? await releaseHeld(l, id!) : await purgeHeld(l, id!);
  if (!r.ok) {
    io.stderr.write(`spoolgate spool: ${r.error}\n`);
    return 1;
  }
  io.stdout.write(`${action === 'release' ? 'released' : 'purged'} ${r.value}\n`);
  return 0;
}
