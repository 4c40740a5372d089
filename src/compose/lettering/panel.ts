/**
 * Letters one panel: its caption, balloons (in dialogue order) and sound effects, placed
 * inside the panel's lettering area and drawn as SVG.
 *
 * No text is ever left out. What fits nowhere at full size moves, then shrinks (down to the
 * lettering's minimum size), then breaks out of the panel over its border and into the
 * gutters around it, then out of reading order; what fits none of that is handed to the
 * page (`PendingLettering`), which puts it wherever on the page it hides no other
 * lettering, smaller still if it must. Each step past shrinking is a warning naming the
 * panel and the text's place in the script.
 */
import type { DialogueKind, Panel, ReadingDirection, Sfx, YamlPath } from '../../script/model.js';
import { face } from '../fonts.js';
import { seededRandom } from '../random.js';
import type { LetteringBox, LetteringKind, Rect } from '../types.js';
import type { LetteringMetrics } from './metrics.js';
import { contains, findPlace, leastCovered, overlaps, type PlacementQuery, union } from './place.js';
import { type Body, burstPath, cloudPath, ellipsePath, ellipsePoint, ellipseRadius, type Point, roundedRectPath, tailPath, trailPath } from './shapes.js';
import { blockOutline, missingGlyphs, naturalMeasure, type TextBlock, type WordBreaking, wrapBlock } from './text.js';

/** A lettering box with what it says: what tests and tools need to check that nothing is lost. */
export interface LetteredBox extends LetteringBox {
  /** The script's text as lettered (in capitals unless `uppercase: false`; sound effects always). */
  readonly text: string;
  /** The lines as drawn; a word broken across lines ends its line with a hyphen. */
  readonly lines: readonly string[];
  /** The type size in pixels. */
  readonly size: number;
  /** The size as a share of the kind's normal size (1: not shrunk). */
  readonly scale: number;
  /** Where the text is written in the script. */
  readonly path: YamlPath;
}

export interface PlacedLettering {
  readonly box: LetteredBox;
  readonly svg: string;
}

export interface PanelLettering {
  /** In drawing order: sound effects, then captions and balloons in reading order. */
  readonly items: readonly PlacedLettering[];
  readonly warnings: readonly string[];
  /** What fits neither the panel nor its gutters: the page places it, once every panel is lettered. */
  readonly pending: readonly PendingLettering[];
}

export interface PendingLettering {
  readonly panelId: string;
  /**
   * Places the text in `area`, clear of `obstacles` (smaller, if it must, down to a few
   * pixels); failing that, where it hides the least of them. With a warning, always.
   */
  place(area: Rect, obstacles: readonly Rect[]): { readonly placed: PlacedLettering | null; readonly warnings: readonly string[] };
}

export interface PanelLetteringInput {
  readonly panel: Panel;
  /** The panel's rectangle on the canvas. */
  readonly box: Rect;
  /** Where lettering goes: inside the border, the panel and the safe area. */
  readonly area: Rect;
  /** Where lettering that does not fit `area` may go: the panel with its gutters, in the safe area. Default `area`. */
  readonly overflow?: Rect;
  /** Lettering already on the page (other panels'), kept clear of. */
  readonly others?: readonly Rect[];
  /** A script path as warnings show it (file:line:column when known). */
  readonly position?: (path: YamlPath) => string;
  readonly direction: ReadingDirection;
  readonly metrics: LetteringMetrics;
}

/** Smaller text is tried, in these steps (then the minimum), only when nothing fits at full size. */
const SHRINK_STEPS = [1, 0.9, 0.8, 0.7];

/** `pages[0].panels[2].caption`: a script path as warnings show it when the file is not known. */
export function scriptPath(path: YamlPath): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

export function letterPanel(input: PanelLetteringInput): PanelLettering {
  // A crowded panel is lettered smaller as a whole rather than spill some of its text: the
  // first size cap at which everything fits inside wins, else the one that spills least.
  const caps = [...SHRINK_STEPS.filter((s) => s > input.metrics.minScale + 1e-9), input.metrics.minScale];
  let best: (PanelLettering & { spilled: number }) | null = null;
  for (const cap of caps) {
    const lettered = letterPanelAt(input, cap);
    if (best === null || lettered.spilled < best.spilled) best = lettered;
    if (lettered.spilled === 0) break;
  }
  const { items, warnings, pending } = best!;
  return { items, warnings, pending };
}

/** Letters the panel with no text larger than `cap`; `spilled` counts what did not fit inside. */
function letterPanelAt(input: PanelLetteringInput, cap: number): PanelLettering & { spilled: number } {
  const { panel, area, direction, metrics: m } = input;
  const overflow = input.overflow ?? area;
  const position = input.position ?? scriptPath;
  const others = (input.others ?? []).filter((o) => overlaps(o, overflow));
  let spilled = 0;
  const warnings: string[] = [];
  const placed: PlacedLettering[] = [];
  const textBoxes: Rect[] = [];
  /** Tails and trails placed so far: later balloons keep clear of them. */
  const tails: Rect[] = [];
  const shrunk: { scale: number; path: YamlPath }[] = [];
  const pending: PendingLettering[] = [];
  // Where the speakers' heads are assumed to be: balloons rather not cover them.
  const heads = [
    ...panel.characters.map((who) => speakerTarget(panel, who, input.box)),
    ...panel.dialogue.flatMap((line) => (line.tail ? [pointIn(input.box, line.tail)] : [])),
  ].map((head) => ({ x: head.x - m.em, y: head.y - m.em, width: 2 * m.em, height: 2 * m.em }));

  const addText = (kind: LetteringKind, text: string, path: YamlPath, build: Build): void => {
    const lettered = letterCase(text, m);
    const steps = [...SHRINK_STEPS.filter((s) => s > m.minScale + 1e-9 && s <= cap + 1e-9), m.minScale];
    const inPanel = (scale: number, clearHeads: boolean): Phase => ({ scale, area, ordered: true, clearHeads, force: false });
    const phases: Phase[] = [
      inPanel(steps[0]!, true),
      ...steps.map((scale) => inPanel(scale, false)),
      // Over the border and into the gutters, in reading order, then in any order.
      { scale: m.minScale, area: overflow, ordered: true, clearHeads: false, force: true },
      { scale: m.minScale, area: overflow, ordered: false, clearHeads: false, force: true },
    ];
    const obstacles = [...placed.map((p) => p.box), ...others];
    for (const [i, phase] of phases.entries()) {
      const em = m.em * phase.scale;
      for (const measure of measuresFor(kind, lettered, em, phase.area, phase.force)) {
        const candidate = build({
          scale: phase.scale,
          measure,
          area: phase.area,
          obstacles,
          tails,
          before: phase.ordered ? textBoxes : [],
          heads: phase.clearHeads ? heads : [],
          breaking: { wider: phase.force ? measure : maxMeasureFor(kind, em, phase.area), hyphenate: m.hyphenate, force: phase.force },
          step: Math.max(4, m.em / 3),
          anyhow: false,
        });
        if (candidate === null) continue;
        const item = record(candidate, { panelId: panel.id, kind, text: lettered, path, scale: phase.scale });
        placed.push(item);
        textBoxes.push(candidate.rect);
        if (candidate.tail) tails.push(candidate.tail);
        for (const missing of candidate.missing) warnings.push(`panel ${panel.id}: the lettering font has no glyph for "${missing}"`);
        if (i <= steps.length) {
          if (phase.scale < 1) shrunk.push({ scale: phase.scale, path });
        } else {
          spilled++;
          warnings.push(
            notFitting(panel.id, kind, text, position(path), {
              scale: phase.scale,
              minScale: m.minScale,
              inArea: contains(area, candidate.extent),
              inOverflow: true,
              outOfOrder: !phase.ordered,
              hides: false,
            }),
          );
        }
        return;
      }
    }
    spilled++;
    pending.push(pendingText(panel.id, kind, text, lettered, path, build, input, position));
  };

  if (panel.caption !== null) {
    const caption = panel.caption;
    const corner = { x: direction === 'ltr' ? area.x : area.x + area.width, y: area.y };
    addText('caption', caption, [...panel.path, 'caption'], (a) => {
      const block = wrapBlock(face('caption'), letterCase(caption, m), m.em * a.scale, a.measure, a.breaking);
      const padX = 0.45 * m.em * a.scale;
      const padY = 0.35 * m.em * a.scale;
      const width = block.width + 2 * padX;
      const height = block.height + 2 * padY;
      const spot = placeBox(a, direction, m, { width, height, preferred: corner });
      return spot && { block, rect: spot, svg: () => captionSvg(block, spot, padX, padY, m), extent: spot, tail: null, missing: missingGlyphs(block) };
    });
  }

  panel.dialogue.forEach((line, i) => {
    const target = line.tail ? pointIn(input.box, line.tail) : speakerTarget(panel, line.who, input.box);
    addText(line.kind, line.text, line.path, (a) => balloonCandidate(line.kind, letterCase(line.text, m), target, `${panel.id}/${i}`, input, a));
  });

  if (shrunk.length > 0) {
    warnings.push(
      `panel ${panel.id}: text shrunk to ${Math.round(Math.min(...shrunk.map((s) => s.scale)) * 100)}% to fit the panel (at ${shrunk.map((s) => position(s.path)).join(', ')})`,
    );
  }

  // Sound effects go under the balloons (drawn first), clear of them and of each other.
  const effects: PlacedLettering[] = [];
  for (const sfx of panel.sfx) {
    const effect = placeSfx(sfx, input, overflow, [...placed.map((p) => p.box), ...tails, ...effects.map((e) => e.box), ...others], position);
    warnings.push(...effect.warnings);
    if (effect.placed) effects.push(effect.placed);
    if (effect.pending) pending.push(effect.pending);
    if (effect.spilled) spilled++;
  }
  return { items: [...effects, ...placed], warnings, pending, spilled };
}

/** One step of the search for a place: the text size, where, and which rules still hold. */
interface Phase {
  readonly scale: number;
  readonly area: Rect;
  /** Keep reading order. */
  readonly ordered: boolean;
  /** Keep clear of the speakers' heads. */
  readonly clearHeads: boolean;
  /** Break long words at any letter if need be. */
  readonly force: boolean;
}

/** What a candidate is built and placed with. */
interface Attempt {
  /** The text size, as a share of the comic's. */
  readonly scale: number;
  /** The wrap measure, px. */
  readonly measure: number;
  readonly area: Rect;
  /** Lettering to keep clear of. */
  readonly obstacles: readonly Rect[];
  /** Earlier tails (and the space they point into) to keep clear of. */
  readonly tails: readonly Rect[];
  /** Text placed earlier in reading order (empty: any order). */
  readonly before: readonly Rect[];
  readonly heads: readonly Rect[];
  readonly breaking: WordBreaking;
  readonly step: number;
  /** When no place is free, take the one that hides the least. */
  readonly anyhow: boolean;
}

interface Candidate {
  readonly block: TextBlock;
  /** The body's bounds: what may not overlap other lettering or leave the area. */
  readonly rect: Rect;
  /** Bounds with the tail or trail. */
  readonly extent: Rect;
  /** Bounds of the tail or trail outside the body. */
  readonly tail: Rect | null;
  readonly missing: readonly string[];
  readonly svg: () => string;
}

/** Builds and places a candidate; null when it fits nowhere. */
type Build = (attempt: Attempt) => Candidate | null;

function record(c: Candidate, what: { panelId: string; kind: LetteringKind; text: string; path: YamlPath; scale: number }): PlacedLettering {
  const box: LetteredBox = {
    ...round(c.rect),
    panelId: what.panelId,
    kind: what.kind,
    extent: round(c.extent),
    text: what.text,
    lines: c.block.lines.map((l) => l.text),
    size: c.block.size,
    scale: what.scale,
    path: what.path,
  };
  return lazily(box, c.svg);
}

/** The widest a block of this kind is set at this size in this area. */
function maxMeasureFor(kind: LetteringKind, em: number, area: Rect): number {
  return Math.max(em * 3, Math.min(area.width * (kind === 'caption' ? 0.8 : 0.7), em * 16));
}

/**
 * The wrap measures to try: the natural one (a block a little wider than tall), then
 * narrower and wider ones; when words may be broken, also measures that make the block
 * fit narrow areas.
 */
function measuresFor(kind: LetteringKind, text: string, em: number, area: Rect, force: boolean): number[] {
  const sample = face(kind === 'caption' ? 'caption' : 'dialogue');
  const maxMeasure = maxMeasureFor(kind, em, area);
  const natural = naturalMeasure(sample, text, em, kind === 'caption' ? 4.5 : 3.6, Math.min(em * 5, maxMeasure), maxMeasure);
  const measures = [natural, natural * 0.75, Math.min(maxMeasure, natural * 1.4), natural * 0.55, maxMeasure];
  if (force) measures.push(area.width * 0.6, area.width * 0.45, area.width * 0.3);
  return measures.filter((v) => v >= em);
}

/** A free place in the attempt's area (or, anyhow, the least covered one). */
function placeBox(
  a: Attempt,
  direction: ReadingDirection,
  m: LetteringMetrics,
  box: { width: number; height: number; preferred: Point; accept?: (box: Rect) => boolean },
): Rect | null {
  const q: PlacementQuery = {
    width: box.width,
    height: box.height,
    area: a.area,
    obstacles: a.obstacles,
    before: a.before,
    direction,
    preferred: box.preferred,
    gap: m.gap,
    step: a.step,
    ...(box.accept ? { accept: box.accept } : {}),
  };
  return a.anyhow ? leastCovered(q) : findPlace(q);
}

/**
 * Text its panel could not hold, for the page to place: clear of all lettering, at the
 * minimum size and then smaller; failing all, where it hides the least.
 */
function pendingText(
  panelId: string,
  kind: LetteringKind,
  text: string,
  lettered: string,
  path: YamlPath,
  build: Build,
  input: PanelLetteringInput,
  position: (path: YamlPath) => string,
): PendingLettering {
  const m = input.metrics;
  return {
    panelId,
    place(area, obstacles) {
      for (const anyhow of [false, true]) {
        for (const scale of pageScales(m)) {
          const em = m.em * scale;
          for (const measure of measuresFor(kind, lettered, em, area, true)) {
            const candidate = build({
              scale,
              measure,
              area,
              obstacles,
              tails: [],
              before: [],
              heads: [],
              breaking: { wider: measure, hyphenate: m.hyphenate, force: true },
              step: Math.max(4, m.em / 2),
              anyhow,
            });
            if (candidate === null) continue;
            const warnings = candidate.missing.map((missing) => `panel ${panelId}: the lettering font has no glyph for "${missing}"`);
            warnings.push(
              notFitting(panelId, kind, text, position(path), {
                scale,
                minScale: m.minScale,
                inArea: contains(input.area, candidate.extent),
                inOverflow: contains(input.overflow ?? input.area, candidate.extent),
                outOfOrder: false,
                hides: anyhow && obstacles.some((o) => overlaps(o, candidate.rect)),
              }),
            );
            return { placed: record(candidate, { panelId, kind, text: lettered, path, scale }), warnings };
          }
        }
      }
      return { placed: null, warnings: [`panel ${panelId}: the ${kind} "${clip(text)}" cannot be lettered anywhere on the page (at ${position(path)})`] };
    },
  };
}

/** Sizes tried on the page for what no panel could hold: the minimum, then smaller, down to a few pixels. */
function pageScales(m: LetteringMetrics): number[] {
  const scales: number[] = [];
  for (let s = m.minScale; s * m.em >= 2 && scales.length < 24; s *= 0.85) scales.push(s);
  return scales.length > 0 ? scales : [m.minScale];
}

/** The warning for text that had to go past the panel's rules; ends with the script position. */
function notFitting(
  panelId: string,
  kind: LetteringKind,
  text: string,
  position: string,
  f: { scale: number; minScale: number; inArea: boolean; inOverflow: boolean; outOfOrder: boolean; hides: boolean },
): string {
  const what = kind === 'sfx' ? 'sound effect' : kind;
  const parts: string[] = [];
  if (f.scale < 1 - 1e-9) parts.push(`set at ${Math.round(f.scale * 100)}% size${f.scale < f.minScale - 1e-9 ? ', below the minimum' : ''}`);
  if (!f.inOverflow) parts.push('placed beyond its panel and gutters, over the art next to it');
  else if (!f.inArea) parts.push('breaking out of the panel over its border and gutter');
  if (f.outOfOrder) parts.push('out of reading order');
  if (f.hides) parts.push('over other lettering');
  if (parts.length === 0) parts.push('set with its long words broken across lines');
  return `panel ${panelId}: the ${what} "${clip(text)}" does not fit in the panel; it is ${parts.join(', ')} (at ${position})`;
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

function balloonCandidate(kind: DialogueKind, text: string, target: Point, seedKey: string, input: PanelLetteringInput, a: Attempt): Candidate | null {
  const { metrics: m, direction } = input;
  const area = a.area;
  const em = m.em * a.scale;
  const textSize = em * (kind === 'shout' ? 1.1 : 1);
  const block = wrapBlock(face(kind === 'whisper' ? 'whisper' : 'dialogue'), text, textSize, a.measure, a.breaking);
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
  const spot = placeBox(a, direction, m, {
    width,
    height,
    // Balloons belong at the top of their panel, above the speaker.
    preferred: { x: target.x, y: input.area.y },
    // Keep clear of earlier tails, and keep this tail clear of earlier balloons.
    accept: (box) => {
      if (a.tails.some((t) => overlaps(t, box, m.gap)) || a.heads.some((h) => overlaps(h, box))) return false;
      const { bounds } = tailAt(bodyAt(box));
      return !a.obstacles.some((o) => overlaps(o, bounds, m.gap));
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
  return { block, rect: spot, extent: union(spot, bounds), tail: keepClear(bounds, tip, body), missing: missingGlyphs(block), svg };
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

/**
 * Sound effects: big display letters, tilted, where asked, else where nothing else is.
 * Smaller if need be (never below the lettering's minimum size), then over the panel's
 * border and gutters; failing that, the page places it.
 */
function placeSfx(
  sfx: Sfx,
  input: PanelLetteringInput,
  overflow: Rect,
  avoid: readonly Rect[],
  position: (path: YamlPath) => string,
): { placed: PlacedLettering | null; warnings: string[]; pending: PendingLettering | null; spilled: boolean } {
  const { area, metrics: m, panel, direction } = input;
  const display = face('display');
  const text = sfx.text.toUpperCase();
  const at = sfx.at !== null && Object.hasOwn(SFX_POSITIONS, sfx.at) ? sfx.at : null;
  const warnings = sfx.at !== null && at === null ? [`panel ${panel.id}: unknown SFX position "${sfx.at}"; use one of ${Object.keys(SFX_POSITIONS).join(', ')}`] : [];
  const order = at !== null ? [at] : SFX_FREE_ORDER;
  const angle = direction === 'ltr' ? -7 : 7;
  const rad = (Math.abs(angle) * Math.PI) / 180;

  const normal = m.em * 2.6;
  const natural = display.shape(text, normal).width;
  const fullSize = normal * Math.min(1, (area.width * 0.8) / Math.max(1, natural));
  /** No smaller than the smallest dialogue, while the panel (or its gutters) can hold it. */
  const floor = Math.min(normal, m.em * m.minScale);
  const sized = (size: number) => {
    const line = display.shape(text, size);
    const inkH = size * (display.capHeight + 0.1);
    const width = line.width * Math.cos(rad) + inkH * Math.sin(rad) + size * 0.2;
    const height = line.width * Math.sin(rad) + inkH * Math.cos(rad) + size * 0.2;
    /** The named spot in `region`, moved inside it. */
    const spot = (name: string, region: Rect): Rect => {
      const p = SFX_POSITIONS[name]!;
      const cx = region.x + region.width * (direction === 'ltr' ? p.x : 1 - p.x);
      const cy = region.y + region.height * p.y;
      const x = Math.min(region.x + region.width - width, Math.max(region.x, cx - width / 2));
      const y = Math.min(region.y + region.height - height, Math.max(region.y, cy - height / 2));
      return { x, y, width, height };
    };
    return { size, line, width, height, spot };
  };
  const free = (region: Rect, c: ReturnType<typeof sized>, obstacles: readonly Rect[], anyhow = false): Rect | null => {
    const first = c.spot(order[0]!, area);
    const q: PlacementQuery = {
      width: c.width,
      height: c.height,
      area: region,
      obstacles,
      before: [],
      direction,
      preferred: { x: first.x + c.width / 2, y: first.y + c.height / 2 },
      gap: m.gap,
      step: Math.max(4, m.em / 2),
    };
    return anyhow ? leastCovered(q) : findPlace(q);
  };
  const draw = (c: ReturnType<typeof sized>, rect: Rect): PlacedLettering => {
    for (const missing of c.line.missing) warnings.push(`panel ${panel.id}: the display font has no glyph for "${missing}"`);
    const cx = rect.x + rect.width / 2;
    const cy = rect.y + rect.height / 2;
    const box: LetteredBox = { ...round(rect), panelId: panel.id, kind: 'sfx', extent: round(rect), text, lines: [text], size: c.size, scale: c.size / normal, path: sfx.path };
    return lazily(box, () => {
      const outline = display.outline(c.line, cx - c.line.width / 2, cy + (c.size * display.capHeight) / 2);
      return (
        `<g transform="rotate(${angle} ${fmt(cx)} ${fmt(cy)})"><path d="${outline}" fill="${m.sfxFill}" stroke="#111" ` +
        `stroke-width="${fmt(c.size * 0.09)}" stroke-linejoin="round" paint-order="stroke"/></g>`
      );
    });
  };
  const notFit = (c: ReturnType<typeof sized>, rect: Rect, hides: boolean) =>
    notFitting(panel.id, 'sfx', sfx.text, position(sfx.path), {
      scale: c.size / normal,
      minScale: floor / normal,
      inArea: contains(area, rect),
      inOverflow: contains(overflow, rect),
      outOfOrder: false,
      hides,
    });

  // At full size, then smaller: the named spots first, then any free place in the panel
  // nearest the first of them.
  for (const scale of [1, 0.75, 0.55]) {
    const c = sized(Math.max(floor, fullSize * scale));
    const rect = order.map((name) => c.spot(name, area)).find((r) => contains(area, r) && !avoid.some((a) => overlaps(a, r, m.gap))) ?? free(area, c, avoid);
    if (rect) return { placed: draw(c, rect), warnings, pending: null, spilled: false };
  }
  // Over the border and into the gutters.
  const smallest = sized(Math.max(floor, fullSize * 0.55));
  const outside = free(overflow, smallest, avoid);
  if (outside) {
    warnings.push(notFit(smallest, outside, false));
    return { placed: draw(smallest, outside), warnings, pending: null, spilled: true };
  }
  const pending: PendingLettering = {
    panelId: panel.id,
    place(region, obstacles) {
      const before = warnings.length;
      for (const anyhow of [false, true]) {
        for (let size = smallest.size, n = 0; size >= 2 && n < 24; size *= 0.85, n++) {
          const c = sized(size);
          const rect = free(region, c, obstacles, anyhow);
          if (rect === null) continue;
          const placed = draw(c, rect);
          return { placed, warnings: [...warnings.slice(before), notFit(c, rect, anyhow && obstacles.some((o) => overlaps(o, rect)))] };
        }
      }
      return { placed: null, warnings: [`panel ${panel.id}: the sound effect "${clip(sfx.text)}" cannot be lettered anywhere on the page (at ${position(sfx.path)})`] };
    },
  };
  return { placed: null, warnings, pending, spilled: true };
}

/** The SVG is drawn only when asked for: a crowded panel is lettered at several sizes before one is kept. */
function lazily(box: LetteredBox, draw: () => string): PlacedLettering {
  let svg: string | undefined;
  return {
    box,
    get svg() {
      svg ??= draw();
      return svg;
    },
  };
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
