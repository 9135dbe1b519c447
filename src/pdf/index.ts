// pdf — print output as PDF (the iSeries "send spooled files as PDF" function, X1 #21 item 1).
// What it does: reads a print-style report (text with form feeds, or ASA / machine carriage
//   control in column 1; ASCII, UTF-8 or EBCDIC records), lays it out in pages (pager.ts),
//   optionally splits it into sections with their own recipient (split.ts), and renders each as
//   a monospaced PDF (render.ts, pdfkit). Mailing the PDFs is the submission role's job
//   (submit/pdfmail.ts).
// Untrusted input: the report. Records are bounded (32,760 bytes), a section is bounded in pages
//   (10,000), control characters are blanked before they reach the PDF.
// Persists nothing; pure apart from reading the font file.
import type { CodePage } from '../codepage/index.js';
import { Pager, DEFAULT_LINES_PER_PAGE, type CarriageControl, type PrintPage } from './pager.js';
import { printRecords, type PrintFormat } from './input.js';
import { Sectioner, type Section, type SplitRule } from './split.js';
import type { Writable } from 'node:stream';
import { renderPdf, renderPdfTo, widestLine, type Paper } from './render.js';

export { Pager, DEFAULT_LINES_PER_PAGE, type CarriageControl, type PrintPage, type PrintRecord } from './pager.js';
export { printRecords, PrintInputError, type PrintFormat } from './input.js';
export { Sectioner, parseSectionStart, parseRecipientRule, type SplitRule, type Section } from './split.js';
export { renderPdf, renderPdfTo, geometry, type Paper } from './render.js';

export interface ReportOptions {
  readonly format: PrintFormat;
  readonly carriage: CarriageControl;
  readonly codepage?: CodePage;
  readonly linesPerPage?: number;
  readonly paper?: Paper;
  readonly header?: string;
  readonly footer?: string;
  readonly title: string;
  readonly job?: string;
  readonly split?: SplitRule;
  readonly date?: Date;
  readonly fontFile?: string | null;
  /** Pages one PDF may have (default 10,000). */
  readonly maxPages?: number;
}

export interface ReportPdf {
  /** 1-based section number (1 without a split rule). */
  readonly section: number;
  readonly pdf: Buffer;
  readonly pages: number;
  /** The section's recipient found by the split rule. */
  readonly recipient: string | undefined;
}

/**
 * The report in `source` as PDFs: one, or one per section with a split rule. Sections are
 * rendered as they complete, so memory holds one section's pages, not the report.
 */
export async function* reportPdfs(source: AsyncIterable<Buffer>, o: ReportOptions): AsyncGenerator<ReportPdf> {
  const done: Section[] = [];
  const split = o.split ?? { start: { kind: 'marker', from: 1, to: 1, text: '\u0000never' }, recipient: { kind: 'tag', prefix: '\u0000never' } } satisfies SplitRule;
  const sectioner = new Sectioner(split, (s) => done.push(s), o.maxPages ?? 10_000);
  let n = 0;
  const render = async (s: Section): Promise<ReportPdf> => {
    n++;
    const pdf = await renderPdf(s.pages, { ...renderOptions(o, Math.max(widestLine(s.pages), 1)), section: n });
    return { section: n, pdf, pages: s.pages.length, recipient: s.recipient };
  };
  for await (const page of reportPages(source, o)) {
    sectioner.push(page);
    while (done.length > 0) yield await render(done.shift()!);
  }
  sectioner.end();
  while (done.length > 0) yield await render(done.shift()!);
}

/** What the renderer needs from the report options, for `columns` columns. */
function renderOptions(o: ReportOptions, columns: number): Parameters<typeof renderPdfTo>[1] {
  return {
    paper: o.paper ?? 'A4', linesPerPage: o.linesPerPage ?? DEFAULT_LINES_PER_PAGE, columns, title: o.title,
    ...(o.header === undefined ? {} : { header: o.header }), ...(o.footer === undefined ? {} : { footer: o.footer }),
    ...(o.job === undefined ? {} : { job: o.job }), ...(o.date === undefined ? {} : { date: o.date }),
    ...(o.fontFile === undefined ? {} : { fontFile: o.fontFile }),
  };
}

/** The report's pages as they are made (memory: the page being filled). */
async function* reportPages(source: AsyncIterable<Buffer>, o: ReportOptions): AsyncGenerator<PrintPage> {
  const ready: PrintPage[] = [];
  const pager = new Pager({ linesPerPage: o.linesPerPage ?? DEFAULT_LINES_PER_PAGE, carriage: o.carriage, onPage: (p) => ready.push(p) });
  for await (const rec of printRecords(source, { format: o.format, carriage: o.carriage, ...(o.codepage === undefined ? {} : { codepage: o.codepage }) })) {
    pager.push(rec);
    while (ready.length > 0) yield ready.shift()!;
  }
  pager.end();
  while (ready.length > 0) yield ready.shift()!;
}

/** Pages looked at to choose the font size when the columns are not given. */
const LAYOUT_SAMPLE_PAGES = 50;

/**
 * The whole report as one PDF written to `out` as it is read, for reports of any size (no page
 * limit, memory of about one page): the width comes from `columns`, else from the widest line of
 * the first 50 pages (a later, wider line runs off the right edge: give `columns` then).
 */
export async function writeReportPdf(source: AsyncIterable<Buffer>, o: ReportOptions & { columns?: number }, out: Writable): Promise<number> {
  const it = reportPages(source, o)[Symbol.asyncIterator]();
  const head: PrintPage[] = [];
  while (head.length < LAYOUT_SAMPLE_PAGES) {
    const n = await it.next();
    if (n.done === true) break;
    head.push(n.value);
  }
  const columns = o.columns ?? Math.max(widestLine(head), 1);
  async function* all(): AsyncGenerator<PrintPage> {
    yield* head;
    for (;;) {
      const n = await it.next();
      if (n.done === true) return;
      yield n.value;
    }
  }
  return renderPdfTo(all(), renderOptions(o, columns), out);
}
