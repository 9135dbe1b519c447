// Filters on accepted mail (SPEC.md §5, the iSeries "virus filtering"): rules on the originator,
// the subject, attachment file names and MIME types, with "*" wildcards, case-insensitive.
import type { ReversePath } from '../core/address.js';
import type { FilterRule } from '../config/types.js';
import { summarize, type MessageSummary } from './mime.js';

/**
 * Wildcard match, case-insensitive, over the whole value: "*" stands for any run of characters,
 * including none. (The iSeries text says "one or more"; zero or more makes "*word*" mean "contains"
 * also at either end, and for a virus filter matching a bare ".vbs" too is the safer side.)
 * Linear two-pointer matching, no regular expression, so a hostile subject cannot make it slow.
 */
export function wildcardMatch(pattern: string, value: string): boolean {
  const p = [...pattern.toLowerCase()];
  const v = [...value.toLowerCase()];
  let pi = 0;
  let vi = 0;
  let star = -1;
  let mark = 0;
  while (vi < v.length) {
    if (p[pi] === '*') { star = pi++; mark = vi; continue; }
    if (pi < p.length && p[pi] === v[vi]) { pi++; vi++; continue; }
    if (star >= 0) { pi = star + 1; vi = ++mark; continue; }
    return false;
  }
  while (p[pi] === '*') pi++;
  return pi === p.length;
}

export interface FilterHit {
  readonly rule: FilterRule;
  /** The value that matched (address, subject, file name or type), or why the message could not be checked. */
  readonly value: string;
  /**
   * Set when the rule could not be checked because the MIME structure is in doubt (a limit hit,
   * an ambiguous field): the filter fails closed and the message is kept, whatever the Action.
   */
  readonly unchecked?: true;
}

function candidates(rule: FilterRule, from: ReversePath, s: MessageSummary): string[] {
  switch (rule.match) {
    // The originator is the envelope sender and every header From: address.
    case 'originator': return [...(from.kind === 'mailbox' ? [`${from.mailbox.local}@${from.mailbox.domain}`] : []), ...s.fromAddresses];
    case 'subject': return s.subject === undefined ? [] : [s.subject];
    case 'attachmentName': return s.parts.flatMap((p) => p.fileNames);
    case 'mimeType': return s.parts.flatMap((p) => p.contentTypes);
  }
}

/**
 * Every rule that matches the message, in configuration order (one hit per rule). A rule on the
 * content (AttachmentName, MimeType) that does not match a message whose MIME structure is in
 * doubt is an "unchecked" hit: another reader might find the attachment the walk missed.
 */
export function evaluateFilters(rules: readonly FilterRule[], from: ReversePath, data: Buffer): FilterHit[] {
  if (rules.length === 0) return [];
  const s = summarize(data);
  const hits: FilterHit[] = [];
  for (const rule of rules) {
    const value = candidates(rule, from, s).find((c) => wildcardMatch(rule.pattern, c));
    if (value !== undefined) hits.push({ rule, value });
    else if (s.doubts.length > 0 && (rule.match === 'attachmentName' || rule.match === 'mimeType')) {
      hits.push({ rule, value: `MIME structure in doubt: ${s.doubts.join('; ')}`, unchecked: true });
    }
  }
  return hits;
}

/**
 * What happens to a message with these hits: dry-run hits are only journaled; among the others a
 * Keep wins over a Discard (keeping a copy loses nothing), and an unchecked hit is a Keep (fail
 * closed, but never drop a message only because it could not be read); no effective hit = deliver.
 */
export function filterOutcome(hits: readonly FilterHit[]): 'deliver' | 'keep' | 'discard' {
  const effective = hits.filter((h) => !h.rule.dryRun);
  if (effective.length === 0) return 'deliver';
  return effective.some((h) => h.rule.action === 'keep' || h.unchecked === true) ? 'keep' : 'discard';
}
