/**
 * How busy a panel's art is, place by place: a coarse grid (about 64 cells on the long
 * side) of each cell's grey-level spread, measured on the fitted panel's own pixels, so the
 * lettering can put balloons where the art is quietest.
 *
 * The spread is taken from a sparse sample of each cell's own pixels rather than from a downscaled
 * image: a downscale averages fine texture (hatching, grain, foliage) to a flat grey and
 * would call it quiet.
 */

export interface DetailMap {
  readonly columns: number;
  readonly rows: number;
  /** Per cell, row by row: 0 (flat) to 1 (busy). */
  readonly values: Float32Array;
  /** Summed-area table of `values`, (columns + 1) × (rows + 1), for means over any block of cells. */
  readonly sums: Float64Array;
  /** How busy the panel's quieter parts are (the 10th percentile of `values`): its own baseline. */
  readonly quiet: number;
}

/** Cells on the image's long side. */
const GRID = 64;
/** Every third pixel of every third row: enough samples per cell (a cell is 10 to 20 px at 300 dpi). */
const STRIDE = 3;
/** A spread (standard deviation of grey, 0–255) below this is grain or a gradient: quiet. */
const QUIET_SPREAD = 4;
/** And at this much above it, as busy as art gets (a hard edge or dense texture). */
const BUSY_SPREAD = 40;

/** The detail map of raw 8-bit pixels (`channels` 1 to 4; grey from the first three). */
export function measureDetail(pixels: Uint8Array, width: number, height: number, channels: number): DetailMap {
  const columns = Math.max(1, Math.round((GRID * width) / Math.max(width, height)));
  const rows = Math.max(1, Math.round((GRID * height) / Math.max(width, height)));
  const count = new Float64Array(columns * rows);
  const sum = new Float64Array(columns * rows);
  const squares = new Float64Array(columns * rows);
  const colour = channels >= 3;
  // Each sampled column's cell, worked out once rather than per pixel.
  const cellOfX = new Int32Array(Math.ceil(width / STRIDE));
  for (let k = 0; k < cellOfX.length; k++) cellOfX[k] = Math.min(columns - 1, Math.floor((k * STRIDE * columns) / width));
  const step = STRIDE * channels;
  for (let y = 0; y < height; y += STRIDE) {
    const rowBase = Math.min(rows - 1, Math.floor((y * rows) / height)) * columns;
    let i = y * width * channels;
    for (let k = 0; k < cellOfX.length; k++, i += step) {
      const grey = colour ? (pixels[i]! * 77 + pixels[i + 1]! * 150 + pixels[i + 2]! * 29) >> 8 : pixels[i]!;
      const cell = rowBase + cellOfX[k]!;
      count[cell]!++;
      sum[cell]! += grey;
      squares[cell]! += grey * grey;
    }
  }
  const values = new Float32Array(columns * rows);
  for (let c = 0; c < values.length; c++) {
    const n = count[c]!;
    if (n === 0) continue;
    const mean = sum[c]! / n;
    const spread = Math.sqrt(Math.max(0, squares[c]! / n - mean * mean));
    values[c] = Math.min(1, Math.max(0, (spread - QUIET_SPREAD) / BUSY_SPREAD));
  }
  const sorted = Float32Array.from(values).sort();
  return { columns, rows, values, sums: summedArea(values, columns, rows), quiet: sorted[Math.floor(sorted.length * 0.1)]! };
}

function summedArea(values: Float32Array, columns: number, rows: number): Float64Array {
  const w = columns + 1;
  const sums = new Float64Array(w * (rows + 1));
  for (let r = 0; r < rows; r++) {
    let line = 0;
    for (let c = 0; c < columns; c++) {
      line += values[r * columns + c]!;
      sums[(r + 1) * w + c + 1] = sums[r * w + c + 1]! + line;
    }
  }
  return sums;
}

/**
 * The mean detail over a block given in fractions of the image (0 to 1, clamped), taken
 * over every cell it touches.
 */
export function meanDetail(map: DetailMap, x0: number, y0: number, x1: number, y1: number): number {
  const { columns, rows, sums } = map;
  const c0 = clampIndex(Math.floor(Math.min(x0, x1) * columns), columns);
  const r0 = clampIndex(Math.floor(Math.min(y0, y1) * rows), rows);
  const c1 = Math.max(c0 + 1, clampIndex(Math.ceil(Math.max(x0, x1) * columns), columns + 1));
  const r1 = Math.max(r0 + 1, clampIndex(Math.ceil(Math.max(y0, y1) * rows), rows + 1));
  const w = columns + 1;
  const total = sums[r1 * w + c1]! - sums[r0 * w + c1]! - sums[r1 * w + c0]! + sums[r0 * w + c0]!;
  return total / ((c1 - c0) * (r1 - r0));
}

/** Detail this little above the panel's baseline is the art's texture, not a reason to move. */
const TOLERANCE = 0.1;

/**
 * How much busier than the panel's quieter parts a block is (0 when within TOLERANCE of
 * them): grain or texture spread over the whole panel moves nothing, a quiet region among
 * busy art stands out.
 */
export function excessDetail(map: DetailMap, x0: number, y0: number, x1: number, y1: number): number {
  return Math.max(0, meanDetail(map, x0, y0, x1, y1) - map.quiet - TOLERANCE);
}

function clampIndex(i: number, n: number): number {
  return Math.min(n - 1, Math.max(0, i));
}
