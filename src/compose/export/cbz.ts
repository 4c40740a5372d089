/**
 * The CBZ, an edition for screens: a zip of the pages cut to the trim box (a reader shows
 * no bleed) as WebP or JPEG (stored, they are compressed already), each kept under about
 * 2 MB, plus ComicInfo.xml. `format: 'png'` keeps the lossless print pages, bleed and all.
 */
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { ZipFile } from 'yazl';
import { safeJoin, writeStreamAtomic } from '../../util/fs.js';
import { type ComicInfoPage, comicInfoXml } from './comicinfo.js';
import { type PageImageFormat, type ScreenImageOptions, screenPage } from './pages.js';
import { type ExportContext, type ExportedFile, pageFileStem, slugify } from './types.js';

export interface CbzOptions extends Omit<ScreenImageOptions, 'format'> {
  /** Page image format inside the archive (default webp, trimmed; png: the print pages as composed). */
  readonly format?: PageImageFormat;
}

/** A fixed timestamp, so the same pages give a byte-identical archive. */
const ENTRY_TIME = new Date(Date.UTC(2000, 0, 1));
const EXTENSION: Record<PageImageFormat, string> = { png: 'png', jpeg: 'jpg', webp: 'webp' };

export async function exportCbz(ctx: ExportContext, options: CbzOptions = {}): Promise<ExportedFile> {
  const format = options.format ?? 'webp';
  const zip = new ZipFile();
  // yazl's output is a stream.PassThrough; its typings only say NodeJS.ReadableStream.
  const output = zip.outputStream as unknown as Readable;
  // The atomic writer attaches to the stream only after creating the folder; until then a
  // failure destroying it must not surface as an uncaught 'error' (the writer still sees it).
  output.on('error', () => undefined);
  const path = safeJoin(ctx.outDir, `${ctx.slug ?? slugify(ctx.meta.title)}.cbz`);
  // Stream the archive out while pages are added, so pages do not pile up in memory.
  const written = writeStreamAtomic(path, output);
  try {
    const info: ComicInfoPage[] = [];
    for (const page of ctx.pages) {
      const png = await page.png();
      let bytes: Buffer;
      if (format === 'png') {
        bytes = png;
        info.push({ width: page.layout.canvas.width, height: page.layout.canvas.height, size: bytes.length, cover: page.cover === true });
      } else {
        const screen = await screenPage(png, page.layout.trim, { ...options, format });
        bytes = screen.bytes;
        info.push({ width: screen.width, height: screen.height, size: bytes.length, cover: page.cover === true });
      }
      zip.addBuffer(bytes, `${pageFileStem(page.number)}.${EXTENSION[format]}`, { compress: false, mtime: ENTRY_TIME, mode: 0o100644 });
    }
    const xml = Buffer.from(comicInfoXml(ctx.meta, info, ctx.characters), 'utf8');
    zip.addBuffer(xml, 'ComicInfo.xml', { compress: true, mtime: ENTRY_TIME, mode: 0o100644 });
  } catch (error) {
    // Fail the stream: the atomic write then removes its temp file and nothing is left behind.
    output.destroy(error as Error);
    await written.catch(() => undefined);
    throw error;
  }
  zip.end();
  await written;
  return { kind: 'cbz', path, bytes: (await stat(path)).size };
}
