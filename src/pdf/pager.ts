// Print records → pages, by the carriage control a batch print file uses (the iSeries "spooled
// file as PDF" and z/OS SYSOUT conventions):
// - none: each record is a line; a form feed (X'0C') starts a new page;
// - ASA (first character, acted on BEFORE the line is printed): ' ' next line, '0' skip one
//   line, '-' skip two, '+' overprint the previous line, '1' top of the next page; '2'-'9',
//   'A'-'C' (channels 2-12, form positions we do not have) are taken as a new line;
// - machine (first byte, acted on AFTER the line is printed, or alone without printing):
//   write X'01' (no space), X'09' (space 1), X'11' (space 2), X'19' (space 3), X'89' (skip to
//   channel 1); immediate X'0B'/X'13'/X'1B' (space 1/2/3), X'8B' (skip to channel 1), X'03'
//   (no operation).
// A page holds at most linesPerPage lines; a line past the last one starts a new page. Lines
// are strings; an overprinted line keeps each pass (the renderer draws them on top of each other).
// Pure and streaming: pages are handed out as they are complete, so memory is one page.

export type CarriageControl = 'none' | 'asa' | 'machine';

export interface PrintRecord {
  /** The line's text (without the carriage control character/byte). */
  readonly text: string;
  /** ASA: the control character's code; machine: the control byte. Absent with 'none'. */
  readonly cc?: number;
}

export interface PrintPage {
  /** 1-based page number in the report. */
  readonly number: number;
  /** Line i (0-based) of the page; each entry lists the passes printed on that line (overprint). */
  readonly lines: readonly (readonly string[])[];
}

export const DEFAULT_LINES_PER_PAGE = 66;

const ASA_ADVANCE: Record<string, number> = { ' ': 1, '0': 2, '-': 3, '+': 0 };
const MACHINE_WRITE: Record<number, number | 'page'> = { 0x01: 0, 0x09: 1, 0x11: 2, 0x19: 3, 0x89: 'page' };
const MACHINE_IMMEDIATE: Record<number, number | 'page'> = { 0x03: 0, 0x0b: 1, 0x13: 2, 0x1b: 3, 0x8b: 'page' };

export class Pager {
  private lines: string[][] = [];
  /** The line the next text goes on (ASA: the line last printed; -1 = nothing yet on this page). */
  private cur = -1;
  private pageNo = 0;
  /** A page break is due before the next text (machine skip to channel 1, or a form feed). */
  private breakDue = false;
  private started = false;

  constructor(private readonly opts: { readonly linesPerPage: number; readonly carriage: CarriageControl; readonly onPage: (p: PrintPage) => void }) {
    if (!(opts.linesPerPage >= 1)) throw new RangeError('linesPerPage must be at least 1');
  }

  /** A new page starts: the current one (if it has begun) is handed out. */
  newPage(): void {
    if (this.started) this.flush();
    this.started = true;
    this.pageNo++;
    this.lines = [];
    this.cur = -1;
    this.breakDue = false;
  }

  private flush(): void {
    this.opts.onPage({ number: this.pageNo, lines: this.lines });
  }

  private ensurePage(): void {
    if (!this.started || this.breakDue) this.newPage();
  }

  /** Moves down n lines; past the last line of the page, the text goes to the next page's top. */
  private advance(n: number): void {
    this.ensurePage();
    this.cur += n;
    if (this.cur >= this.opts.linesPerPage) {
      this.newPage();
      this.cur = 0;
    }
  }

  private print(text: string): void {
    this.ensurePage();
    if (this.cur < 0) this.cur = 0;
    const line = (this.lines[this.cur] ??= []);
    line.push(text);
    // Lines skipped over are blank.
    for (let i = 0; i < this.cur; i++) this.lines[i] ??= [];
  }

  push(rec: PrintRecord): void {
    switch (this.opts.carriage) {
      case 'none': {
        // A form feed anywhere starts a new page; text after it goes on that page's first line.
        const parts = rec.text.split('\f');
        // A record that starts with the form feed prints nothing on the old page.
        if (parts[0] !== '' || parts.length === 1) { this.advance(1); this.print(parts[0]!); }
        // The page starts with its first text: a form feed at the end of the file adds no page.
        for (const part of parts.slice(1)) {
          this.breakDue = true;
          if (part !== '') { this.advance(1); this.print(part); }
        }
        return;
      }
      case 'asa': {
        const c = rec.cc === undefined ? ' ' : String.fromCharCode(rec.cc);
        if (c === '1') {
          this.newPage();
          this.advance(1);
        } else {
          const n = ASA_ADVANCE[c] ?? 1;
          // '+' overprints the line printed last; at the top of a page there is none: a new line.
          const overprint = n === 0 && this.started && !this.breakDue && this.cur >= 0;
          if (!overprint) this.advance(n === 0 ? 1 : n);
        }
        this.print(rec.text);
        return;
      }
      case 'machine': {
        const b = rec.cc ?? 0x09;
        const immediate = MACHINE_IMMEDIATE[b];
        if (immediate !== undefined) {
          if (immediate === 'page') this.breakDue = true;
          else if (immediate > 0) this.advance(immediate);
          return;
        }
        const after = MACHINE_WRITE[b] ?? 1;
        this.print(rec.text);
        if (after === 'page') this.breakDue = true;
        else if (after > 0) this.advanceAfterWrite(after);
      }
    }
  }

  /** Machine carriage control: the position moves after the write; a page overflow is due, not made. */
  private advanceAfterWrite(n: number): void {
    this.cur += n;
    if (this.cur >= this.opts.linesPerPage) this.breakDue = true;
  }

  /** The last page (if any was begun) is handed out. */
  end(): void {
    if (this.started) this.flush();
    this.started = false;
  }
}
