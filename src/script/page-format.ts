/**
 * Page geometry: trim presets and their defaults, and the script's `format` resolved to
 * pixels at its dpi.
 */
import type { PageFormat, TrimPreset, YamlPath } from './model.js';
import type { FormatInput } from './schema.js';
import { parseLength, toPixels, type Length } from './units.js';

interface FormatDefaults {
  readonly width: Length;
  readonly height: Length;
  readonly dpi: number;
  readonly bleed: Length;
  readonly margin: Length;
}

const inch = (value: number): Length => ({ value, unit: 'in' });
const mm = (value: number): Length => ({ value, unit: 'mm' });
const px = (value: number): Length => ({ value, unit: 'px' });

/** Print presets: standard bleed (1/8 in) and a safe margin of 1/4 in. */
const PRINT = { dpi: 300, bleed: inch(0.125), margin: inch(0.25) };

export const TRIM_SIZES: Readonly<Record<TrimPreset, FormatDefaults>> = {
  'us-comic': { ...PRINT, width: inch(6.625), height: inch(10.25) },
  'manga-b6': { ...PRINT, width: mm(128), height: mm(182) },
  a4: { ...PRINT, width: mm(210), height: mm(297) },
  // Screen-first: one 800 px wide page of the vertical strip; no bleed on a screen.
  webtoon: { width: px(800), height: px(2560), dpi: 96, bleed: px(0), margin: px(40) },
};

/** Pages larger than this on a side are surely a unit mistake (and too big to compose). */
export const MAX_PAGE_SIDE_PX = 30_000;

/** A script length in whole pixels at `dpi`; undefined when absent (the schema has checked every given one). */
export function lengthPixels(value: number | string | undefined, dpi: number): number | undefined {
  const parsed = value === undefined ? null : parseLength(value);
  return parsed?.ok ? toPixels(parsed.length, dpi) : undefined;
}

function pixels(value: number | string | undefined, fallback: Length, dpi: number): number {
  return lengthPixels(value, dpi) ?? toPixels(fallback, dpi);
}

/** The format in pixels; width/height, when given, override the preset's size. */
export function resolvePageFormat(input: FormatInput | undefined): PageFormat {
  const preset: PageFormat['preset'] = input?.trim ?? (input?.width !== undefined && input.height !== undefined ? 'custom' : 'us-comic');
  // A custom size brings its own width and height; dpi, bleed and margin default as for print.
  const defaults = TRIM_SIZES[preset === 'custom' ? 'us-comic' : preset];
  const dpi = input?.dpi ?? defaults.dpi;
  return {
    preset,
    width: pixels(input?.width, defaults.width, dpi),
    height: pixels(input?.height, defaults.height, dpi),
    dpi,
    bleed: pixels(input?.bleed, defaults.bleed, dpi),
    margin: pixels(input?.margin, defaults.margin, dpi),
  };
}

/** Problems only visible in pixels: sizes that round to nothing, or margins that eat the page. */
export function pageFormatProblems(format: PageFormat): { path: YamlPath; message: string }[] {
  const at = (key: string): YamlPath => ['comic', 'format', key];
  const problems: { path: YamlPath; message: string }[] = [];
  for (const side of ['width', 'height'] as const) {
    const size = format[side];
    if (size < 1) problems.push({ path: at(side), message: `the page ${side} is ${size} pixels at ${format.dpi} dpi; it must be at least 1` });
    if (size > MAX_PAGE_SIDE_PX) problems.push({ path: at(side), message: `the page ${side} is ${size} pixels at ${format.dpi} dpi; at most ${MAX_PAGE_SIDE_PX} are allowed (is the unit right?)` });
  }
  if (format.bleed > MAX_PAGE_SIDE_PX) problems.push({ path: at('bleed'), message: `the bleed is ${format.bleed} pixels; at most ${MAX_PAGE_SIDE_PX} are allowed` });
  const shorter = Math.min(format.width, format.height);
  if (shorter >= 1 && format.margin * 2 >= shorter) {
    problems.push({ path: at('margin'), message: `a margin of ${format.margin} pixels on each side leaves no safe area on a ${format.width}×${format.height} page` });
  }
  return problems;
}
