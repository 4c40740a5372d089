/**
 * Text blocks: wrapping words into lines and drawing the lines as outlines.
 * Measuring and drawing use the same shaped glyphs (see ../fonts.ts).
 */
import type { Face, ShapedLine } from '../fonts.js';
import type { Hyphenate } from './hyphenate.js';

export interface TextBlock {
  readonly face: Face;
  readonly size: number;
  readonly lines: readonly ShapedLine[];
  /** The widest line. */
  readonly width: number;
  readonly height: number;
  readonly lineHeight: number;
}

/** Line spacing as a fraction of the size: lettering is set tight. */
const LEADING = 1.12;

/** How words too wide for any balloon are broken across lines. */
export interface WordBreaking {
  /** Words wider than this (px) are broken, at their hyphenation points; others never are. */
  readonly wider: number;
  /** The language's hyphenation points; null breaks only at hard hyphens (or, forced, anywhere). */
  readonly hyphenate: Hyphenate | null;
  /** When a piece between two hyphenation points is still wider than the line, break it between letters. */
  readonly force: boolean;
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * Wraps `text` greedily at `measure` px, then narrows the measure as far as the line count
 * allows, so lines come out even instead of leaving one word alone on the last line.
 * Newlines force breaks. A word longer than the measure keeps its own line, unless
 * `breaking` says to break it: then as much of it as fits ends the line, with a hyphen.
 */
export function wrapBlock(face: Face, text: string, size: number, measure: number, breaking?: WordBreaking): TextBlock {
  const paragraphs = text.split(/\r?\n/).map((p) => p.split(/\s+/).filter((w) => w.length > 0));
  const space = face.shape(' ', size).width;
  const width = (t: string) => face.shape(t, size).width;
  const widths = paragraphs.map((words) => words.map(width));

  const greedy = (limit: number): string[] => {
    const lines: string[] = [];
    paragraphs.forEach((words, p) => {
      let line = '';
      let lineWidth = 0;
      const push = () => {
        lines.push(line);
        line = '';
        lineWidth = 0;
      };
      const add = (piece: string, w: number) => {
        lineWidth += (line.length > 0 ? space : 0) + w;
        line = line.length > 0 ? `${line} ${piece}` : piece;
      };
      words.forEach((word, i) => {
        const w = widths[p]![i]!;
        if (breaking !== undefined && w > breaking.wider && w > limit) {
          breakWord(word, limit);
          return;
        }
        if (line.length > 0 && lineWidth + space + w > limit) push();
        add(word, w);
      });
      lines.push(line);

      /** Fills the line with as much of `word` as fits, then the next lines, and so on. */
      function breakWord(word: string, limit: number): void {
        let pieces = [...(breaking!.hyphenate?.(word) ?? word.split(/(?<=-)(?=.)/))];
        const joined = (n: number) => pieces.slice(0, n).join('') + (n < pieces.length && !pieces[n - 1]!.endsWith('-') ? '-' : '');
        while (pieces.length > 0) {
          const room = limit - (line.length > 0 ? lineWidth + space : 0);
          let fits = 0;
          for (let n = 1; n <= pieces.length && width(joined(n)) <= room; n++) fits = n;
          if (fits === 0 && line.length > 0) {
            push();
            continue;
          }
          if (fits === 0) {
            const letters = [...graphemes.segment(pieces[0]!)].map((g) => g.segment);
            if (breaking!.force && letters.length > 1) {
              pieces = [...letters, ...pieces.slice(1)];
              continue;
            }
            // Nothing smaller to break it into: the piece overflows its line alone.
            fits = 1;
          }
          const piece = joined(fits);
          add(piece, width(piece));
          pieces = pieces.slice(fits);
          if (pieces.length > 0) push();
        }
      }
    });
    return lines;
  };

  const count = greedy(measure).length;
  let lo = 0;
  let hi = measure;
  for (let i = 0; i < 12 && hi - lo > 1; i++) {
    const mid = (lo + hi) / 2;
    if (greedy(mid).length <= count) hi = mid;
    else lo = mid;
  }
  const lines = greedy(hi).map((line) => face.shape(line, size));
  const lineHeight = size * LEADING;
  return {
    face,
    size,
    lines,
    width: Math.max(0, ...lines.map((l) => l.width)),
    height: lineHeight * (lines.length - 1) + size * (face.ascent + face.descent) * 0.82,
    lineHeight,
  };
}

/**
 * A measure that gives a block about `aspect` times wider than tall (balloons read best
 * a little wider than tall), within [min, max].
 */
export function naturalMeasure(face: Face, text: string, size: number, aspect: number, min: number, max: number): number {
  const oneLine = face.shape(text.replace(/\s+/g, ' '), size).width;
  const ideal = Math.sqrt(aspect * oneLine * size * LEADING);
  return Math.min(max, Math.max(min, ideal));
}

/**
 * Outline path data for the block with its top at `top`; lines are centred on `x`
 * (align 'center') or start at `x` (align 'left').
 */
export function blockOutline(block: TextBlock, x: number, top: number, align: 'center' | 'left'): string {
  // The visible ink of a line of capitals spans roughly the cap height, so the first
  // baseline sits one cap height (plus a little) below the top.
  const firstBaseline = top + block.size * (block.face.ascent * 0.82);
  return block.lines
    .map((line, i) => {
      const start = align === 'center' ? x - line.width / 2 : x;
      return block.face.outline(line, start, firstBaseline + i * block.lineHeight);
    })
    .join('');
}

/** Characters the block's font cannot draw. */
export function missingGlyphs(block: TextBlock): string[] {
  return [...new Set(block.lines.flatMap((l) => l.missing))];
}
