// "Did you mean …?" for a misspelt statement or parameter name (O2 #18 item 4): the closest
// known name by edit distance (Damerau–Levenshtein with adjacent transpositions, case-insensitive),
// offered only when it is close enough to be a typo (at most 1 edit for names up to 4
// characters, 2 up to 8, else 3), and only when one name is clearly the closest.

/** Edit distance with adjacent transpositions (optimal string alignment), case-insensitive. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const d: number[][] = Array.from({ length: s.length + 1 }, (_, i) => Array.from({ length: t.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[s.length]![t.length]!;
}

/** The known name `word` was probably meant to be, or undefined. */
export function didYouMean(word: string, known: readonly string[]): string | undefined {
  if (word.length > 64) return undefined; // bounded work for hostile input
  const limit = word.length <= 4 ? 1 : word.length <= 8 ? 2 : 3;
  let best: string | undefined;
  let bestD = Infinity;
  let tie = false;
  for (const k of known) {
    const d = editDistance(word, k);
    if (d < bestD) { best = k; bestD = d; tie = false; } else if (d === bestD) tie = true;
  }
  return bestD <= limit && !tie ? best : undefined;
}
