/**
 * Where lettering goes inside a panel: a small grid search over positions that keep a box
 * inside the panel's lettering area, clear of what is already placed, and in reading order.
 */
import type { ReadingDirection } from '../../script/model.js';
import type { Rect } from '../types.js';

export function overlaps(a: Rect, b: Rect, gap = 0): boolean {
  return a.x < b.x + b.width + gap && b.x < a.x + a.width + gap && a.y < b.y + b.height + gap && b.y < a.y + a.height + gap;
}

/** `r` shrunk by `by` on every side (grown when `by` is negative). */
export function inset(r: Rect, by: number): Rect {
  return { x: r.x + by, y: r.y + by, width: Math.max(0, r.width - 2 * by), height: Math.max(0, r.height - 2 * by) };
}

export function intersect(a: Rect, b: Rect): Rect {
  const x = Math.max(a.x, b.x);
  const y = Math.max(a.y, b.y);
  const right = Math.min(a.x + a.width, b.x + b.width);
  const bottom = Math.min(a.y + a.height, b.y + b.height);
  return { x, y, width: Math.max(0, right - x), height: Math.max(0, bottom - y) };
}

export function union(a: Rect, b: Rect): Rect {
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return { x, y, width: Math.max(a.x + a.width, b.x + b.width) - x, height: Math.max(a.y + a.height, b.y + b.height) - y };
}

export interface PlacementQuery {
  readonly width: number;
  readonly height: number;
  /** The lettering area of the panel. */
  readonly area: Rect;
  /** Boxes already placed in this panel (lettering of any kind). */
  readonly obstacles: readonly Rect[];
  /** Text placed earlier in reading order: the new box must read after each of them. */
  readonly before: readonly Rect[];
  readonly direction: ReadingDirection;
  /** Where the box's centre would best be. */
  readonly preferred: { readonly x: number; readonly y: number };
  readonly gap: number;
  readonly step: number;
  /** A last check on a free, in-order position (e.g. that the balloon's tail is clear too). */
  readonly accept?: (box: Rect) => boolean;
}

/**
 * The best free position, or null. "Reads after" means: not higher than an earlier box,
 * and if it shares any height with one, wholly on its reading side (right for ltr).
 * Among the valid positions the one nearest the preferred centre wins, height counting
 * double (balloons belong at the top of the panel, over the art they talk about).
 */
export function findPlace(q: PlacementQuery): Rect | null {
  const { area, width, height, step } = q;
  if (width > area.width + 1e-6 || height > area.height + 1e-6) return null;
  const xs = positions(area.x, area.x + area.width - width, step, q.preferred.x - width / 2);
  const ys = positions(area.y, area.y + area.height - height, step, q.preferred.y - height / 2);
  let best: Rect | null = null;
  let bestScore = Infinity;
  for (const y of ys) {
    const dy = Math.abs(y + height / 2 - q.preferred.y) * 2;
    if (dy >= bestScore) continue;
    for (const x of xs) {
      const score = dy + Math.abs(x + width / 2 - q.preferred.x);
      if (score >= bestScore) continue;
      const box = { x, y, width, height };
      if (q.obstacles.some((o) => overlaps(o, box, q.gap))) continue;
      if (!q.before.every((b) => readsAfter(box, b, q.direction, q.gap))) continue;
      if (q.accept && !q.accept(box)) continue;
      best = box;
      bestScore = score;
    }
  }
  return best;
}

function readsAfter(box: Rect, earlier: Rect, direction: ReadingDirection, gap: number): boolean {
  if (box.y < earlier.y - 1e-6) return false;
  if (box.y >= earlier.y + earlier.height + gap) return true;
  return direction === 'ltr' ? box.x >= earlier.x + earlier.width + gap : box.x + box.width <= earlier.x - gap;
}

/** Grid positions from `min` to `max` (both included), plus the clamped preferred one. */
function positions(min: number, max: number, step: number, preferred: number): number[] {
  if (max <= min) return [min];
  const out: number[] = [];
  for (let v = min; v < max; v += step) out.push(v);
  out.push(max, Math.min(max, Math.max(min, preferred)));
  return out;
}
