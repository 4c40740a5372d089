/**
 * Hyphenation points of a word, for breaking a word too long for any balloon.
 *
 * The patterns are the TeX hyphenation patterns (Liang's algorithm) shipped by the `hyphen`
 * package, one module per language; the comic's `language` picks them ('en' is US English,
 * 'en-GB' British, 'de-CH' falls back to 'de'). A language without patterns gets none: its
 * long words are then broken between letters, and only when nothing else fits.
 */
import { createRequire } from 'node:module';

/** The pieces of a word between its hyphenation points ('SU', 'PER', 'CAL', …), in order. */
export type Hyphenate = (word: string) => readonly string[];

interface HyphenModule {
  hyphenateSync(text: string, options?: { hyphenChar?: string; minWordLength?: number }): string;
}

const require = createRequire(import.meta.url);
const loaded = new Map<string, Hyphenate | null>();
const SOFT = '\u00ad';

/** The hyphenator for a BCP 47 language tag, or null when `hyphen` has no patterns for it. */
export function hyphenator(language: string): Hyphenate | null {
  const tag = language.trim().toLowerCase().replace(/_/g, '-');
  let found = loaded.get(tag);
  if (found !== undefined) return found;
  found = null;
  const parts = tag.split('-');
  // 'de-ch-1901' → 'de-ch-1901', 'de-ch', 'de': the most specific patterns the package has.
  for (let n = parts.length; n > 0 && found === null; n--) {
    const candidate = parts.slice(0, n).join('-');
    // Only plain language tags name a module: never a path.
    if (!/^[a-z]{2,3}(-[a-z0-9]{1,8})*$/.test(candidate)) continue;
    found = load(candidate);
  }
  loaded.set(tag, found);
  return found;
}

function load(tag: string): Hyphenate | null {
  let module: HyphenModule;
  try {
    module = require(`hyphen/${tag}`) as HyphenModule;
  } catch {
    return null;
  }
  if (typeof module?.hyphenateSync !== 'function') return null;
  const cache = new Map<string, readonly string[]>();
  return (word) => {
    let pieces = cache.get(word);
    if (pieces === undefined) {
      pieces = module.hyphenateSync(word, { hyphenChar: SOFT, minWordLength: 5 })
        .split(SOFT)
        // A hard hyphen is a break point too ("WELL-" "KNOWN"), kept with the piece before it.
        .flatMap((piece) => piece.split(/(?<=-)(?=.)/))
        .filter((piece) => piece.length > 0);
      cache.set(word, pieces);
    }
    return pieces;
  };
}
