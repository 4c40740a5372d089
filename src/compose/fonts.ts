/**
 * The bundled lettering fonts, and text turned into SVG outlines.
 *
 * Why outlines: sharp renders SVG `<text>` through fontconfig, so the result depends on the
 * fonts a machine happens to have (and segfaults with none: lovell/sharp#4374). Fontsource
 * ships the fonts only as WOFF/WOFF2, which fontkit reads directly; we shape and measure
 * with fontkit and emit the very same glyph outlines as paths, so what is measured is what
 * is drawn and a page renders identically on a machine with no fonts at all.
 *
 * Each face is a primary font (Comic Neue, Bangers) and a **fallback chain** for the
 * characters it lacks, character by character: Noto Sans (Latin extended, Greek, Cyrillic,
 * Vietnamese), Noto Sans JP, SC, TC and KR (in the order the comic's language prefers: its own
 * script's Han forms first), then Noto Sans Symbols 2. The Noto fonts are Fontsource's
 * variable WOFF2 files split by unicode-range; only the subsets a text needs are loaded.
 * All are under the SIL Open Font License.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as fontkit from 'fontkit';
import { ComicError } from '../errors.js';

/** The faces lettering uses: each is one bundled font file (plus the fallback chain). */
export type FaceName = 'dialogue' | 'whisper' | 'caption' | 'display';

/** The primary font file of each face (a path `require.resolve` finds). */
export const FACE_FILES: Readonly<Record<FaceName, string>> = {
  dialogue: '@fontsource/comic-neue/files/comic-neue-latin-700-normal.woff2',
  whisper: '@fontsource/comic-neue/files/comic-neue-latin-400-normal.woff2',
  caption: '@fontsource/comic-neue/files/comic-neue-latin-700-italic.woff2',
  display: '@fontsource/bangers/files/bangers-latin-400-normal.woff2',
};

/**
 * The font emphasis (`*word*`, see docs/lettering.md) is set in: bold italic in dialogue (as
 * Blambot's grammar has it), italic in whispers, and upright bold in captions (which are
 * already bold italic). Sound effects have no emphasis.
 */
export const EMPHASIS_FILES: Readonly<Partial<Record<FaceName, string>>> = {
  dialogue: '@fontsource/comic-neue/files/comic-neue-latin-700-italic.woff2',
  whisper: '@fontsource/comic-neue/files/comic-neue-latin-400-italic.woff2',
  caption: '@fontsource/comic-neue/files/comic-neue-latin-700-normal.woff2',
};

/** Weight and slant of each face, for picking the fallback fonts' instance. */
const FACE_STYLE: Readonly<Record<FaceName, { weight: number; italic: boolean; emWeight: number; emItalic: boolean }>> = {
  dialogue: { weight: 700, italic: false, emWeight: 700, emItalic: true },
  whisper: { weight: 400, italic: false, emWeight: 400, emItalic: true },
  caption: { weight: 700, italic: true, emWeight: 800, emItalic: false },
  display: { weight: 900, italic: false, emWeight: 900, emItalic: false },
};

/** A Fontsource package split by unicode-range: one file per subset. */
interface FallbackFamily {
  readonly id: string;
  readonly pkg: string;
  /** File name of a subset ('[118]' → noto-sans-jp-118-wght-normal.woff2). */
  readonly file: (subset: string, italic: boolean) => string;
  /** A variable font with a wght axis (else one static weight). */
  readonly variable: boolean;
  readonly italic: boolean;
  /** Glyph scale against the primary font: ideographs fill the em, capitals do not. */
  readonly scale: number;
}

const noto = (id: string, pkg: string, prefix: string, italic: boolean, scale: number): FallbackFamily => ({
  id,
  pkg,
  file: (subset, it) => `${prefix}-${subset.replace(/[[\]]/g, '')}-wght-${it && italic ? 'italic' : 'normal'}.woff2`,
  variable: true,
  italic,
  scale,
});

const FAMILIES = {
  latin: noto('latin', '@fontsource-variable/noto-sans', 'noto-sans', true, 1),
  ja: noto('ja', '@fontsource-variable/noto-sans-jp', 'noto-sans-jp', false, 0.9),
  zh: noto('zh', '@fontsource-variable/noto-sans-sc', 'noto-sans-sc', false, 0.9),
  tc: noto('tc', '@fontsource-variable/noto-sans-tc', 'noto-sans-tc', false, 0.9),
  ko: noto('ko', '@fontsource-variable/noto-sans-kr', 'noto-sans-kr', false, 0.9),
  symbols: {
    id: 'symbols',
    pkg: '@fontsource/noto-sans-symbols-2',
    file: (subset: string) => `noto-sans-symbols-2-${subset}-400-normal.woff2`,
    variable: false,
    italic: false,
    scale: 0.9,
  },
} satisfies Record<string, FallbackFamily>;

/**
 * The fallback families, in order, for a comic language (BCP 47): its own CJK font first.
 * Chinese is Traditional (TC) for `zh-Hant` and the regions that write it (Taiwan, Hong
 * Kong, Macau) unless `-Hans` says otherwise, else Simplified (SC).
 */
export function fallbackOrder(language: string): readonly string[] {
  const tag = language.trim().toLowerCase();
  const subtags = tag.split(/[-_]/);
  const traditional = !subtags.includes('hans') && (subtags.includes('hant') || ['tw', 'hk', 'mo'].some((region) => subtags.includes(region)));
  const chinese = traditional ? ['tc', 'zh'] : ['zh', 'tc'];
  const cjk = subtags[0] === 'ja' ? ['ja', ...chinese, 'ko'] : subtags[0] === 'ko' ? ['ko', 'ja', ...chinese] : subtags[0] === 'zh' ? [...chinese, 'ja', 'ko'] : ['ja', ...chinese, 'ko'];
  return ['latin', ...cjk, 'symbols'];
}

/** A run of a shaped line set in one font file. */
export interface ShapedRun {
  readonly text: string;
  /** The font file (a path `require.resolve` finds), e.g. a Noto Sans JP subset. */
  readonly file: string;
  /** The weight of a variable font's instance; null for a static font. */
  readonly weight: number | null;
  readonly emphasis: boolean;
  /** Pen position of the run's start and its advance, px. */
  readonly x: number;
  readonly width: number;
}

/** A shaped line of text, measured in pixels at the size it was shaped for. */
export interface ShapedLine {
  readonly text: string;
  readonly width: number;
  /** Characters no font of the chain has a glyph for (drawn as the primary font's .notdef). */
  readonly missing: readonly string[];
  /** Glyph ids and pen positions in ems (multiply by the size), and the font each is from. */
  readonly glyphs: readonly { readonly id: number; readonly x: number; readonly y: number; readonly font: number }[];
  /** The text by font file: what a PDF text layer needs to embed and encode. */
  readonly runs: readonly ShapedRun[];
  /** The type size, px. */
  readonly scale: number;
}

/**
 * Per-character styles for `shapeStyled`, one character per UTF-16 code unit of the text:
 * '0' plain, '1' emphasis; '2'/'3' the same for a capital I drawn without crossbars
 * (the crossbar I is kept for the pronoun, see docs/lettering.md).
 */
export type StyleMask = string;

export interface Face {
  readonly name: FaceName;
  /** Above the baseline, as a fraction of the font size. */
  readonly ascent: number;
  /** Below the baseline, positive, as a fraction of the font size. */
  readonly descent: number;
  readonly capHeight: number;
  shape(text: string, size: number): ShapedLine;
  /** Shapes with emphasis and plain-I marks (`styles`, as long as `text`). */
  shapeStyled(text: string, styles: StyleMask, size: number): ShapedLine;
  /** SVG path data for `line` with its baseline starting at (x, baseline). */
  outline(line: ShapedLine, x: number, baseline: number): string;
}

const require = createRequire(import.meta.url);
const faces = new Map<string, Face>();

/** The face `name`, its fallback chain ordered for `language` (default: Japanese first among CJK). */
export function face(name: FaceName, language = 'en'): Face {
  const order = fallbackOrder(language);
  const key = `${name}|${order.join(',')}`;
  let loaded = faces.get(key);
  if (loaded === undefined) {
    loaded = makeFace(name, order);
    faces.set(key, loaded);
  }
  return loaded;
}

/** One loaded font file (at one weight): the registry index is what glyphs refer to. */
interface FontFile {
  readonly index: number;
  readonly file: string;
  readonly weight: number | null;
  readonly font: fontkit.Font;
  readonly em: number;
  /** Glyph scale against the primary font. */
  readonly scale: number;
  /** Glyph id of a crossbar-free capital I ('l' in Comic Neue, a plain stem at cap height). */
  readonly plainI: number | null;
  commands(id: number): readonly fontkit.PathCommand[];
  layout(text: string): UnitRun;
}

const registry: FontFile[] = [];
const byKey = new Map<string, FontFile>();

function fontFile(file: string, weight: number | null, scale: number, primary: boolean): FontFile {
  const key = `${file}@${weight ?? ''}`;
  const known = byKey.get(key);
  if (known) return known;
  let font: fontkit.Font;
  let bytes: Buffer;
  try {
    bytes = readFileSync(require.resolve(file));
    const created = fontkit.create(bytes);
    if (!('layout' in created)) throw new Error('a font collection, not a single font');
    font = created;
  } catch (cause) {
    throw new ComicError('INTERNAL', `cannot load the bundled lettering font ${file}`, {
      hint: 'reinstall the dependencies (npm ci): the @fontsource packages ship the fonts',
      cause,
    });
  }
  const adjust = weight !== null ? setWeight(font, bytes, weight) : null;
  const glyphPaths = new Map<number, readonly fontkit.PathCommand[]>();
  const shaped = new Map<string, UnitRun>();
  const l = primary && file.includes('comic-neue') ? font.glyphForCodePoint(0x6c) : null;
  const loaded: FontFile = {
    index: registry.length,
    file,
    weight,
    font,
    em: font.unitsPerEm,
    scale,
    plainI: l && l.id !== 0 ? l.id : null,
    commands(id) {
      let commands = glyphPaths.get(id);
      if (commands === undefined) {
        commands = font.getGlyph(id).path.commands;
        glyphPaths.set(id, commands);
      }
      return commands;
    },
    layout(text) {
      // Words and lines repeat across balloons and fitting attempts; shaping is the costly part.
      let unit = shaped.get(text);
      if (unit === undefined) {
        unit = shapeUnits(font, text, adjust);
        shaped.set(text, unit);
      }
      return unit;
    },
  };
  registry.push(loaded);
  byKey.set(key, loaded);
  return loaded;
}

/**
 * Sets a variable font's wght axis; returns the advance adjustment per glyph (HVAR). fontkit's
 * `getVariation` cannot re-read a WOFF2 file, and decoding a WOFF2 glyph table with variations
 * set fails, so the font keeps no variations and each simple glyph's points are moved by the
 * gvar deltas of a second copy of the font (set to the weight) as the glyph is decoded.
 */
function setWeight(font: fontkit.Font, bytes: Buffer, weight: number): ((id: number) => number) | null {
  // fontkit's internals, typed loosely: stable across fontkit 2.x.
  type Internals = {
    fvar?: { axis: { axisTag: string; minValue: number; maxValue: number; defaultValue: number }[] };
    variationCoords: number[] | null;
    HVAR?: unknown;
    _glyphs: Record<number, unknown>;
    _getBaseGlyph(id: number, chars?: number[]): unknown;
    _variationProcessor: { transformPoints(id: number, points: unknown[]): void; getAdvanceAdjustment(id: number, hvar: unknown): number } | null;
    hmtx: { metrics: { length: number; get(i: number): { advance: number; bearing: number } | undefined } };
  };
  const f = font as unknown as Internals;
  const axes = f.fvar?.axis;
  if (!axes?.some((a) => a.axisTag.trim() === 'wght')) return null;
  const varied = fontkit.create(bytes) as unknown as Internals;
  varied.variationCoords = axes.map((a) => (a.axisTag.trim() === 'wght' ? Math.max(a.minValue, Math.min(a.maxValue, weight)) : a.defaultValue));
  const processor = varied._variationProcessor;
  if (!processor) return null;
  const base = f._getBaseGlyph.bind(f);
  f._getBaseGlyph = (id, chars) => {
    const fresh = f._glyphs[id] === undefined;
    const glyph = base(id, chars) as { type?: string; _decode(): unknown } | undefined;
    if (!fresh || glyph?.type !== 'WOFF2') return glyph;
    const decode = glyph._decode.bind(glyph);
    glyph._decode = () => {
      type P = { x: number; y: number; copy(): P; constructor: new (on: boolean, end: boolean, x: number, y: number) => P };
      const d = decode() as { numberOfContours: number; points: P[] } | null;
      if (!d || !(d.numberOfContours > 0) || d.points.length === 0) return d;
      const Point = d.points[0]!.constructor;
      const points = d.points.map((p) => p.copy());
      const metrics = f.hmtx.metrics.get(Math.min(id, f.hmtx.metrics.length - 1));
      const origin = Math.min(...points.map((p) => p.x)) - (metrics?.bearing ?? 0);
      // The four phantom points (advance and vertical metrics) that gvar deltas also cover.
      const all = [...points, new Point(false, true, origin, 0), new Point(false, true, origin + (metrics?.advance ?? 0), 0), new Point(false, true, 0, 0), new Point(false, true, 0, 0)];
      processor.transformPoints(id, all);
      return Object.assign(Object.create(Object.getPrototypeOf(d) as object) as object, d, { points: all.slice(0, points.length), phantomPoints: all.slice(-4) });
    };
    return glyph;
  };
  const hvar = varied.HVAR;
  return hvar ? (id) => processor.getAdvanceAdjustment(id, hvar) : null;
}

/** A fallback family's subsets: sorted code point ranges and the subset holding each. */
const rangesOf = new Map<string, { start: number; end: number; subset: string }[]>();

function familyRanges(family: FallbackFamily): { start: number; end: number; subset: string }[] {
  let ranges = rangesOf.get(family.id);
  if (ranges === undefined) {
    ranges = [];
    let unicode: Record<string, string> = {};
    try {
      unicode = require(`${family.pkg}/unicode.json`) as Record<string, string>;
    } catch {
      // The package is missing: the family covers nothing, and missing characters warn.
    }
    for (const [subset, list] of Object.entries(unicode)) {
      for (const part of list.split(',')) {
        const [a, b] = part.trim().replace(/^U\+/i, '').split('-');
        const start = Number.parseInt(a!, 16);
        const end = b === undefined ? start : Number.parseInt(b, 16);
        if (Number.isFinite(start) && Number.isFinite(end)) ranges.push({ start, end, subset });
      }
    }
    ranges.sort((x, y) => x.start - y.start || x.end - y.end);
    rangesOf.set(family.id, ranges);
  }
  return ranges;
}

/** The subsets of a family whose range holds `cp` (usually one). */
function subsetsFor(family: FallbackFamily, cp: number): string[] {
  const ranges = familyRanges(family);
  let lo = 0;
  let hi = ranges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ranges[mid]!.start <= cp) lo = mid + 1;
    else hi = mid;
  }
  const found: string[] = [];
  // Ranges can nest or overlap a little across subsets: look back a few.
  for (let i = lo - 1; i >= 0 && i >= lo - 64; i--) {
    const r = ranges[i]!;
    if (r.start <= cp && cp <= r.end && !found.includes(r.subset)) found.push(r.subset);
  }
  return found;
}

function makeFace(name: FaceName, order: readonly string[]): Face {
  const style = FACE_STYLE[name];
  const primary = fontFile(FACE_FILES[name], null, 1, true);
  const emphasisFile = EMPHASIS_FILES[name];
  const emphasis = emphasisFile ? fontFile(emphasisFile, null, 1, true) : primary;
  const families = order.map((id) => FAMILIES[id as keyof typeof FAMILIES]).filter((f): f is FallbackFamily => f !== undefined);
  const font = primary.font;
  const em = font.unitsPerEm;

  /** Which font draws code point `cp` in this style: the primary, else the first fallback that has it. */
  const chosen = new Map<string, FontFile | null>();
  const fontFor = (cp: number, emph: boolean): FontFile | null => {
    const key = `${cp}${emph ? 'e' : ''}`;
    let hit = chosen.get(key);
    if (hit !== undefined) return hit;
    hit = null;
    const first = emph ? emphasis : primary;
    if (first.font.hasGlyphForCodePoint(cp)) hit = first;
    for (const family of families) {
      if (hit !== null) break;
      for (const subset of subsetsFor(family, cp)) {
        const italic = family.italic && (emph ? style.emItalic : style.italic);
        const file = `${family.pkg}/files/${family.file(subset, italic)}`;
        let candidate: FontFile;
        try {
          candidate = fontFile(file, family.variable ? (emph ? style.emWeight : style.weight) : null, family.scale, false);
        } catch (e) {
          if (process.env.DEBUG_FONTS) console.error(e);
          continue;
        }
        if (candidate.font.hasGlyphForCodePoint(cp)) {
          hit = candidate;
          break;
        }
      }
    }
    chosen.set(key, hit);
    return hit;
  };

  const shapedLines = new Map<string, ShapedLine>();
  const shapeStyled = (text: string, styles: StyleMask, size: number): ShapedLine => {
    const key = `${text}\u0000${styles}`;
    let unit = shapedLines.get(key);
    if (unit === undefined) {
      unit = shapeRuns(text, styles);
      shapedLines.set(key, unit);
    }
    if (size === 1) return unit;
    return { ...unit, width: unit.width * size, runs: unit.runs.map((r) => ({ ...r, x: r.x * size, width: r.width * size })), scale: size };
  };

  /** Shapes at size 1: the text split into runs of one font and style each. */
  function shapeRuns(text: string, styles: StyleMask): ShapedLine {
    const runs: { start: number; end: number; font: FontFile; emphasis: boolean; plainI: boolean }[] = [];
    const missing: string[] = [];
    let i = 0;
    while (i < text.length) {
      const cp = text.codePointAt(i)!;
      const n = cp > 0xffff ? 2 : 1;
      const code = styles.charCodeAt(i) - 48;
      const emph = code === 1 || code === 3;
      const plainI = (code === 2 || code === 3) && cp === 0x49;
      let f: FontFile | null;
      const last = runs.at(-1);
      // Spaces, joiners and combining marks stay with the run before them.
      if (last && last.emphasis === emph && !last.plainI && !plainI && /[\s\p{M}\u200d\ufe0f]/u.test(String.fromCodePoint(cp))) f = last.font;
      else f = fontFor(cp, emph);
      if (f === null) {
        missing.push(String.fromCodePoint(cp));
        f = emph ? emphasis : primary;
      }
      const usePlain = plainI && f.plainI !== null;
      if (last && last.font === f && last.emphasis === emph && last.plainI === usePlain) last.end = i + n;
      else runs.push({ start: i, end: i + n, font: f, emphasis: emph, plainI: usePlain });
      i += n;
    }
    const glyphs: { id: number; x: number; y: number; font: number }[] = [];
    const shapedRuns: ShapedRun[] = [];
    let pen = 0;
    for (const run of runs) {
      const f = run.font;
      const unitScale = f.scale / f.em;
      const part = text.slice(run.start, run.end);
      const start = pen;
      if (run.plainI) {
        const advance = f.font.getGlyph(f.plainI!).advanceWidth;
        for (let k = 0; k < part.length; k++) {
          glyphs.push({ id: f.plainI!, x: pen, y: 0, font: f.index });
          pen += advance * unitScale;
        }
      } else {
        const unit = f.layout(part);
        for (const g of unit.glyphs) glyphs.push({ id: g.id, x: pen + g.x * unitScale, y: g.y * unitScale, font: f.index });
        pen += unit.advance * unitScale;
      }
      shapedRuns.push({ text: part, file: f.file, weight: f.weight, emphasis: run.emphasis, x: start, width: pen - start });
    }
    return { text, width: pen, missing: [...new Set(missing)], glyphs, runs: shapedRuns, scale: 1 };
  }

  return {
    name,
    ascent: font.ascent / em,
    descent: -font.descent / em,
    capHeight: font.capHeight / em,
    shape: (text, size) => shapeStyled(text, '0'.repeat(text.length), size),
    shapeStyled,
    outline(line, x, baseline) {
      const size = line.scale;
      const parts: string[] = [];
      for (const g of line.glyphs) {
        const f = registry[g.font]!;
        const s = (size * f.scale) / f.em;
        const gx = x + g.x * size;
        const gy = baseline - g.y * size;
        const px = (v: number) => round(gx + v * s);
        const py = (v: number) => round(gy - v * s);
        for (const { command, args } of f.commands(g.id)) {
          const a = args as number[];
          switch (command) {
            case 'moveTo':
              parts.push(`M${px(a[0]!)} ${py(a[1]!)}`);
              break;
            case 'lineTo':
              parts.push(`L${px(a[0]!)} ${py(a[1]!)}`);
              break;
            case 'quadraticCurveTo':
              parts.push(`Q${px(a[0]!)} ${py(a[1]!)} ${px(a[2]!)} ${py(a[3]!)}`);
              break;
            case 'bezierCurveTo':
              parts.push(`C${px(a[0]!)} ${py(a[1]!)} ${px(a[2]!)} ${py(a[3]!)} ${px(a[4]!)} ${py(a[5]!)}`);
              break;
            case 'closePath':
              parts.push('Z');
              break;
          }
        }
      }
      return parts.join('');
    },
  };
}

interface UnitRun {
  readonly advance: number;
  readonly glyphs: readonly { readonly id: number; readonly x: number; readonly y: number }[];
}

function shapeUnits(font: fontkit.Font, text: string, adjust: ((id: number) => number) | null): UnitRun {
  const run = font.layout(text);
  const glyphs: { id: number; x: number; y: number }[] = [];
  let pen = 0;
  run.glyphs.forEach((glyph, i) => {
    const pos = run.positions[i];
    glyphs.push({ id: glyph.id, x: pen + (pos?.xOffset ?? 0), y: pos?.yOffset ?? 0 });
    pen += (pos?.xAdvance ?? glyph.advanceWidth) + (adjust ? adjust(glyph.id) : 0);
  });
  return { advance: pen, glyphs };
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}
