/**
 * Text blocks: wrapping words into lines and drawing the lines as outlines.
 * Measuring and drawing use the same shaped glyphs (see ../fonts.ts).
 */
import type { Face, ShapedLine } from '../fonts.js';

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

/**
 * Wraps `text` greedily at `measure` px (a word longer than the measure keeps its own
 * line), then narrows the measure as far as the line count allows, so lines come out
 * even instead of leaving one word alone on the last line. Newlines force breaks.
 */
export function wrapBlock(face: Face, text: string, size: number, measure: number): TextBlock {
  const paragraphs = text.split(/\r?\n/).map((p) => p.split(/\s+/).filter((w) => w.length > 0));
  const space = face.shape(' ', size).width;
  const widths = paragraphs.map((words) => words.map((w) => face.shape(w, size).width));

  const greedy = (limit: number): string[] => {
    const lines: string[] = [];
    paragraphs.forEach((words, p) => {
      let line: string[] = [];
      let lineWidth = 0;
      words.forEach((word, i) => {
        const w = widths[p]![i]!;
        if (line.length > 0 && lineWidth + space + w > limit) {
          lines.push(line.join(' '));
          line = [];
          lineWidth = 0;
        }
        lineWidth += (line.length > 0 ? space : 0) + w;
        line.push(word);
      });
      lines.push(line.join(' '));
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
