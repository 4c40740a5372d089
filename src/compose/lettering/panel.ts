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
import type { DialogueKind, DialogueLine, Panel, PanelSide, ReadingDirection, Sfx, YamlPath } from '../../script/model.js';
import { type DetailMap, excessDetail } from '../detail.js';
import { face, type ShapedLine, type ShapedRun } from '../fonts.js';
import { hashString, seededRandom } from '../random.js';
import type { LetteringBox, LetteringKind, Rect } from '../types.js';
import type { LetteringMetrics } from './metrics.js';
import { contains, findPlace, inset, intersect, leastCovered, overlaps, type PlacementQuery, union } from './place.js';
import {
  type Body,
  burstPath,
  cloudPath,
  curvedTail,
  ellipsePath,
  ellipsePoint,
  ellipseRadius,
  type Point,
  roundedRectPath,
  type Tail,
  tailPath,
  tailPoints,
  trailPath,
} from './shapes.js';
import { blockOutline, KIND_FACE, missingGlyphs, naturalMeasure, plainText, type TextBlock, type WordBreaking, wrapBlock } from './text.js';

/** A lettering box with what it says: what tests and tools need to check that nothing is lost. */
export interface LetteredBox extends LetteringBox {
  /** The script's text as lettered (in capitals unless `uppercase: false`; sound effects always). */
  readonly text: string;
  /** The lines as drawn; a word broken across lines ends its line with a hyphen. */
  readonly lines: readonly string[];
  /**
   * Each line by font: the runs of text set in one font file each (the primary face, its
   * emphasis face, or a fallback such as a Noto Sans JP subset), for a PDF text layer that
   * embeds what is drawn. Absent on boxes from before it was kept.
   */
  readonly runs?: readonly (readonly ShapedRun[])[];
  /** The type size in pixels. */
  readonly size: number;
  /** Degrees clockwise about the box's centre, as drawn (sound effects are tilted); absent: upright. */
  readonly rotation?: number;
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
  /** The comic's seed: sound effects vary with it (another seed, other tilts). Default 0. */
  readonly seed?: number;
  readonly metrics: LetteringMetrics;
  /** How busy the panel's art is, over `box` (none: the art is not known, every place is as quiet). */
  readonly detail?: DetailMap;
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
  /** Characters no font has, with where they are written: one warning each per panel. */
  const missingAt = new Map<string, string[]>();
  const noteMissing = (char: string, path: YamlPath) => {
    const at = missingAt.get(char) ?? [];
    if (!at.includes(position(path))) at.push(position(path));
    missingAt.set(char, at);
  };
  const pending: PendingLettering[] = [];
  // Where the speakers' heads are assumed to be: balloons rather not cover them.
  const heads = speakerHeads(panel, input.box).map((head) => ({ x: head.x - m.em, y: head.y - m.em, width: 2 * m.em, height: 2 * m.em }));

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
      for (const measure of measuresFor(kind, lettered, em, phase.area, phase.force, m.language)) {
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
        for (const missing of candidate.missing) noteMissing(missing, path);
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
      const block = wrapBlock(face(KIND_FACE.caption, m.language), letterCase(caption, m), m.em * a.scale, a.measure, a.breaking, { shape: 'box' });
      const padX = 0.45 * m.em * a.scale;
      const padY = 0.35 * m.em * a.scale;
      const width = block.width + 2 * padX;
      const height = block.height + 2 * padY;
      const spot = placeBox(a, direction, m, { width, height, preferred: corner });
      return spot && { block, rect: spot, svg: () => captionSvg(block, spot, padX, padY, m), extent: spot, tail: null, missing: missingGlyphs(block) };
    });
  }

  panel.dialogue.forEach((line, i) => {
    const speaker = speakerOf(panel, line, input.box, m.em);
    addText(line.kind, line.text, line.path, (a) => balloonCandidate(line.kind, letterCase(line.text, m), speaker, `${panel.id}/${i}`, input, a));
  });

  for (const [char, at] of missingAt) warnings.push(missingGlyphWarning(panel.id, char, at));
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
    // As lettered: emphasis markup (`*word*`) is not part of the text.
    text: plainText(what.text),
    lines: c.block.lines.map((l) => l.text),
    runs: c.block.lines.map(lineRuns),
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
 * fit narrow areas. A caption that nearly fits on one line at the natural measure is set on
 * one (six Japanese characters are not split three and three).
 */
function measuresFor(kind: LetteringKind, text: string, em: number, area: Rect, force: boolean, language: string): number[] {
  const sample = face(kind === 'caption' ? 'caption' : 'dialogue', language);
  const maxMeasure = maxMeasureFor(kind, em, area);
  let natural = naturalMeasure(sample, text, em, kind === 'caption' ? 4.5 : 3.6, Math.min(em * 5, maxMeasure), maxMeasure);
  if (kind === 'caption') {
    const oneLine = sample.shape(plainText(text).replace(/\s+/g, ' '), em).width;
    if (oneLine > natural && oneLine <= Math.min(natural * 1.25, maxMeasure)) natural = Math.ceil(oneLine) + 1;
  }
  const measures = [natural, natural * 0.75, Math.min(maxMeasure, natural * 1.4), natural * 0.55, maxMeasure];
  if (force) measures.push(area.width * 0.6, area.width * 0.45, area.width * 0.3);
  return measures.filter((v) => v >= em);
}

/** A free place in the attempt's area (or, anyhow, the least covered one). */
function placeBox(
  a: Attempt,
  direction: ReadingDirection,
  m: LetteringMetrics,
  box: { width: number; height: number; preferred: Point; cost?: (box: Rect) => number; accept?: (box: Rect) => boolean },
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
    ...(box.cost ? { cost: box.cost } : {}),
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
          for (const measure of measuresFor(kind, lettered, em, area, true, m.language)) {
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
            const warnings = candidate.missing.map((missing) => missingGlyphWarning(panelId, missing, [position(path)]));
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

/** Where a balloon's tail goes: at a speaker's mouth in the panel, or out through one of its edges. */
export type Speaker = { readonly mouth: Point } | { readonly side: PanelSide };

/**
 * A line's speaker: off-panel on the side the script names; at the script's tail anchor;
 * else at their place among the panel's characters. Someone not drawn in the panel (and
 * not said to be off-panel) talks from below it: an ordinary, short tail pointing down.
 */
function speakerOf(panel: Panel, line: DialogueLine, box: Rect, em: number): Speaker {
  if (line.offPanel) return { side: line.offPanel };
  if (line.tail) return { mouth: pointIn(box, line.tail) };
  if (!panel.characters.includes(line.who)) return { mouth: { x: box.x + box.width / 2, y: box.y + box.height * 1.2 } };
  const head = speakerTarget(panel, line.who, box);
  // The mouth is a little below the middle of the head.
  return { mouth: { x: head.x, y: head.y + 0.3 * em } };
}

/** The heads of the panel's characters, and the script's tail anchors (someone is there too). */
export function speakerHeads(panel: Panel, box: Rect): Point[] {
  return [...panel.characters.map((who) => speakerTarget(panel, who, box)), ...panel.dialogue.flatMap((line) => (line.tail ? [pointIn(box, line.tail)] : []))];
}

const headsOf = new WeakMap<PanelLetteringInput, readonly Point[]>();

/** Where a drawn speaker's head is: their place among the panel's characters, spread left to right at head height. */
function speakerTarget(panel: Panel, who: string, box: Rect): Point {
  const index = Math.max(0, panel.characters.indexOf(who));
  return { x: box.x + (box.width * (index + 0.5)) / Math.max(1, panel.characters.length), y: box.y + box.height * SPEAKER_HEAD_Y };
}

/** The point at fractions `at` of `box`, from its top-left corner. */
function pointIn(box: Rect, at: { readonly x: number; readonly y: number }): Point {
  return { x: box.x + at.x * box.width, y: box.y + at.y * box.height };
}

/** Where a balloon for this speaker would best be centred: at the top, above them, or by the edge they speak from. */
function preferredSpot(speaker: Speaker, area: Rect): Point {
  if ('mouth' in speaker) return { x: speaker.mouth.x, y: area.y };
  const { side } = speaker;
  const x = side === 'left' ? area.x : side === 'right' ? area.x + area.width : area.x + area.width / 2;
  return { x, y: side === 'bottom' ? area.y + area.height : area.y };
}

/** A balloon's body, outline measures and tail, placed. */
interface Balloon {
  readonly kind: DialogueKind;
  readonly block: TextBlock;
  readonly textSize: number;
  readonly shape: BodyShape;
  readonly body: Body;
  /** The tail (null for a thought balloon, which has a trail). */
  readonly tail: Tail | null;
  readonly trail: ReturnType<typeof trailPath> | null;
  /** Bounds of the tail or trail. */
  readonly bounds: Rect;
}

/** What the panel's lettering knows around a balloon: its area, the panel's inner edge, the metrics. */
export interface BalloonContext {
  readonly area: Rect;
  /** The panel inside its border: where an off-panel speaker's tail ends. */
  readonly edge: Rect;
  readonly metrics: LetteringMetrics;
}

function balloonBlock(kind: DialogueKind, text: string, em: number, measure: number, breaking: WordBreaking, m: LetteringMetrics) {
  const textSize = em * (kind === 'shout' ? 1.1 : 1);
  // Rounded balloons want even lines; ovals, clouds and bursts a diamond (text.ts).
  const shape = m.balloonShape === 'rounded' && (kind === 'speech' || kind === 'whisper') ? 'box' : 'oval';
  const block = wrapBlock(face(KIND_FACE[kind], m.language), text, textSize, measure, breaking, { shape });
  return { block, textSize, shape: bodyShape(kind, m.balloonShape, block, textSize) };
}

/** The balloon with its body centred at (cx, cy) and its tail or trail toward the speaker. */
function balloonWith(kind: DialogueKind, made: ReturnType<typeof balloonBlock>, cx: number, cy: number, speaker: Speaker, em: number, ctx: BalloonContext): Balloon {
  const { shape } = made;
  const body: Body = { cx, cy, rx: shape.rx, ry: shape.ry };
  const plan = tailPlan(body, speaker, shape, em, ctx);
  if (kind === 'thought') {
    const trail = trailPath(body, plan.tip, em);
    const bounds = trail.circles.map((c) => ({ x: c.x - c.r, y: c.y - c.r, width: 2 * c.r, height: 2 * c.r })).reduce(union);
    return { kind, ...made, body, tail: null, trail, bounds };
  }
  // A long tail gets a wider root, so it tapers like a pen stroke rather than a needle.
  const length = Math.hypot(plan.tip.x - body.cx, plan.tip.y - body.cy) - ellipseRadius(body, plan.exit);
  const width = Math.max(kind === 'shout' ? 0.8 * em : 0.9 * em, Math.min(1.5 * em, 0.16 * length));
  const tail = curvedTail(body, plan.exit, plan.tip, plan.aim, width);
  return { kind, ...made, body, tail, trail: null, bounds: boundsOf(tailPoints(tail)) };
}

/** A balloon's drawing: `balloon` (outline and fill), `text`, and the `shapes` its fill covers (for tests). */
export interface BalloonArt {
  readonly balloon: string;
  readonly text: string;
  readonly shapes: readonly string[];
}

/**
 * One outline per balloon with its tail: every shape is stroked (twice the line width),
 * then every shape is filled on top, each as its own path, so the fills cover the inner
 * half of the outline and every stroke inside another shape (the tail's base, the body's
 * edge across the tail's root), dashed or not.
 */
function balloonArt(b: Balloon, m: LetteringMetrics, seedKey: string): BalloonArt {
  const { body, kind } = b;
  const shapes: string[] = [];
  switch (kind) {
    case 'thought':
      shapes.push(cloudPath(body, b.shape.bump), ...b.trail!.circles.map((c) => ellipsePath({ cx: c.x, cy: c.y, rx: c.r, ry: c.r })));
      break;
    case 'shout': {
      const random = seededRandom(seedKey);
      const spikes = Math.max(14, Math.round((body.rx + body.ry) / (0.42 * b.textSize)));
      shapes.push(burstPath(body, b.shape.spike, Array.from({ length: spikes }, random)), tailPath(b.tail!, true));
      break;
    }
    default:
      shapes.push(
        m.balloonShape === 'rounded' ? roundedRectPath(body.cx - body.rx, body.cy - body.ry, 2 * body.rx, 2 * body.ry, 0.9 * m.em) : ellipsePath(body),
        tailPath(b.tail!),
      );
  }
  const dash = kind === 'whisper' ? ` stroke-dasharray="${fmt(m.line * 3)} ${fmt(m.line * 2.2)}"` : '';
  const balloon =
    `<path d="${shapes.join('')}" fill="none" stroke="#111" stroke-width="${fmt(m.line * 2)}" stroke-linejoin="round"${dash}/>` +
    shapes.map((d) => `<path d="${d}" fill="#fff"/>`).join('');
  const text = `<path d="${blockOutline(b.block, body.cx, body.cy - b.block.height / 2, 'center')}" fill="#111"/>`;
  return { balloon, text, shapes };
}

/**
 * A balloon of `kind` saying `text`, centred at `centre`, its tail toward `speaker`: the
 * composer's own drawing, for the golden balloon sheet and the seam test.
 */
export function balloonAt(
  kind: DialogueKind,
  text: string,
  centre: Point,
  speaker: Speaker,
  ctx: BalloonContext,
): BalloonArt & { readonly body: Body; readonly tail: Tail | null; readonly trail: readonly (Point & { r: number })[] | null; readonly rect: Rect } {
  const m = ctx.metrics;
  const made = balloonBlock(kind, letterCase(text, m), m.em, naturalMeasure(face('dialogue', m.language), letterCase(text, m), m.em, 3.6, m.em * 5, m.em * 16), { wider: m.em * 16, hyphenate: m.hyphenate, force: false }, m);
  const b = balloonWith(kind, made, centre.x, centre.y, speaker, m.em, ctx);
  const rect = { x: centre.x - made.shape.outerX, y: centre.y - made.shape.outerY, width: 2 * made.shape.outerX, height: 2 * made.shape.outerY };
  return { ...balloonArt(b, m, `sheet/${kind}`), body: b.body, tail: b.tail, trail: b.trail?.circles ?? null, rect };
}

function balloonCandidate(kind: DialogueKind, text: string, speaker: Speaker, seedKey: string, input: PanelLetteringInput, a: Attempt): Candidate | null {
  const { metrics: m, direction } = input;
  const em = m.em * a.scale;
  const made = balloonBlock(kind, text, em, a.measure, a.breaking, m);
  const width = 2 * made.shape.outerX;
  const height = 2 * made.shape.outerY;
  const ctx: BalloonContext = { area: a.area, edge: panelEdge(input), metrics: m };
  const at = (spot: Rect) => balloonWith(kind, made, spot.x + width / 2, spot.y + height / 2, speaker, em, ctx);
  /** What later balloons keep clear of: the tail, and the space it points into (a balloon
   * just past a tail's tip would look like the one it points at). */
  const keepClear = (b: Balloon): Rect => {
    const tip = b.tail?.tip ?? b.trail!.circles.at(-1)!;
    const reach = 2.5 * em;
    const dx = tip.x - b.body.cx;
    const dy = tip.y - b.body.cy;
    const d = Math.hypot(dx, dy) || 1;
    return union(b.bounds, { x: tip.x + (dx / d) * reach - em / 2, y: tip.y + (dy / d) * reach - em / 2, width: em, height: em });
  };
  const spot = placeBox(a, direction, m, {
    width,
    height,
    preferred: preferredSpot(speaker, input.area),
    // Quiet art and no faces under the balloon.
    cost: (box) => artCost(input, box, em),
    // Keep clear of earlier tails, and keep this tail clear of earlier balloons.
    accept: (box) => {
      if (a.tails.some((t) => overlaps(t, box, m.gap)) || a.heads.some((h) => overlaps(h, box))) return false;
      const { bounds } = at(box);
      return !a.obstacles.some((o) => overlaps(o, bounds, m.gap));
    },
  });
  if (spot === null) return null;
  const b = at(spot);
  const svg = (): string => {
    const art = balloonArt(b, m, seedKey);
    return `<g>${art.balloon}${art.text}</g>`;
  };
  return { block: b.block, rect: spot, extent: union(spot, b.bounds), tail: keepClear(b), missing: missingGlyphs(b.block), svg };
}

/** The panel inside its border (the lettering area grown back by its padding, within the panel). */
function panelEdge(input: PanelLetteringInput): Rect {
  return intersect(inset(input.area, -input.metrics.pad), input.box);
}

/**
 * What a balloon's place costs besides its distance from the preferred one, in the same
 * pixels: art under it busier than the panel's quieter parts (from its detail map), and
 * the likely region of the faces (head and shoulders around each speaker's head). Busy
 * art outweighs any distance in the panel, so a quiet region wins wherever it is; a little
 * detail trades against a short move, and texture all over the panel moves nothing.
 */
function artCost(input: PanelLetteringInput, box: Rect, em: number): number {
  const { area, detail } = input;
  let heads = headsOf.get(input);
  if (!heads) headsOf.set(input, (heads = speakerHeads(input.panel, input.box)));
  const weight = 2 * area.height + area.width;
  let busy = 0;
  if (detail) {
    const b = input.box;
    busy = excessDetail(detail, (box.x - b.x) / b.width, (box.y - b.y) / b.height, (box.x + box.width - b.x) / b.width, (box.y + box.height - b.y) / b.height);
  }
  let faces = 0;
  for (const head of heads) {
    const zone = { x: head.x - 2 * em, y: head.y - 1.5 * em, width: 4 * em, height: 4.5 * em };
    const covered = intersect(zone, box);
    faces += (covered.width * covered.height) / (box.width * box.height);
  }
  return weight * (busy + 0.5 * Math.min(1, faces));
}

function boundsOf(points: readonly Point[]): Rect {
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const x = Math.min(...xs);
  const y = Math.min(...ys);
  return { x, y, width: Math.max(...xs) - x, height: Math.max(...ys) - y };
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

/** Where a tail leaves the body (an angle from its centre), where it ends, and what its point aims at. */
interface TailPlan {
  readonly exit: number;
  readonly tip: Point;
  readonly aim: Point;
}

/** Blambot's rule: a tail ends about half to two-thirds of the way from the balloon to the mouth. */
export const TAIL_REACH = 0.6;

/** The point on the balloon's outer outline (bumps and spikes included) toward `theta`. */
function outerPoint(body: Body, shape: BodyShape, theta: number): Point {
  const r = ellipseRadius(body, theta);
  return ellipsePoint(body, theta, (r + (shape.outerX - shape.rx)) / r);
}

/**
 * The tail toward a mouth: its point lies on the line from the balloon's centre to the
 * mouth, TAIL_REACH of the way from the balloon's edge (never in the face), aimed at the
 * mouth; it leaves the balloon nearer the vertical and bows toward that line. It stays
 * inside the lettering area. Off-panel speakers get a tail
 * to the panel's edge on their side.
 */
function tailPlan(body: Body, speaker: Speaker, shape: BodyShape, em: number, ctx: BalloonContext): TailPlan {
  if ('side' in speaker) return offPanelTail(body, speaker.side, shape, em, ctx);
  const { mouth } = speaker;
  const toMouth = Math.atan2(mouth.y - body.cy, mouth.x - body.cx);
  const clearance = Math.hypot(mouth.x - body.cx, mouth.y - body.cy) - ellipseRadius(body, toMouth) - (shape.outerX - shape.rx);
  if (clearance < 0.8 * em) {
    // The speaker is under the balloon: a short tail down, slightly toward them.
    const exit = Math.PI / 2 + Math.max(-0.3, Math.min(0.3, (body.cx - mouth.x) / (body.rx * 4)));
    const start = outerPoint(body, shape, exit);
    const tip = clampInto(ctx.area, { x: start.x + Math.cos(exit) * 1.3 * em, y: start.y + Math.sin(exit) * 1.3 * em }, em);
    return { exit, tip, aim: { x: tip.x + Math.cos(exit) * em, y: tip.y + Math.sin(exit) * em } };
  }
  // Off the line to the mouth, toward the vertical: the tail bows on its way to its point.
  const vertical = Math.sin(toMouth) >= 0 ? Math.PI / 2 : -Math.PI / 2;
  const exit = toMouth + 0.35 * (vertical - toMouth) + (vertical >= toMouth ? 0.2 : -0.2);
  const start = outerPoint(body, shape, toMouth);
  const distance = Math.hypot(mouth.x - start.x, mouth.y - start.y) || 1;
  // Long enough to read as a pointer, short of the face (about an em around the mouth).
  const length = Math.max(Math.min(TAIL_REACH * distance, 5 * em), Math.min(1.1 * em, distance - 1.2 * em));
  const reach = Math.max(0.5 * em, length) / distance;
  const tip = clampInto(ctx.area, { x: start.x + (mouth.x - start.x) * reach, y: start.y + (mouth.y - start.y) * reach }, em);
  return { exit, tip, aim: mouth };
}

const OUTWARD: Readonly<Record<PanelSide, Point>> = { left: { x: -1, y: 0 }, right: { x: 1, y: 0 }, top: { x: 0, y: -1 }, bottom: { x: 0, y: 1 } };

/**
 * A tail to the panel's edge toward an off-panel speaker: out of the balloon's side that
 * faces them (tilted down a little for the sides, as voices come from head height), ending
 * on the panel's border and pointing straight out through it.
 */
function offPanelTail(body: Body, side: PanelSide, shape: BodyShape, em: number, ctx: BalloonContext): TailPlan {
  const out = OUTWARD[side];
  const tilt = side === 'left' ? -0.4 : side === 'right' ? 0.4 : side === 'bottom' ? -0.25 : 0.25;
  const exit = Math.atan2(out.y, out.x) + tilt;
  const start = outerPoint(body, shape, exit);
  const { edge } = ctx;
  const toEdge =
    side === 'left' ? start.x - edge.x : side === 'right' ? edge.x + edge.width - start.x : side === 'top' ? start.y - edge.y : edge.y + edge.height - start.y;
  const along = Math.max(0.8 * em, toEdge);
  // Drift along the edge by a third of the way, so the tail curves out rather than jutting.
  const drift = { x: Math.cos(exit) - out.x, y: Math.sin(exit) - out.y };
  const raw = { x: start.x + out.x * along + drift.x * along * 0.6, y: start.y + out.y * along + drift.y * along * 0.6 };
  const inner = inset(ctx.area, -0.001);
  const tip =
    out.x !== 0
      ? { x: out.x < 0 ? edge.x : edge.x + edge.width, y: Math.min(inner.y + inner.height, Math.max(inner.y, raw.y)) }
      : { x: Math.min(inner.x + inner.width, Math.max(inner.x, raw.x)), y: out.y < 0 ? edge.y : edge.y + edge.height };
  return { exit, tip, aim: { x: tip.x + out.x * em, y: tip.y + out.y * em } };
}

/** `p` moved inside `area`, a little off its edges. */
function clampInto(area: Rect, p: Point, em: number): Point {
  const margin = 0.15 * em;
  return {
    x: Math.min(area.x + area.width - margin, Math.max(area.x + margin, p.x)),
    y: Math.min(area.y + area.height - margin, Math.max(area.y + margin, p.y)),
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
  const display = face(KIND_FACE.sfx, m.language);
  const text = sfx.text.toUpperCase();
  const at = sfx.at !== null && Object.hasOwn(SFX_POSITIONS, sfx.at) ? sfx.at : null;
  const warnings = sfx.at !== null && at === null ? [`panel ${panel.id}: unknown SFX position "${sfx.at}"; use one of ${Object.keys(SFX_POSITIONS).join(', ')}`] : [];
  const order = at !== null ? [at] : SFX_FREE_ORDER;
  // Each effect is stamped by hand: its own tilt, size and shade, from the comic's seed and its
  // place in the script, so the same page letters the same way and two alike effects never match.
  const look = sfxLook(`${input.seed ?? 0}/${panel.id}/${scriptPath(sfx.path)}/${text}`, direction, m.sfxFill);
  const angle = look.angle;
  const rad = (Math.abs(angle) * Math.PI) / 180;

  const normal = m.em * 2.6 * look.size;
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
    for (const missing of c.line.missing) {
      const said = missingGlyphWarning(panel.id, missing, [position(sfx.path)]);
      if (!warnings.includes(said)) warnings.push(said);
    }
    const cx = rect.x + rect.width / 2;
    const cy = rect.y + rect.height / 2;
    const box: LetteredBox = { ...round(rect), panelId: panel.id, kind: 'sfx', extent: round(rect), text, lines: [text], runs: [lineRuns(c.line)], size: c.size, ...(angle !== 0 && { rotation: angle }), scale: c.size / normal, path: sfx.path };
    return lazily(box, () => {
      const outline = display.outline(c.line, cx - c.line.width / 2, cy + (c.size * display.capHeight) / 2);
      return (
        `<g transform="rotate(${fmt(angle)} ${fmt(cx)} ${fmt(cy)})"><path d="${outline}" fill="${look.fill}" stroke="#111" ` +
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

/**
 * A sound effect's own look, from a seed (random.ts): tilted 4° to 13° (mostly against the
 * reading direction's slope, sometimes the other way), 85% to 115% of the normal size, and
 * the style's fill shifted a little (±7° of hue, ±5% lightness; a fill that is not #rrggbb is kept).
 */
export function sfxLook(seedKey: string, direction: ReadingDirection, fill: string): { angle: number; size: number; fill: string } {
  const random = seededRandom(hashString(`sfx:${seedKey}`));
  const tilt = 4 + 9 * random();
  const against = random() < 0.25;
  const sign = (direction === 'ltr' ? -1 : 1) * (against ? -1 : 1);
  const size = 0.85 + 0.3 * random();
  const hue = (random() - 0.5) * 14;
  const light = (random() - 0.5) * 0.1;
  return { angle: sign * Math.round(tilt * 10) / 10, size, fill: shiftColour(fill, hue, light) };
}

/** `#rrggbb` turned by `dh` degrees of hue and `dl` of lightness (HSL). */
function shiftColour(fill: string, dh: number, dl: number): string {
  const hex = /^#([0-9a-f]{6})$/i.exec(fill.trim());
  if (!hex) return fill;
  const n = Number.parseInt(hex[1]!, 16);
  const [r, g, b] = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((v) => v / 255) as [number, number, number];
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const l = (max + min) / 2;
  const d = max - min;
  const sat = d === 0 ? 0 : d / (1 - Math.abs(2 * l - 1));
  let h = d === 0 ? 0 : max === r ? ((g - b) / d) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
  h = (h * 60 + dh + 360) % 360;
  const l2 = Math.min(0.92, Math.max(0.08, l + dl));
  const c = (1 - Math.abs(2 * l2 - 1)) * sat;
  const x = c * (1 - Math.abs(((h / 60) % 2) - 1));
  const m0 = l2 - c / 2;
  const [r2, g2, b2] = h < 60 ? [c, x, 0] : h < 120 ? [x, c, 0] : h < 180 ? [0, c, x] : h < 240 ? [0, x, c] : h < 300 ? [x, 0, c] : [c, 0, x];
  return `#${[r2, g2, b2].map((v) => Math.round((v + m0) * 255).toString(16).padStart(2, '0')).join('')}`;
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

/** The shaper's runs of a line, their positions rounded to 1/100 px (stable in the cached JSON). */
function lineRuns(line: ShapedLine): ShapedRun[] {
  return line.runs.map((r) => ({ text: r.text, file: r.file, weight: r.weight, emphasis: r.emphasis, x: Math.round(r.x * 100) / 100, width: Math.round(r.width * 100) / 100 }));
}

/** A character that neither the lettering font nor any fallback font has (drawn as an empty box). */
function missingGlyphWarning(panelId: string, char: string, at: readonly string[]): string {
  const code = [...char].map((c) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`).join(' ');
  return `panel ${panelId}: no lettering font has a glyph for "${char}" (${code}); it is drawn as an empty box (at ${at.join(', ')})`;
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
