/**
 * Text blocks: wrapping words into lines and drawing the lines as outlines.
 * Measuring and drawing use the same shaped glyphs (see ../fonts.ts).
 */
import type { Face, FaceName, ShapedLine } from '../fonts.js';
import type { LetteringKind } from '../types.js';
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

/** Line spacing as a fraction of the size: lettering is set tight (the PDF's text layer follows it). */
export const LEADING = 1.12;

/** The face each kind of lettering is set in (the PDF's text layer writes it in the same). */
export const KIND_FACE: Readonly<Record<LetteringKind, FaceName>> = {
  speech: 'dialogue',
  thought: 'dialogue',
  shout: 'dialogue',
  whisper: 'whisper',
  caption: 'caption',
  sfx: 'display',
};

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

/** The shape a block is set for: an oval balloon wants a diamond of lines, a box even lines. */
export type BlockShape = 'oval' | 'box';

export interface WrapOptions {
  /** Default 'oval'. */
  readonly shape?: BlockShape;
}

/**
 * Emphasis markup (docs/script.md): `*word*` or `*a few words*` is set in the face's emphasis
 * font; `\*` is a literal asterisk, and so is a `*` that opens or closes nothing. A `*` opens
 * before a non-space and closes after one, so "5 * 3" stays as written.
 * Returns the text without markup and one style per UTF-16 unit ('0' plain, '1' emphasis).
 */
export function parseEmphasis(text: string): { text: string; styles: string } {
  const chars: string[] = [];
  const styles: string[] = [];
  const marks: { at: number; open: boolean; close: boolean }[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && text[i + 1] === '*') {
      chars.push('*');
      i++;
      continue;
    }
    if (c === '*') {
      const before = text[i - 1];
      const after = text[i + 1];
      const open = after !== undefined && !/\s|\*/.test(after);
      const close = before !== undefined && !/\s/.test(before) && before !== '*';
      if (open || close) {
        marks.push({ at: chars.length, open, close });
        chars.push('\u0000');
        continue;
      }
    }
    chars.push(c);
  }
  // Pair each opening mark with the next closing one; unpaired marks are literal asterisks.
  const pairs: [number, number][] = [];
  let opened: { at: number } | null = null;
  for (const mark of marks) {
    if (opened !== null && mark.close) {
      pairs.push([opened.at, mark.at]);
      opened = null;
    } else if (mark.open) {
      if (opened !== null) chars[opened.at] = '*';
      opened = mark;
    } else {
      chars[mark.at] = '*';
    }
  }
  if (opened !== null) chars[opened.at] = '*';
  const emphasised = new Array<boolean>(chars.length).fill(false);
  for (const [a, b] of pairs) for (let i = a + 1; i < b; i++) emphasised[i] = true;
  let out = '';
  chars.forEach((c, i) => {
    if (c === '\u0000') return;
    out += c;
    for (let k = 0; k < c.length; k++) styles.push(emphasised[i] ? '1' : '0');
  });
  return { text: out, styles: styles.join('') };
}

/** The text as drawn: markup removed. */
export function plainText(text: string): string {
  return parseEmphasis(text).text;
}

/** Characters between which a line may break with no space (Han, kana; not before closing marks). */
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\u3000-\u303f\uff01-\uff60\u30fc]/u;
const NO_BREAK_BEFORE = /[、。，．・：；？！ー」』）〕］｝〉》】〙〗〟’”ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶ々〻…‥!?,.:;)\]}]/u;
const NO_BREAK_AFTER = /[「『（〔［｛〈《【〘〖〝‘“(\[{]/u;
/** A pronoun I in capitals: I, I'M, I'LL, I'D, I'VE (with straight or curly apostrophes). */
const PRONOUN_I = /^[^\p{L}\p{N}]*I(?:['’](?:M|LL|D|VE))?[^\p{L}\p{N}]*$/u;

/** A piece of a paragraph lines are built from, and what comes before it when not at a line start. */
interface Token {
  readonly text: string;
  readonly styles: string;
  readonly width: number;
  /** Joined to the token before by a space (else directly: a broken word, or CJK). */
  readonly space: boolean;
  /** Breaking before this token needs a hyphen at the end of the line before. */
  readonly hyphen: boolean;
  /** Breaking before it costs this much more (hyphenation, letter breaks). */
  readonly penalty: number;
  /** Counts as a word for the one-word-line rules. */
  readonly word: boolean;
}

/**
 * Wraps `text` into lines no wider than `measure` px where the words allow, choosing the
 * breaks for the block's shape (a small dynamic programme over the break points): for an oval
 * the line widths follow the ellipse (short, long, short: a diamond, never an hourglass), for
 * a box they are even; a last line of one word, and lines of one word in longer text, are
 * avoided. Newlines force breaks. `*emphasis*` is set in the emphasis font; in all-capitals
 * text a capital I that is not the pronoun is drawn without crossbars. A word longer than the
 * measure keeps its own line, unless `breaking` says to break it: then at its hyphenation
 * points, with a hyphen (and, forced, between letters).
 */
export function wrapBlock(face: Face, text: string, size: number, measure: number, breaking?: WordBreaking, options: WrapOptions = {}): TextBlock {
  const shape = options.shape ?? 'oval';
  const parsed = parseEmphasis(text);
  const caps = !/\p{Ll}/u.test(parsed.text) && /\p{Lu}/u.test(parsed.text);
  const hyphenWidth = face.shape('-', size).width;
  const space = face.shape(' ', size).width;
  const width = (t: string, st: string) => face.shapeStyled(t, st, size).width;

  const lines: { text: string; styles: string }[] = [];
  let offset = 0;
  for (const paragraph of parsed.text.split(/\n/)) {
    const pstyles = parsed.styles.slice(offset, offset + paragraph.length);
    offset += paragraph.length + 1;
    const tokens = tokenize(paragraph.replace(/\r$/, ''), pstyles, caps, width, measure, breaking);
    if (tokens.length === 0) {
      lines.push({ text: '', styles: '' });
      continue;
    }
    for (const line of breakLines(tokens, measure, space, hyphenWidth, shape, size)) lines.push(line);
  }
  const shaped = lines.map((l) => face.shapeStyled(l.text, l.styles, size));
  const lineHeight = size * LEADING;
  return {
    face,
    size,
    lines: shaped,
    width: Math.max(0, ...shaped.map((l) => l.width)),
    height: lineHeight * (shaped.length - 1) + size * (face.ascent + face.descent) * 0.82,
    lineHeight,
  };
}

/** Splits a paragraph into tokens: words, CJK characters, and the pieces of words to be broken. */
function tokenize(
  paragraph: string,
  pstyles: string,
  caps: boolean,
  width: (t: string, st: string) => number,
  measure: number,
  breaking: WordBreaking | undefined,
): Token[] {
  const tokens: Token[] = [];
  const re = /\S+/g;
  let m: RegExpExecArray | null;
  let first = true;
  while ((m = re.exec(paragraph)) !== null) {
    const word = m[0];
    let styles = pstyles.slice(m.index, m.index + word.length);
    if (caps && word.includes('I')) {
      // The crossbar I is for the pronoun only (a stammer, I-I-I, is three): mark the other
      // capital Is to be drawn plain.
      const plain = new Set<number>();
      let at = 0;
      for (const segment of word.split(/(?<=[-‐–—])/)) {
        if (!PRONOUN_I.test(segment.replace(/[-‐–—]$/, ''))) for (let i = 0; i < segment.length; i++) if (segment[i] === 'I') plain.add(at + i);
        at += segment.length;
      }
      styles = [...styles].map((s, i) => (plain.has(i) ? String(Number(s) + 2) : s)).join('');
    }
    const pieces = cjkPieces(word);
    pieces.forEach((piece, k) => {
      const st = styles.slice(piece.start, piece.start + piece.text.length);
      const space = !first && k === 0;
      const cjk = pieces.length > 1;
      const w = width(piece.text, st);
      if (breaking !== undefined && w > breaking.wider && w > measure) {
        for (const part of breakPieces(piece.text, st, width, measure, breaking)) {
          tokens.push({ ...part, space: space && part.first, hyphen: !part.first && !part.afterHardHyphen, penalty: part.first ? 0 : part.letter ? 0.6 : 0.15, word: part.first && !cjk });
        }
      } else {
        // Between CJK characters a line may break, but a space is the better place.
        tokens.push({ text: piece.text, styles: st, width: w, space, hyphen: false, penalty: k > 0 ? 0.04 : 0, word: !cjk || k === 0 });
      }
    });
    first = false;
  }
  return tokens;
}

/** A word cut where CJK text may break between characters (kinsoku: not before closing marks). */
function cjkPieces(word: string): { text: string; start: number }[] {
  if (!CJK.test(word)) return [{ text: word, start: 0 }];
  const chars = [...graphemes.segment(word)].map((g) => g.segment);
  const pieces: { text: string; start: number }[] = [];
  let at = 0;
  chars.forEach((c, i) => {
    const prev = chars[i - 1];
    const breakable = prev !== undefined && (CJK.test(c) || CJK.test(prev)) && !NO_BREAK_BEFORE.test(c) && !NO_BREAK_AFTER.test(prev);
    if (pieces.length === 0 || breakable) pieces.push({ text: c, start: at });
    else pieces[pieces.length - 1]!.text += c;
    at += c.length;
  });
  return pieces;
}

/** The pieces of a word too wide for any line: its hyphenation points, and letters if forced. */
function breakPieces(
  word: string,
  styles: string,
  width: (t: string, st: string) => number,
  measure: number,
  breaking: WordBreaking,
): { text: string; styles: string; width: number; first: boolean; letter: boolean; afterHardHyphen: boolean }[] {
  const points = breaking.hyphenate?.(word) ?? word.split(/(?<=-)(?=.)/);
  const out: { text: string; styles: string; width: number; first: boolean; letter: boolean; afterHardHyphen: boolean }[] = [];
  let at = 0;
  for (const point of points) {
    const st = styles.slice(at, at + point.length);
    const w = width(point, st);
    const afterHardHyphen = out.length > 0 && out[out.length - 1]!.text.endsWith('-');
    if (breaking.force && w > measure && [...graphemes.segment(point)].length > 1) {
      let k = 0;
      for (const { segment } of graphemes.segment(point)) {
        const ls = st.slice(k, k + segment.length);
        out.push({ text: segment, styles: ls, width: width(segment, ls), first: out.length === 0, letter: k > 0, afterHardHyphen: k === 0 && afterHardHyphen });
        k += segment.length;
      }
    } else {
      out.push({ text: point, styles: st, width: w, first: out.length === 0, letter: false, afterHardHyphen });
    }
    at += point.length;
  }
  return out;
}

/**
 * The best breaks for the tokens (a Knuth–Plass-like search): for each line count from the
 * fewest that fit `measure` to one more, the breaks whose line widths deviate least from the
 * shape's ideal profile, plus penalties for hyphens and lonely words; the cheapest wins.
 */
function breakLines(tokens: readonly Token[], measure: number, space: number, hyphenWidth: number, shape: BlockShape, size: number): { text: string; styles: string }[] {
  const n = tokens.length;
  // widthOf(i, j): the line of tokens i..j-1.
  const prefix = [0];
  for (let i = 0; i < n; i++) prefix.push(prefix[i]! + tokens[i]!.width + (i > 0 && tokens[i]!.space ? space : 0));
  const lineWidth = (i: number, j: number) =>
    prefix[j]! - prefix[i]! - (tokens[i]!.space && i > 0 ? space : 0) + (j < n && tokens[j]!.hyphen ? hyphenWidth : 0);
  const fits = (i: number, j: number) => j - i === 1 || lineWidth(i, j) <= measure + 0.01;
  const words = tokens.filter((t) => t.word).length;

  // The fewest lines: greedy fill (optimal for the count).
  let fewest = 0;
  for (let i = 0; i < n; ) {
    let j = i + 1;
    while (j < n && fits(i, j + 1)) j++;
    fewest++;
    i = j;
  }
  const total = lineWidth(0, n);
  const wordCount = (i: number, j: number) => {
    let c = 0;
    for (let k = i; k < j; k++) if (tokens[k]!.word) c++;
    return c;
  };

  let best: { cost: number; breaks: number[] } | null = null;
  const maxLines = Math.min(n, shape === 'oval' ? fewest + 1 : fewest);
  for (let count = fewest; count <= maxLines; count++) {
    const profile = idealProfile(count, shape);
    const sum = profile.reduce((a, b) => a + b, 0);
    // The ideal widths: the profile scaled to hold the text, no line wider than the measure.
    const scale = Math.min(measure / Math.max(...profile), total / sum);
    const target = profile.map((p) => p * scale);
    // cost[k][j]: the best way to set tokens 0..j-1 on k lines.
    const cost: number[][] = Array.from({ length: count + 1 }, () => new Array<number>(n + 1).fill(Infinity));
    const from: number[][] = Array.from({ length: count + 1 }, () => new Array<number>(n + 1).fill(-1));
    cost[0]![0] = 0;
    for (let k = 1; k <= count; k++) {
      const last = k === count;
      for (let j = k; j <= n - (count - k); j++) {
        for (let i = j - 1; i >= k - 1; i--) {
          if (!fits(i, j)) break;
          const before = cost[k - 1]![i]!;
          if (before === Infinity) continue;
          const w = lineWidth(i, j);
          let d = (w - target[k - 1]!) / Math.max(size, scale);
          // A box's last line may be short; an oval's may not be much.
          if (shape === 'box' && last && d < 0) d *= 0.35;
          // An inner line much shorter than its place wants makes an hourglass: worse than a long one.
          if (shape === 'oval' && k > 1 && !last && d < 0) d *= 1.5;
          let c = before + d * d + (j < n ? tokens[j]!.penalty : 0);
          const lone = wordCount(i, j) === 1 && j - i === 1;
          if (lone && words >= 3 && last) c += 0.6;
          else if (lone && words >= 4) c += 0.12;
          if (c < cost[k]![j]!) {
            cost[k]![j] = c;
            from[k]![j] = i;
          }
        }
      }
    }
    // One more line costs a little: the measure was chosen for the fewest.
    const total_ = cost[count]![n]! + (count - fewest) * 0.08;
    if (total_ < (best?.cost ?? Infinity)) {
      const breaks: number[] = [];
      for (let k = count, j = n; k > 0; k--) {
        breaks.unshift(j);
        j = from[k]![j]!;
      }
      best = { cost: total_, breaks };
    }
  }
  const breaks = best?.breaks ?? [n];
  const out: { text: string; styles: string }[] = [];
  let i = 0;
  for (const j of breaks) {
    let text = '';
    let styles = '';
    for (let k = i; k < j; k++) {
      const t = tokens[k]!;
      if (k > i && t.space) {
        text += ' ';
        styles += '0';
      }
      text += t.text;
      styles += t.styles;
    }
    if (j < n && tokens[j]!.hyphen) {
      text += '-';
      styles += styles.at(-1) ?? '0';
    }
    out.push({ text, styles });
    i = j;
  }
  return out;
}

/**
 * Relative line widths for `count` lines: an ellipse's width at each line's height (the
 * ellipse a little taller than the lines), or even for a box.
 */
function idealProfile(count: number, shape: BlockShape): number[] {
  if (shape === 'box' || count <= 2) return new Array<number>(count).fill(1);
  const b = count / 2 + 0.35;
  return Array.from({ length: count }, (_, i) => {
    const y = i + 0.5 - count / 2;
    return Math.sqrt(Math.max(0.05, 1 - (y / b) ** 2));
  });
}

/**
 * A measure that gives a block about `aspect` times wider than tall (balloons read best
 * a little wider than tall), within [min, max].
 */
export function naturalMeasure(face: Face, text: string, size: number, aspect: number, min: number, max: number): number {
  const oneLine = face.shape(plainText(text).replace(/\s+/g, ' '), size).width;
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

/** Characters no font of the block's face and its fallback chain can draw. */
export function missingGlyphs(block: TextBlock): string[] {
  return [...new Set(block.lines.flatMap((l) => l.missing))];
}
