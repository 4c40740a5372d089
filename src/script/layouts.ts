/**
 * Page layouts: a row code ("2-1-2": panels per row, top to bottom), a named preset, or
 * explicit cells in page fractions. The compositor draws them; the script checks that a
 * page has as many panels as its layout has cells.
 */
import type { LayoutSpec } from './model.js';
import type { LayoutInput } from './schema.js';
import { didYouMean } from '../util/suggest.js';

export interface PresetLayout {
  /** Panels per row, top to bottom. */
  readonly rows: readonly number[];
  /** Relative row heights, or null for equal rows. */
  readonly heights: readonly number[] | null;
  readonly description: string;
}

/** The named layouts a script may use (documented in docs/script.md). */
export const PRESET_LAYOUTS: Readonly<Record<string, PresetLayout>> = {
  splash: { rows: [1], heights: null, description: 'one full-page panel' },
  'two-tier': { rows: [1, 1], heights: null, description: 'two full-width panels' },
  'three-tier': { rows: [2, 1, 2], heights: null, description: 'the classic 2-1-2 page' },
  'big-top': { rows: [1, 3], heights: [3, 2], description: 'a wide establishing panel over three small ones' },
  widescreen: { rows: [1, 1, 1, 1], heights: null, description: 'four full-width letterbox panels' },
  'four-koma': { rows: [1, 1, 1, 1], heights: null, description: 'a yonkoma strip: four equal panels, top to bottom' },
  'grid-2x2': { rows: [2, 2], heights: null, description: 'two columns, two rows' },
  'grid-2x3': { rows: [2, 2, 2], heights: null, description: 'two columns, three rows' },
  'nine-grid': { rows: [3, 3, 3], heights: null, description: 'three columns, three rows' },
};

export const MAX_PANELS_PER_ROW = 12;
export const MAX_ROWS = 12;

const ROW_CODE = /^\d+(?:-\d+)*$/;

export type LayoutTextResult =
  | { readonly ok: true; readonly spec: LayoutSpec }
  | { readonly ok: false; readonly message: string; readonly hint?: string };

/** Checks a row list; returns a problem, or null when every row has 1..12 panels. */
export function rowsProblem(rows: readonly number[]): string | null {
  if (rows.length === 0) return 'a layout needs at least one row';
  if (rows.length > MAX_ROWS) return `a layout has at most ${MAX_ROWS} rows, not ${rows.length}`;
  const bad = rows.findIndex((n) => !Number.isInteger(n) || n < 1 || n > MAX_PANELS_PER_ROW);
  return bad < 0 ? null : `row ${bad + 1} has ${rows[bad]} panels; each row needs 1 to ${MAX_PANELS_PER_ROW}`;
}

/** `layout:` written as text: a row code such as "2-1-2" or a preset name. */
export function interpretLayoutText(text: string): LayoutTextResult {
  const code = text.trim();
  if (ROW_CODE.test(code)) {
    const rows = code.split('-').map(Number);
    const problem = rowsProblem(rows);
    return problem ? { ok: false, message: `layout '${text}': ${problem}` } : { ok: true, spec: { kind: 'rows', rows, heights: null } };
  }
  if (Object.hasOwn(PRESET_LAYOUTS, code)) return { ok: true, spec: { kind: 'preset', name: code } };
  const hint = didYouMean(code, Object.keys(PRESET_LAYOUTS), 'use a row code such as "2-1-2" or a preset');
  return { ok: false, message: `unknown layout '${text}'`, ...(hint ? { hint } : {}) };
}

/** The rows of a rows or preset layout; null for explicit cells. */
export function layoutRows(spec: LayoutSpec): { readonly rows: readonly number[]; readonly heights: readonly number[] | null } | null {
  switch (spec.kind) {
    case 'rows':
      return { rows: spec.rows, heights: spec.heights };
    case 'preset': {
      const preset = PRESET_LAYOUTS[spec.name];
      if (!preset) throw new RangeError(`unknown layout preset '${spec.name}'`);
      return { rows: preset.rows, heights: preset.heights };
    }
    case 'cells':
      return null;
  }
}

/** How many panels a layout holds. */
export function layoutCellCount(spec: LayoutSpec): number {
  if (spec.kind === 'cells') return spec.cells.length;
  return (layoutRows(spec)?.rows ?? []).reduce((sum, n) => sum + n, 0);
}

/** How a layout reads in messages: its code, preset name, or cell count. */
export function describeLayout(spec: LayoutSpec): string {
  switch (spec.kind) {
    case 'rows':
      return `'${spec.rows.join('-')}'`;
    case 'preset':
      return `'${spec.name}'`;
    case 'cells':
      return `of ${spec.cells.length} cells`;
  }
}

/** The model's layout for a page: as written, or one panel per row when the page names none. */
export function layoutSpecFrom(input: LayoutInput | undefined, panelCount: number): LayoutSpec {
  if (input === undefined) return { kind: 'rows', rows: Array.from({ length: panelCount }, () => 1), heights: null };
  if (typeof input === 'number') return { kind: 'rows', rows: [input], heights: null };
  if (typeof input === 'string') {
    const result = interpretLayoutText(input);
    if (!result.ok) throw new RangeError(result.message);
    return result.spec;
  }
  if (input.cells) return { kind: 'cells', cells: input.cells.map((c) => ({ ...c })) };
  return { kind: 'rows', rows: input.rows ?? [], heights: input.heights ?? null };
}

/** A row code with `count` cells, for hints: rows of at most three, fuller rows first. */
export function suggestRowCode(count: number): string {
  const rowCount = Math.max(1, Math.ceil(count / 3));
  const rows = Array.from({ length: rowCount }, (_, i) => Math.floor(count / rowCount) + (i < count % rowCount ? 1 : 0));
  return rows.join('-');
}

/** Presets with exactly `count` cells. */
export function presetsWithCells(count: number): string[] {
  return Object.entries(PRESET_LAYOUTS)
    .filter(([, preset]) => preset.rows.reduce((sum, n) => sum + n, 0) === count)
    .map(([name]) => name);
}
