/** The CBZ: a zip of the page images (stored, they are compressed already) plus ComicInfo.xml. */
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import sharp from 'sharp';
import { ZipFile } from 'yazl';
import { safeJoin, writeStreamAtomic } from '../../util/fs.js';
import { type ComicInfoPage, comicInfoXml } from './comicinfo.js';
import { encodePage, type PageImageFormat } from './pages.js';
import { pngHeader } from './png-info.js';
import { type ExportContext, type ExportedFile, pageFileStem, slugify } from './types.js';

export interface CbzOptions {
  /** Page image format inside the archive (default png, as composed). */
  readonly format?: PageImageFormat;
  readonly quality?: number;
}

/** A fixed timestamp, so the same pages give a byte-identical archive. */
const ENTRY_TIME = new Date(Date.UTC(2000, 0, 1));
const EXTENSION: Record<PageImageFormat, string> = { png: 'png', jpeg: 'jpg', webp: 'webp' };

export async function exportCbz(ctx: ExportContext, options: CbzOptions = {}): Promise<ExportedFile> {
  const format = options.format ?? 'png';
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
      const bytes = await encodePage(await page.png(), format, options.quality ?? 92);
      info.push({ ...(await imageSize(bytes)), size: bytes.length });
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

async function imageSize(bytes: Buffer): Promise<{ width: number; height: number }> {
  const header = pngHeader(bytes);
  if (header) return { width: header.width, height: header.height };
  const meta = await sharp(bytes).metadata();
  return { width: meta.width ?? -1, height: meta.height ?? -1 };
}
