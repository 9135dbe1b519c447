// `spoolgate pdfmail`: a print report as PDF mail (the iSeries "send spooled file as PDF"),
// one PDF, or one per section with --split, each mailed as an attachment (submit/pdfmail.ts).
import { createReadStream, createWriteStream } from 'node:fs';
import { basename } from 'node:path';
import { loadConfig, formatDiagnostic } from '../config/index.js';
import { locateConfig } from '../config/locate.js';
import { getCodePage } from '../codepage/index.js';
import { describeError } from '../core/errors.js';
import { normalizeName } from '../spool/attributes.js';
import { parseRecipientRule, parseSectionStart, writeReportPdf, type CarriageControl, type PrintFormat, type SplitRule } from '../pdf/index.js';

/** The widest print line --columns accepts (a z/OS logical record is at most 32,760 bytes). */
const MAX_COLUMNS = 32760;
import { currentCaller, decideSender, localDomain } from '../submit/index.js';
import { sendPdfMail } from '../submit/pdfmail.js';
import { processIo, type CliIo } from './io.js';
import { parseCommand, usageError } from './parse.js';

function parseFormat(text: string): PrintFormat | undefined {
  if (text === 'text' || text === 'nl' || text === 'vb') return text === 'vb' ? { kind: 'variable' } : { kind: text };
  const m = /^fb:(\d{1,5})$/.exec(text);
  return m === null ? undefined : { kind: 'fixed', length: Number(m[1]) };
}

export async function run(argv: string[], io: CliIo = processIo): Promise<number> {
  const args = parseCommand('pdfmail', argv, io);
  if (typeof args === 'number') return args;
  const v = args.values as { config?: string; from?: string; to?: string[]; cc?: string[]; split?: string; recipient?: string; fallback?: string; subject?: string; text?: string; name?: string; format?: string; carriage?: string; encoding?: string; lines?: string; paper?: string; output?: string; columns?: string; header?: string; footer?: string; job?: string };
  const usage = (msg: string): number => usageError('pdfmail', io, msg);
  if (args.positionals.length !== 1) return usage('give exactly one report FILE (or - for standard input)');
  const file = args.positionals[0]!;
  const format = parseFormat(v.format ?? 'text');
  if (format === undefined) return usage(`--format ${v.format}: give text, nl, fb:LEN or vb`);
  const carriage = (v.carriage ?? 'none') as CarriageControl;
  if (!['none', 'asa', 'machine'].includes(carriage)) return usage(`--carriage ${v.carriage}: give none, asa or machine`);
  const codepage = v.encoding === undefined ? undefined : getCodePage(v.encoding);
  if (v.encoding !== undefined && codepage === undefined) return usage(`--encoding ${v.encoding}: not a known code page (e.g. IBM-1047, IBM-037, ISO8859-1)`);
  if (codepage === undefined && format.kind !== 'text') return usage(`--format ${v.format} holds EBCDIC records: give --encoding`);
  const lines = v.lines === undefined ? 66 : Number(v.lines);
  if (!Number.isInteger(lines) || lines < 1 || lines > 255) return usage('--lines: 1..255');
  const paper = (v.paper ?? 'A4').toUpperCase();
  if (paper !== 'A4' && paper !== 'LETTER') return usage('--paper: A4 or LETTER');
  const title = file === '-' ? 'report' : basename(file).replace(/\.[^.]*$/, '');
  if (v.output !== undefined) {
    if (v.split !== undefined || (v.to ?? []).length > 0) return usage('--output writes one PDF file: it goes without --split and --to');
    const columns = v.columns === undefined ? undefined : Number(v.columns);
    if (columns !== undefined && (!Number.isInteger(columns) || columns < 1 || columns > MAX_COLUMNS)) return usage(`--columns: 1..${MAX_COLUMNS}`);
    try {
      const pages = await writeReportPdf(file === '-' ? io.stdin : createReadStream(file), {
        format, carriage, ...(codepage === undefined ? {} : { codepage }), linesPerPage: lines, paper, title,
        ...(columns === undefined ? {} : { columns }), ...(v.job === undefined ? {} : { job: v.job }),
        ...(v.header === undefined ? {} : { header: v.header }), ...(v.footer === undefined ? {} : { footer: v.footer }),
      }, createWriteStream(v.output));
      io.stdout.write(`${v.output}: ${pages} pages\n`);
      return 0;
    } catch (e) {
      io.stderr.write(`spoolgate pdfmail: ${describeError(e)}\n`);
      return 1;
    }
  }
  let split: SplitRule | undefined;
  if (v.split !== undefined || v.recipient !== undefined) {
    if (v.split === undefined || v.recipient === undefined) return usage('--split and --recipient go together');
    const s = parseSectionStart(v.split);
    if (!s.ok) return usage(s.error);
    const r = parseRecipientRule(v.recipient);
    if (!r.ok) return usage(r.error);
    split = { start: s.value, recipient: r.value };
  } else if ((v.to ?? []).length === 0) return usage('give --to, or --split with --recipient');
  let job: string | undefined;
  if (v.job !== undefined) {
    const j = normalizeName(v.job);
    if (!j.ok) return usage(`--job: ${j.error}`);
    job = j.value;
  }
  const where = locateConfig(v.config, io.env);
  if (where === undefined) return usage('no configuration: give --config FILE or set SPOOLGATE_CONFIG');
  const loaded = loadConfig(where.path, io.env);
  if (!loaded.ok) {
    for (const e of loaded.error) io.stderr.write(formatDiagnostic(e) + '\n');
    return 2;
  }
  const config = loaded.value.config;
  const caller = currentCaller();
  const sender = decideSender({ policy: config.users.senderPolicy, caller, domain: localDomain(config), ...(v.from === undefined ? {} : { from: v.from }) });
  if (!sender.ok) { io.stderr.write(`spoolgate pdfmail: ${sender.error.code}: ${sender.error.message}\n`); return 2; }
  try {
    const r = await sendPdfMail({
      report: file === '-' ? io.stdin : createReadStream(file),
      pdf: {
        format, carriage, ...(codepage === undefined ? {} : { codepage }), linesPerPage: lines, paper, title,
        ...(job === undefined ? {} : { job }), ...(split === undefined ? {} : { split }),
        ...(v.header === undefined ? {} : { header: v.header }), ...(v.footer === undefined ? {} : { footer: v.footer }),
      },
      from: sender.value, to: v.to ?? [], ...(v.cc === undefined ? {} : { cc: v.cc }), ...(v.fallback === undefined ? {} : { fallback: v.fallback }),
      subject: v.subject ?? (split === undefined ? '{title}' : '{title} ({section})'),
      text: v.text ?? 'The report is attached as a PDF file.',
      attachmentName: v.name ?? (split === undefined ? '{title}' : '{title}-{section}'),
      target: { root: config.spool.directory, writer: config.extWrtName, hostName: config.hostName, instance: config.instance, header: config.header },
      user: caller.user, ...(job === undefined ? {} : { jobName: job }),
    });
    if (!r.ok) return usage(r.error);
    for (const s of r.value.sent) io.stdout.write(`${s.entryId} section ${s.section} (${s.pages} pages, ${s.bytes} bytes) → ${s.to.join(', ')}\n`);
    for (const s of r.value.skipped) io.stderr.write(`spoolgate pdfmail: section ${s.section} (${s.pages} pages) not sent: ${s.reason}\n`);
    return r.value.skipped.length === 0 ? 0 : 1;
  } catch (e) {
    io.stderr.write(`spoolgate pdfmail: ${describeError(e)}\n`);
    return 1;
  }
}
