/**
 * Page geometry: where each panel of a page goes, in canvas pixels.
 *
 * Every layout (row code, preset, explicit cells) is first resolved to cells in fractions
 * of the live area (the format's safe area), in reading order as written left to right.
 * One mapping then turns fractions into pixels so that adjacent cells are separated by
 * exactly one gutter and equal fractions give equal panels: the live area is treated as
 * if it were one gutter wider, and each cell gives up one gutter on its far sides.
 *
 * Pure and cheap: the planner calls it for every page at plan time to size the renders.
 */
import { ComicError } from '../errors.js';
import { describeLayout, layoutCellCount, layoutRows, PRESET_LAYOUTS } from '../script/layouts.js';
import type { LayoutSpec, Page, PageFormat, ReadingDirection } from '../script/model.js';
import type { LayoutStyle, PageLayout, PanelBox, Rect } from './types.js';

/** LayoutStyle with every field decided. */
export type ResolvedLayoutStyle = Required<LayoutStyle>;

/** Defaults chosen at 300 dpi and scaled with the format's dpi. */
const DEFAULTS_AT_300 = { gutter: 36, borderWidth: 6 } as const;
export const DEFAULT_BORDER_COLOR = '#1a1a1a';

export function resolveLayoutStyle(style: LayoutStyle | undefined, dpi: number): ResolvedLayoutStyle {
  const scale = dpi / 300;
  return {
    gutter: Math.max(0, Math.round(style?.gutter ?? DEFAULTS_AT_300.gutter * scale)),
    borderWidth: Math.max(0, Math.round(style?.borderWidth ?? Math.max(1, DEFAULTS_AT_300.borderWidth * scale))),
    borderColor: style?.borderColor ?? DEFAULT_BORDER_COLOR,
  };
}

/** A cell in fractions of the live area; an edge beyond 0 or 1 bleeds off the page on that side. */
interface Cell {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

export function computeLayout(page: Page, format: PageFormat, direction: ReadingDirection, style?: LayoutStyle): PageLayout {
  const { gutter, borderWidth, borderColor } = resolveLayoutStyle(style ?? page.frames, format.dpi);
  const canvas = { width: format.width + 2 * format.bleed, height: format.height + 2 * format.bleed };
  const trim: Rect = { x: format.bleed, y: format.bleed, width: format.width, height: format.height };
  const safe: Rect = {
    x: trim.x + format.margin,
    y: trim.y + format.margin,
    width: Math.max(1, trim.width - 2 * format.margin),
    height: Math.max(1, trim.height - 2 * format.margin),
  };

  const cells = resolveCells(page, page.layout, safe.height, gutter);
  // A page with one panel is a splash: it covers the whole canvas, bleed included.
  const splash = cells.length === 1;
  const panels = cells.map((cell, i): PanelBox => {
    const mirrored = direction === 'rtl' ? { ...cell, x: 1 - cell.x - cell.w } : cell;
    const panelId = page.panels[i]!.id;
    const frame = page.panels[i]!.frame;
    const rect = cellRect(mirrored, safe, canvas, gutter, splash ? 'sides' : frame === 'bleed' ? 'border-sides' : false);
    return { panelId, readingOrder: i, ...rect, bordered: frame === 'border' && !rect.bleeds };
  });
  return { canvas, trim, safe, panels, border: { width: borderWidth, color: borderColor } };
}

function resolveCells(page: Page, spec: LayoutSpec, liveHeight: number, gutter: number): Cell[] {
  if (spec.kind === 'preset' && !Object.hasOwn(PRESET_LAYOUTS, spec.name)) {
    throw new ComicError('SCRIPT_INVALID', `page ${page.number}: unknown layout preset '${spec.name}'`, {
      hint: `use a row code such as "2-1-2" or one of: ${Object.keys(PRESET_LAYOUTS).join(', ')}`,
    });
  }
  const count = layoutCellCount(spec);
  if (count !== page.panels.length) {
    throw new ComicError(
      'SCRIPT_INVALID',
      `page ${page.number}: layout ${describeLayout(spec)} has ${count} cells but the page has ${page.panels.length} panels`,
      { hint: 'give the page a layout with one cell per panel, or add or remove panels' },
    );
  }
  const rows = layoutRows(spec);
  if (rows === null) {
    if (spec.kind !== 'cells') throw new Error('unreachable: only cell layouts have no rows');
    return spec.cells.map((cell, i) => checkedCell(page, cell, i));
  }
  return rowCells(page, rows.rows, rows.heights, liveHeight, gutter);
}

/**
 * Rows as cells. Row heights follow the ratios exactly in pixels: the live height less the
 * gutters between rows is shared out, then turned back into fractions of the mapping below.
 */
function rowCells(page: Page, rows: readonly number[], heights: readonly number[] | null, liveHeight: number, gutter: number): Cell[] {
  const weights = heights ?? rows.map(() => 1);
  if (weights.length !== rows.length || weights.some((h) => !(h > 0) || !Number.isFinite(h))) {
    throw new ComicError('SCRIPT_INVALID', `page ${page.number}: row heights [${weights.join(', ')}] must be ${rows.length} positive numbers, one per row`);
  }
  const total = weights.reduce((a, b) => a + b, 0);
  const shared = liveHeight - (rows.length - 1) * gutter;
  const cells: Cell[] = [];
  let top = 0;
  rows.forEach((count, r) => {
    const h = ((shared * weights[r]!) / total + gutter) / (liveHeight + gutter);
    for (let c = 0; c < count; c++) cells.push({ x: c / count, y: top, w: 1 / count, h });
    top += h;
  });
  return cells;
}

function checkedCell(page: Page, cell: Cell, i: number): Cell {
  const values = [cell.x, cell.y, cell.w, cell.h];
  if (values.some((v) => !Number.isFinite(v)) || !(cell.w > 0) || !(cell.h > 0)) {
    throw new ComicError(
      'SCRIPT_INVALID',
      `page ${page.number}: cell ${i + 1} {x: ${cell.x}, y: ${cell.y}, w: ${cell.w}, h: ${cell.h}} needs finite numbers and a positive width and height`,
      { hint: 'cells are fractions of the page\'s live area: x and y from 0, w and h up to 1' },
    );
  }
  return cell;
}

/**
 * Fractions to pixels. Inside the live area an edge at fraction f sits at
 * origin + f·(size + gutter), and a cell's far edges give up one gutter, so two cells
 * meeting at f leave exactly one gutter between them and the edges at 0 and 1 land on
 * the live area's border. Edges beyond the live area (and every edge of a splash) run
 * to the canvas edge.
 */
function cellRect(
  cell: Cell,
  live: Rect,
  canvas: { width: number; height: number },
  gutter: number,
  /** A splash bleeds on every side; a `bleed` panel on the sides that lie on the live area's border. */
  bleed: 'sides' | 'border-sides' | false,
): Omit<PanelBox, 'panelId' | 'readingOrder' | 'bordered'> {
  const eps = 1e-9;
  const all = bleed === 'sides';
  const onBorder = bleed === 'border-sides';
  const bleedLeft = all || cell.x < -eps || (onBorder && cell.x < eps);
  const bleedTop = all || cell.y < -eps || (onBorder && cell.y < eps);
  const bleedRight = all || cell.x + cell.w > 1 + eps || (onBorder && cell.x + cell.w > 1 - eps);
  const bleedBottom = all || cell.y + cell.h > 1 + eps || (onBorder && cell.y + cell.h > 1 - eps);
  const stepX = live.width + gutter;
  const stepY = live.height + gutter;
  const left = bleedLeft ? 0 : Math.round(live.x + cell.x * stepX);
  const top = bleedTop ? 0 : Math.round(live.y + cell.y * stepY);
  const right = bleedRight ? canvas.width : Math.round(live.x + (cell.x + cell.w) * stepX) - gutter;
  const bottom = bleedBottom ? canvas.height : Math.round(live.y + (cell.y + cell.h) * stepY) - gutter;
  return {
    x: left,
    y: top,
    width: Math.max(0, right - left),
    height: Math.max(0, bottom - top),
    bleeds: bleedLeft || bleedTop || bleedRight || bleedBottom,
  };
}
