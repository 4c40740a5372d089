/**
 * Balloon outlines as SVG path data, in page pixels.
 *
 * A balloon is drawn twice (see `balloonSvg`): every subpath stroked at twice the line
 * width, then every subpath filled on top. The fill hides the inner half of each stroke,
 * so a body and its tail (or a cloud's bumps) read as one outline with no seam.
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
 * A tail from inside the body to `tip`, `width` wide at its base, gently curved. The base
 * sits well inside the body so the filled union has no gap.
 */
export function tailPath(body: Body, tip: Point, width: number, straight = false): string {
  const theta = Math.atan2(tip.y - body.cy, tip.x - body.cx);
  const baseMid = ellipsePoint(body, theta, 0.7);
  const nx = -Math.sin(theta);
  const ny = Math.cos(theta);
  const b1 = { x: baseMid.x + (nx * width) / 2, y: baseMid.y + (ny * width) / 2 };
  const b2 = { x: baseMid.x - (nx * width) / 2, y: baseMid.y - (ny * width) / 2 };
  if (straight) return `M${f(b1.x)} ${f(b1.y)}L${f(tip.x)} ${f(tip.y)}L${f(b2.x)} ${f(b2.y)}Z`;
  const length = Math.hypot(tip.x - baseMid.x, tip.y - baseMid.y);
  // Bend the tail a little to one side, as a letterer's pen would.
  const bend = length * 0.12;
  const c1 = { x: (b1.x + tip.x) / 2 + nx * bend, y: (b1.y + tip.y) / 2 + ny * bend };
  const c2 = { x: (b2.x + tip.x) / 2 + nx * bend * 0.6, y: (b2.y + tip.y) / 2 + ny * bend * 0.6 };
  return `M${f(b1.x)} ${f(b1.y)}Q${f(c1.x)} ${f(c1.y)} ${f(tip.x)} ${f(tip.y)}Q${f(c2.x)} ${f(c2.y)} ${f(b2.x)} ${f(b2.y)}Z`;
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
