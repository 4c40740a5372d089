/**
 * The lettering as PDF vector graphics: each piece of lettering's SVG (the very fragment the
 * composer rasterises, `PlacedLettering.svg`, in canvas pixels) turned into PDF path
 * operators, so balloons, tails, captions, sound effects and the glyph outlines of their
 * text are drawn exactly as on the raster page, and stay sharp at any zoom.
 *
 * The contract with the lettering is the SVG vocabulary it draws with (docs/lettering.md,
 * "Vector lettering"), not how any shape is built: `g`, `path`, `rect`, `circle`,
 * `ellipse`, `line`, `polyline`, `polygon`; `fill`, `stroke`, `stroke-width`,
 * `stroke-dasharray`, `stroke-dashoffset`, `stroke-linejoin`, `stroke-linecap`,
 * `stroke-miterlimit`, `fill-rule`, `paint-order`, `opacity`, `fill-opacity`,
 * `stroke-opacity`, `transform`, and the same in `style`. Anything else (`text`, `image`,
 * gradients, filters, clip paths) makes `letteringShapes` return null, and the PDF falls
 * back to the raster lettering for that page: never a page drawn wrong.
 */

export type Matrix = readonly [number, number, number, number, number, number];

/** One painted shape, in canvas pixels (after `transform`). */
export interface LetteringShape {
  /** Path data in PDF operators (`m l c h`), canvas pixel coordinates. */
  readonly path: string;
  /** CSS colours as written, or null for none. */
  readonly fill: string | null;
  readonly stroke: string | null;
  readonly strokeWidth: number;
  readonly dash: readonly number[] | null;
  readonly dashOffset: number;
  readonly join: 0 | 1 | 2;
  readonly cap: 0 | 1 | 2;
  readonly miterLimit: number;
  readonly evenOdd: boolean;
  /** `paint-order: stroke`: the stroke goes under the fill. */
  readonly strokeFirst: boolean;
  readonly fillOpacity: number;
  readonly strokeOpacity: number;
  /** The shape's transform (the product of its groups' and its own), or null for none. */
  readonly transform: Matrix | null;
}

interface Style {
  fill: string | null;
  stroke: string | null;
  strokeWidth: number;
  dash: number[] | null;
  dashOffset: number;
  join: 0 | 1 | 2;
  cap: 0 | 1 | 2;
  miterLimit: number;
  evenOdd: boolean;
  strokeFirst: boolean;
  fillOpacity: number;
  strokeOpacity: number;
  opacity: number;
  transform: Matrix | null;
}

const INITIAL: Style = {
  fill: '#000',
  stroke: null,
  strokeWidth: 1,
  dash: null,
  dashOffset: 0,
  join: 0,
  cap: 0,
  miterLimit: 4,
  evenOdd: false,
  strokeFirst: false,
  fillOpacity: 1,
  strokeOpacity: 1,
  opacity: 1,
  transform: null,
};

const SHAPES = new Set(['path', 'rect', 'circle', 'ellipse', 'line', 'polyline', 'polygon']);
const TAG = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|<!--[\s\S]*?-->|([^<]+)/gy;
const ATTRIBUTE = /([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

/** Thrown inside the parser for what the vocabulary does not have. */
class Unsupported extends Error {}

/**
 * The shapes an SVG fragment paints, in painting order; null when it uses anything outside
 * the vocabulary above.
 */
export function letteringShapes(svg: string): LetteringShape[] | null {
  try {
    return parse(svg);
  } catch (error) {
    if (error instanceof Unsupported) return null;
    throw error;
  }
}

function parse(svg: string): LetteringShape[] {
  const shapes: LetteringShape[] = [];
  const stack: Style[] = [INITIAL];
  const open: string[] = [];
  TAG.lastIndex = 0;
  while (TAG.lastIndex < svg.length) {
    const at = TAG.lastIndex;
    const m = TAG.exec(svg);
    if (m === null || m.index !== at) throw new Unsupported(`unreadable SVG at ${at}`);
    if (m[0].startsWith('<!--')) continue;
    if (m[5] !== undefined) {
      if (m[5].trim() !== '') throw new Unsupported('text content');
      continue;
    }
    const [, closing, name, attrText, selfClosing] = m as unknown as [string, string, string, string, string];
    if (closing === '/') {
      if (open.pop() !== name) throw new Unsupported(`</${name}> closes nothing`);
      stack.pop();
      continue;
    }
    if (name !== 'g' && name !== 'svg' && !SHAPES.has(name)) throw new Unsupported(`<${name}>`);
    const attrs = attributes(attrText);
    const style = styled(stack[stack.length - 1]!, attrs);
    if (SHAPES.has(name)) shapes.push(...shapeOf(name, attrs, style));
    if (selfClosing !== '/') {
      open.push(name);
      stack.push(style);
    }
  }
  if (open.length > 0) throw new Unsupported(`<${open[open.length - 1]}> is not closed`);
  return shapes;
}

function attributes(text: string): Map<string, string> {
  const attrs = new Map<string, string>();
  for (const m of text.matchAll(ATTRIBUTE)) attrs.set(m[1]!, decodeEntities(m[2] ?? m[3] ?? ''));
  const style = attrs.get('style');
  if (style !== undefined) {
    for (const declaration of style.split(';')) {
      const colon = declaration.indexOf(':');
      if (colon < 0) continue;
      attrs.set(declaration.slice(0, colon).trim(), declaration.slice(colon + 1).trim());
    }
  }
  return attrs;
}

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, e: string) => {
    const lower = e.toLowerCase();
    if (lower.startsWith('#x')) return String.fromCodePoint(parseInt(lower.slice(2), 16));
    if (lower.startsWith('#')) return String.fromCodePoint(parseInt(lower.slice(1), 10));
    return ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[lower]!;
  });
}

/** The element's style: inherited properties from its parent, overridden by its own. */
function styled(parent: Style, attrs: ReadonlyMap<string, string>): Style {
  const s: Style = { ...parent, opacity: 1 };
  for (const [name, raw] of attrs) {
    const value = raw.trim();
    if (value === 'inherit') continue;
    switch (name) {
      case 'fill':
        s.fill = paint(value);
        break;
      case 'stroke':
        s.stroke = paint(value);
        break;
      case 'stroke-width':
        s.strokeWidth = length(value);
        break;
      case 'stroke-dasharray':
        s.dash = value === 'none' ? null : numbers(value);
        if (s.dash !== null && (s.dash.length === 0 || s.dash.every((n) => n === 0))) s.dash = null;
        else if (s.dash !== null && s.dash.length % 2 === 1) s.dash = [...s.dash, ...s.dash];
        break;
      case 'stroke-dashoffset':
        s.dashOffset = length(value);
        break;
      case 'stroke-linejoin':
        s.join = value === 'round' ? 1 : value === 'bevel' ? 2 : 0;
        break;
      case 'stroke-linecap':
        s.cap = value === 'round' ? 1 : value === 'square' ? 2 : 0;
        break;
      case 'stroke-miterlimit':
        s.miterLimit = length(value);
        break;
      case 'fill-rule':
        s.evenOdd = value === 'evenodd';
        break;
      case 'paint-order':
        s.strokeFirst = /^stroke\b/.test(value) || /^markers\s+stroke\b/.test(value);
        break;
      case 'opacity':
        s.opacity = fraction(value);
        break;
      case 'fill-opacity':
        s.fillOpacity = parent.fillOpacity * fraction(value);
        break;
      case 'stroke-opacity':
        s.strokeOpacity = parent.strokeOpacity * fraction(value);
        break;
      case 'transform':
        s.transform = multiply(parent.transform, transformOf(value));
        break;
      case 'clip-path':
      case 'mask':
      case 'filter':
        if (value !== 'none') throw new Unsupported(name);
        break;
      default:
        break;
    }
  }
  // Group opacity is applied to each shape in it (exact for the non-overlapping shapes lettering draws).
  s.fillOpacity *= s.opacity;
  s.strokeOpacity *= s.opacity;
  return s;
}

function paint(value: string): string | null {
  if (value === 'none' || value === 'transparent') return null;
  if (value.startsWith('url(') || value === 'currentColor' || value.startsWith('context-')) throw new Unsupported(`paint ${value}`);
  return value;
}

function length(value: string): number {
  const m = /^(-?[\d.]+(?:e[-+]?\d+)?)(px)?$/i.exec(value);
  if (m === null) throw new Unsupported(`length ${value}`);
  return Number(m[1]);
}

function fraction(value: string): number {
  const n = value.endsWith('%') ? Number(value.slice(0, -1)) / 100 : Number(value);
  if (!Number.isFinite(n)) throw new Unsupported(`opacity ${value}`);
  return Math.max(0, Math.min(1, n));
}

function numbers(value: string): number[] {
  const list = value.trim() === '' ? [] : value.trim().split(/[\s,]+/).map(length);
  return list;
}

function multiply(a: Matrix | null, b: Matrix | null): Matrix | null {
  if (a === null) return b;
  if (b === null) return a;
  return [a[0] * b[0] + a[2] * b[1], a[1] * b[0] + a[3] * b[1], a[0] * b[2] + a[2] * b[3], a[1] * b[2] + a[3] * b[3], a[0] * b[4] + a[2] * b[5] + a[4], a[1] * b[4] + a[3] * b[5] + a[5]];
}

function transformOf(value: string): Matrix | null {
  let m: Matrix | null = null;
  const re = /(matrix|translate|scale|rotate|skewX|skewY)\s*\(([^)]*)\)/g;
  if (value.replace(re, '').replace(/[\s,]/g, '') !== '') throw new Unsupported(`transform ${value}`);
  for (const t of value.matchAll(re)) {
    const args = t[2]!.trim().split(/[\s,]+/).filter(Boolean).map(Number);
    if (args.some((n) => !Number.isFinite(n))) throw new Unsupported(`transform ${value}`);
    let next: Matrix;
    switch (t[1]) {
      case 'matrix':
        if (args.length !== 6) throw new Unsupported(`transform ${value}`);
        next = args as unknown as Matrix;
        break;
      case 'translate':
        next = [1, 0, 0, 1, args[0] ?? 0, args[1] ?? 0];
        break;
      case 'scale':
        next = [args[0] ?? 1, 0, 0, args[1] ?? args[0] ?? 1, 0, 0];
        break;
      case 'rotate': {
        const a = ((args[0] ?? 0) * Math.PI) / 180;
        const [cx, cy] = [args[1] ?? 0, args[2] ?? 0];
        const r: Matrix = [Math.cos(a), Math.sin(a), -Math.sin(a), Math.cos(a), 0, 0];
        next = multiply(multiply([1, 0, 0, 1, cx, cy], r), [1, 0, 0, 1, -cx, -cy])!;
        break;
      }
      case 'skewX':
        next = [1, 0, Math.tan(((args[0] ?? 0) * Math.PI) / 180), 1, 0, 0];
        break;
      default:
        next = [1, Math.tan(((args[0] ?? 0) * Math.PI) / 180), 0, 1, 0, 0];
    }
    m = multiply(m, next);
  }
  return m;
}

function shapeOf(name: string, attrs: ReadonlyMap<string, string>, style: Style): LetteringShape[] {
  const num = (key: string, fallback = 0): number => {
    const v = attrs.get(key);
    return v === undefined || v === 'auto' ? fallback : length(v);
  };
  let path: string;
  switch (name) {
    case 'path':
      path = pathOperators(attrs.get('d') ?? '');
      break;
    case 'rect': {
      const [x, y, w, h] = [num('x'), num('y'), num('width'), num('height')];
      if (w <= 0 || h <= 0) return [];
      let rx = attrs.has('rx') ? num('rx') : attrs.has('ry') ? num('ry') : 0;
      let ry = attrs.has('ry') ? num('ry') : rx;
      rx = Math.min(rx, w / 2);
      ry = Math.min(ry, h / 2);
      path =
        rx <= 0 || ry <= 0
          ? `${f(x)} ${f(y)} ${f(w)} ${f(h)} re\n`
          : pathOperators(`M${x + rx} ${y}H${x + w - rx}A${rx} ${ry} 0 0 1 ${x + w} ${y + ry}V${y + h - ry}A${rx} ${ry} 0 0 1 ${x + w - rx} ${y + h}H${x + rx}A${rx} ${ry} 0 0 1 ${x} ${y + h - ry}V${y + ry}A${rx} ${ry} 0 0 1 ${x + rx} ${y}Z`);
      break;
    }
    case 'circle':
    case 'ellipse': {
      const [cx, cy] = [num('cx'), num('cy')];
      const rx = name === 'circle' ? num('r') : num('rx');
      const ry = name === 'circle' ? rx : attrs.has('ry') ? num('ry') : rx;
      if (rx <= 0 || ry <= 0) return [];
      path = pathOperators(`M${cx - rx} ${cy}A${rx} ${ry} 0 1 0 ${cx + rx} ${cy}A${rx} ${ry} 0 1 0 ${cx - rx} ${cy}Z`);
      break;
    }
    case 'line':
      path = pathOperators(`M${num('x1')} ${num('y1')}L${num('x2')} ${num('y2')}`);
      break;
    default: {
      const points = numbers(attrs.get('points') ?? '');
      if (points.length < 4) return [];
      path = pathOperators(`M${points.join(' ')}${name === 'polygon' ? 'Z' : ''}`);
    }
  }
  if (path === '') return [];
  // A line has no inside: only its stroke is painted.
  const fill = name === 'line' ? null : style.fill;
  if (fill === null && style.stroke === null) return [];
  return [
    {
      path,
      fill,
      stroke: style.stroke,
      strokeWidth: style.strokeWidth,
      dash: style.dash,
      dashOffset: style.dashOffset,
      join: style.join,
      cap: style.cap,
      miterLimit: style.miterLimit,
      evenOdd: style.evenOdd,
      strokeFirst: style.strokeFirst,
      fillOpacity: style.fillOpacity,
      strokeOpacity: style.strokeOpacity,
      transform: style.transform,
    },
  ];
}

/** A number as short as 1/100 px allows (1/30,000 in at 300 dpi). */
export function f(n: number): string {
  const r = Math.round(n * 100) / 100;
  return Object.is(r, -0) ? '0' : String(r);
}

const COMMAND = /([MmLlHhVvCcSsQqTtAaZz])|(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)|([\s,]+)|(.)/g;

/**
 * SVG path data as PDF path operators: lines and cubics as they are, quadratics raised to
 * cubics, arcs as cubics of at most a quarter turn each.
 */
export function pathOperators(d: string): string {
  const tokens: (string | number)[] = [];
  for (const m of d.matchAll(COMMAND)) {
    if (m[1] !== undefined) tokens.push(m[1]);
    else if (m[2] !== undefined) tokens.push(Number(m[2]));
    else if (m[4] !== undefined) throw new Unsupported(`path data "${m[4]}"`);
  }
  const out: string[] = [];
  let i = 0;
  let cmd = '';
  let [x, y] = [0, 0];
  let [sx, sy] = [0, 0];
  /** The last control point, for S and T. */
  let [cx, cy] = [0, 0];
  let last = '';
  const take = (): number => {
    const t = tokens[i++];
    if (typeof t !== 'number') throw new Unsupported('path data: a number is missing');
    return t;
  };
  const flag = (): number => {
    // Flags may be written without separators ("a5 5 0 1015 5"); the tokenizer reads "1015" then.
    const t = tokens[i];
    if (typeof t !== 'number') throw new Unsupported('path data: an arc flag is missing');
    const text = String(t);
    if (text === '0' || text === '1') {
      i++;
      return t;
    }
    if (/^[01]\d+/.test(text)) {
      tokens[i] = Number(text.slice(1));
      return Number(text[0]);
    }
    throw new Unsupported('path data: a bad arc flag');
  };
  const curve = (x1: number, y1: number, x2: number, y2: number, x3: number, y3: number) => {
    out.push(`${f(x1)} ${f(y1)} ${f(x2)} ${f(y2)} ${f(x3)} ${f(y3)} c`);
    [cx, cy] = [x2, y2];
    [x, y] = [x3, y3];
  };
  while (i < tokens.length) {
    const t = tokens[i];
    if (typeof t === 'string') {
      cmd = t;
      i++;
    } else if (cmd === '' || cmd === 'Z' || cmd === 'z') {
      throw new Unsupported('path data: a number without a command');
    }
    const rel = cmd === cmd.toLowerCase();
    const ox = rel ? x : 0;
    const oy = rel ? y : 0;
    switch (cmd.toUpperCase()) {
      case 'M': {
        [x, y] = [ox + take(), oy + take()];
        [sx, sy] = [x, y];
        out.push(`${f(x)} ${f(y)} m`);
        // Further pairs after a moveto are linetos.
        cmd = rel ? 'l' : 'L';
        last = 'M';
        continue;
      }
      case 'L':
        [x, y] = [ox + take(), oy + take()];
        out.push(`${f(x)} ${f(y)} l`);
        break;
      case 'H':
        x = ox + take();
        out.push(`${f(x)} ${f(y)} l`);
        break;
      case 'V':
        y = oy + take();
        out.push(`${f(x)} ${f(y)} l`);
        break;
      case 'C': {
        const [x1, y1, x2, y2, x3, y3] = [ox + take(), oy + take(), ox + take(), oy + take(), ox + take(), oy + take()];
        curve(x1, y1, x2, y2, x3, y3);
        break;
      }
      case 'S': {
        const [x1, y1] = last === 'C' || last === 'S' ? [2 * x - cx, 2 * y - cy] : [x, y];
        const [x2, y2, x3, y3] = [ox + take(), oy + take(), ox + take(), oy + take()];
        curve(x1, y1, x2, y2, x3, y3);
        break;
      }
      case 'Q':
      case 'T': {
        const [qx, qy] = cmd.toUpperCase() === 'Q' ? [ox + take(), oy + take()] : last === 'Q' || last === 'T' ? [2 * x - cx, 2 * y - cy] : [x, y];
        const [x3, y3] = [ox + take(), oy + take()];
        const [x0, y0] = [x, y];
        curve(x0 + (2 / 3) * (qx - x0), y0 + (2 / 3) * (qy - y0), x3 + (2 / 3) * (qx - x3), y3 + (2 / 3) * (qy - y3), x3, y3);
        [cx, cy] = [qx, qy];
        break;
      }
      case 'A': {
        const [rx, ry, rotation] = [take(), take(), take()];
        const large = flag();
        const sweep = flag();
        const [x3, y3] = [ox + take(), oy + take()];
        for (const c of arcCurves(x, y, rx, ry, rotation, large === 1, sweep === 1, x3, y3)) curve(...c);
        [x, y] = [x3, y3];
        break;
      }
      case 'Z':
        out.push('h');
        [x, y] = [sx, sy];
        break;
      default:
        throw new Unsupported(`path command ${cmd}`);
    }
    last = cmd.toUpperCase();
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

type Cubic = [number, number, number, number, number, number];

/** An SVG elliptical arc (endpoint form, SVG 1.1 F.6) as cubic Béziers. */
function arcCurves(x1: number, y1: number, rx: number, ry: number, degrees: number, large: boolean, sweep: boolean, x2: number, y2: number): Cubic[] {
  if (x1 === x2 && y1 === y2) return [];
  rx = Math.abs(rx);
  ry = Math.abs(ry);
  if (rx === 0 || ry === 0) return [[x1, y1, x2, y2, x2, y2]];
  const phi = (degrees * Math.PI) / 180;
  const [cos, sin] = [Math.cos(phi), Math.sin(phi)];
  const dx = (x1 - x2) / 2;
  const dy = (y1 - y2) / 2;
  const x1p = cos * dx + sin * dy;
  const y1p = -sin * dx + cos * dy;
  const lambda = (x1p * x1p) / (rx * rx) + (y1p * y1p) / (ry * ry);
  if (lambda > 1) {
    rx *= Math.sqrt(lambda);
    ry *= Math.sqrt(lambda);
  }
  const num = rx * rx * ry * ry - rx * rx * y1p * y1p - ry * ry * x1p * x1p;
  const den = rx * rx * y1p * y1p + ry * ry * x1p * x1p;
  let k = Math.sqrt(Math.max(0, num / den));
  if (large === sweep) k = -k;
  const cxp = (k * rx * y1p) / ry;
  const cyp = (-k * ry * x1p) / rx;
  const cx = cos * cxp - sin * cyp + (x1 + x2) / 2;
  const cy = sin * cxp + cos * cyp + (y1 + y2) / 2;
  const angle = (ux: number, uy: number, vx: number, vy: number) => Math.atan2(ux * vy - uy * vx, ux * vx + uy * vy);
  const theta1 = angle(1, 0, (x1p - cxp) / rx, (y1p - cyp) / ry);
  let delta = angle((x1p - cxp) / rx, (y1p - cyp) / ry, (-x1p - cxp) / rx, (-y1p - cyp) / ry);
  if (!sweep && delta > 0) delta -= 2 * Math.PI;
  if (sweep && delta < 0) delta += 2 * Math.PI;
  const segments = Math.max(1, Math.ceil(Math.abs(delta) / (Math.PI / 2) - 1e-9));
  const step = delta / segments;
  const t = (4 / 3) * Math.tan(step / 4);
  const point = (a: number): [number, number] => [cx + rx * Math.cos(a) * cos - ry * Math.sin(a) * sin, cy + rx * Math.cos(a) * sin + ry * Math.sin(a) * cos];
  const tangent = (a: number): [number, number] => [-rx * Math.sin(a) * cos - ry * Math.cos(a) * sin, -rx * Math.sin(a) * sin + ry * Math.cos(a) * cos];
  const curves: Cubic[] = [];
  for (let s = 0; s < segments; s++) {
    const a1 = theta1 + s * step;
    const a2 = a1 + step;
    const [p1x, p1y] = point(a1);
    const [p2x, p2y] = s === segments - 1 ? [x2, y2] : point(a2);
    const [t1x, t1y] = tangent(a1);
    const [t2x, t2y] = tangent(a2);
    curves.push([p1x + t * t1x, p1y + t * t1y, p2x - t * t2x, p2y - t * t2y, p2x, p2y]);
  }
  return curves;
}

/**
 * The content-stream operators that paint `shapes` (canvas pixels, y down: the caller sets
 * the matrix that maps them onto the page). `colour` gives each CSS colour as 0–1 RGB;
 * `alpha` names the graphics state for a fill and stroke opacity (only asked when one is below 1).
 */
export function shapeOperators(shapes: readonly LetteringShape[], colour: (css: string) => readonly [number, number, number], alpha: (fill: number, stroke: number) => string): string {
  const out: string[] = [];
  const rgb = (css: string) => colour(css).map((c) => f(c)).join(' ');
  for (const s of shapes) {
    const fill = s.fill !== null && s.fillOpacity > 0 ? s.fill : null;
    const stroke = s.stroke !== null && s.strokeOpacity > 0 && s.strokeWidth > 0 ? s.stroke : null;
    if (fill === null && stroke === null) continue;
    out.push('q');
    if (s.transform !== null) out.push(`${s.transform.map(fmt6).join(' ')} cm`);
    if ((fill !== null && s.fillOpacity < 1) || (stroke !== null && s.strokeOpacity < 1)) out.push(`/${alpha(fill === null ? 1 : s.fillOpacity, stroke === null ? 1 : s.strokeOpacity)} gs`);
    if (fill !== null) out.push(`${rgb(fill)} rg`);
    if (stroke !== null) {
      out.push(`${rgb(stroke)} RG`, `${f(s.strokeWidth)} w`, `${s.join} j`, `${s.cap} J`, `${f(Math.max(1, s.miterLimit))} M`);
      if (s.dash !== null) out.push(`[${s.dash.map(f).join(' ')}] ${f(s.dashOffset)} d`);
    }
    const fillOp = s.evenOdd ? 'f*' : 'f';
    if (fill !== null && stroke !== null && s.strokeFirst) out.push(`${s.path}S`, `${s.path}${fillOp}`);
    else if (fill !== null && stroke !== null) out.push(`${s.path}${s.evenOdd ? 'B*' : 'B'}`);
    else if (fill !== null) out.push(`${s.path}${fillOp}`);
    else out.push(`${s.path}S`);
    out.push('Q');
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

/** A matrix entry: rotations need more digits than coordinates. */
function fmt6(n: number): string {
  const r = Math.round(n * 1e6) / 1e6;
  return Object.is(r, -0) ? '0' : String(r);
}
