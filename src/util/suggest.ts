/**
 * "Did you mean …?" for misspelt keys, ids, template and job names, everywhere in comic: the nearest candidate by edit distance, when
 * it is close enough to be a plausible typo rather than a different word.
 */

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions, "tilte"). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  // Three rolling rows: the transposition rule looks two rows back.
  let prevPrev: number[] = [];
  let prev: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, prevPrev[j - 2]! + 1);
      }
      row.push(best);
    }
    prevPrev = prev;
    prev = row;
  }
  return prev[b.length]!;
}

/** How many edits still make a plausible typo of `word`: a third of its length, 1 to 3. */
const defaultBudget = (word: string) => Math.min(3, Math.max(1, Math.floor(word.length / 3)));

/**
 * The candidate nearest to `word`, or null when none is within `budget(word)` edits (by
 * default a third of the word's length, at least 1, at most 3); case differences count as
 * half an edit.
 */
export function nearest(word: string, candidates: Iterable<string>, budgetFor: (word: string) => number = defaultBudget): string | null {
  const budget = budgetFor(word);
  let best: string | null = null;
  let bestScore = Infinity;
  const lower = word.toLowerCase();
  for (const candidate of candidates) {
    if (candidate === word) continue;
    const other = candidate.toLowerCase();
    // The distance is at least the difference in length: a word far longer than every
    // candidate (a 1 MB colour) costs nothing instead of length × length steps.
    if (Math.abs(lower.length - other.length) > budget) continue;
    const folded = editDistance(lower, other);
    const score = folded === 0 ? 0.5 : folded;
    if (score <= budget && score < bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  return best;
}

/** A hint for an unknown word: the nearest candidate, or the list of valid ones when short. */
export function didYouMean(word: string, candidates: readonly string[], listLabel = 'expected one of'): string | undefined {
  const match = nearest(word, candidates);
  if (match !== null) return `did you mean '${match}'?`;
  if (candidates.length === 0 || candidates.length > 12) return undefined;
  return `${listLabel}: ${candidates.map((c) => `'${c}'`).join(', ')}`;
}
