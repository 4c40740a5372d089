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

/** True when `inner` lies wholly inside `outer`. */
export function contains(outer: Rect, inner: Rect): boolean {
  const e = 1e-6;
  return (
    inner.x >= outer.x - e &&
    inner.y >= outer.y - e &&
    inner.x + inner.width <= outer.x + outer.width + e &&
    inner.y + inner.height <= outer.y + outer.height + e
  );
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
  /**
   * What a position costs besides its distance from the preferred centre, in the same
   * pixels, never negative (e.g. busy art under it). Without it the nearest free place wins.
   */
  readonly cost?: (box: Rect) => number;
}

/**
 * The best free position, or null. "Reads after" means: not higher than an earlier box,
 * and if it shares any height with one, wholly on its reading side (right for ltr).
 * Among the valid positions the one nearest the preferred centre wins, height counting
 * double (balloons belong at the top of the panel, over the art they talk about), plus
 * the query's `cost` when it has one.
 */
export function findPlace(q: PlacementQuery): Rect | null {
  const { area, width, height, step, gap } = q;
  if (width > area.width + 1e-6 || height > area.height + 1e-6) return null;
  // Nearest the preferred centre first (a stable sort: ties keep the grid's order), so each
  // row stops at its first free position.
  const xs = positions(area.x, area.x + area.width - width, step, q.preferred.x - width / 2)
    .map((x) => ({ x, dx: Math.abs(x + width / 2 - q.preferred.x) }))
    .sort((a, b) => a.dx - b.dx);
  const ys = positions(area.y, area.y + area.height - height, step, q.preferred.y - height / 2);
  let best: Rect | null = null;
  let bestScore = Infinity;
  for (const y of ys) {
    const dy = Math.abs(y + height / 2 - q.preferred.y) * 2;
    if (dy >= bestScore) continue;
    // What this row can meet: the obstacles it overlaps in height, and the earlier text
    // that sets a side (the rest is passed, or rules the whole row out).
    const row = q.obstacles.filter((o) => o.y < y + height + gap && y < o.y + o.height + gap);
    const beside: Rect[] = [];
    let inOrder = true;
    for (const b of q.before) {
      if (y < b.y - 1e-6) inOrder = false;
      else if (y < b.y + b.height + gap) beside.push(b);
    }
    if (!inOrder) continue;
    for (const { x, dx } of xs) {
      const near = dy + dx;
      // Costs are never negative: nothing further along this row can beat the best.
      if (near >= bestScore) break;
      if (row.some((o) => o.x < x + width + gap && x < o.x + o.width + gap)) continue;
      if (!beside.every((b) => (q.direction === 'ltr' ? x >= b.x + b.width + gap : x + width <= b.x - gap))) continue;
      const box = { x, y, width, height };
      const score = near + (q.cost ? q.cost(box) : 0);
      if (score >= bestScore) continue;
      if (q.accept && !q.accept(box)) continue;
      best = box;
      bestScore = score;
      // Without a cost the first free position of a row is its best.
      if (!q.cost) break;
    }
  }
  return best;
}

/**
 * For a box that has no free place: the position in the area where it covers the least of
 * the obstacles, and among those the nearest the preferred centre (reading order and
 * `accept` are not asked). Null only when the box is larger than the area.
 */
export function leastCovered(q: PlacementQuery): Rect | null {
  const { area, width, height, step } = q;
  if (width > area.width + 1e-6 || height > area.height + 1e-6) return null;
  const xs = positions(area.x, area.x + area.width - width, step, q.preferred.x - width / 2);
  const ys = positions(area.y, area.y + area.height - height, step, q.preferred.y - height / 2);
  let best: Rect = { x: xs[0]!, y: ys[0]!, width, height };
  let bestCovered = Infinity;
  let bestDistance = Infinity;
  for (const y of ys) {
    const row = q.obstacles.filter((o) => o.y < y + height && y < o.y + o.height);
    for (const x of xs) {
      const box = { x, y, width, height };
      let covered = 0;
      for (const o of row) {
        const i = intersect(box, o);
        covered += i.width * i.height;
      }
      const distance = Math.abs(y + height / 2 - q.preferred.y) * 2 + Math.abs(x + width / 2 - q.preferred.x);
      if (covered < bestCovered - 1e-6 || (Math.abs(covered - bestCovered) <= 1e-6 && distance < bestDistance)) {
        best = box;
        bestCovered = covered;
        bestDistance = distance;
      }
    }
  }
  return best;
}

/** Grid positions from `min` to `max` (both included), plus the clamped preferred one. */
function positions(min: number, max: number, step: number, preferred: number): number[] {
  if (max <= min) return [min];
  const out: number[] = [];
  for (let v = min; v < max; v += step) out.push(v);
  out.push(max, Math.min(max, Math.max(min, preferred)));
  return out;
}
