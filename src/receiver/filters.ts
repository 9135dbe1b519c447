// Filters on accepted mail (SPEC.md §5, the iSeries "virus filtering"): rules on the originator,
// the subject, attachment file names and MIME types, with "*" wildcards, case-insensitive.
import type { ReversePath } from '../core/address.js';
import type { FilterRule } from '../config/types.js';
import { summarize, type MessageSummary } from './mime.js';

/**
 * Wildcard match, case-insensitive. As in the iSeries filter, "*" stands for ONE or more
 * arbitrary characters ("*.vbs" does not match ".vbs"); everything else matches itself, and the
 * pattern must cover the whole value. Linear two-pointer matching, no regular expression, so a
 * hostile subject cannot make matching slow.
 */
export function wildcardMatch(pattern: string, value: string): boolean {
  const p = [...pattern.toLowerCase()];
  const v = [...value.toLowerCase()];
  // "*" = one any character followed by zero or more: expand to ["?", "*"].
  const toks: string[] = [];
  for (const c of p) if (c === '*') toks.push('\u0000any1', '\u0000star'); else toks.push(c);
  let ti = 0;
  let vi = 0;
  let starT = -1;
  let starV = 0;
  while (vi < v.length) {
    const t = toks[ti];
    if (t === '\u0000star') { starT = ti++; starV = vi; continue; }
    if (t !== undefined && (t === '\u0000any1' || t === v[vi])) { ti++; vi++; continue; }
    if (starT >= 0) { ti = starT + 1; vi = ++starV; continue; }
    return false;
  }
  while (toks[ti] === '\u0000star') ti++;
  return ti === toks.length;
}

export interface FilterHit {
  readonly rule: FilterRule;
  /** The value that matched (address, subject, file name or type). */
  readonly value: string;
}

function candidates(rule: FilterRule, from: ReversePath, s: MessageSummary): string[] {
  switch (rule.match) {
    // The originator is the envelope sender and every header From: address.
    case 'originator': return [...(from.kind === 'mailbox' ? [`${from.mailbox.local}@${from.mailbox.domain}`] : []), ...s.fromAddresses];
    case 'subject': return s.subject === undefined ? [] : [s.subject];
    case 'attachmentName': return s.parts.flatMap((p) => (p.fileName === undefined ? [] : [p.fileName]));
    case 'mimeType': return s.parts.map((p) => p.contentType);
  }
}

/** Every rule that matches the message, in configuration order (one hit per rule). */
export function evaluateFilters(rules: readonly FilterRule[], from: ReversePath, data: Buffer): FilterHit[] {
  if (rules.length === 0) return [];
  const s = summarize(data);
  const hits: FilterHit[] = [];
  for (const rule of rules) {
    const value = candidates(rule, from, s).find((c) => wildcardMatch(rule.pattern, c));
    if (value !== undefined) hits.push({ rule, value });
  }
  return hits;
}

/**
 * What happens to a message with these hits: dry-run hits are only journaled; among the others a
 * Keep wins over a Discard (keeping a copy loses nothing); no effective hit = deliver.
 */
export function filterOutcome(hits: readonly FilterHit[]): 'deliver' | 'keep' | 'discard' {
  const effective = hits.filter((h) => !h.rule.dryRun);
  if (effective.length === 0) return 'deliver';
  return effective.some((h) => h.rule.action === 'keep') ? 'keep' : 'discard';
}
