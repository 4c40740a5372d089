import { nearest } from '../util/suggest.js';

/**
 * Config keys are short and often typed from memory, so they get a slightly wider budget
 * than script keys: one edit for words of up to 3 letters, else two or a third of the
 * word's length, whichever is more.
 */
const configBudget = (word: string) => (word.length <= 3 ? 1 : Math.max(2, Math.floor(word.length / 3)));

/** The candidate closest to `word` when it is close enough to be a likely typo (case-insensitive), else null. */
export function didYouMean(word: string, candidates: Iterable<string>): string | null {
  return nearest(word, candidates, configBudget);
}

/** ` (did you mean "x"?)`, or '' when nothing is close. */
export function suggestionSuffix(word: string, candidates: Iterable<string>): string {
  const match = didYouMean(word, candidates);
  return match === null ? '' : ` (did you mean "${match}"?)`;
}
