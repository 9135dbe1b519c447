// Print output as PDF mail (the iSeries "send spooled file as PDF"; X1 #21 item 1): a report
// becomes one PDF (or, with a split rule, one PDF per section), each mailed as an attachment
// through the same submission path as `note` (compose.ts → spool.ts putOnSpool: our Received
// field, Date, Message-ID; one message entry per mail, durable before the next section).
// A section's recipient comes from the split rule; a section without one goes to the fallback
// address when given, else it is reported and not sent. A recipient that is not a valid address
// is reported the same way; the other sections are sent all the same.
import { reportPdfs, type ReportOptions } from '../pdf/index.js';
import { type Mailbox, type Result, ok, err, formatMailbox } from '../core/index.js';
import { composeNote } from './compose.js';
import { putOnSpool, type SpoolTarget } from './spool.js';

export interface PdfMailOptions {
  readonly report: AsyncIterable<Buffer>;
  readonly pdf: ReportOptions;
  readonly from: Mailbox;
  /** Recipients of every mail (without a split rule: the only ones). */
  readonly to: readonly string[];
  readonly cc?: readonly string[];
  /** Where a section without a recipient goes (split only); absent = reported, not sent. */
  readonly fallback?: string;
  /** Subject; {title}, {section}, {pages} are filled in. */
  readonly subject: string;
  readonly text: string;
  /** Attachment name; {job}, {section}, {title} filled in; ".pdf" added when missing. */
  readonly attachmentName: string;
  readonly target: SpoolTarget;
  readonly user: string;
  readonly jobName?: string;
  /**
   * Exactly-once per section across crashes (a spool report entry, pdf-spool.ts): a section for
   * which `done` is true is not mailed again; each mail's entry gets the id `entryId(section)`,
   * and `record(section)` runs once it is durable in tmp/ and before it is visible.
   */
  readonly sections?: {
    readonly done: (section: number) => boolean;
    readonly entryId: (section: number) => string;
    readonly record: (section: number) => Promise<void>;
    /** Checked before each section: true ends the run early (result `interrupted`). */
    readonly stop?: () => boolean;
  };
}

export interface PdfMailSent { readonly section: number; readonly pages: number; readonly to: readonly string[]; readonly entryId: string; readonly bytes: number }
export interface PdfMailSkipped { readonly section: number; readonly pages: number; readonly reason: string }
export interface PdfMailResult { readonly sent: PdfMailSent[]; readonly skipped: PdfMailSkipped[]; readonly interrupted?: boolean }

function fill(t: string, v: Record<string, string>): string {
  return t.replace(/\{(\w+)\}/g, (m, k: string) => v[k] ?? m);
}

export async function sendPdfMail(o: PdfMailOptions): Promise<Result<PdfMailResult, string>> {
  const sent: PdfMailSent[] = [];
  const skipped: PdfMailSkipped[] = [];
  const split = o.pdf.split !== undefined;
  if (!split && o.to.length === 0) return err('no recipient: give --to (or a split rule that finds one per section)');
  for await (const part of reportPdfs(o.report, o.pdf)) {
    if (o.sections?.stop?.() === true) return ok({ sent, skipped, interrupted: true });
    if (o.sections?.done(part.section) === true) continue;
    const to = [...o.to];
    if (split) {
      const r = part.recipient ?? o.fallback;
      if (r === undefined) {
        skipped.push({ section: part.section, pages: part.pages, reason: 'the split rule found no recipient in this section (give --fallback to send such sections somewhere)' });
        continue;
      }
      to.unshift(r);
    }
    const vars = { title: o.pdf.title, section: String(part.section), pages: String(part.pages), job: o.pdf.job ?? o.jobName ?? '' };
    let name = fill(o.attachmentName, vars);
    if (!/\.pdf$/i.test(name)) name += '.pdf';
    const composed = await composeNote({
      from: o.from, to, ...(o.cc === undefined ? {} : { cc: o.cc }), subject: fill(o.subject, vars), text: fill(o.text, vars),
      attachments: [{ filename: name, content: part.pdf }], hostName: o.target.hostName,
    });
    if (!composed.ok) {
      skipped.push({ section: part.section, pages: part.pages, reason: composed.error.message });
      continue;
    }
    const hooks = o.sections;
    const entry = await putOnSpool({
      target: o.target, envelope: composed.value.envelope, data: composed.value.data, tool: 'pdfmail', user: o.user, ...(o.jobName === undefined ? {} : { jobName: o.jobName }),
      ...(hooks === undefined ? {} : { id: hooks.entryId(part.section), beforeRename: () => hooks.record(part.section) }),
    });
    sent.push({ section: part.section, pages: part.pages, to: composed.value.envelope.recipients.map((r) => formatMailbox(r.mailbox)), entryId: entry.id, bytes: part.pdf.length });
  }
  return ok({ sent, skipped });
}
