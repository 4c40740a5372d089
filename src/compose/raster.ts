/**
 * A page as one raw RGB buffer, painted in place. Copying panels and blending small
 * lettering tiles here is far cheaper than libvips compositing full-page layers (which
 * blends every pixel of the page in float for each layer).
 */
import sharp from 'sharp';
import type { Rect } from './types.js';

export interface RgbCanvas {
  readonly width: number;
  readonly height: number;
  /** width × height × 3 bytes, row by row. */
  readonly data: Buffer;
}

export type Rgb = readonly [number, number, number];

export function whiteCanvas(width: number, height: number): RgbCanvas {
  return { width, height, data: Buffer.alloc(width * height * 3, 255) };
}

/** The part of `rect` inside the canvas. */
function clip(canvas: RgbCanvas, rect: Rect): { x0: number; y0: number; x1: number; y1: number } {
  return {
    x0: Math.max(0, Math.round(rect.x)),
    y0: Math.max(0, Math.round(rect.y)),
    x1: Math.min(canvas.width, Math.round(rect.x + rect.width)),
    y1: Math.min(canvas.height, Math.round(rect.y + rect.height)),
  };
}

/** Copies raw RGB pixels (`width` × `height`) with their top-left corner at (left, top). */
export function blit(canvas: RgbCanvas, pixels: Buffer, width: number, height: number, left: number, top: number): void {
  const { x0, y0, x1, y1 } = clip(canvas, { x: left, y: top, width, height });
  if (x1 <= x0) return;
  for (let y = y0; y < y1; y++) {
    const from = ((y - top) * width + (x0 - left)) * 3;
    pixels.copy(canvas.data, (y * canvas.width + x0) * 3, from, from + (x1 - x0) * 3);
  }
}

export function fillRect(canvas: RgbCanvas, rect: Rect, [r, g, b]: Rgb): void {
  const { x0, y0, x1, y1 } = clip(canvas, rect);
  if (x1 <= x0) return;
  const row = Buffer.alloc((x1 - x0) * 3);
  for (let i = 0; i < row.length; i += 3) {
    row[i] = r;
    row[i + 1] = g;
    row[i + 2] = b;
  }
  for (let y = y0; y < y1; y++) row.copy(canvas.data, (y * canvas.width + x0) * 3);
}

/** Paints the outline of `rect`, `width` px thick, inside the rectangle. */
export function strokeRectInside(canvas: RgbCanvas, rect: Rect, width: number, color: Rgb): void {
  const { x, y } = rect;
  const w = Math.min(width, rect.width / 2, rect.height / 2);
  fillRect(canvas, { x, y, width: rect.width, height: w }, color);
  fillRect(canvas, { x, y: y + rect.height - w, width: rect.width, height: w }, color);
  fillRect(canvas, { x, y, width: w, height: rect.height }, color);
  fillRect(canvas, { x: x + rect.width - w, y, width: w, height: rect.height }, color);
}

/** Blends straight (not premultiplied) RGBA pixels over the canvas at (left, top). */
export function blendRgba(canvas: RgbCanvas, rgba: Buffer, width: number, height: number, left: number, top: number): void {
  const { x0, y0, x1, y1 } = clip(canvas, { x: left, y: top, width, height });
  const out = canvas.data;
  for (let y = y0; y < y1; y++) {
    let s = ((y - top) * width + (x0 - left)) * 4;
    let d = (y * canvas.width + x0) * 3;
    for (let x = x0; x < x1; x++, s += 4, d += 3) {
      const a = rgba[s + 3]!;
      if (a === 0) continue;
      if (a === 255) {
        out[d] = rgba[s]!;
        out[d + 1] = rgba[s + 1]!;
        out[d + 2] = rgba[s + 2]!;
        continue;
      }
      const ia = 255 - a;
      out[d] = (rgba[s]! * a + out[d]! * ia + 127) / 255;
      out[d + 1] = (rgba[s + 1]! * a + out[d + 1]! * ia + 127) / 255;
      out[d + 2] = (rgba[s + 2]! * a + out[d + 2]! * ia + 127) / 255;
    }
  }
}

export interface SvgTile {
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
  readonly left: number;
  readonly top: number;
}

/** The fragment rendered to RGBA over the whole pixels of `rect` (null when empty). */
export async function renderSvgTile(fragment: string, rect: Rect): Promise<SvgTile | null> {
  const left = Math.floor(rect.x);
  const top = Math.floor(rect.y);
  const width = Math.ceil(rect.x + rect.width) - left;
  const height = Math.ceil(rect.y + rect.height) - top;
  if (width <= 0 || height <= 0) return null;
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="${left} ${top} ${width} ${height}">` +
    `${fragment}</svg>`;
  const { data, info } = await sharp(Buffer.from(svg)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, left, top };
}

const colours = new Map<string, Rgb>();

/** Any CSS colour as RGB, resolved by the same renderer that draws the lettering. */
export async function cssColour(colour: string): Promise<Rgb> {
  const known = colours.get(colour);
  if (known) return known;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"><rect width="1" height="1" fill="${colour.replace(/["<>&]/g, '')}"/></svg>`;
  const { data } = await sharp(Buffer.from(svg)).flatten({ background: '#ffffff' }).raw().toBuffer({ resolveWithObject: true });
  const rgb: Rgb = [data[0]!, data[1]!, data[2]!];
  colours.set(colour, rgb);
  return rgb;
}
