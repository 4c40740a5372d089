/**
 * The balloon sheet: every balloon kind with its tail toward the speaker's mouth in each of
 * eight directions, drawn by the composer's own `balloonAt`; a golden image
 * (golden.test.ts) and the cells of the seam test (balloons.test.ts).
 */
import sharp from 'sharp';
import { letteringMetrics } from '../../src/compose/lettering/metrics.js';
import { type BalloonArt, balloonAt, type Speaker } from '../../src/compose/lettering/panel.js';
import type { Point } from '../../src/compose/lettering/shapes.js';
import type { Rect } from '../../src/compose/types.js';
import type { DialogueKind } from '../../src/script/model.js';

export const SHEET_DPI = 100;
const metrics = letteringMetrics(undefined, SHEET_DPI, 'en');
const roundedMetrics = letteringMetrics({ balloonShape: 'rounded' }, SHEET_DPI, 'en');
const em = metrics.em;

/** The sheet's rows: a kind, and for speech the rounded shape too. */
export const SHEET_ROWS: readonly { readonly kind: DialogueKind; readonly rounded: boolean; readonly text: string }[] = [
  { kind: 'speech', rounded: false, text: 'Who lit the lamp?' },
  { kind: 'speech', rounded: true, text: 'Who lit the lamp?' },
  { kind: 'whisper', rounded: false, text: 'They are listening.' },
  { kind: 'thought', rounded: false, text: 'Why is he lying?' },
  { kind: 'shout', rounded: false, text: 'Run!' },
];
/** Toward the mouth: right, down-right, down, … (screen angles, y down). */
export const DIRECTIONS = Array.from({ length: 8 }, (_, i) => (i * Math.PI) / 4);
const CELL = { width: 20 * em, height: 18 * em };

export interface SheetCell {
  readonly kind: DialogueKind;
  readonly rounded: boolean;
  readonly direction: number;
  readonly cell: Rect;
  readonly mouth: Point;
  readonly art: ReturnType<typeof balloonAt>;
}

/** A balloon in the middle of its cell, the mouth 7 em from its centre in `direction`. */
export function sheetCell(row: number, column: number, speaker?: Speaker): SheetCell {
  const { kind, rounded, text } = SHEET_ROWS[row]!;
  const direction = DIRECTIONS[column]!;
  const cell = { x: column * CELL.width, y: row * CELL.height, width: CELL.width, height: CELL.height };
  const centre = { x: cell.x + cell.width / 2, y: cell.y + cell.height / 2 };
  const mouth = { x: centre.x + Math.cos(direction) * 7 * em, y: centre.y + Math.sin(direction) * 7 * em };
  const area = { x: cell.x + em * 0.5, y: cell.y + em * 0.5, width: cell.width - em, height: cell.height - em };
  const ctx = { area, edge: area, metrics: rounded ? roundedMetrics : metrics };
  return { kind, rounded, direction, cell, mouth, art: balloonAt(kind, text, centre, speaker ?? { mouth }, ctx) };
}

export function sheetCells(): SheetCell[] {
  return SHEET_ROWS.flatMap((_, row) => DIRECTIONS.map((__, column) => sheetCell(row, column)));
}

export function sheetSize(): { width: number; height: number } {
  return { width: Math.round(CELL.width * DIRECTIONS.length), height: Math.round(CELL.height * SHEET_ROWS.length) };
}

/** Renders SVG fragments (sheet coordinates) over a flat background, as RGB. */
export async function renderFragments(fragments: readonly string[], size: { width: number; height: number }, background = '#8fb8d8'): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size.width}" height="${size.height}"><rect width="100%" height="100%" fill="${background}"/>${fragments.join('')}</svg>`;
  return sharp(Buffer.from(svg)).removeAlpha().png().toBuffer();
}

/** The golden sheet: balloons with their text, and a small dot at each mouth the tail aims at. */
export function renderBalloonSheet(): Promise<Buffer> {
  const fragments = sheetCells().map(({ art, mouth }: { art: BalloonArt; mouth: Point }) => `${art.balloon}${art.text}<circle cx="${mouth.x}" cy="${mouth.y}" r="${em * 0.3}" fill="#c0392b"/>`);
  return renderFragments(fragments, sheetSize());
}
