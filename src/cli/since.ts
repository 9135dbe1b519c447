// The one time syntax of the command line (O2 #18 item 8): every --since, --min-age and
// --older-than takes the same WHEN, parsed here and nowhere else:
//   a duration back from now   30s, 30m, 12h, 7d, 2w
//   an ISO 8601 date           2026-11-22 (midnight UTC)
//   an ISO 8601 date-time      2026-11-22T12:00:00Z, 2026-11-22 12:00, 2026-11-22T12:00:00+01:00
// (a date-time without a zone is local time, as Date.parse reads it).
// Anything else is refused with the same message everywhere (sinceError), never guessed at.

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;
const DURATION = /^(\d{1,9})([smhdw])$/;
const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

/** The length of a duration like 7d in milliseconds, or undefined when `s` is not one. */
export function parseDuration(s: string): number | undefined {
  const m = DURATION.exec(s.trim());
  return m === null ? undefined : Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** '7d' / '12h' / '30m' back from now, or an ISO date or date-time; undefined when it is neither. */
export function parseSince(s: string, now: number): Date | undefined {
  const d = parseDuration(s);
  if (d !== undefined) return new Date(now - d);
  const text = s.trim();
  if (!ISO.test(text)) return undefined;
  const t = Date.parse(text.replace(' ', 'T'));
  return Number.isNaN(t) ? undefined : new Date(t);
}

/**
 * An age in milliseconds: a duration (7d), or the age now of an ISO time; a bare number counts
 * `bareUnit`s (the unit the option took before it learnt the common syntax: --min-age minutes,
 * --older-than days). undefined when `s` is none of these or lies in the future.
 */
export function parseAge(s: string, now: number, bareUnit: 'm' | 'd'): number | undefined {
  if (/^\d{1,9}$/.test(s.trim())) return Number(s.trim()) * UNIT_MS[bareUnit];
  const since = parseSince(s, now);
  if (since === undefined) return undefined;
  const age = now - since.getTime();
  return age < 0 ? undefined : age;
}

/** The one error text for a WHEN that is not one. */
export function sinceError(option: string, value: string): string {
  return `${option} "${value}" is not a duration (30m, 12h, 7d) or an ISO date or date-time (2026-11-22, 2026-11-22T12:00:00Z)`;
}
