/**
 * The lettering's measurements for one comic: one text size from the format's dpi, and
 * every other length (lines, gaps, padding) in proportion to it, so all pages match.
 */
import type { LetteringStyle } from '../types.js';
import { type Hyphenate, hyphenator } from './hyphenate.js';

export interface LetteringMetrics {
  /** The text size in pixels. */
  readonly em: number;
  /** Balloon and caption outline width. */
  readonly line: number;
  /** Space kept between two pieces of lettering. */
  readonly gap: number;
  /** Space kept between lettering and the panel border. */
  readonly pad: number;
  readonly uppercase: boolean;
  /** BCP 47 tag, for upper-casing. */
  readonly language: string;
  readonly balloonShape: 'oval' | 'rounded';
  readonly captionFill: string;
  readonly sfxFill: string;
  /**
   * The smallest text may be shrunk to fit (a fraction of `em`): MIN_FONT_SIZE_PT, or
   * MIN_SCALE of the comic's size when that is larger, and never more than the size itself.
   */
  readonly minScale: number;
  /** The comic language's hyphenation points, for words too long for any balloon. */
  readonly hyphenate: Hyphenate | null;
}

export const DEFAULT_FONT_SIZE_PT = 9;
/** Text is never shrunk below this size to fit (unless even the whole page could not hold it). */
export const MIN_FONT_SIZE_PT = 6;
/** Nor below this share of the comic's text size. */
export const MIN_SCALE = 0.6;

export function letteringMetrics(style: LetteringStyle | undefined, dpi: number, language: string): LetteringMetrics {
  const sizePt = style?.fontSizePt ?? DEFAULT_FONT_SIZE_PT;
  const em = (sizePt * dpi) / 72;
  return {
    em,
    line: Math.max(1, em * 0.075),
    gap: em * 0.35,
    pad: em * 0.4,
    uppercase: style?.uppercase ?? true,
    language,
    balloonShape: style?.balloonShape ?? 'oval',
    captionFill: style?.captionFill ?? '#fff3c4',
    sfxFill: style?.sfxFill ?? '#ffd21f',
    minScale: Math.min(1, Math.max(MIN_SCALE, MIN_FONT_SIZE_PT / sizePt)),
    hyphenate: hyphenator(language),
  };
}
