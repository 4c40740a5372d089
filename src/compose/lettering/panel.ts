/**
 * Letters one panel: its caption, balloons (in dialogue order) and sound effects, placed
 * inside the panel's lettering area and drawn as SVG.
 */
import type { DialogueKind, Panel, ReadingDirection, Sfx } from '../../script/model.js';
import { face, type ShapedLine } from '../fonts.js';
import { seededRandom } from '../random.js';
import type { LetteringBox, LetteringKind, Rect } from '../types.js';
import type { LetteringMetrics } from './metrics.js';
import { findPlace, intersect, overlaps, union } from './place.js';
import { type Body, burstPath, cloudPath, ellipsePath, ellipsePoint, ellipseRadius, type Point, roundedRectPath, tailPath, trailPath } from './shapes.js';
import { blockOutline, missingGlyphs, naturalMeasure, type TextBlock, wrapBlock } from './text.js';

export interface PlacedLettering {
  readonly box: LetteringBox;
  readonly svg: string;
}

export interface PanelLettering {
  /** In drawing order: sound effects, then captions and balloons in reading order. */
  readonly items: readonly PlacedLettering[];
  readonly warnings: readonly string[];
}

export interface PanelLetteringInput {
  readonly panel: Panel;
  /** The panel's rectangle on the canvas. */
  readonly box: Rect;
  /** Where lettering may go: inside the border, the panel and the safe area. */
  readonly area: Rect;
  readonly direction: ReadingDirection;
  readonly metrics: LetteringMetrics;
}

/** Smaller text is tried, in these steps, only when nothing fits at full size. */
const SHRINK_STEPS = [1, 0.9, 0.8, 0.7, 0.6];

export function letterPanel(input: PanelLetteringInput): PanelLettering {
  const { panel, area, direction, metrics: m } = input;
  const warnings: string[] = [];
  const placed: PlacedLettering[] = [];
  const textBoxes: Rect[] = [];
  /** Tails and trails placed so far: later balloons keep clear of them. */
  const tails: Rect[] = [];
  const shrunk: number[] = [];
  // Where the speakers' heads are assumed to be: balloons rather not cover them.
  const heads = [
    ...panel.characters.map((who) => speakerTarget(panel, who, input.box)),
    ...panel.dialogue.flatMap((line) => (line.tail ? [pointIn(input.box, line.tail)] : [])),
  ].map((head) => ({ x: head.x - m.em, y: head.y - m.em, width: 2 * m.em, height: 2 * m.em }));

  const addText = (kind: LetteringKind, text: string, build: Build): void => {
    const result = fitText(build, text, kind, panel.id, m, area);
    if (result === null) {
      warnings.push(`panel ${panel.id}: the ${kind} "${clip(text)}" does not fit in the panel even at ${Math.round(SHRINK_STEPS.at(-1)! * 100)}% size; it is drawn over the art`);
      return;
    }
    if (result.scale < 1) shrunk.push(result.scale);
    for (const missing of result.missing) warnings.push(`panel ${panel.id}: the lettering font has no glyph for "${missing}"`);
    placed.push(result.placed);
    textBoxes.push(result.placed.box);
    if (result.tail) tails.push(result.tail);
  };

  if (panel.caption !== null) {
    const caption = panel.caption;
    addText('caption', caption, (scale, measure) => {
      const block = wrapBlock(face('caption'), letterCase(caption, m), m.em * scale, measure);
      const padX = 0.45 * m.em * scale;
      const padY = 0.35 * m.em * scale;
      const width = block.width + 2 * padX;
      const height = block.height + 2 * padY;
      const corner = direction === 'ltr' ? area.x : area.x + area.width;
      const spot = findPlace({ ...query(m, area, direction, placed, textBoxes), width, height, preferred: { x: corner, y: area.y } });
      return spot && { block, rect: spot, svg: () => captionSvg(block, spot, padX, padY, m), extent: spot, tail: null };
    });
  }

  panel.dialogue.forEach((line, i) => {
    const target = line.tail ? pointIn(input.box, line.tail) : speakerTarget(panel, line.who, input.box);
    addText(line.kind, line.text, (scale, measure, clearHeads) =>
      balloonCandidate(line.kind, letterCase(line.text, m), scale, measure, target, `${panel.id}/${i}`, {
        ...input,
        placed,
        textBoxes,
        tails,
        heads: clearHeads ? heads : [],
      }),
    );
  });

  if (shrunk.length > 0) {
    warnings.push(`panel ${panel.id}: text shrunk to ${Math.round(Math.min(...shrunk) * 100)}% to fit the panel`);
  }

  const effects = panel.sfx.map((sfx) => placeSfx(sfx, input, [...placed.map((p) => p.box), ...tails]));
  for (const effect of effects) warnings.push(...effect.warnings);
  return { items: [...effects.flatMap((e) => (e.placed ? [e.placed] : [])), ...placed], warnings };
}

interface Candidate {
  readonly block: TextBlock;
  /** The body's bounds: what may not overlap other lettering or leave the area. */
  readonly rect: Rect;
  /** Bounds with the tail or trail. */
  readonly extent: Rect;
  /** Bounds of the tail or trail outside the body. */
  readonly tail: Rect | null;
  readonly svg: () => string;
}

interface FitResult {
  readonly placed: PlacedLettering;
  readonly tail: Rect | null;
  readonly scale: number;
  readonly missing: readonly string[];
}

/** Builds and places a candidate at a text scale and wrap measure; null when it fits nowhere. */
type Build = (scale: number, measure: number, clearHeads: boolean) => Candidate | null;

/**
 * Tries the natural measure, then narrower and wider ones, at each size step. At full size
 * it first keeps clear of the speakers' heads; the text size (the same across the comic)
 * matters more than that, so full size over a head beats smaller text beside it.
 */
function fitText(
  build: Build,
  text: string,
  kind: LetteringKind,
  panelId: string,
  m: LetteringMetrics,
  area: Rect,
): FitResult | null {
  const sample = face(kind === 'caption' ? 'caption' : 'dialogue');
  const attempts = [{ scale: 1, clearHeads: true }, ...SHRINK_STEPS.map((scale) => ({ scale, clearHeads: false }))];
  for (const { scale, clearHeads } of attempts) {
    const em = m.em * scale;
    const maxMeasure = Math.max(em * 3, Math.min(area.width * (kind === 'caption' ? 0.8 : 0.7), em * 16));
    const natural = naturalMeasure(sample, letterCase(text, m), em, kind === 'caption' ? 4.5 : 3.6, Math.min(em * 5, maxMeasure), maxMeasure);
    const measures = [natural, natural * 0.75, Math.min(maxMeasure, natural * 1.4), natural * 0.55, maxMeasure];
    for (const measure of measures) {
      const candidate = build(scale, measure, clearHeads);
      if (candidate !== null) {
        const box: LetteringBox = { ...round(candidate.rect), panelId, kind, extent: round(candidate.extent) };
        return { placed: { box, svg: candidate.svg() }, tail: candidate.tail, scale, missing: missingGlyphs(candidate.block) };
      }
    }
  }
  return null;
}

function query(m: LetteringMetrics, area: Rect, direction: ReadingDirection, placed: readonly PlacedLettering[], textBoxes: readonly Rect[]) {
  return { area, direction, obstacles: placed.map((p) => p.box), before: textBoxes, gap: m.gap, step: Math.max(4, m.em / 3) };
}

/**
 * Where lettering assumes a speaker's head is, as a fraction of the panel's height (the
 * draft backend draws its figures' heads there, so storyboards and tails agree).
 */
export const SPEAKER_HEAD_Y = 0.45;

/**
 * Where a line's speaker is: the speaker's place among the panel's characters, spread
 * left to right at head height; someone not in the panel talks from below its edge.
 */
function speakerTarget(panel: Panel, who: string, box: Rect): Point {
  const index = panel.characters.indexOf(who);
  if (index < 0) return { x: box.x + box.width / 2, y: box.y + box.height * 1.2 };
  return { x: box.x + (box.width * (index + 0.5)) / panel.characters.length, y: box.y + box.height * SPEAKER_HEAD_Y };
}

/** The point at fractions `at` of `box`, from its top-left corner. */
function pointIn(box: Rect, at: { readonly x: number; readonly y: number }): Point {
  return { x: box.x + at.x * box.width, y: box.y + at.y * box.height };
}

function balloonCandidate(
  kind: DialogueKind,
  text: string,
  scale: number,
  measure: number,
  target: Point,
  seedKey: string,
  ctx: PanelLetteringInput & { placed: readonly PlacedLettering[]; textBoxes: readonly Rect[]; tails: readonly Rect[]; heads: readonly Rect[] },
): Candidate | null {
  const { metrics: m, area, direction } = ctx;
  const em = m.em * scale;
  const textSize = em * (kind === 'shout' ? 1.1 : 1);
  const block = wrapBlock(face(kind === 'whisper' ? 'whisper' : 'dialogue'), text, textSize, measure);
  const shape = bodyShape(kind, m.balloonShape, block, textSize);
  const width = 2 * shape.outerX;
  const height = 2 * shape.outerY;
  const bodyAt = (spot: Rect): Body => ({ cx: spot.x + width / 2, cy: spot.y + height / 2, rx: shape.rx, ry: shape.ry });
  const tailAt = (body: Body) => {
    const tip = tailTip(body, target, area, em, shape);
    const trail = kind === 'thought' ? trailPath(body, tip, em) : null;
    const bounds = trail
      ? trail.circles.map((c) => ({ x: c.x - c.r, y: c.y - c.r, width: 2 * c.r, height: 2 * c.r })).reduce(union)
      : wedgeBounds(body, tip, 0.7 * em, shape);
    return { tip, trail, bounds };
  };
  /** What later balloons keep clear of: the tail, and the space it points into (a balloon
   * just past a tail's tip would look like the one it points at). */
  const keepClear = (tail: Rect, tip: Point, body: Body): Rect => {
    const reach = 2.5 * em;
    const dx = tip.x - body.cx;
    const dy = tip.y - body.cy;
    const d = Math.hypot(dx, dy) || 1;
    return union(tail, { x: tip.x + (dx / d) * reach - em / 2, y: tip.y + (dy / d) * reach - em / 2, width: em, height: em });
  };
  const obstacles = ctx.placed.map((p) => p.box);
  const spot = findPlace({
    ...query(m, area, direction, ctx.placed, ctx.textBoxes),
    width,
    height,
    preferred: { x: target.x, y: area.y },
    // Keep clear of earlier tails, and keep this tail clear of earlier balloons.
    accept: (box) => {
      if (ctx.tails.some((t) => overlaps(t, box, m.gap)) || ctx.heads.some((h) => overlaps(h, box))) return false;
      const { bounds } = tailAt(bodyAt(box));
      return !obstacles.some((o) => overlaps(o, bounds, m.gap));
    },
  });
  if (spot === null) return null;
  const body = bodyAt(spot);
  const { tip, trail, bounds } = tailAt(body);

  const svg = (): string => {
    let outline: string;
    switch (kind) {
      case 'thought':
        outline = cloudPath(body, shape.bump) + trail!.d;
        break;
      case 'shout': {
        const random = seededRandom(seedKey);
        const spikes = Math.max(14, Math.round((body.rx + body.ry) / (0.42 * textSize)));
        outline = burstPath(body, shape.spike, Array.from({ length: spikes }, random)) + tailPath(body, tip, 0.75 * em, true);
        break;
      }
      default:
        outline =
          (m.balloonShape === 'rounded' ? roundedRectPath(body.cx - body.rx, body.cy - body.ry, 2 * body.rx, 2 * body.ry, 0.9 * em) : ellipsePath(body)) +
          tailPath(body, tip, 0.62 * em);
    }
    const dash = kind === 'whisper' ? ` stroke-dasharray="${fmt(m.line * 3)} ${fmt(m.line * 2.2)}"` : '';
    const text = blockOutline(block, body.cx, body.cy - block.height / 2, 'center');
    return (
      `<g><path d="${outline}" fill="none" stroke="#111" stroke-width="${fmt(m.line * 2)}" stroke-linejoin="round"${dash}/>` +
      `<path d="${outline}" fill="#fff"/><path d="${text}" fill="#111"/></g>`
    );
  };
  return { block, rect: spot, extent: union(spot, bounds), tail: keepClear(bounds, tip, body), svg };
}

/** The bounds of a tail's part outside the body: from its base on the outline to the tip. */
function wedgeBounds(body: Body, tip: Point, width: number, shape: BodyShape): Rect {
  const theta = Math.atan2(tip.y - body.cy, tip.x - body.cx);
  const edge = ellipsePoint(body, theta, (ellipseRadius(body, theta) + (shape.outerX - shape.rx)) / ellipseRadius(body, theta));
  const dx = (Math.abs(Math.sin(theta)) * width) / 2;
  const dy = (Math.abs(Math.cos(theta)) * width) / 2;
  const x = Math.min(edge.x - dx, tip.x);
  const y = Math.min(edge.y - dy, tip.y);
  return { x, y, width: Math.max(edge.x + dx, tip.x) - x, height: Math.max(edge.y + dy, tip.y) - y };
}

interface BodyShape {
  /** Semi-axes of the ellipse the outline follows. */
  readonly rx: number;
  readonly ry: number;
  /** Half the outline's full extent (with bumps or spikes). */
  readonly outerX: number;
  readonly outerY: number;
  readonly bump: number;
  readonly spike: number;
}

/**
 * An ellipse that holds every line's corners plus padding, so a balloon fits its text
 * whatever the line lengths; rounded rectangles only need the padding.
 */
function bodyShape(kind: DialogueKind, balloon: 'oval' | 'rounded', block: TextBlock, em: number): BodyShape {
  const padX = 0.5 * em;
  const padY = 0.4 * em;
  const halfW = block.width / 2;
  const halfH = block.height / 2;
  let rx = halfW + padX;
  let ry = halfH + padY;
  if (kind !== 'speech' && kind !== 'whisper') {
    rx += 0.1 * em;
    ry += 0.1 * em;
  }
  if (balloon === 'oval' || kind === 'thought' || kind === 'shout') {
    // Scale the ellipse until the corners of every line (padded a little) are inside it.
    let s = 1;
    block.lines.forEach((line, i) => {
      const top = -halfH + i * block.lineHeight;
      const vertical = Math.max(Math.abs(top), Math.abs(top + block.size * 0.85));
      const k = Math.hypot((line.width / 2 + 0.2 * em) / rx, (vertical + 0.15 * em) / ry);
      s = Math.max(s, k);
    });
    rx *= s;
    ry *= s;
  }
  const bump = 1.15 * em;
  const spike = 0.55 * em;
  const extra = kind === 'thought' ? 0.3 * em : kind === 'shout' ? spike * 1.35 : 0;
  return { rx, ry, outerX: rx + extra, outerY: ry + extra, bump, spike };
}

/**
 * The tail's tip: from the body toward the speaker, long enough to read as a pointer and
 * short enough not to cross the art, and never outside the lettering area.
 */
function tailTip(body: Body, target: Point, area: Rect, em: number, shape: BodyShape): Point {
  let theta = Math.atan2(target.y - body.cy, target.x - body.cx);
  const edge = ellipseRadius(body, theta) + (shape.outerX - shape.rx);
  let distance = Math.hypot(target.x - body.cx, target.y - body.cy) - edge;
  if (distance < 0.8 * em) {
    // The speaker is under the balloon: point straight down (slightly toward them).
    theta = Math.PI / 2 + Math.max(-0.3, Math.min(0.3, (body.cx - target.x) / (body.rx * 4)));
    distance = 1.6 * em;
  }
  // Steep tails read better than flat ones: keep at least 30° off horizontal when heading down.
  if (Math.sin(theta) > 0 && Math.abs(Math.cos(theta)) > Math.cos(Math.PI / 6)) {
    theta = Math.cos(theta) > 0 ? Math.PI / 6 : Math.PI - Math.PI / 6;
  }
  const length = Math.max(1.1 * em, Math.min(distance * 0.45, 1.9 * em));
  const reach = ellipseRadius(body, theta) + (shape.outerX - shape.rx) + length;
  const tip = { x: body.cx + Math.cos(theta) * reach, y: body.cy + Math.sin(theta) * reach };
  const margin = 0.15 * em;
  return {
    x: Math.min(area.x + area.width - margin, Math.max(area.x + margin, tip.x)),
    y: Math.min(area.y + area.height - margin, Math.max(area.y + margin, tip.y)),
  };
}

function captionSvg(block: TextBlock, rect: Rect, padX: number, padY: number, m: LetteringMetrics): string {
  const text = blockOutline(block, rect.x + padX, rect.y + padY, 'left');
  return (
    `<g><rect x="${fmt(rect.x)}" y="${fmt(rect.y)}" width="${fmt(rect.width)}" height="${fmt(rect.height)}" ` +
    `fill="${m.captionFill}" stroke="#111" stroke-width="${fmt(m.line)}"/><path d="${text}" fill="#111"/></g>`
  );
}

/** Named spots for sound effects, as fractions of the lettering area (centre of the effect). */
export const SFX_POSITIONS: Readonly<Record<string, Point>> = {
  'top-left': { x: 0.2, y: 0.15 },
  top: { x: 0.5, y: 0.15 },
  'top-right': { x: 0.8, y: 0.15 },
  left: { x: 0.2, y: 0.5 },
  center: { x: 0.5, y: 0.5 },
  right: { x: 0.8, y: 0.5 },
  'bottom-left': { x: 0.2, y: 0.85 },
  bottom: { x: 0.5, y: 0.85 },
  'bottom-right': { x: 0.8, y: 0.85 },
};
const SFX_FREE_ORDER = ['bottom-right', 'bottom-left', 'right', 'left', 'center', 'bottom', 'top-right', 'top-left', 'top'];

/** Sound effects: big display letters, tilted, where asked, else where nothing else is. */
function placeSfx(sfx: Sfx, input: PanelLetteringInput, avoid: readonly Rect[]): { placed: PlacedLettering | null; warnings: string[] } {
  const { area, metrics: m, panel, direction } = input;
  const display = face('display');
  const text = sfx.text.toUpperCase();
  const at = sfx.at !== null && Object.hasOwn(SFX_POSITIONS, sfx.at) ? sfx.at : null;
  const warnings = sfx.at !== null && at === null ? [`panel ${panel.id}: unknown SFX position "${sfx.at}"; use one of ${Object.keys(SFX_POSITIONS).join(', ')}`] : [];
  const order = at !== null ? [at] : SFX_FREE_ORDER;
  const angle = direction === 'ltr' ? -7 : 7;
  const rad = (Math.abs(angle) * Math.PI) / 180;

  const natural = display.shape(text, m.em * 2.6).width;
  const fullSize = m.em * 2.6 * Math.min(1, (area.width * 0.8) / Math.max(1, natural));
  const sized = (size: number) => {
    const line = display.shape(text, size);
    const inkH = size * (display.capHeight + 0.1);
    const width = line.width * Math.cos(rad) + inkH * Math.sin(rad) + size * 0.2;
    const height = line.width * Math.sin(rad) + inkH * Math.cos(rad) + size * 0.2;
    const spot = (name: string): Rect => {
      const p = SFX_POSITIONS[name]!;
      const cx = area.x + area.width * (direction === 'ltr' ? p.x : 1 - p.x);
      const cy = area.y + area.height * p.y;
      const x = Math.min(area.x + area.width - width, Math.max(area.x, cx - width / 2));
      const y = Math.min(area.y + area.height - height, Math.max(area.y, cy - height / 2));
      return { x, y, width, height };
    };
    return { size, line, width, height, spots: order.map(spot) };
  };

  // At full size, then smaller: the named spots first, then any free place nearest the
  // first of them. Failing all, the smallest effect where it hides the least lettering
  // (the balloons are drawn over it).
  let chosen: { size: number; line: ShapedLine; rect: Rect } | null = null;
  for (const scale of [1, 0.75, 0.55]) {
    const c = sized(fullSize * scale);
    const first = c.spots[0]!;
    const rect =
      c.spots.find((r) => !avoid.some((a) => overlaps(a, r, m.gap))) ??
      findPlace({
        width: c.width,
        height: c.height,
        area,
        obstacles: avoid,
        before: [],
        direction,
        preferred: { x: first.x + c.width / 2, y: first.y + c.height / 2 },
        gap: m.gap,
        step: Math.max(4, m.em / 2),
      });
    if (rect) {
      chosen = { size: c.size, line: c.line, rect };
      break;
    }
  }
  if (chosen === null) {
    const c = sized(fullSize * 0.55);
    chosen = { size: c.size, line: c.line, rect: c.spots.reduce((best, r) => (hiddenArea(r, avoid) < hiddenArea(best, avoid) ? r : best)) };
  }
  const { size, line, rect } = chosen;
  if (rect.width > area.width || rect.height > area.height) warnings.push(`panel ${panel.id}: the sound effect "${clip(sfx.text)}" is larger than the panel`);
  for (const missing of line.missing) warnings.push(`panel ${panel.id}: the display font has no glyph for "${missing}"`);
  const cx = rect.x + rect.width / 2;
  const cy = rect.y + rect.height / 2;
  const outline = display.outline(line, cx - line.width / 2, cy + (size * display.capHeight) / 2);
  const svg =
    `<g transform="rotate(${angle} ${fmt(cx)} ${fmt(cy)})"><path d="${outline}" fill="${m.sfxFill}" stroke="#111" ` +
    `stroke-width="${fmt(size * 0.09)}" stroke-linejoin="round" paint-order="stroke"/></g>`;
  const box: LetteringBox = { ...round(rect), panelId: panel.id, kind: 'sfx', extent: round(rect) };
  return { placed: { box, svg }, warnings };
}

function hiddenArea(r: Rect, boxes: readonly Rect[]): number {
  return boxes.reduce((sum, b) => {
    const i = intersect(r, b);
    return sum + i.width * i.height;
  }, 0);
}

function letterCase(text: string, m: LetteringMetrics): string {
  return m.uppercase ? text.toLocaleUpperCase(m.language) : text;
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 37)}…` : text;
}

function fmt(v: number): string {
  return (Math.round(v * 10) / 10).toString();
}

/** Whole-pixel bounds that still contain the shape. */
function round(r: Rect): Rect {
  const x = Math.floor(r.x);
  const y = Math.floor(r.y);
  return { x, y, width: Math.ceil(r.x + r.width) - x, height: Math.ceil(r.y + r.height) - y };
}
