/**
 * Words too long for a balloon: hyphenated at the language's hyphenation points (TeX
 * patterns from the `hyphen` package), broken between letters only when forced; and the
 * lettering's minimum type size.
 */
import { describe, expect, it } from 'vitest';
import { face } from '../../src/compose/fonts.js';
import { hyphenator } from '../../src/compose/lettering/hyphenate.js';
import { letteringMetrics, MIN_FONT_SIZE_PT } from '../../src/compose/lettering/metrics.js';
import { naturalMeasure, wrapBlock } from '../../src/compose/lettering/text.js';

const dialogue = face('dialogue');
const SIZE = 20;
const texts = (lines: readonly { text: string }[]) => lines.map((l) => l.text);
/** The text's characters without the spaces and hyphens wrapping adds or removes. */
const squash = (text: string) => text.replace(/[\s-]+/g, '');

describe('hyphenator', () => {
  it('finds the patterns for the comic language, falling back from a region to the language', () => {
    expect(hyphenator('en')!('SUPERCALIFRAGILISTIC').join('|')).toBe('SU|PER|CAL|IFRAG|ILIS|TIC');
    expect(hyphenator('en-GB')).not.toBeNull();
    expect(hyphenator('de-CH')!('DONAUDAMPFSCHIFFFAHRT').length).toBeGreaterThan(2);
    expect(hyphenator('fr')!('ANTICONSTITUTIONNELLEMENT').join('')).toBe('ANTICONSTITUTIONNELLEMENT');
  });

  it('has none for a language without patterns, nor for a tag that is not a language', () => {
    expect(hyphenator('ja')).toBeNull();
    expect(hyphenator('../../package')).toBeNull();
  });

  it('breaks after a hard hyphen too, keeping it on the first line', () => {
    expect(hyphenator('en')!('WELL-KNOWN')).toEqual(['WELL-', 'KNOWN']);
  });
});

describe('wrapBlock with long words', () => {
  const word = 'SUPERCALIFRAGILISTICEXPIALIDOCIOUS';
  const measure = dialogue.shape('SUPERCALIFRAG', SIZE).width;

  it('without breaking, keeps a long word whole on a line of its own (as before)', () => {
    const block = wrapBlock(dialogue, `A ${word} DAY`, SIZE, measure);
    expect(texts(block.lines)).toEqual(['A', word, 'DAY']);
    expect(block.width).toBeGreaterThan(measure);
  });

  it('breaks a word wider than the limit at its hyphenation points, every line within the measure', () => {
    const en = hyphenator('en')!;
    const block = wrapBlock(dialogue, `A ${word} DAY`, SIZE, measure, { wider: measure, hyphenate: en, force: false });
    const lines = texts(block.lines);
    expect(lines.length).toBeGreaterThan(2);
    expect(squash(lines.join(' '))).toBe(squash(`A ${word} DAY`));
    for (const line of block.lines) expect(line.width).toBeLessThanOrEqual(measure);
    // Each break falls on a hyphenation point and is marked with a hyphen.
    const points = new Set(en(word).map((_, i, all) => all.slice(0, i + 1).join('').length));
    let letters = 0;
    for (const line of lines.filter((l) => l.endsWith('-'))) {
      letters += squash(line.replace(/^A /, '')).length;
      expect(points.has(letters), line).toBe(true);
    }
  });

  it('leaves words no wider than `wider` alone, even past the measure', () => {
    const block = wrapBlock(dialogue, `A ${word} DAY`, SIZE, measure, { wider: 10_000, hyphenate: hyphenator('en'), force: false });
    expect(texts(block.lines)).toEqual(['A', word, 'DAY']);
  });

  it('forced, breaks between letters what the patterns cannot break small enough', () => {
    const narrow = dialogue.shape('MMM', SIZE).width;
    for (const hyphenate of [null, hyphenator('en')]) {
      const block = wrapBlock(dialogue, word, SIZE, narrow, { wider: narrow, hyphenate, force: true });
      expect(squash(texts(block.lines).join(''))).toBe(word);
      for (const line of block.lines) expect(line.width, line.text).toBeLessThanOrEqual(narrow);
    }
  });

  it('unforced, a piece wider than the measure overflows alone rather than being cut between letters', () => {
    const tiny = dialogue.shape('MM', SIZE).width;
    const block = wrapBlock(dialogue, word, SIZE, tiny, { wider: tiny, hyphenate: null, force: false });
    expect(texts(block.lines)).toEqual([word]);
  });
});

describe('the minimum type size', () => {
  it(`is ${MIN_FONT_SIZE_PT} pt, or 60% of the comic's size when that is larger, and never above the size`, () => {
    expect(letteringMetrics(undefined, 300, 'en').minScale).toBeCloseTo(MIN_FONT_SIZE_PT / 9);
    expect(letteringMetrics({ fontSizePt: 12 }, 300, 'en').minScale).toBeCloseTo(0.6);
    expect(letteringMetrics({ fontSizePt: 5 }, 300, 'en').minScale).toBe(1);
  });
});

describe('golden line breaks', () => {
  // The breaks the panel gets at its natural measure (lettering/panel.ts: aspect 3.6, 5 to 16
  // ems): a change to the line breaker shows here, line by line. Regenerate deliberately.
  const cases: [string, string[]][] = [
    ["DON'T EVEN THINK ABOUT IT.", ["DON'T EVEN", 'THINK ABOUT IT.']],
    ['GET OUT OF MY LIGHTHOUSE AND NEVER COME BACK HERE AGAIN, YOU THIEF!', ['GET OUT OF', 'MY LIGHTHOUSE AND', 'NEVER COME BACK HERE', 'AGAIN, YOU THIEF!']],
    ['NOBODY HAS BEEN UP THERE SINCE THE KEEPER LEFT.', ['NOBODY HAS BEEN', 'UP THERE SINCE THE', 'KEEPER LEFT.']],
    ['PLEASE BE THE WIND... PLEASE BE THE WIND.', ['PLEASE BE THE', 'WIND... PLEASE', 'BE THE WIND.']],
    ['CLOSE THE DOOR, CHILD. THE STORM GETS IN.', ['CLOSE THE', 'DOOR, CHILD. THE', 'STORM GETS IN.']],
  ];
  it.each(cases)('%s', (text, lines) => {
    const measure = naturalMeasure(dialogue, text, SIZE, 3.6, 5 * SIZE, 16 * SIZE);
    expect(texts(wrapBlock(dialogue, text, SIZE, measure).lines)).toEqual(lines);
  });
});
