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
