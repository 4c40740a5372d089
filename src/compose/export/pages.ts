/** Page images: `pages/NNN.png` (or .jpg / .webp) in the output folder. */
import { availableParallelism } from 'node:os';
import sharp from 'sharp';
import { safeJoin, writeFileAtomic } from '../../util/fs.js';
import type { Rect } from '../types.js';
import { type ExportContext, type ExportedFile, pageFileStem } from './types.js';

export type PageImageFormat = 'png' | 'jpeg' | 'webp';

export interface PageImageOptions {
  readonly format?: PageImageFormat;
  /** JPEG / WebP quality, 1–100 (default 92). */
  readonly quality?: number;
}

const EXTENSION: Record<PageImageFormat, string> = { png: 'png', jpeg: 'jpg', webp: 'webp' };

export async function exportPageImages(ctx: ExportContext, options: PageImageOptions = {}): Promise<ExportedFile[]> {
  const format = options.format ?? 'png';
  const files: ExportedFile[] = [];
  for (const page of ctx.pages) {
    const bytes = await encodePage(await page.png(), format, options.quality ?? 92);
    const path = safeJoin(ctx.outDir, 'pages', `${pageFileStem(page.number)}.${EXTENSION[format]}`);
    await writeFileAtomic(path, bytes);
    files.push({ kind: 'png', path, bytes: bytes.length });
  }
  return files;
}

/** A composed PNG in the requested format (PNG passes through untouched). */
export async function encodePage(png: Buffer, format: PageImageFormat, quality: number): Promise<Buffer> {
  switch (format) {
    case 'png':
      return png;
    case 'jpeg':
      return sharp(png).jpeg({ quality, mozjpeg: false, chromaSubsampling: '4:4:4' }).toBuffer();
    case 'webp':
      return sharp(png).webp({ quality }).toBuffer();
  }
}

/** The lossy formats screen editions (CBZ, EPUB) use; the print pages stay PNG. */
export type ScreenImageFormat = 'webp' | 'jpeg';

export interface ScreenImageOptions {
  readonly format?: ScreenImageFormat;
  /** 1–100 (default 82): the starting quality; lowered when a page would pass `maxBytes`. */
  readonly quality?: number;
  /** The largest page a reader should have to load (default 2 MB). */
  readonly maxBytes?: number;
}

export const SCREEN_DEFAULTS = { format: 'webp', quality: 82, maxBytes: 2 * 1024 * 1024 } as const;
/** Screen pages encoded at once: a lossy encode is single-threaded and the slowest step of an export. */
export const SCREEN_ENCODERS = Math.min(4, availableParallelism());
/** Quality is lowered in these steps, never below the floor, to bring a page under the size budget. */
const QUALITY_STEP = 8;
const QUALITY_FLOOR = 40;

/**
 * A page for screens: cut to the trim box (readers show no bleed) and encoded lossily,
 * within the byte budget when any quality down to the floor reaches it.
 */
export async function screenPage(png: Buffer, trim: Rect, options: ScreenImageOptions = {}): Promise<{ bytes: Buffer; width: number; height: number; quality: number }> {
  const format = options.format ?? SCREEN_DEFAULTS.format;
  const maxBytes = options.maxBytes ?? SCREEN_DEFAULTS.maxBytes;
  const trimmed = await sharp(png).extract({ left: trim.x, top: trim.y, width: trim.width, height: trim.height }).removeAlpha().raw().toBuffer();
  const raw = { raw: { width: trim.width, height: trim.height, channels: 3 as const } };
  let quality = Math.min(100, Math.max(1, Math.round(options.quality ?? SCREEN_DEFAULTS.quality)));
  for (;;) {
    const image = sharp(trimmed, raw);
    // WebP effort 2: 1% larger than effort 4 at half the time. Plain libjpeg, not mozjpeg: about
    // 20% larger at a ninth of the time (docs/benchmarks.md); the 2 MB budget still holds.
    const bytes = await (format === 'webp' ? image.webp({ quality, effort: 2 }) : image.jpeg({ quality })).toBuffer();
    if (bytes.length <= maxBytes || quality <= QUALITY_FLOOR) return { bytes, width: trim.width, height: trim.height, quality };
    quality = Math.max(QUALITY_FLOOR, quality - QUALITY_STEP);
  }
}
