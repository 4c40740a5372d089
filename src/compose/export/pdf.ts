/**
 * The print PDF: one PDF page per comic page at full resolution. The MediaBox and BleedBox
 * are the whole canvas (trim plus bleed), the TrimBox is where the printer cuts.
 *
 * pdf-lib builds the document (pages, boxes, content streams, metadata, every object's
 * bytes). Its own `save()` would hold every page image and then the whole file in memory,
 * copying byte by byte; a 100-page comic at 300 dpi is over a gigabyte. So the objects are
 * written out as a stream here instead, and each page's image is read only when its turn
 * comes: memory stays at about one page, whatever the length of the comic.
 */
import {
  concatTransformationMatrix,
  drawObject,
  PDFCrossRefSection,
  PDFDocument,
  PDFHeader,
  type PDFObject,
  PDFRef,
  PDFTrailer,
  PDFTrailerDict,
  popGraphicsState,
  pushGraphicsState,
} from 'pdf-lib';
import sharp from 'sharp';
import { ComicError } from '../../errors.js';
import { safeJoin, writeStreamAtomic } from '../../util/fs.js';
import { pngHeader, pngImageData } from './png-info.js';
import { type ExportContext, type ExportedFile, type ExportPage, slugify } from './types.js';

export async function exportPdf(ctx: ExportContext): Promise<ExportedFile> {
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

  const pointsPerPixel = 72 / meta.format.dpi;
  const images = new Map<number, ExportPage>();
  for (const page of ctx.pages) {
    // The image object is only reserved here; its bytes are streamed when the file is written.
    const imageRef = doc.context.nextRef();
    images.set(imageRef.objectNumber, page);
    const { canvas, trim } = page.layout;
    const width = canvas.width * pointsPerPixel;
    const height = canvas.height * pointsPerPixel;
    const pdfPage = doc.addPage([width, height]);
    pdfPage.setBleedBox(0, 0, width, height);
    // PDF's y axis points up: the trim's top edge is measured from the bottom.
    pdfPage.setTrimBox(trim.x * pointsPerPixel, (canvas.height - trim.y - trim.height) * pointsPerPixel, trim.width * pointsPerPixel, trim.height * pointsPerPixel);
    const name = pdfPage.node.newXObject('Page', imageRef);
    pdfPage.pushOperators(pushGraphicsState(), concatTransformationMatrix(width, 0, 0, height, 0, 0), drawObject(name), popGraphicsState());
  }
  await doc.flush();

  const path = safeJoin(ctx.outDir, `${ctx.slug ?? slugify(meta.title)}.pdf`);
  let bytes = 0;
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
        const page = images.get(ref.objectNumber)!;
        const { dict, data } = await pageImage(doc, page);
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
  return { kind: 'pdf', path, bytes };
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
async function pageImage(doc: PDFDocument, page: ExportPage) {
  const png = await printablePng(await page.png());
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

/** The PNG as 8-bit, non-interlaced RGB or grey, which PDF can take as it is. */
async function printablePng(png: Buffer): Promise<Buffer> {
  const header = pngHeader(png);
  if (header && header.bitDepth === 8 && !header.interlaced && (header.colorType === 2 || header.colorType === 0)) return png;
  return sharp(png).flatten({ background: '#ffffff' }).toColourspace('srgb').png({ compressionLevel: 2, palette: false }).toBuffer();
}
