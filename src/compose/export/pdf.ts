/**
 * The PDF: one PDF page per comic page at full resolution. The MediaBox and BleedBox are the
 * whole canvas (trim plus bleed), the TrimBox is where the printer cuts. The print edition's
 * CropBox is the MediaBox (a printer gets the bleed); the screen edition's is the TrimBox,
 * so on-screen readers show the page as cut.
 *
 * The lettering is vector graphics over the page's art without lettering: every balloon,
 * tail, caption and sound effect, and the glyph outlines of their text, redrawn from the very
 * SVG the composer rasterised (./vector.ts), so it is sharp at any zoom. Over it lies the
 * lettering as real text (every line, in the lettering's own fonts, embedded as subsets),
 * written invisibly (text render mode 3) over the letters: the PDF can be searched, selected,
 * copied and translated, and `pdftotext` gives the dialogue. A page whose lettering cannot be
 * redrawn (an older cached page without its drawings, no panels at hand for the art, SVG
 * outside the vocabulary) keeps the raster lettering drawn with the page, under the same text.
 * The lettering-free edition (`lettering: 'none'`, the `pdf-art` export) is the art alone, with
 * no text at all: what a translator letters anew.
 *
 * pdf-lib builds the document (pages, boxes, content streams, metadata, every object's
 * bytes). Its own `save()` would hold every page image and then the whole file in memory,
 * copying byte by byte; a 100-page comic at 300 dpi is over a gigabyte. So the objects are
 * written out as a stream here instead, and each page's image is read only when its turn
 * comes: memory stays at about one page, whatever the length of the comic.
 */
import fontkit from '@pdf-lib/fontkit';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import {
  beginText,
  concatTransformationMatrix,
  endText,
  type PDFFont,
  type PDFPage,
  drawObject,
  PDFCrossRefSection,
  PDFDocument,
  PDFHeader,
  PDFName,
  type PDFObject,
  PDFRef,
  PDFTrailer,
  PDFTrailerDict,
  popGraphicsState,
  pushGraphicsState,
  setCharacterSqueeze,
  setFontAndSize,
  setTextMatrix,
  setTextRenderingMode,
  showText,
  TextRenderingMode,
} from 'pdf-lib';
import sharp from 'sharp';
import { ComicError } from '../../errors.js';
import { safeJoin, writeStreamAtomic } from '../../util/fs.js';
import { face, type FaceName } from '../fonts.js';
import { cssColour } from '../raster.js';
import type { LetteringKind } from '../types.js';
import { pngHeader, pngImageData } from './png-info.js';
import { type ExportContext, type ExportedFile, type ExportLettering, type ExportPage, slugify } from './types.js';
import { f, letteringShapes, type LetteringShape, shapeOperators } from './vector.js';

export type PdfEdition = 'print' | 'screen';

export interface PdfOptions {
  /** print (default): CropBox = MediaBox, with the bleed; screen: CropBox = TrimBox. */
  readonly edition?: PdfEdition;
  /**
   * vector (default): the lettering redrawn as vectors over the art, with the invisible text
   * over it; none: the art alone, no lettering and no text (the translators' edition, named
   * `<slug>-art.pdf`).
   */
  readonly lettering?: 'vector' | 'none';
}

/** The face each kind of lettering is drawn in (as src/compose/lettering letters them). */
const KIND_FACE: Record<LetteringKind, FaceName> = {
  speech: 'dialogue',
  thought: 'dialogue',
  shout: 'dialogue',
  whisper: 'whisper',
  caption: 'caption',
  sfx: 'display',
};
/** The bundled font files of those faces (src/compose/fonts.ts). */
const FACE_FILES: Record<FaceName, string> = {
  dialogue: '@fontsource/comic-neue/files/comic-neue-latin-700-normal.woff2',
  whisper: '@fontsource/comic-neue/files/comic-neue-latin-400-normal.woff2',
  caption: '@fontsource/comic-neue/files/comic-neue-latin-700-italic.woff2',
  display: '@fontsource/bangers/files/bangers-latin-400-normal.woff2',
};
/** Their PostScript names, for the subsets' BaseFont. */
const POSTSCRIPT_NAMES: Record<FaceName, string> = {
  dialogue: 'ComicNeue-Bold',
  whisper: 'ComicNeue-Regular',
  caption: 'ComicNeue-BoldItalic',
  display: 'Bangers-Regular',
};
/** As src/compose/lettering/text.ts sets lines: baseline to baseline, in type sizes. */
const LEADING = 1.12;
const require = createRequire(import.meta.url);

export async function exportPdf(ctx: ExportContext, options: PdfOptions = {}): Promise<ExportedFile> {
  const { meta } = ctx;
  // No dates or ids that change between runs: the same pages give the same file.
  const doc = await PDFDocument.create({ updateMetadata: false });
  doc.setTitle(meta.title);
  const writers = meta.authors.filter((a) => a.role === 'writer').map((a) => a.name);
  if (writers.length > 0) doc.setAuthor(writers.join(', '));
  if (meta.series !== null) doc.setSubject(meta.issue === null ? meta.series : `${meta.series} #${meta.issue}`);
  doc.setLanguage(meta.language);
  doc.setCreator('comic');
  doc.setProducer('comic (pdf-lib)');

  doc.registerFontkit(fontkit);
  const fonts = new Map<FaceName, PDFFont>();
  const tags = subsetTags(ctx.pages);
  const fontFor = async (name: FaceName): Promise<PDFFont> => {
    let font = fonts.get(name);
    if (font === undefined) {
      // A subset is named TAG+Name (ISO 32000 9.6.4); the tag comes from the characters in
      // it, not pdf-lib's random suffix, so the same pages give the same file.
      const customName = `${tags.get(name) ?? 'AAAAAA'}+${POSTSCRIPT_NAMES[name]}`;
      font = await doc.embedFont(await readFile(require.resolve(FACE_FILES[name])), { subset: true, customName });
      fonts.set(name, font);
    }
    return font;
  };
  const edition = options.edition ?? 'print';
  const artOnly = options.lettering === 'none';

  const pointsPerPixel = 72 / meta.format.dpi;
  const images = new Map<number, PageImage>();
  for (const page of ctx.pages) {
    const vectors = artOnly ? null : vectorLettering(page);
    // The image object is only reserved here; its bytes are streamed when the file is written.
    const imageRef = doc.context.nextRef();
    images.set(imageRef.objectNumber, { page, source: artOnly ? 'art' : vectors === null ? 'lettered' : 'art-or-lettered' });
    const { canvas, trim } = page.layout;
    const width = canvas.width * pointsPerPixel;
    const height = canvas.height * pointsPerPixel;
    const pdfPage = doc.addPage([width, height]);
    pdfPage.setBleedBox(0, 0, width, height);
    // PDF's y axis points up: the trim's top edge is measured from the bottom.
    const trimBox = [trim.x * pointsPerPixel, (canvas.height - trim.y - trim.height) * pointsPerPixel, trim.width * pointsPerPixel, trim.height * pointsPerPixel] as const;
    pdfPage.setTrimBox(...trimBox);
    if (edition === 'screen') pdfPage.setCropBox(...trimBox);
    else pdfPage.setCropBox(0, 0, width, height);
    const name = pdfPage.node.newXObject('Page', imageRef);
    pdfPage.pushOperators(pushGraphicsState(), concatTransformationMatrix(width, 0, 0, height, 0, 0), drawObject(name), popGraphicsState());
    if (vectors !== null) await writeVectorLettering(doc, pdfPage, vectors, canvas.height * pointsPerPixel, pointsPerPixel);
    if (!artOnly) await writeTextLayer(pdfPage, page, pointsPerPixel, fontFor);
  }
  await doc.flush();

  const path = safeJoin(ctx.outDir, `${ctx.slug ?? slugify(meta.title)}${artOnly ? '-art' : ''}.pdf`);
  let bytes = 0;
  // Each page's image is made while the one before it is written (the art is composed on
  // demand, which takes about as long): at most two pages' images are held at once.
  const order = [...images.keys()].sort((a, b) => a - b);
  const ahead = new Map<number, Promise<Buffer>>();
  const imageFor = (n: number): Promise<Buffer> => {
    let made = ahead.get(n);
    if (made === undefined) {
      const { page, source } = images.get(n)!;
      made = imageOf(page, source);
      made.catch(() => undefined); // awaited in its turn; not an unhandled rejection meanwhile
      ahead.set(n, made);
    }
    return made;
  };
  async function* file(): AsyncGenerator<Uint8Array> {
    const emit = (chunk: Uint8Array) => {
      bytes += chunk.length;
      return chunk;
    };
    yield emit(serialize(PDFHeader.forVersion(1, 7)));
    yield emit(Buffer.from('\n\n'));
    const xref = PDFCrossRefSection.create();
    const objects: [PDFRef, PDFObject | null][] = [
      ...doc.context.enumerateIndirectObjects(),
      ...[...images.keys()].map((n): [PDFRef, null] => [PDFRef.of(n), null]),
    ].sort(([a], [b]) => a.objectNumber - b.objectNumber);
    for (const [ref, object] of objects) {
      xref.addEntry(ref, bytes);
      yield emit(Buffer.from(`${ref.objectNumber} ${ref.generationNumber} obj\n`));
      if (object !== null) {
        yield emit(serialize(object));
      } else {
        const made = imageFor(ref.objectNumber);
        const next = order[order.indexOf(ref.objectNumber) + 1];
        if (next !== undefined) imageFor(next);
        ahead.delete(ref.objectNumber);
        const { dict, data } = await pageImage(doc, images.get(ref.objectNumber)!.page, await made);
        yield emit(serialize(dict));
        yield emit(Buffer.from('\nstream\n'));
        yield emit(data);
        yield emit(Buffer.from('\nendstream'));
      }
      yield emit(Buffer.from('\nendobj\n\n'));
    }
    const xrefOffset = bytes;
    yield emit(serialize(xref));
    yield emit(Buffer.from('\n'));
    const { Root, Info, Encrypt, ID } = doc.context.trailerInfo;
    yield emit(serialize(PDFTrailerDict.of(doc.context.obj({ Size: doc.context.largestObjectNumber + 1, Root, Info, Encrypt, ID }))));
    yield emit(Buffer.from('\n\n'));
    yield emit(serialize(PDFTrailer.forLastCrossRefSectionOffset(xrefOffset)));
  }
  await writeStreamAtomic(path, file());
  return { kind: artOnly ? 'pdf-art' : 'pdf', path, bytes };
}

/** The lettering-free PDF for translators: the print (or screen) PDF's pages with only their art. */
export function exportPdfArt(ctx: ExportContext, options: PdfOptions = {}): Promise<ExportedFile> {
  return exportPdf(ctx, { ...options, lettering: 'none' });
}

/**
 * Which image a PDF page shows: the composed page (its lettering in the pixels), the art
 * alone, or the art where it can be had (the lettering is drawn over it as vectors) and
 * else the composed page, so a page is never left without its lettering.
 */
interface PageImage {
  readonly page: ExportPage;
  readonly source: 'lettered' | 'art' | 'art-or-lettered';
}

/**
 * The page's lettering as vector shapes, one list per piece; null when the page is best left
 * as composed: it has no lettering, no art to draw it over, or a piece whose drawing is
 * missing (an older cache entry) or outside the vocabulary the PDF redraws.
 */
function vectorLettering(page: ExportPage): LetteringShape[][] | null {
  if (page.art === undefined || page.lettering.length === 0) return null;
  const all: LetteringShape[][] = [];
  for (const box of page.lettering) {
    if (box.svg === undefined) return null;
    const shapes = letteringShapes(box.svg);
    if (shapes === null) return null;
    all.push(shapes);
  }
  return all;
}

/**
 * Draws the lettering's shapes over the art in a content stream of their own, in canvas
 * pixels: one matrix maps them onto the page (y down to PDF's y up).
 */
async function writeVectorLettering(doc: PDFDocument, pdfPage: PDFPage, pieces: readonly LetteringShape[][], pageHeight: number, pointsPerPixel: number): Promise<void> {
  const colours = new Map<string, readonly [number, number, number]>();
  for (const shape of pieces.flat()) {
    for (const css of [shape.fill, shape.stroke]) {
      if (css !== null && !colours.has(css)) colours.set(css, (await cssColour(css)).map((c) => c / 255) as unknown as readonly [number, number, number]);
    }
  }
  const states = new Map<string, string>();
  const alpha = (fill: number, stroke: number): string => {
    const id = `${f(fill)} ${f(stroke)}`;
    let name = states.get(id);
    if (name === undefined) {
      name = `LA${states.size}`;
      states.set(id, name);
      pdfPage.node.setExtGState(PDFName.of(name), doc.context.obj({ Type: 'ExtGState', ca: Number(f(fill)), CA: Number(f(stroke)) }));
    }
    return name;
  };
  const body = pieces.map((shapes) => shapeOperators(shapes, (css) => colours.get(css)!, alpha)).join('');
  if (body === '') return;
  const scale = Math.round(pointsPerPixel * 1e8) / 1e8;
  const content = `q\n${scale} 0 0 ${-scale} 0 ${Math.round(pageHeight * 1e6) / 1e6} cm\n${body}Q\n`;
  pdfPage.node.addContentStream(doc.context.register(doc.context.flateStream(content)));
}

/** Six capitals per face, from the characters its subset will hold. */
function subsetTags(pages: readonly ExportPage[]): Map<FaceName, string> {
  const chars = new Map<FaceName, Set<string>>();
  for (const page of pages) {
    for (const box of page.lettering) {
      const name = KIND_FACE[box.kind];
      const set = chars.get(name) ?? new Set<string>();
      for (const line of box.lines ?? []) for (const c of line) set.add(c);
      chars.set(name, set);
    }
  }
  const tags = new Map<FaceName, string>();
  for (const [name, set] of chars) {
    const digest = createHash('sha256').update(name).update([...set].sort().join('')).digest();
    tags.set(name, [...digest.subarray(0, 6)].map((b) => String.fromCharCode(65 + (b % 26))).join(''));
  }
  return tags;
}

/**
 * The lettering's lines as invisible text over where they are drawn: each line centred in
 * its box's body, baselines spaced as the lettering spaces
 * them, squeezed to the width the lettering measured, so a selection covers the letters.
 */
async function writeTextLayer(pdfPage: PDFPage, page: ExportPage, pointsPerPixel: number, fontFor: (name: FaceName) => Promise<PDFFont>): Promise<void> {
  const lettered = page.lettering.filter((box): box is ExportLettering & { lines: readonly string[]; size: number } => (box.lines?.length ?? 0) > 0 && (box.size ?? 0) > 0);
  if (lettered.length === 0) return;
  const canvasHeight = page.layout.canvas.height;
  const operators = [pushGraphicsState(), beginText(), setTextRenderingMode(TextRenderingMode.Invisible)];
  for (const box of lettered) {
    const faceName = KIND_FACE[box.kind];
    const metrics = face(faceName);
    const font = await fontFor(faceName);
    const key = pdfPage.node.newFontDictionary(font.name, font.ref);
    const { size, lines } = box;
    const blockHeight = size * LEADING * (lines.length - 1) + size * (metrics.ascent + metrics.descent) * 0.82;
    const top = box.y + (box.height - blockHeight) / 2;
    operators.push(setFontAndSize(key, size * pointsPerPixel));
    lines.forEach((line, i) => {
      const text = line.replace(/\s+/g, ' ').trim();
      if (text === '') return;
      const drawn = metrics.shape(text, size).width;
      const natural = font.widthOfTextAtSize(text, size);
      const x = box.x + (box.width - drawn) / 2;
      const baseline = top + size * metrics.ascent * 0.82 + i * size * LEADING;
      operators.push(
        setCharacterSqueeze(natural > 0 ? Math.max(1, Math.min(1000, (100 * drawn) / natural)) : 100),
        setTextMatrix(1, 0, 0, 1, x * pointsPerPixel, (canvasHeight - baseline) * pointsPerPixel),
        showText(font.encodeText(text)),
      );
    });
  }
  operators.push(endText(), popGraphicsState());
  pdfPage.pushOperators(...operators);
}

function serialize(object: { sizeInBytes(): number; copyBytesInto(buffer: Uint8Array, offset: number): number }): Uint8Array {
  const buffer = new Uint8Array(object.sizeInBytes());
  object.copyBytesInto(buffer, 0);
  return buffer;
}

/**
 * The page as an image XObject: the PNG's compressed rows as they are (PNG's IDAT is a zlib
 * stream with per-row predictors, which FlateDecode with Predictor 15 reads), so pages are
 * embedded losslessly without re-encoding.
 */
async function pageImage(doc: PDFDocument, page: ExportPage, image: Buffer) {
  const png = await printablePng(image);
  const header = pngHeader(png)!;
  const { canvas } = page.layout;
  if (header.width !== canvas.width || header.height !== canvas.height) {
    throw new ComicError(
      'INTERNAL',
      `page ${page.number}: the composed image is ${header.width}×${header.height} px but its layout's canvas is ${canvas.width}×${canvas.height} px`,
    );
  }
  const grey = header.colorType === 0;
  const data = pngImageData(png);
  const dict = doc.context.obj({
    Type: 'XObject',
    Subtype: 'Image',
    Width: header.width,
    Height: header.height,
    ColorSpace: grey ? 'DeviceGray' : 'DeviceRGB',
    BitsPerComponent: 8,
    Filter: 'FlateDecode',
    DecodeParms: { Predictor: 15, Colors: grey ? 1 : 3, BitsPerComponent: 8, Columns: header.width },
    Length: data.length,
  });
  return { dict, data };
}

async function imageOf(page: ExportPage, source: PageImage['source']): Promise<Buffer> {
  if (source === 'lettered') return page.png();
  if (page.art === undefined) {
    if (source === 'art-or-lettered') return page.png();
    throw new ComicError('NOT_CACHED', `page ${page.number}: its art without lettering is not at hand for the lettering-free PDF`, {
      hint: 'the panels it is composed from are no longer in the cache: run comic generate (or comic compose) again',
    });
  }
  try {
    return await page.art();
  } catch (error) {
    // The vectors are drawn over the lettered page then: the same lettering, twice, in the same place.
    if (source === 'art-or-lettered') return page.png();
    throw error;
  }
}

/** The PNG as 8-bit, non-interlaced RGB or grey, which PDF can take as it is. */
async function printablePng(png: Buffer): Promise<Buffer> {
  const header = pngHeader(png);
  if (header && header.bitDepth === 8 && !header.interlaced && (header.colorType === 2 || header.colorType === 0)) return png;
  return sharp(png).flatten({ background: '#ffffff' }).toColourspace('srgb').png({ compressionLevel: 2, palette: false }).toBuffer();
}
