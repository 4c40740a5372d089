/**
 * Synthetic pictures. Each one is an 8×8 grid of flat colour blocks drawn from a hash of
 * everything upstream of it (prompt text, seed, size, models, input images), so equal inputs
 * give identical bytes, a different seed gives a different picture, and flat blocks keep PNG
 * encoding fast at any size. Reference images tint the result: 40% of their mean colour.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import sharp, { type Sharp } from 'sharp';

export type Rgb = readonly [number, number, number];

export interface PictureSpec {
  readonly hash: string;
  readonly width: number;
  readonly height: number;
  /** Mean colours of reference images upstream (LoadImage); blended in at 40%. */
  readonly tints: readonly Rgb[];
}

const GRID = 8;
const TINT_SHARE = 0.4;
/** Sampler previews are fitted into --preview-size (512 by default) and sent as JPEG q95. */
export const PREVIEW_SIZE = 512;

function rgb(channel: (c: 0 | 1 | 2) => number): Rgb {
  return [channel(0), channel(1), channel(2)];
}

function mixTints(tints: readonly Rgb[]): Rgb | undefined {
  if (tints.length === 0) return undefined;
  return rgb((c) => tints.reduce((sum, t) => sum + t[c], 0) / tints.length);
}

/** Raw RGB pixels of the picture. */
function rawPixels(spec: PictureSpec): Buffer {
  const { width, height } = spec;
  const seed = createHash('sha256').update(spec.hash).digest();
  const byte = (i: number): number => seed[i % seed.length] ?? 0;
  const from: Rgb = [byte(0), byte(1), byte(2)];
  const to: Rgb = [255 - byte(3), 255 - byte(4), 255 - byte(5)];
  const tint = mixTints(spec.tints);
  const cellColour = (gx: number, gy: number): Rgb => {
    const t = (gx + gy) / (2 * (GRID - 1));
    const jitter = ((byte(6 + gy * GRID + gx) % 48) - 24) * ((gx + gy) % 2 === 0 ? 1 : -1);
    return rgb((c) => {
      const base = from[c] * (1 - t) + to[c] * t + jitter;
      const tinted = tint === undefined ? base : base * (1 - TINT_SHARE) + tint[c] * TINT_SHARE;
      return Math.max(0, Math.min(255, Math.round(tinted)));
    });
  };

  const rowBytes = width * 3;
  const pixels = Buffer.alloc(rowBytes * height);
  const edges = (size: number): number[] => Array.from({ length: GRID + 1 }, (_, i) => Math.floor((i * size) / GRID));
  const xs = edges(width);
  const ys = edges(height);
  for (let gy = 0; gy < GRID; gy += 1) {
    const y0 = ys[gy] ?? 0;
    const y1 = ys[gy + 1] ?? height;
    if (y1 <= y0) continue;
    const row = Buffer.alloc(rowBytes);
    for (let gx = 0; gx < GRID; gx += 1) {
      const [r, g, b] = cellColour(gx, gy);
      for (let x = xs[gx] ?? 0; x < (xs[gx + 1] ?? width); x += 1) {
        row[x * 3] = r;
        row[x * 3 + 1] = g;
        row[x * 3 + 2] = b;
      }
    }
    for (let y = y0; y < y1; y += 1) row.copy(pixels, y * rowBytes);
  }
  return pixels;
}

function picture(spec: PictureSpec): Sharp {
  return sharp(rawPixels(spec), { raw: { width: spec.width, height: spec.height, channels: 3 } });
}

/** A PNG of the picture; SaveImage uses compress_level 4, PreviewImage 1 (as the real nodes do). */
export function renderPng(spec: PictureSpec, compressionLevel: number): Promise<Buffer> {
  return picture(spec).png({ compressionLevel }).toBuffer();
}

/** A sampler preview: fitted into 512 px and encoded as JPEG quality 95. */
export async function renderPreviewJpeg(spec: PictureSpec): Promise<Buffer> {
  const scale = Math.min(1, PREVIEW_SIZE / Math.max(spec.width, spec.height));
  const width = Math.max(1, Math.round(spec.width * scale));
  const height = Math.max(1, Math.round(spec.height * scale));
  const jpeg = await picture({ ...spec, width, height }).jpeg({ quality: 95 }).toBuffer();
  return withJfifHeader(jpeg);
}

/** JFIF APP0 segment (version 1.1, no density units, 1:1), which Pillow writes and libvips omits. */
const JFIF_APP0 = Buffer.from('ffe000104a46494600010100000100010000', 'hex');

function withJfifHeader(jpeg: Buffer): Buffer {
  if (jpeg[2] === 0xff && jpeg[3] === 0xe0) return jpeg;
  return Buffer.concat([jpeg.subarray(0, 2), JFIF_APP0, jpeg.subarray(2)]);
}

export interface ImageFacts {
  readonly width: number;
  readonly height: number;
  readonly mean: Rgb;
}

/** Size and mean colour of an image file (what an uploaded reference contributes). */
export async function imageFacts(file: string): Promise<ImageFacts> {
  // Read the bytes ourselves: libvips caches by file name, and uploads can overwrite a name.
  const image = sharp(await readFile(file));
  const [meta, stats] = await Promise.all([image.metadata(), image.stats()]);
  const channel = (i: number): number => stats.channels[Math.min(i, stats.channels.length - 1)]?.mean ?? 0;
  return { width: meta.width ?? 0, height: meta.height ?? 0, mean: rgb(channel) };
}

export type ViewChannel = 'rgba' | 'rgb' | 'a';

/** /view's re-encodings: `preview=webp|jpeg[;quality]` and `channel=rgb|a`. */
export async function recode(file: string, preview: { format: 'webp' | 'jpeg'; quality: number } | undefined, channel: ViewChannel): Promise<Buffer> {
  const bytes = await readFile(file);
  if (preview !== undefined) {
    const image = sharp(bytes);
    return preview.format === 'webp' ? image.webp({ quality: preview.quality }).toBuffer() : image.removeAlpha().jpeg({ quality: preview.quality }).toBuffer();
  }
  if (channel === 'rgb') return sharp(bytes).removeAlpha().png().toBuffer();
  // channel=a: a PNG whose only content is the alpha channel (black, fully opaque if there was none).
  const { data, info } = await sharp(bytes).ensureAlpha().extractChannel(3).raw().toBuffer({ resolveWithObject: true });
  const rgba = Buffer.alloc(info.width * info.height * 4);
  for (let i = 0; i < info.width * info.height; i += 1) rgba[i * 4 + 3] = data[i] ?? 255;
  return sharp(rgba, { raw: { width: info.width, height: info.height, channels: 4 } }).png().toBuffer();
}
