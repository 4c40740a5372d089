/**
 * The CBZ, an edition for screens: a zip of the pages cut to the trim box (a reader shows
 * no bleed) as WebP or JPEG (stored, they are compressed already), each kept under about
 * 2 MB, plus ComicInfo.xml. `format: 'png'` keeps the lossless print pages, bleed and all.
 */
import { safeJoin } from '../../util/fs.js';
import { mapAhead } from '../../util/map-ahead.js';
import { type ComicInfoPage, comicInfoXml } from './comicinfo.js';
import { type PageImageFormat, SCREEN_ENCODERS, type ScreenImageOptions, screenPage } from './pages.js';
import { type ExportContext, type ExportedFile, pageFileStem, slugify } from './types.js';
import { writeZip } from './zip.js';

export interface CbzOptions extends Omit<ScreenImageOptions, 'format'> {
  /** Page image format inside the archive (default webp, trimmed; png: the print pages as composed). */
  readonly format?: PageImageFormat;
}

const EXTENSION: Record<PageImageFormat, string> = { png: 'png', jpeg: 'jpg', webp: 'webp' };

export async function exportCbz(ctx: ExportContext, options: CbzOptions = {}): Promise<ExportedFile> {
  const format = options.format ?? 'webp';
  const path = safeJoin(ctx.outDir, `${ctx.slug ?? slugify(ctx.meta.title)}.cbz`);
  const bytes = await writeZip(path, async (add) => {
    const info: ComicInfoPage[] = [];
    const encoded = mapAhead(ctx.pages, format === 'png' ? 1 : SCREEN_ENCODERS, async (page) => {
      const png = await page.png();
      if (format === 'png') return { page, bytes: png, width: page.layout.canvas.width, height: page.layout.canvas.height };
      return { page, ...(await screenPage(png, page.layout.trim, { ...options, format })) };
    });
    for await (const { page, bytes, width, height } of encoded) {
      info.push({ width, height, size: bytes.length, cover: page.cover === true });
      add(`${pageFileStem(page.number)}.${EXTENSION[format]}`, bytes, false);
    }
    add('ComicInfo.xml', comicInfoXml(ctx.meta, info, ctx.characters), true);
  });
  return { kind: 'cbz', path, bytes };
}
