/**
 * Exports of a composed comic: page images, the PDF (print or screen edition, with a text
 * layer), the screen CBZ, the fixed-layout EPUB and the webtoon strip.
 * `exportAll` runs the requested kinds one after another (each streams pages one at a
 * time, so memory stays flat however long the comic is).
 */
import type { ComposedPage } from '../types.js';
import { type CbzOptions, exportCbz } from './cbz.js';
import { exportEpub, type EpubOptions } from './epub.js';
import { exportPageImages, type PageImageOptions } from './pages.js';
import { exportPdf, exportPdfArt, type PdfOptions } from './pdf.js';
import type { ExportContext, ExportedFile, ExportKind, ExportPage } from './types.js';
import { exportWebtoon, type WebtoonOptions } from './webtoon.js';

export { comicInfoXml } from './comicinfo.js';
export { exportCbz, type CbzOptions } from './cbz.js';
export { exportEpub, type EpubOptions } from './epub.js';
export { exportPageImages, type PageImageFormat, type PageImageOptions, SCREEN_DEFAULTS, type ScreenImageFormat, type ScreenImageOptions, screenPage } from './pages.js';
export { exportPdf, exportPdfArt, type PdfEdition, type PdfOptions } from './pdf.js';
export { letteringShapes, type LetteringShape } from './vector.js';
export { exportWebtoon, planWebtoon, type WebtoonOptions, type WebtoonPlan } from './webtoon.js';
export * from './types.js';

export interface ExportOptions {
  readonly pages?: PageImageOptions;
  readonly pdf?: PdfOptions;
  readonly cbz?: CbzOptions;
  readonly epub?: EpubOptions;
  readonly webtoon?: WebtoonOptions;
}

export async function exportAll(kinds: readonly ExportKind[], ctx: ExportContext, options: ExportOptions = {}): Promise<ExportedFile[]> {
  const files: ExportedFile[] = [];
  for (const kind of new Set(kinds)) {
    switch (kind) {
      case 'png':
        files.push(...(await exportPageImages(ctx, options.pages)));
        break;
      case 'pdf':
        files.push(await exportPdf(ctx, options.pdf));
        break;
      case 'pdf-art':
        files.push(await exportPdfArt(ctx, options.pdf));
        break;
      case 'cbz':
        files.push(await exportCbz(ctx, options.cbz));
        break;
      case 'epub':
        files.push(await exportEpub(ctx, options.epub));
        break;
      case 'webtoon':
        files.push(...(await exportWebtoon(ctx, options.webtoon)));
        break;
    }
  }
  return files;
}

/**
 * A composed page held in memory, as an export page; `art` composes it without lettering
 * (for the vector and lettering-free PDFs).
 */
export function exportPageFrom(number: number, composed: ComposedPage, cover = false, art?: () => Promise<Buffer>): ExportPage {
  return {
    number,
    layout: composed.layout,
    lettering: withDrawings(composed.lettering, composed.drawings),
    cover,
    png: () => Promise.resolve(composed.png),
    ...(art === undefined ? {} : { art }),
  };
}

/** Each lettering box with its drawing (`svg`), when the drawings are there for all of them. */
export function withDrawings<T extends ComposedPage['lettering'][number]>(boxes: readonly T[], drawings: readonly string[] | undefined): (T & { svg?: string })[] {
  if (drawings === undefined || drawings.length !== boxes.length) return [...boxes];
  return boxes.map((box, i) => ({ ...box, svg: drawings[i]! }));
}
