/** Page images: `pages/NNN.png` (or .jpg / .webp) in the output folder. */
import sharp from 'sharp';
import { safeJoin, writeFileAtomic } from '../../util/fs.js';
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
