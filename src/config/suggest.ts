import { distance } from 'fastest-levenshtein';

/**
 * The candidate closest to `word` when it is close enough to be a likely typo
 * (case-insensitive; one edit for words of up to 3 letters, else two or a third of the
 * word's length, whichever is more), else null.
 */
export function didYouMean(word: string, candidates: Iterable<string>): string | null {
  const lower = word.toLowerCase();
  const budget = word.length <= 3 ? 1 : Math.max(2, Math.floor(word.length / 3));
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = distance(lower, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= budget ? best : null;
}

/** ` (did you mean "x"?)`, or '' when nothing is close. */
export function suggestionSuffix(word: string, candidates: Iterable<string>): string {
  const match = didYouMean(word, candidates);
  return match === null ? '' : ` (did you mean "${match}"?)`;
}
