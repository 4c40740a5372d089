/**
 * Storyboard drafts: what the draft backend renders instead of a diffusion image, so layout
 * and lettering can be worked on without a GPU. A sheet of light grey paper with a rough
 * perspective sketch (horizon and vanishing point from the seed, the horizon moved by the
 * camera angle), stick figures for the characters placed left to right (the order the
 * lettering uses to aim balloon tails), and the panel's text written out legibly.
 *
 * Deterministic in its inputs; text is drawn as glyph outlines of the bundled fonts, so it
 * looks the same on a machine without any fonts.
 */
import sharp from 'sharp';
import { face } from '../../compose/fonts.js';
import { SPEAKER_HEAD_Y } from '../../compose/lettering/panel.js';
import { blockOutline, type TextBlock, wrapBlock } from '../../compose/lettering/text.js';
import { type Random, seededRandom } from '../../compose/random.js';

export interface DraftPanelSpec {
  /** Exact output size in pixels. */
  readonly width: number;
  readonly height: number;
  /** E.g. "Panel 2-3". */
  readonly title: string;
  readonly prompt: string;
  /** Display names, in the panel's order (left to right). */
  readonly characters: readonly string[];
  readonly camera: string | null;
  readonly pose: string | null;
  /** A one-line summary of what is said, e.g. `Mara: "Who lit the lamp?"`. */
  readonly dialogue: string | null;
  readonly seed: number;
}

const PAPER = '#ecebe6';
const SKETCH = '#b3b0a6';
const PENCIL = '#6f6b62';
const INK = '#26241f';

/** The draft as a PNG of exactly `width` × `height`. */
export async function renderDraftPanel(spec: DraftPanelSpec): Promise<Buffer> {
  const width = Math.max(1, Math.round(spec.width));
  const height = Math.max(1, Math.round(spec.height));
  const random = seededRandom(`${spec.seed}:${spec.title}`);
  const unit = Math.min(width, height);
  const line = Math.max(1, unit / 420);

  const notes = notesBlock(spec, width, height);
  const ground = Math.max(height * (SPEAKER_HEAD_Y + 0.15), notes.top - unit * 0.04);
  const horizon = horizonFor(spec.camera, random) * ground;
  const vanishing = { x: width * (0.3 + 0.4 * random()), y: horizon };

  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="${width}" height="${height}" fill="${PAPER}"/>`,
    perspective(width, height, vanishing, random, line),
    props(width, ground, vanishing, random, line),
    figures(spec.characters, width, height, ground, unit, line),
    notes.svg,
    `<rect x="${line}" y="${line}" width="${width - 2 * line}" height="${height - 2 * line}" fill="none" stroke="${PENCIL}" stroke-width="${2 * line}"/>`,
    '</svg>',
  ].join('');
  return sharp(Buffer.from(svg)).flatten({ background: PAPER }).png().toBuffer();
}

/** Low angles look up (horizon low), high angles look down (horizon high). */
function horizonFor(camera: string | null, random: Random): number {
  const c = (camera ?? '').toLowerCase();
  if (/\b(low|worm|from below|looking up)\b/.test(c)) return 0.72 + 0.1 * random();
  if (/\b(high|bird|aerial|overhead|top[- ]down|from above)\b/.test(c)) return 0.15 + 0.1 * random();
  return 0.4 + 0.2 * random();
}

function perspective(width: number, height: number, vp: { x: number; y: number }, random: Random, line: number): string {
  // Floor lines fanning out from the vanishing point, evenly by angle, reaching past the edges.
  const reach = 2 * Math.max(width, height);
  const count = 14 + Math.floor(random() * 6);
  const offset = random();
  const rays: string[] = [];
  for (let i = 0; i < count; i++) {
    const angle = (Math.PI * (i + offset)) / count;
    rays.push(`M${r(vp.x)} ${r(vp.y)}L${r(vp.x + Math.cos(angle) * reach)} ${r(vp.y + Math.sin(angle) * reach)}`);
  }
  return (
    `<path d="${rays.join('')}" stroke="${SKETCH}" stroke-width="${r(line)}" fill="none" stroke-dasharray="${r(line * 10)} ${r(line * 5)}"/>` +
    `<path d="M0 ${r(vp.y)}H${width}" stroke="${PENCIL}" stroke-width="${r(line * 1.5)}"/>`
  );
}

/** Two or three blocks in one-point perspective: buildings, furniture, rocks — the eye fills it in. */
function props(width: number, ground: number, vp: { x: number; y: number }, random: Random, line: number): string {
  const shapes: string[] = [];
  const n = 2 + Math.floor(random() * 2);
  for (let i = 0; i < n; i++) {
    const w = width * (0.12 + 0.14 * random());
    const h = (ground - vp.y) * (0.3 + 0.5 * random()) + width * 0.05;
    const x = i % 2 === 0 ? width * (0.02 + 0.15 * random()) : width * (0.98 - 0.15 * random()) - w;
    const bottom = ground - (ground - vp.y) * 0.25 * random();
    const top = bottom - h;
    // The face toward the vanishing point recedes a third of the way to it.
    const k = 0.3;
    const near = x + w < vp.x ? x + w : x;
    const toVp = (px: number, py: number) => ({ x: px + (vp.x - px) * k, y: py + (vp.y - py) * k });
    const a = toVp(near, top);
    const b = toVp(near, bottom);
    const backTop = toVp(near === x ? x + w : x, top);
    shapes.push(
      `<rect x="${r(x)}" y="${r(top)}" width="${r(w)}" height="${r(h)}" fill="#e2e0d8" stroke="${PENCIL}" stroke-width="${r(line * 1.4)}"/>`,
      `<path d="M${r(near)} ${r(top)}L${r(a.x)} ${r(a.y)}L${r(b.x)} ${r(b.y)}L${r(near)} ${r(bottom)}Z" fill="#d8d6cd" stroke="${PENCIL}" stroke-width="${r(line * 1.4)}"/>`,
      `<path d="M${r(near === x ? x + w : x)} ${r(top)}L${r(backTop.x)} ${r(backTop.y)}L${r(a.x)} ${r(a.y)}" fill="none" stroke="${PENCIL}" stroke-width="${r(line)}"/>`,
    );
  }
  return shapes.join('');
}

/**
 * One figure per character, evenly spaced left to right, heads at the height the lettering
 * aims balloon tails at, the name beside the head (tails come from above).
 */
function figures(names: readonly string[], width: number, height: number, ground: number, unit: number, line: number): string {
  if (names.length === 0) return '';
  const headY = height * SPEAKER_HEAD_Y;
  const head = Math.max(3, Math.min((ground - headY) * 0.16, width / names.length / 7));
  const tall = ground - headY + head;
  const label = face('dialogue');
  const labelSize = Math.max(9, Math.min(unit / 26, head * 0.9));
  return names
    .map((name, i) => {
      const cx = (width * (i + 0.5)) / names.length;
      const feet = ground;
      const hip = feet - tall * 0.45;
      const neck = headY + head;
      const body =
        `M${r(cx)} ${r(neck)}L${r(cx)} ${r(hip)}` +
        `M${r(cx - tall * 0.12)} ${r(feet)}L${r(cx)} ${r(hip)}L${r(cx + tall * 0.12)} ${r(feet)}` +
        `M${r(cx - tall * 0.17)} ${r(hip - tall * 0.05)}L${r(cx)} ${r(neck + tall * 0.06)}L${r(cx + tall * 0.17)} ${r(hip - tall * 0.05)}`;
      const shaped = label.shape(name, labelSize);
      const text = label.outline(shaped, cx + head * 1.35, headY + labelSize * 0.35);
      return (
        `<ellipse cx="${r(cx)}" cy="${r(feet)}" rx="${r(tall * 0.2)}" ry="${r(tall * 0.03)}" fill="#d3d0c6"/>` +
        `<circle cx="${r(cx)}" cy="${r(headY)}" r="${r(head)}" fill="${PAPER}" stroke="${INK}" stroke-width="${r(line * 2.5)}"/>` +
        `<path d="${body}" fill="none" stroke="${INK}" stroke-width="${r(line * 3)}" stroke-linecap="round" stroke-linejoin="round"/>` +
        `<path d="${text}" fill="${INK}"/>`
      );
    })
    .join('');
}

/**
 * The panel's text in a white card along the bottom: title, prompt, then camera, pose and
 * dialogue. The text size follows the panel size and shrinks until the card fits in
 * about a third of the panel.
 */
function notesBlock(spec: DraftPanelSpec, width: number, height: number): { svg: string; top: number } {
  const unit = Math.min(width, height);
  const pad = Math.max(4, unit * 0.03);
  const details = [
    spec.camera ? `Camera: ${spec.camera}` : null,
    spec.pose ? `Pose: ${spec.pose}` : null,
    spec.dialogue ? `Dialogue: ${spec.dialogue}` : null,
  ].filter((d): d is string => d !== null);
  let size = Math.max(9, unit / 24);
  let blocks: TextBlock[] = [];
  let cardHeight = 0;
  for (let attempt = 0; attempt < 8; attempt++) {
    const measure = width - 4 * pad;
    blocks = [
      wrapBlock(face('dialogue'), spec.title, size * 1.15, measure),
      wrapBlock(face('whisper'), spec.prompt || '(no prompt)', size, measure),
      ...details.map((d) => wrapBlock(face('whisper'), d, size * 0.9, measure)),
    ];
    cardHeight = blocks.reduce((sum, b) => sum + b.height + size * 0.45, 0) + 2 * pad - size * 0.45;
    if (cardHeight <= height * 0.36 || size <= 8) break;
    size *= 0.85;
  }
  const top = height - pad - cardHeight;
  let y = top + pad;
  const text = blocks
    .map((block, i) => {
      const d = blockOutline(block, pad * 2, y, 'left');
      y += block.height + size * 0.45;
      return `<path d="${d}" fill="${i === 0 ? INK : PENCIL}"/>`;
    })
    .join('');
  const card = `<rect x="${r(pad)}" y="${r(top)}" width="${r(width - 2 * pad)}" height="${r(cardHeight)}" rx="${r(pad / 2)}" fill="#ffffff" fill-opacity="0.88" stroke="${SKETCH}" stroke-width="${r(Math.max(1, unit / 420))}"/>`;
  return { svg: card + text, top };
}

function r(v: number): number {
  return Math.round(v * 10) / 10;
}
