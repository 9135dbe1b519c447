// Pages → a PDF with pdfkit: one monospaced font, each print line at its place on the form, the
// passes of an overprinted line drawn on top of each other. Page size and orientation follow the
// report: the widest line and the lines per page decide the font size for portrait and for
// landscape, and the orientation that gives the larger font wins (80 columns: portrait; 132:
// landscape). A header and a footer line may be laid over every page ({page}, {date}, {job},
// {section}). The font is DejaVu Sans Mono when the system has it (every Unicode character of
// the report), else the PDF standard Courier (Latin-1; other characters print as '?').
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import PDFDocument from 'pdfkit';
import type { PrintPage } from './pager.js';

export type Paper = 'A4' | 'LETTER';

export interface RenderOptions {
  readonly paper: Paper;
  /** Lines per page of the form (the pager's). */
  readonly linesPerPage: number;
  /** Columns of the widest line; computed from the pages when absent. */
  readonly columns?: number;
  readonly header?: string;
  readonly footer?: string;
  readonly title: string;
  readonly job?: string;
  readonly section?: number;
  /** Fixed for reproducible output in tests; default now. */
  readonly date?: Date;
  /** Font file; default DejaVu Sans Mono when present. null = Courier. */
  readonly fontFile?: string | null;
}

export const SYSTEM_MONO_FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf';
const SIZES: Record<Paper, [number, number]> = { A4: [595.28, 841.89], LETTER: [612, 792] };
const MARGIN = 36;
/** Advance width of a monospaced glyph in em (Courier 600/1000, DejaVu Sans Mono 1233/2048). */
const EM_WIDTH = 0.602;
const LEADING = 1.12;

export interface Geometry {
  readonly layout: 'portrait' | 'landscape';
  readonly fontSize: number;
  readonly lineHeight: number;
  readonly top: number;
}

/** The orientation and font size that fit `columns` × `lines` on the paper with the larger font. */
export function geometry(paper: Paper, columns: number, lines: number, overlays: number): Geometry {
  const [w, h] = SIZES[paper];
  const fit = (width: number, height: number): { fontSize: number; lineHeight: number } => {
    const rows = lines + overlays * 2;
    const byWidth = (width - 2 * MARGIN) / (Math.max(columns, 1) * EM_WIDTH);
    const byHeight = (height - 2 * MARGIN) / rows / LEADING;
    const fontSize = Math.min(byWidth, byHeight, 12);
    return { fontSize, lineHeight: Math.min((height - 2 * MARGIN) / rows, fontSize * 1.6) };
  };
  const portrait = fit(w, h);
  const landscape = fit(h, w);
  const pick = landscape.fontSize > portrait.fontSize * 1.05 ? { layout: 'landscape' as const, ...landscape } : { layout: 'portrait' as const, ...portrait };
  return { ...pick, top: MARGIN + overlays * pick.lineHeight };
}

/** Control characters would draw as boxes (or break the text operator): blank them. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

function fill(template: string, page: number, o: RenderOptions, date: Date): string {
  return template
    .replaceAll('{page}', String(page))
    .replaceAll('{date}', date.toISOString().slice(0, 10))
    .replaceAll('{job}', o.job ?? '')
    .replaceAll('{section}', o.section === undefined ? '' : String(o.section));
}

/**
 * Renders `pages` into one PDF document written to `out` as it is made (memory: one page, plus
 * pdfkit's small per-page objects), waiting for `out` to drain. Resolves with the page count
 * once `out` has finished.
 */
export async function renderPdfTo(pages: Iterable<PrintPage> | AsyncIterable<PrintPage>, o: RenderOptions & { columns: number }, out: Writable): Promise<number> {
  const overlays = (o.header !== undefined ? 1 : 0) + (o.footer !== undefined ? 1 : 0) > 0 ? 1 : 0;
  const g = geometry(o.paper, o.columns, o.linesPerPage, overlays);
  const date = o.date ?? new Date();
  const fontFile = o.fontFile === undefined ? (existsSync(SYSTEM_MONO_FONT) ? SYSTEM_MONO_FONT : null) : o.fontFile;
  const doc = new PDFDocument({
    size: o.paper, layout: g.layout, margin: MARGIN, autoFirstPage: false, compress: true,
    info: { Title: o.title, Producer: 'spoolgate', Creator: 'spoolgate pdfmail', CreationDate: date },
  });
  const written = finished(out);
  doc.on('error', (e: Error) => out.destroy(e));
  doc.pipe(out);
  if (fontFile !== null) doc.registerFont('mono', fontFile);
  const font = fontFile !== null ? 'mono' : 'Courier';
  const latin1Only = fontFile === null;
  const clean = (s: string): string => {
    const t = s.replace(CONTROL, ' ');
    // eslint-disable-next-line no-control-regex
    return latin1Only ? t.replace(/[^\u0000-\u00ff]/g, '?') : t;
  };
  let n = 0;
  const ph = g.layout === 'portrait' ? SIZES[o.paper][1] : SIZES[o.paper][0];
  for await (const page of pages) {
    n++;
    doc.addPage({ size: o.paper, layout: g.layout, margin: MARGIN });
    doc.font(font).fontSize(g.fontSize);
    if (o.header !== undefined) doc.text(clean(fill(o.header, n, o, date)), MARGIN, MARGIN, { lineBreak: false });
    page.lines.forEach((passes, i) => {
      const y = g.top + i * g.lineHeight;
      for (const text of passes ?? []) {
        const t = clean(text).replace(/\s+$/, '');
        if (t !== '') doc.text(t, MARGIN, y, { lineBreak: false });
      }
    });
    if (o.footer !== undefined) doc.text(clean(fill(o.footer, n, o, date)), MARGIN, ph - MARGIN - g.lineHeight, { lineBreak: false });
    if (out.writableNeedDrain) await once(out, 'drain');
  }
  if (n === 0) doc.addPage(); // a PDF has at least one page
  doc.end();
  await written;
  return Math.max(n, 1);
}

/** Renders `pages` into one PDF document in memory (a section: bounded by its page limit). */
export async function renderPdf(pages: Iterable<PrintPage> | AsyncIterable<PrintPage>, o: RenderOptions & { columns: number }): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new Writable({ write(c: Buffer, _e, cb): void { chunks.push(c); cb(); } });
  await renderPdfTo(pages, o, sink);
  return Buffer.concat(chunks);
}

/** The widest line (first pass and overprints) of the pages, in characters. */
export function widestLine(pages: readonly PrintPage[]): number {
  let w = 0;
  for (const p of pages) for (const l of p.lines) for (const t of l ?? []) w = Math.max(w, t.replace(/\s+$/, '').length);
  return w;
}
