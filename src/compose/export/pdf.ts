/**
 * The PDF: one PDF page per comic page at full resolution. The MediaBox and BleedBox are the
 * whole canvas (trim plus bleed), the TrimBox is where the printer cuts. The print edition's
 * CropBox is the MediaBox (a printer gets the bleed); the screen edition's is the TrimBox,
 * so on-screen readers show the page as cut.
 *
 * The lettering is vector graphics over the page's art without lettering: every balloon,
 * tail, caption and sound effect, and the glyph outlines of their text, redrawn from the very
 * SVG the composer rasterised (./vector.ts), so it is sharp at any zoom. Over it lies the
 * lettering as real text (every line, run by run in the font files that draw it: the face,
 * its emphasis face, the Noto fallbacks for Japanese, Chinese, Korean and symbols; each
 * embedded as a subset of the glyphs used), written invisibly (text render mode 3) over the
 * letters: the PDF can be searched, selected, copied and translated, and `pdftotext` gives the
 * dialogue as written. A page whose lettering cannot be
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
import { isAbsolute } from 'node:path';
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
import { face, FACE_FILES } from '../fonts.js';
import { KIND_FACE, LEADING } from '../lettering/text.js';
import { cssColour } from '../raster.js';
import type { LetteringKind } from '../types.js';
import { pngHeader, pngImageData } from './png-info.js';
import { type ExportContext, type ExportedFile, type ExportLettering, type ExportLineRun, type ExportPage, slugify } from './types.js';
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
  const fonts = new Map<string, TextFont | null>();
  const tags = subsetTags(ctx.pages);
  /** The font file embedded (once, in the order first used); null when it cannot be read. */
  const fontFor = async (file: string): Promise<TextFont | null> => {
    let font = fonts.get(file);
    if (font === undefined) {
      font = null;
      try {
        const data = await sfntBytes(await readFile(isAbsolute(file) ? file : require.resolve(file)));
        // A subset is named TAG+Name (ISO 32000 9.6.4); the tag comes from the characters in
        // it, not pdf-lib's random suffix, so the same pages give the same file.
        const customName = `${tags.get(file) ?? 'AAAAAA'}+${postscriptName(data)}`;
        const embedded = await doc.embedFont(data, { subset: true, customName });
        font = { font: embedded, chars: new Set(embedded.getCharacterSet()) };
      } catch {
        // A cached box naming a font file this install does not have (another Fontsource
        // version): its runs are written in the kind's face instead.
        if (Object.values(FACE_FILES).includes(file)) throw new ComicError('INTERNAL', `cannot embed the bundled lettering font ${file} in the PDF`, { hint: 'reinstall the dependencies (npm ci): the @fontsource packages ship the fonts' });
      }
      fonts.set(file, font);
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

/** One embedded font file of the text layer and the code points it has glyphs for. */
interface TextFont {
  readonly font: PDFFont;
  readonly chars: ReadonlySet<number>;
}

/**
 * The font as TrueType/OpenType. pdf-lib's fontkit subsets a WOFF2 file (as Fontsource ships
 * every font) by copying its transformed glyf table, which leaves the embedded subset without
 * a single outline: the text is found and copied, but drawn as nothing wherever a reader shows
 * it (a translator's tool that makes the layer visible, say). So WOFF2 is unpacked first.
 */
async function sfntBytes(data: Buffer): Promise<Uint8Array> {
  if (data.subarray(0, 4).toString('latin1') !== 'wOF2') return data;
  const { default: decompress } = await import('wawoff2/decompress.js');
  return decompress(data);
}

/** The font's own PostScript name (ComicNeue-Bold, NotoSansJP-Thin), as a PDF name may hold it. */
function postscriptName(data: Uint8Array): string {
  let name = '';
  try {
    name = (fontkit.create(data) as { postscriptName?: string }).postscriptName ?? '';
  } catch {
    // pdf-lib reads it again, and says what is wrong with it.
  }
  return name.replace(/[^A-Za-z0-9._-]/g, '') || 'Font';
}

/**
 * A box's runs when they are whole: one list per line, each run with its text, font file and
 * place. Older cached boxes have none (and a damaged cache entry is not trusted): null.
 */
function runsOf(box: ExportLettering & { lines: readonly string[] }): readonly (readonly ExportLineRun[])[] | null {
  const { runs } = box;
  if (!Array.isArray(runs) || runs.length !== box.lines.length) return null;
  const whole = runs.every(
    (line) =>
      Array.isArray(line) &&
      line.every((r: ExportLineRun) => typeof r?.text === 'string' && typeof r.file === 'string' && r.file !== '' && Number.isFinite(r.x) && Number.isFinite(r.width) && r.width >= 0),
  );
  return whole ? runs : null;
}

/** The primary face's font file of the pieces of lettering of `kind`. */
const kindFile = (kind: LetteringKind): string => FACE_FILES[KIND_FACE[kind]];

/**
 * Six capitals per font file, from the characters its subset will hold (a face's own file is
 * hashed under the face's name, as before there were runs: the same lettering keeps its names).
 */
function subsetTags(pages: readonly ExportPage[]): Map<string, string> {
  const chars = new Map<string, Set<string>>();
  const add = (file: string, text: string) => {
    const set = chars.get(file) ?? new Set<string>();
    for (const c of text) set.add(c);
    chars.set(file, set);
  };
  for (const page of pages) {
    for (const box of page.lettering) {
      const lines = box.lines ?? [];
      const runs = runsOf({ ...box, lines });
      if (runs === null) for (const line of lines) add(kindFile(box.kind), line);
      else for (const run of runs.flat()) add(run.file, run.text);
    }
  }
  const faceOf = new Map(Object.entries(FACE_FILES).map(([name, file]) => [file, name]));
  const tags = new Map<string, string>();
  for (const [file, set] of chars) {
    const digest = createHash('sha256').update(faceOf.get(file) ?? file).update([...set].sort().join('')).digest();
    tags.set(file, [...digest.subarray(0, 6)].map((b) => String.fromCharCode(65 + (b % 26))).join(''));
  }
  return tags;
}

/**
 * The lettering's lines as invisible text over where they are drawn: each line placed in its
 * box's body as the lettering places it (centred; a caption's lines flush left), baselines
 * spaced as the lettering spaces them. A line is written run by run, each run in the font
 * file that draws it, at its own place and squeezed to the width the lettering measured, so a
 * selection covers the letters and every character is encoded in a font that has it. Boxes
 * from before the runs were kept are written a line at a time in the kind's face.
 */
/**
 * The text layer in the order a reader takes it (what copying the page or a screen reader
 * gives): panel by panel, in each the caption first, then the balloons in the order the
 * script gives them, then the sound effects. Drawing order differs (effects go under balloons).
 */
function readingOrder<T extends ExportLettering>(boxes: readonly T[], panels: readonly string[]): T[] {
  const rank = (box: T) => (box.kind === 'caption' ? 0 : box.kind === 'sfx' ? 2 : 1);
  const panel = (box: T) => {
    const at = panels.indexOf(box.panelId);
    return at === -1 ? panels.length : at;
  };
  return boxes
    .map((box, i) => ({ box, i }))
    .sort((a, b) => panel(a.box) - panel(b.box) || rank(a.box) - rank(b.box) || a.i - b.i)
    .map(({ box }) => box);
}

async function writeTextLayer(pdfPage: PDFPage, page: ExportPage, pointsPerPixel: number, fontFor: (file: string) => Promise<TextFont | null>): Promise<void> {
  const lettered = readingOrder(
    page.lettering.filter((box): box is ExportLettering & { lines: readonly string[]; size: number } => (box.lines?.length ?? 0) > 0 && (box.size ?? 0) > 0),
    page.layout.panels.map((p) => p.panelId),
  );
  if (lettered.length === 0) return;
  const canvasHeight = page.layout.canvas.height;
  const operators = [pushGraphicsState(), beginText(), setTextRenderingMode(TextRenderingMode.Invisible)];
  /** Positions and squeezes to 1/10000: no float noise in the content stream. */
  const round = (v: number) => Math.round(v * 1e4) / 1e4;
  const keys = new Map<PDFFont, PDFName>();
  const keyOf = (font: PDFFont): PDFName => {
    let key = keys.get(font);
    if (key === undefined) {
      key = pdfPage.node.newFontDictionary(font.name, font.ref);
      keys.set(font, key);
    }
    return key;
  };
  let current: { font: PDFFont | null; size: number; squeeze: number } = { font: null, size: Number.NaN, squeeze: Number.NaN };
  /** The box being written: its centre and tilt (canvas pixels; degrees clockwise, as drawn). */
  let turn = { cx: 0, cy: 0, degrees: 0 };
  /** Writes `text` in `font` at (x, baseline), canvas pixels, `squeeze` percent wide, turned with its box. */
  const write = (font: PDFFont, size: number, squeeze: number, text: string, x: number, baseline: number) => {
    if (current.font !== font || current.size !== size) operators.push(setFontAndSize(keyOf(font), size * pointsPerPixel));
    if (current.squeeze !== squeeze) operators.push(setCharacterSqueeze(squeeze));
    current = { font, size, squeeze };
    // Clockwise on the canvas (y down) is clockwise on the PDF page (y up): a negative angle there.
    const a = (-turn.degrees * Math.PI) / 180;
    const [cos, sin] = [Math.cos(a), Math.sin(a)];
    const [dx, dy] = [x - turn.cx, turn.cy - baseline];
    const [px, py] = [turn.cx + cos * dx - sin * dy, canvasHeight - turn.cy + sin * dx + cos * dy];
    operators.push(setTextMatrix(round(cos), round(sin), round(-sin), round(cos), round(px * pointsPerPixel), round(py * pointsPerPixel)), showText(font.encodeText(text)));
  };
  const squeezeOf = (drawn: number, natural: number) => (natural > 0 ? round(Math.max(1, Math.min(1000, (100 * drawn) / natural))) : 100);

  for (const box of lettered) {
    const faceName = KIND_FACE[box.kind];
    const metrics = face(faceName);
    const primary = (await fontFor(kindFile(box.kind)))!;
    const { size, lines } = box;
    turn = { cx: box.x + box.width / 2, cy: box.y + box.height / 2, degrees: Number.isFinite(box.rotation) ? box.rotation! : 0 };
    const blockHeight = size * LEADING * (lines.length - 1) + size * (metrics.ascent + metrics.descent) * 0.82;
    const top = box.y + (box.height - blockHeight) / 2;
    // A sound effect is one line centred on its capitals, as the lettering draws it.
    const baselineOf = box.kind === 'sfx' ? () => box.y + (box.height + size * metrics.capHeight) / 2 : (i: number) => top + size * metrics.ascent * 0.82 + i * size * LEADING;
    const runs = runsOf(box);
    if (runs === null) {
      lines.forEach((line, i) => {
        const text = line.replace(/\s+/g, ' ').trim();
        if (text === '') return;
        const drawn = metrics.shape(text, size).width;
        const natural = primary.font.widthOfTextAtSize(text, size);
        write(primary.font, size, squeezeOf(drawn, natural), text, box.x + (box.width - drawn) / 2, baselineOf(i));
      });
      continue;
    }
    const merged = runs.map(mergeRuns);
    const widths = merged.map((line) => Math.max(0, ...line.map((r) => r.x + r.width)));
    const block = Math.max(0, ...widths);
    for (const [i, line] of merged.entries()) {
      // Captions are set flush left (their widest line centred in the box), balloons centred.
      const start = box.x + (box.width - (box.kind === 'caption' ? block : widths[i]!)) / 2;
      const pieces: { font: PDFFont; text: string; natural: number; run: number }[] = [];
      for (const [r, run] of line.entries()) {
        const own = await fontFor(run.file);
        // Characters the run's font lacks (or all, when it cannot be had) go in the face's font.
        for (const { text, font } of byFont(run.text, own, primary)) pieces.push({ font: font.font, text, natural: font.font.widthOfTextAtSize(text, size), run: r });
      }
      // The line's leading and trailing spaces are not text anyone selects.
      const first = pieces.findIndex((p) => p.text.trim() !== '');
      const last = pieces.findLastIndex((p) => p.text.trim() !== '');
      for (const [r, run] of line.entries()) {
        const own = pieces.filter((p) => p.run === r);
        const natural = own.reduce((sum, p) => sum + p.natural, 0);
        const squeeze = squeezeOf(run.width, natural);
        let x = start + run.x;
        for (const piece of own) {
          const at = pieces.indexOf(piece);
          if (at >= first && at <= last && piece.text !== '') write(piece.font, size, squeeze, piece.text, x, baselineOf(i));
          x += (piece.natural * squeeze) / 100;
        }
      }
    }
  }
  operators.push(endText(), popGraphicsState());
  pdfPage.pushOperators(...operators);
}

/** Adjacent runs in the same font file as one (a plain capital I, say, is a run of its own). */
function mergeRuns(line: readonly ExportLineRun[]): ExportLineRun[] {
  const merged: ExportLineRun[] = [];
  for (const run of line) {
    const last = merged.at(-1);
    if (last !== undefined && last.file === run.file && Math.abs(last.x + last.width - run.x) < 0.05) merged[merged.length - 1] = { text: last.text + run.text, file: run.file, x: last.x, width: run.x + run.width - last.x };
    else merged.push(run);
  }
  return merged;
}

/**
 * `text` in pieces of one font each: the run's own font where it has the glyph, else the
 * face's font where that has it, else the run's own (as .notdef, as the lettering drew it).
 */
function byFont(text: string, own: TextFont | null, face: TextFont): { text: string; font: TextFont }[] {
  const pieces: { text: string; font: TextFont }[] = [];
  for (const c of text) {
    const cp = c.codePointAt(0)!;
    const font = own?.chars.has(cp) ? own : face.chars.has(cp) || own === null ? face : own;
    const last = pieces.at(-1);
    if (last?.font === font) last.text += c;
    else pieces.push({ text: c, font });
  }
  return pieces;
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
