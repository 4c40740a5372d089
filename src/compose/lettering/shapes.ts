/**
 * Balloon outlines as SVG path data, in page pixels.
 *
 * A balloon is drawn twice (see `balloonArt` in panel.ts): every shape stroked at twice the
 * line width, then every shape filled on top, each as its own path. The fills hide the
 * inner half of each stroke and every stroke inside another shape, so a body and its tail
 * read as one outline with no seam. (Filled as one path, a tail wound against its body
 * would cancel out where they overlap, under the non-zero rule, and show its base there.)
 */

export interface Point {
  readonly x: number;
  readonly y: number;
}

/** The body of a balloon: an ellipse-like shape centred at (cx, cy) with semi-axes (rx, ry). */
export interface Body {
  readonly cx: number;
  readonly cy: number;
  readonly rx: number;
  readonly ry: number;
}

const f = (v: number): string => (Math.round(v * 10) / 10).toString();

export function ellipsePath({ cx, cy, rx, ry }: Body): string {
  return `M${f(cx - rx)} ${f(cy)}a${f(rx)} ${f(ry)} 0 1 0 ${f(2 * rx)} 0a${f(rx)} ${f(ry)} 0 1 0 ${f(-2 * rx)} 0Z`;
}

export function roundedRectPath(x: number, y: number, w: number, h: number, r: number): string {
  const rr = Math.max(0, Math.min(r, w / 2, h / 2));
  return (
    `M${f(x + rr)} ${f(y)}H${f(x + w - rr)}A${f(rr)} ${f(rr)} 0 0 1 ${f(x + w)} ${f(y + rr)}` +
    `V${f(y + h - rr)}A${f(rr)} ${f(rr)} 0 0 1 ${f(x + w - rr)} ${f(y + h)}` +
    `H${f(x + rr)}A${f(rr)} ${f(rr)} 0 0 1 ${f(x)} ${f(y + h - rr)}` +
    `V${f(y + rr)}A${f(rr)} ${f(rr)} 0 0 1 ${f(x + rr)} ${f(y)}Z`
  );
}

/** The point on the ellipse (scaled by `k`) in the direction of angle `theta` from its centre. */
export function ellipsePoint(body: Body, theta: number, k = 1): Point {
  const { rx, ry } = body;
  const c = Math.cos(theta);
  const s = Math.sin(theta);
  const r = (rx * ry) / Math.sqrt((ry * c) ** 2 + (rx * s) ** 2);
  return { x: body.cx + k * r * c, y: body.cy + k * r * s };
}

/** The distance from the centre to the ellipse's edge toward `theta`. */
export function ellipseRadius(body: Body, theta: number): number {
  const p = ellipsePoint(body, theta);
  return Math.hypot(p.x - body.cx, p.y - body.cy);
}

/**
 * A cloud: scallops along the ellipse. `bump` is the scallop's chord length; the
 * scallops stand out about a third of it beyond the ellipse.
 */
export function cloudPath(body: Body, bump: number): string {
  const perimeter = Math.PI * (3 * (body.rx + body.ry) - Math.sqrt((3 * body.rx + body.ry) * (body.rx + 3 * body.ry)));
  const n = Math.max(8, Math.round(perimeter / bump));
  const points = Array.from({ length: n }, (_, i) => ellipsePoint(body, (i / n) * 2 * Math.PI - Math.PI / 2));
  const first = points[0]!;
  let d = `M${f(first.x)} ${f(first.y)}`;
  points.forEach((p, i) => {
    const next = points[(i + 1) % n]!;
    const r = Math.hypot(next.x - p.x, next.y - p.y) * 0.62;
    d += `A${f(r)} ${f(r)} 0 0 1 ${f(next.x)} ${f(next.y)}`;
  });
  return `${d}Z`;
}

/**
 * A burst for shouting: a ring of spikes around the ellipse. `jitter` (0..1 values, one per
 * spike, from the caller's seeded source) keeps the spikes irregular but deterministic.
 */
export function burstPath(body: Body, spike: number, jitter: readonly number[]): string {
  const n = jitter.length;
  const parts: string[] = [];
  for (let i = 0; i < 2 * n; i++) {
    const theta = (i / (2 * n)) * 2 * Math.PI - Math.PI / 2;
    const out = i % 2 === 0;
    const extra = out ? spike * (0.65 + 0.7 * jitter[i / 2]!) : 0;
    const base = ellipsePoint(body, theta);
    const r = Math.hypot(base.x - body.cx, base.y - body.cy);
    const k = (r + extra) / r;
    const p = ellipsePoint(body, theta, out ? k : 0.94);
    parts.push(`${i === 0 ? 'M' : 'L'}${f(p.x)} ${f(p.y)}`);
  }
  return `${parts.join('')}Z`;
}

/**
 * A tail: its two base corners (inside the body, so body and tail overlap and fill as one),
 * the control point of its centre line, and its tip.
 */
export interface Tail {
  readonly base: readonly [Point, Point];
  readonly bend: Point;
  readonly tip: Point;
}

/**
 * A tail leaving the body toward angle `exit` and ending at `tip`, its last stretch aimed
 * at `aim` (the speaker's mouth). The centre line is a quadratic whose control point lies
 * on the line from the aim back through the tip, so the point reads as a pointer at the
 * mouth even where the tail curves.
 */
export function curvedTail(body: Body, exit: number, tip: Point, aim: Point, width: number): Tail {
  // Deep enough inside that the tail's root is covered by the body's fill on every kind.
  const baseMid = ellipsePoint(body, exit, 0.8);
  const length = Math.hypot(tip.x - baseMid.x, tip.y - baseMid.y) || 1;
  const toAim = unit(aim.x - tip.x, aim.y - tip.y) ?? unit(tip.x - baseMid.x, tip.y - baseMid.y) ?? { x: 0, y: 1 };
  const bend = { x: tip.x - toAim.x * length * 0.5, y: tip.y - toAim.y * length * 0.5 };
  const along = unit(bend.x - baseMid.x, bend.y - baseMid.y) ?? toAim;
  const n = { x: -along.y * (width / 2), y: along.x * (width / 2) };
  return { base: [{ x: baseMid.x + n.x, y: baseMid.y + n.y }, { x: baseMid.x - n.x, y: baseMid.y - n.y }], bend, tip };
}

/** The tail's two sides: curves through points beside the bend, or (`straight`, for bursts) lines. */
function tailSides(t: Tail): readonly [Point, Point] {
  const [b1, b2] = t.base;
  const half = Math.hypot(b1.x - b2.x, b1.y - b2.y) / 2;
  const along = unit(t.tip.x - t.bend.x, t.tip.y - t.bend.y) ?? { x: 0, y: 1 };
  // A little less than half the base's width beside the bend: the sides curve in to the point.
  const n = { x: -along.y * half * 0.4, y: along.x * half * 0.4 };
  const side = Math.sign((b1.x - b2.x) * n.x + (b1.y - b2.y) * n.y) || 1;
  return [
    { x: t.bend.x + side * n.x, y: t.bend.y + side * n.y },
    { x: t.bend.x - side * n.x, y: t.bend.y - side * n.y },
  ];
}

export function tailPath(t: Tail, straight = false): string {
  const [b1, b2] = t.base;
  const { tip } = t;
  if (straight) return `M${f(b1.x)} ${f(b1.y)}L${f(tip.x)} ${f(tip.y)}L${f(b2.x)} ${f(b2.y)}Z`;
  const [c1, c2] = tailSides(t);
  return `M${f(b1.x)} ${f(b1.y)}Q${f(c1.x)} ${f(c1.y)} ${f(tip.x)} ${f(tip.y)}Q${f(c2.x)} ${f(c2.y)} ${f(b2.x)} ${f(b2.y)}Z`;
}

/** Points along the tail's outline (for its bounds). */
export function tailPoints(t: Tail): Point[] {
  const [b1, b2] = t.base;
  const [c1, c2] = tailSides(t);
  const points: Point[] = [];
  for (let i = 0; i <= 8; i++) {
    const u = i / 8;
    points.push(quadratic(b1, c1, t.tip, u), quadratic(b2, c2, t.tip, u));
  }
  return points;
}

/** The direction the tail points at its tip (the tangent of its centre line there). */
export function tailHeading(t: Tail): number {
  return Math.atan2(t.tip.y - t.bend.y, t.tip.x - t.bend.x);
}

function quadratic(a: Point, c: Point, b: Point, u: number): Point {
  const v = 1 - u;
  return { x: v * v * a.x + 2 * v * u * c.x + u * u * b.x, y: v * v * a.y + 2 * v * u * c.y + u * u * b.y };
}

function unit(x: number, y: number): Point | null {
  const d = Math.hypot(x, y);
  return d < 1e-9 ? null : { x: x / d, y: y / d };
}

/** A thought balloon's trail: three shrinking circles from the body's edge toward `tip`. */
export function trailPath(body: Body, tip: Point, em: number): { d: string; circles: readonly (Point & { r: number })[] } {
  const theta = Math.atan2(tip.y - body.cy, tip.x - body.cx);
  const edge = ellipsePoint(body, theta);
  const radii = [0.3 * em, 0.21 * em, 0.14 * em];
  const length = Math.hypot(tip.x - edge.x, tip.y - edge.y);
  const circles = radii.map((r, i) => {
    const t = (i + 1) / radii.length;
    return { x: edge.x + (tip.x - edge.x) * t - Math.cos(theta) * r, y: edge.y + (tip.y - edge.y) * t - Math.sin(theta) * r, r };
  });
  // A very short trail still shows three distinct circles, stacked outward from the edge.
  if (length < 2 * em) {
    let along = 0.45 * em;
    circles.forEach((c, i) => {
      along += c.r;
      circles[i] = { x: edge.x + Math.cos(theta) * along, y: edge.y + Math.sin(theta) * along, r: c.r };
      along += c.r + 0.1 * em;
    });
  }
  const d = circles.map((c) => ellipsePath({ cx: c.x, cy: c.y, rx: c.r, ry: c.r })).join('');
  return { d, circles };
}
