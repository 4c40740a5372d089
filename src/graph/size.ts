import type { SizeRule } from '../templates/types.js';

export interface RenderSize {
  readonly width: number;
  readonly height: number;
}

/**
 * Fixed aspects of images that do not sit in one panel box. Neither depends on the layout,
 * so re-laying out a page never re-renders a sheet or a background.
 *
 * - A character sheet is a turnaround (front, three-quarter, side, back views side by
 *   side), which wants a landscape frame: 3:2.
 * - A background is shared by panels of every shape, so it is drawn as a wide
 *   establishing plate (16:9): most panels on a portrait page are wider than tall, and
 *   panels are filled by cover-cropping, never by stretching.
 */
export const SHEET_ASPECT = 3 / 2;
export const BACKGROUND_ASPECT = 16 / 9;

/** Why a size rule cannot give any size, or null when it is usable. */
export function sizeRuleProblem(rule: SizeRule): string | null {
  const { multiple, min, max, pixels } = rule;
  if (!Number.isInteger(multiple) || multiple < 1) return `multiple must be a positive integer (got ${multiple})`;
  if (!(pixels > 0) || !Number.isFinite(pixels)) return `pixels must be a positive number (got ${pixels})`;
  if (!(min > 0) || !Number.isFinite(max) || min > max) return `min and max must satisfy 0 < min <= max (got ${min}, ${max})`;
  if (Math.ceil(min / multiple) > Math.floor(max / multiple)) {
    return `no multiple of ${multiple} lies between min ${min} and max ${max}`;
  }
  return null;
}

/**
 * Width and height for an image of `aspect` (width / height): about `rule.pixels` pixels,
 * both multiples of `rule.multiple` within [min, max], with the aspect kept as closely as
 * those steps allow. When the bounds cannot hold the aspect (a very thin panel), the long
 * side stops at max and the short side at min; the compositor cover-crops the rest.
 */
export function renderSize(aspect: number, rule: SizeRule): RenderSize {
  if (!(aspect > 0) || !Number.isFinite(aspect)) throw new RangeError(`aspect must be a positive number (got ${aspect})`);
  const problem = sizeRuleProblem(rule);
  if (problem) throw new RangeError(`invalid size rule: ${problem}`);
  const m = rule.multiple;
  const lo = Math.ceil(rule.min / m) * m;
  const hi = Math.floor(rule.max / m) * m;

  // The ideal real-valued size, scaled into the bounds while the aspect allows it.
  let width = Math.sqrt(rule.pixels * aspect);
  let height = width / aspect;
  const down = Math.min(1, hi / width, hi / height);
  width *= down;
  height *= down;
  const up = Math.max(1, lo / width, lo / height);
  width *= up;
  height *= up;
  const area = width * height;

  const clampStep = (value: number) => Math.min(hi, Math.max(lo, value * m));
  let best: RenderSize = { width: clampStep(Math.round(width / m)), height: clampStep(Math.round(height / m)) };
  let bestScore = Infinity;
  // A few steps around the ideal width, each with its best heights; the first best wins ties.
  for (let w = Math.floor(width / m) - 1; w <= Math.ceil(width / m) + 1; w++) {
    const cw = clampStep(w);
    for (const h of [Math.floor(cw / aspect / m), Math.ceil(cw / aspect / m)]) {
      const ch = clampStep(h);
      const score = Math.abs(Math.log(cw / ch / aspect)) + 0.1 * Math.abs(Math.log((cw * ch) / area));
      if (score < bestScore) {
        bestScore = score;
        best = { width: cw, height: ch };
      }
    }
  }
  return best;
}
