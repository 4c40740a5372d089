/**
 * The lettering's measurements for one comic: one text size from the format's dpi, and
 * every other length (lines, gaps, padding) in proportion to it, so all pages match.
 */
import type { LetteringStyle } from '../types.js';

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
}

export const DEFAULT_FONT_SIZE_PT = 9;

export function letteringMetrics(style: LetteringStyle | undefined, dpi: number, language: string): LetteringMetrics {
  const em = ((style?.fontSizePt ?? DEFAULT_FONT_SIZE_PT) * dpi) / 72;
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
  };
}
