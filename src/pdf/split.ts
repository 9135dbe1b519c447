// Splitting a report into sections, one PDF and one mail each (invoices to each customer):
// - a section starts at every page (`page`), or at each page that holds a marker text in given
//   columns (`marker:1-7=INVOICE`);
// - its recipient comes from given columns of a line of its first page (`columns:3:10-60`: line
//   3, columns 10 to 60), or from a tag line anywhere in it (`tag:%%MAILTO:` : the address follows
//   the prefix). Tag lines are blanked out of the printed output.
// Rules come from the command line or a spool entry's header record as text; parse errors name
// the rule and the expected form. Columns are 1-based and inclusive, as on a print layout.
import { type Result, ok, err } from '../core/index.js';
import type { PrintPage } from './pager.js';

export type SectionStart = { readonly kind: 'page' } | { readonly kind: 'marker'; readonly from: number; readonly to: number; readonly text: string };
export type RecipientRule = { readonly kind: 'columns'; readonly line: number; readonly from: number; readonly to: number } | { readonly kind: 'tag'; readonly prefix: string };

export interface SplitRule {
  readonly start: SectionStart;
  readonly recipient: RecipientRule;
}

export interface Section {
  readonly pages: PrintPage[];
  /** The recipient found by the rule (trimmed), or undefined when the section has none. */
  readonly recipient: string | undefined;
}

const RANGE = /^(\d{1,5})-(\d{1,5})$/;

function range(text: string): { from: number; to: number } | undefined {
  const m = RANGE.exec(text);
  if (m === null) return undefined;
  const from = Number(m[1]);
  const to = Number(m[2]);
  return from >= 1 && to >= from ? { from, to } : undefined;
}

export function parseSectionStart(text: string): Result<SectionStart, string> {
  if (text === 'page') return ok({ kind: 'page' });
  const m = /^marker:([^=]+)=(.+)$/.exec(text);
  const r = m === null ? undefined : range(m[1]!);
  if (m === null || r === undefined) return err(`split rule "${text}": give "page" or "marker:FROM-TO=TEXT" (columns 1-based, e.g. marker:1-7=INVOICE)`);
  if (m[2]!.length > r.to - r.from + 1) return err(`split rule "${text}": the marker text is longer than columns ${r.from}-${r.to}`);
  return ok({ kind: 'marker', ...r, text: m[2]! });
}

export function parseRecipientRule(text: string): Result<RecipientRule, string> {
  const tag = /^tag:(.+)$/.exec(text);
  if (tag !== null) return ok({ kind: 'tag', prefix: tag[1]! });
  const m = /^columns:(\d{1,5}):(.+)$/.exec(text);
  const r = m === null ? undefined : range(m[2]!);
  if (m === null || r === undefined || Number(m[1]) < 1) return err(`recipient rule "${text}": give "tag:PREFIX" or "columns:LINE:FROM-TO" (e.g. columns:3:10-60)`);
  return ok({ kind: 'columns', line: Number(m[1]), ...r });
}

/** Columns from-to (1-based, inclusive) of a line's first printed pass. */
const cols = (line: readonly string[] | undefined, from: number, to: number): string => (line?.[0] ?? '').slice(from - 1, to);

function startsSection(rule: SectionStart, page: PrintPage): boolean {
  if (rule.kind === 'page') return true;
  return page.lines.some((l) => cols(l, rule.from, rule.to).startsWith(rule.text));
}

/**
 * Groups pages into sections. Pages before the first marker form a section of their own (a
 * banner or cover page); it has no recipient unless the rule finds one in it.
 */
export class Sectioner {
  private pages: PrintPage[] = [];
  private recipient: string | undefined;

  constructor(private readonly rule: SplitRule, private readonly onSection: (s: Section) => void, private readonly maxPages = 10_000) {}

  push(page: PrintPage): void {
    if (this.pages.length > 0 && startsSection(this.rule.start, page)) this.flush();
    if (this.pages.length >= this.maxPages) throw new RangeError(`a section is longer than ${this.maxPages} pages: check the split rule`);
    const r = this.rule.recipient;
    const lines = page.lines.map((l) => {
      if (r.kind === 'tag' && (l[0] ?? '').startsWith(r.prefix)) {
        this.recipient ??= l[0]!.slice(r.prefix.length).trim();
        return [];
      }
      return l;
    });
    if (r.kind === 'columns' && this.pages.length === 0) {
      const found = cols(page.lines[r.line - 1], r.from, r.to).trim();
      if (found !== '') this.recipient = found;
    }
    this.pages.push({ number: page.number, lines });
  }

  private flush(): void {
    if (this.pages.length === 0) return;
    this.onSection({ pages: this.pages, recipient: this.recipient });
    this.pages = [];
    this.recipient = undefined;
  }

  end(): void {
    this.flush();
  }
}
