/**
 * The print PDF: one PDF page per comic page at full resolution. The MediaBox and BleedBox
 * are the whole canvas (trim plus bleed), the TrimBox is where the printer cuts.
 */
import {
  concatTransformationMatrix,
  drawObject,
  PDFDocument,
  popGraphicsState,
  pushGraphicsState,
} from 'pdf-lib';
import sharp from 'sharp';
import { safeJoin, writeFileAtomic } from '../../util/fs.js';
import { pngHeader, pngImageData } from './png-info.js';
import { type ExportContext, type ExportedFile, slugify } from './types.js';

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
  for (const page of ctx.pages) {
    const png = await printablePng(await page.png());
    const header = pngHeader(png)!;
    const image = doc.context.register(
      doc.context.stream(pngImageData(png), {
        Type: 'XObject',
        Subtype: 'Image',
        Width: header.width,
        Height: header.height,
        ColorSpace: header.colorType === 0 ? 'DeviceGray' : 'DeviceRGB',
        BitsPerComponent: 8,
        Filter: 'FlateDecode',
        DecodeParms: { Predictor: 15, Colors: header.colorType === 0 ? 1 : 3, BitsPerComponent: 8, Columns: header.width },
      }),
    );
    const { canvas, trim } = page.layout;
    const width = canvas.width * pointsPerPixel;
    const height = canvas.height * pointsPerPixel;
    const pdfPage = doc.addPage([width, height]);
    pdfPage.setBleedBox(0, 0, width, height);
    // PDF's y axis points up: the trim's top edge is measured from the bottom.
    pdfPage.setTrimBox(
      trim.x * pointsPerPixel,
      (canvas.height - trim.y - trim.height) * pointsPerPixel,
      trim.width * pointsPerPixel,
      trim.height * pointsPerPixel,
    );
    const name = pdfPage.node.newXObject('Page', image);
    pdfPage.pushOperators(pushGraphicsState(), concatTransformationMatrix(width, 0, 0, height, 0, 0), drawObject(name), popGraphicsState());
  }
  const bytes = await doc.save({ useObjectStreams: false });
  const path = safeJoin(ctx.outDir, `${ctx.slug ?? slugify(meta.title)}.pdf`);
  await writeFileAtomic(path, bytes);
  return { kind: 'pdf', path, bytes: bytes.length };
}

/** The PNG as 8-bit, non-interlaced RGB or grey, which PDF can take as it is. */
async function printablePng(png: Buffer): Promise<Buffer> {
  const header = pngHeader(png);
  if (header && header.bitDepth === 8 && !header.interlaced && (header.colorType === 2 || header.colorType === 0)) return png;
  return sharp(png).flatten({ background: '#ffffff' }).toColourspace('srgb').png({ compressionLevel: 2, palette: false }).toBuffer();
}

