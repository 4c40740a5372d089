/**
 * Lengths in a script: a bare number is pixels; text carries a unit ("0.125in", "3mm",
 * "36pt", "40px") and becomes pixels at the page's dpi.
 */

export const LENGTH_UNITS = ['px', 'in', 'mm', 'cm', 'pt'] as const;
export type LengthUnit = (typeof LENGTH_UNITS)[number];

export interface Length {
  readonly value: number;
  readonly unit: LengthUnit;
}

/** Inches per unit; px has none (it is already device pixels). */
const INCHES_PER: Record<Exclude<LengthUnit, 'px'>, number> = { in: 1, mm: 1 / 25.4, cm: 1 / 2.54, pt: 1 / 72 };

const LENGTH_TEXT = /^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*([a-zA-Z]*)\s*$/;

export type LengthResult = { readonly ok: true; readonly length: Length } | { readonly ok: false; readonly message: string };

export function parseLength(input: number | string): LengthResult {
  if (typeof input === 'number') {
    return Number.isFinite(input)
      ? { ok: true, length: { value: input, unit: 'px' } }
      : { ok: false, message: `a length must be a finite number, not ${input}` };
  }
  const match = LENGTH_TEXT.exec(input);
  if (!match) {
    return { ok: false, message: `'${input}' is not a length; write a number with a unit, such as "0.125in", "3mm", "36pt" or "40px"` };
  }
  const unit = (match[2] || 'px').toLowerCase();
  if (!(LENGTH_UNITS as readonly string[]).includes(unit)) {
    return { ok: false, message: `unknown unit '${match[2]}' in '${input}'; use one of ${LENGTH_UNITS.join(', ')}` };
  }
  return { ok: true, length: { value: Number(match[1]), unit: unit as LengthUnit } };
}

/** Whole pixels at `dpi` (pages are raster images; half pixels round up). */
export function toPixels(length: Length, dpi: number): number {
  const exact = length.unit === 'px' ? length.value : length.value * INCHES_PER[length.unit] * dpi;
  return Math.round(exact);
}
