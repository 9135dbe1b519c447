// `spoolgate submit` — puts batch-SMTP files on a writer's spool (the IEBGENER step, SPEC.md §7).
// Each file becomes one spool entry, written under <root>/tmp/ and renamed into the writer's
// incoming/ queue only when complete and fsynced; the entry id is printed per file.
import { open } from 'node:fs/promises';
import { getCodePage } from '../codepage/index.js';
import { describeError } from '../core/errors.js';
import { jobNameFromFileName, normalizeName, RECORD_FORMATS, type SpoolRecordFormat } from '../spool/attributes.js';
import { submitToSpool } from '../spool/submit.js';
import { processIo, type CliIo } from './io.js';
import { configPath } from './config-file.js';
import { parseCommand, usageError } from './parse.js';

export interface SpoolTarget {
  root: string;
  writer: string;
}

/**
 * The spool root and writer: from --config (Spool Directory, ExtWrtName), overridden by
 * --spool-dir and --writer. Returns an error text for a usage or configuration problem.
 */
export async function resolveSpoolTarget(o: { config?: string; spoolDir?: string; writer?: string }, env: NodeJS.ProcessEnv): Promise<{ ok: true; value: SpoolTarget } | { ok: false; error: string }> {
  let root = o.spoolDir;
  let writer = o.writer;
  if (o.config !== undefined) {
    // Loaded only when asked for, so --spool-dir works without a configuration file.
    const { loadConfig } = await import('../config/index.js');
    const r = loadConfig(o.config, env);
    if (!r.ok) return { ok: false, error: r.error.map((e) => e.message).join('\n') };
    root ??= r.value.config.spool.directory;
    writer ??= r.value.config.extWrtName;
  }
  if (root === undefined || writer === undefined) return { ok: false, error: 'give --config FILE, or --spool-dir DIR and --writer NAME' };
  const w = normalizeName(writer);
  if (!w.ok) return { ok: false, error: `--writer: ${w.error}` };
  return { ok: true, value: { root, writer: w.value } };
}

export async function run(argv: string[], io: CliIo = processIo): Promise<number> {
  const args = parseCommand('submit', argv, io);
  if (typeof args === 'number') return args;
  const v = args.values as { config?: string; 'spool-dir'?: string; writer?: string; job?: string; encoding?: string; 'record-format'?: string };
  const usage = (msg: string): number => usageError('submit', io, msg);
  if (args.positionals.length === 0) return usage('no FILE given');
  if (args.positionals.filter((f) => f === '-').length > 1) return usage('standard input ("-") can be given once');
  let job: string | undefined;
  if (v.job !== undefined) {
    const j = normalizeName(v.job);
    if (!j.ok) return usage(`--job: ${j.error}`);
    job = j.value;
  }
  let encoding: string | undefined;
  if (v.encoding !== undefined) {
    const cp = getCodePage(v.encoding);
    if (cp === undefined) return usage(`--encoding: unknown code page "${v.encoding}"`);
    encoding = cp.name;
  }
  let recordFormat: SpoolRecordFormat | undefined;
  if (v['record-format'] !== undefined) {
    recordFormat = RECORD_FORMATS.find((f) => f === v['record-format']);
    if (recordFormat === undefined) return usage(`--record-format must be one of ${RECORD_FORMATS.join(', ')}`);
  }
  // Without --spool-dir: the one configuration search (cli/config-file.ts).
  const config = v.config ?? (v['spool-dir'] === undefined ? configPath(undefined, io) : undefined);
  const target = await resolveSpoolTarget({
    ...(config === undefined ? {} : { config }),
    ...(v['spool-dir'] === undefined ? {} : { spoolDir: v['spool-dir'] }),
    ...(v.writer === undefined ? {} : { writer: v.writer }),
  }, io.env);
  if (!target.ok) {
    io.stderr.write(`spoolgate submit: ${target.error}\n`);
    return 2;
  }

  let failed = 0;
  for (const file of args.positionals) {
    const jobName = job ?? (file === '-' ? undefined : jobNameFromFileName(file));
    try {
      // Opened before submitting, so a missing or unreadable file is an error of this file only.
      const data = file === '-' ? io.stdin : (await open(file, 'r')).createReadStream();
      const entry = await submitToSpool({
        root: target.value.root,
        writer: target.value.writer,
        data,
        attrs: {
          ...(jobName === undefined ? {} : { jobName }),
          ...(encoding === undefined ? {} : { encoding }),
          ...(recordFormat === undefined ? {} : { recordFormat }),
        },
      });
      io.stdout.write(`${entry.id} ${entry.attrs.jobName}(${entry.attrs.jobId}) ${file}\n`);
    } catch (e) {
      failed++;
      io.stderr.write(`spoolgate submit: ${file}: ${describeError(e)}\n`);
    }
  }
  return failed > 0 ? 1 : 0;
}
