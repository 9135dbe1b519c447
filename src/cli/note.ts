// `spoolgate note` — compose a note (SMTPNOTE analog, SPEC.md §7) with MIME attachments and put it
// on the writer's spool as batch SMTP with task type DEST. The sender defaults to the calling user
// at Users DefaultDomain (else HostName); SenderPolicy Own lets only root choose another --from.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { loadConfig } from '../config/index.js';
import { describeError } from '../core/errors.js';
import { normalizeName } from '../spool/attributes.js';
import { composeNote, currentCaller, decideSender, localDomain, putOnSpool, type NoteAttachment } from '../submit/index.js';
import { processIo, readAll, type CliIo } from './io.js';
import { configPath, noConfig } from './config-file.js';
import { parseCommand, usageError } from './parse.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

async function readText(file: string, what: string, io: CliIo): Promise<string> {
  const bytes = file === '-' ? await readAll(io.stdin) : await readFile(file);
  try {
    return utf8.decode(bytes).replace(/^\uFEFF/, '');
  } catch (e) {
    throw new Error(`${what} ${file}: not UTF-8 text`, { cause: e });
  }
}

export async function run(argv: string[], io: CliIo = processIo): Promise<number> {
  const args = parseCommand('note', argv, io);
  if (typeof args === 'number') return args;
  const v = args.values as { config?: string; to?: string[]; cc?: string[]; bcc?: string[]; from?: string; subject?: string; attach?: string[]; body?: string; html?: string; job?: string };
  if (args.positionals.length > 0) return usageError('note', io, `unexpected "${args.positionals[0]!}" (attach files with --attach FILE)`);
  const fail = (code: number, msg: string): number => {
    if (code === 2) return usageError('note', io, msg);
    io.stderr.write(`spoolgate note: ${msg}\n`);
    return code;
  };
  const configFileName = configPath(v.config, io);
  if (configFileName === undefined) return fail(2, noConfig());
  if (v.subject === undefined) return fail(2, '--subject is required');
  let job: string | undefined;
  if (v.job !== undefined) {
    const j = normalizeName(v.job);
    if (!j.ok) return fail(2, `--job: ${j.error}`);
    job = j.value;
  }
  const loaded = loadConfig(configFileName, io.env);
  if (!loaded.ok) return fail(2, loaded.error.map((e) => e.message).join('\n'));
  const config = loaded.value.config;

  const sender = decideSender({ policy: config.users.senderPolicy, caller: currentCaller(), domain: localDomain(config), ...(v.from === undefined ? {} : { from: v.from }) });
  if (!sender.ok) {
    io.stderr.write(`spoolgate note: ${sender.error.code}: ${sender.error.message}\n`);
    return 2;
  }

  let text: string | undefined;
  let html: string | undefined;
  const attachments: NoteAttachment[] = [];
  try {
    if (v.body !== undefined) text = await readText(v.body, '--body', io);
    if (v.html !== undefined) html = await readText(v.html, '--html', io);
    for (const file of v.attach ?? []) attachments.push({ filename: basename(file), content: await readFile(file) });
  } catch (e) {
    return fail(1, describeError(e));
  }

  const composed = await composeNote({
    from: sender.value, to: v.to ?? [], cc: v.cc ?? [], bcc: v.bcc ?? [], subject: v.subject,
    ...(text === undefined ? {} : { text }), ...(html === undefined ? {} : { html }),
    attachments, hostName: config.hostName,
  });
  if (!composed.ok) {
    io.stderr.write(`spoolgate note: ${composed.error.code}: ${composed.error.message}\n`);
    return 2;
  }
  try {
    const entry = await putOnSpool({
      target: { root: config.spool.directory, writer: config.extWrtName, hostName: config.hostName, instance: config.instance, header: config.header },
      tool: 'note', user: currentCaller().user,
      envelope: composed.value.envelope, data: composed.value.data, ...(job === undefined ? {} : { jobName: job }),
    });
    io.stdout.write(`${entry.id} ${entry.attrs.jobName}(${entry.attrs.jobId})\n`);
    return 0;
  } catch (e) {
    return fail(1, `cannot put the note on the spool: ${describeError(e)}`);
  }
}
