/**
 * The bundled lettering fonts, and text turned into SVG outlines.
 *
 * Why outlines: sharp renders SVG `<text>` through fontconfig, so the result depends on the
 * fonts a machine happens to have (and segfaults with none: lovell/sharp#4374). Fontsource
 * ships the fonts only as WOFF/WOFF2, which fontkit reads directly; we shape and measure
 * with fontkit and emit the very same glyph outlines as paths, so what is measured is what
 * is drawn and a page renders identically on a machine with no fonts at all.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as fontkit from 'fontkit';
import { ComicError } from '../errors.js';

/** The faces lettering uses: each is one bundled font file. */
export type FaceName = 'dialogue' | 'whisper' | 'caption' | 'display';

const FACE_FILES: Record<FaceName, string> = {
  dialogue: '@fontsource/comic-neue/files/comic-neue-latin-700-normal.woff2',
  whisper: '@fontsource/comic-neue/files/comic-neue-latin-400-normal.woff2',
  caption: '@fontsource/comic-neue/files/comic-neue-latin-700-italic.woff2',
  display: '@fontsource/bangers/files/bangers-latin-400-normal.woff2',
};

/** A shaped line of text, measured in pixels at the size it was shaped for. */
export interface ShapedLine {
  readonly text: string;
  readonly width: number;
  /** Characters the font has no glyph for (drawn as the font's empty .notdef). */
  readonly missing: readonly string[];
  /** Glyph ids and pen positions in font units, for drawing. */
  readonly glyphs: readonly { readonly id: number; readonly x: number; readonly y: number }[];
  readonly scale: number;
}

export interface Face {
  readonly name: FaceName;
  /** Above the baseline, as a fraction of the font size. */
  readonly ascent: number;
  /** Below the baseline, positive, as a fraction of the font size. */
  readonly descent: number;
  readonly capHeight: number;
  shape(text: string, size: number): ShapedLine;
  /** SVG path data for `line` with its baseline starting at (x, baseline). */
  outline(line: ShapedLine, x: number, baseline: number): string;
}

const require = createRequire(import.meta.url);
const faces = new Map<FaceName, Face>();

export function face(name: FaceName): Face {
  let loaded = faces.get(name);
  if (loaded === undefined) {
    loaded = loadFace(name);
    faces.set(name, loaded);
  }
  return loaded;
}

function loadFace(name: FaceName): Face {
  let font: fontkit.Font;
  try {
    const created = fontkit.create(readFileSync(require.resolve(FACE_FILES[name])));
    if (!('layout' in created)) throw new Error('a font collection, not a single font');
    font = created;
  } catch (cause) {
    throw new ComicError('INTERNAL', `cannot load the bundled lettering font ${FACE_FILES[name]}`, {
      hint: 'reinstall the dependencies (npm ci): the @fontsource packages ship the fonts',
      cause,
    });
  }
  const em = font.unitsPerEm;
  const glyphPaths = new Map<number, readonly fontkit.PathCommand[]>();
  const commandsOf = (id: number): readonly fontkit.PathCommand[] => {
    let commands = glyphPaths.get(id);
    if (commands === undefined) {
      commands = font.getGlyph(id).path.commands;
      glyphPaths.set(id, commands);
    }
    return commands;
  };

  // Words and lines repeat across balloons and fitting attempts; shaping is the costly part.
  const shaped = new Map<string, UnitRun>();

  return {
    name,
    ascent: font.ascent / em,
    descent: -font.descent / em,
    capHeight: font.capHeight / em,
    shape(text, size) {
      let unit = shaped.get(text);
      if (unit === undefined) {
        unit = shapeUnits(font, text);
        shaped.set(text, unit);
      }
      const scale = size / em;
      return { text, width: unit.advance * scale, missing: unit.missing, glyphs: unit.glyphs, scale };
    },
    outline(line, x, baseline) {
      const s = line.scale;
      const parts: string[] = [];
      const px = (v: number, gx: number) => round(x + (gx + v) * s);
      const py = (v: number, gy: number) => round(baseline - (gy + v) * s);
      for (const g of line.glyphs) {
        for (const { command, args } of commandsOf(g.id)) {
          const a = args as number[];
          switch (command) {
            case 'moveTo':
              parts.push(`M${px(a[0]!, g.x)} ${py(a[1]!, g.y)}`);
              break;
            case 'lineTo':
              parts.push(`L${px(a[0]!, g.x)} ${py(a[1]!, g.y)}`);
              break;
            case 'quadraticCurveTo':
              parts.push(`Q${px(a[0]!, g.x)} ${py(a[1]!, g.y)} ${px(a[2]!, g.x)} ${py(a[3]!, g.y)}`);
              break;
            case 'bezierCurveTo':
              parts.push(
                `C${px(a[0]!, g.x)} ${py(a[1]!, g.y)} ${px(a[2]!, g.x)} ${py(a[3]!, g.y)} ${px(a[4]!, g.x)} ${py(a[5]!, g.y)}`,
              );
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
  readonly missing: readonly string[];
  readonly glyphs: ShapedLine['glyphs'];
}

function shapeUnits(font: fontkit.Font, text: string): UnitRun {
  const run = font.layout(text);
  const glyphs: { id: number; x: number; y: number }[] = [];
  const missing: string[] = [];
  let pen = 0;
  run.glyphs.forEach((glyph, i) => {
    const pos = run.positions[i];
    if (glyph.id === 0) missing.push(String.fromCodePoint(...glyph.codePoints));
    glyphs.push({ id: glyph.id, x: pen + (pos?.xOffset ?? 0), y: pos?.yOffset ?? 0 });
    pen += pos?.xAdvance ?? glyph.advanceWidth;
  });
  return { advance: pen, missing, glyphs };
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}
