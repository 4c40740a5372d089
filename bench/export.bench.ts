/**
 * A 100-page comic exported to the print PDF and the CBZ. The pages are composed us-comic
 * pages at 300 dpi (three distinct ones, repeated), so the cost measured is the export's:
 * reading page PNGs, embedding them, redrawing the lettering as vectors over the art,
 * zipping, writing atomically. Target: under 30 s. The art without lettering is composed
 * once per distinct page here; in a run it is composed again for each page (printed below
 * as ms per page, what a real export adds per page).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportCbz, type ExportPage, exportPdf, withDrawings } from '../src/compose/export/index.js';
import { computeLayout } from '../src/compose/layout.js';
import { composePage, composePageDetailed } from '../src/compose/page.js';
import { letteredSixPanelPage, meta, US_COMIC } from '../test/compose/fixtures.js';
import { artLikeImage, renderSize } from './compose-fixtures.js';

const PAGES = 100;
const comicMeta = meta(US_COMIC);
const distinct: { png: Buffer; art: Buffer; layout: ExportPage['layout']; lettering: ExportPage['lettering'] }[] = [];
let artMs = 0;
for (let n = 1; n <= 3; n++) {
  const page = letteredSixPanelPage(n);
  const layout = computeLayout(page, US_COMIC, 'ltr');
  const images = new Map<string, Buffer>();
  for (const [i, box] of layout.panels.entries()) {
    const size = renderSize(box);
    images.set(box.panelId, await artLikeImage(size.width, size.height, n * 31 + i * 57));
  }
  const composed = await composePageDetailed({ page, layout, panelImages: images, comicMeta });
  const began = performance.now();
  const art = await composePage({ page, layout, panelImages: images, comicMeta, artOnly: true });
  artMs += performance.now() - began;
  distinct.push({ png: composed.png, art, layout, lettering: withDrawings(composed.lettering, composed.drawings) });
}
const pages: ExportPage[] = Array.from({ length: PAGES }, (_, i) => {
  const source = distinct[i % distinct.length]!;
  return { number: i + 1, layout: source.layout, lettering: source.lettering, png: () => Promise.resolve(source.png), art: () => Promise.resolve(source.art) };
});
const pageMb = distinct.reduce((s, p) => s + p.png.length, 0) / distinct.length / 1e6;

const out = await mkdtemp(join(tmpdir(), 'comic-export-bench-'));
try {
  const ctx = { outDir: out, meta: comicMeta, pages };
  let start = performance.now();
  const pdf = await exportPdf(ctx);
  const pdfSeconds = (performance.now() - start) / 1000;
  start = performance.now();
  const cbz = await exportCbz(ctx);
  const cbzSeconds = (performance.now() - start) / 1000;
  const rss = process.resourceUsage().maxRSS / 1024;
  console.log(`${PAGES} pages of ${US_COMIC.width}×${US_COMIC.height} + bleed at 300 dpi, PNG ~${pageMb.toFixed(1)} MB each`);
  console.log(`PDF (vector lettering): ${pdfSeconds.toFixed(1)} s, ${(pdf.bytes / 1e6).toFixed(0)} MB; composing a page's art: ${(artMs / distinct.length).toFixed(0)} ms`);
  console.log(`CBZ: ${cbzSeconds.toFixed(1)} s, ${(cbz.bytes / 1e6).toFixed(0)} MB`);
  console.log(`PDF + CBZ: ${(pdfSeconds + cbzSeconds).toFixed(1)} s (target < 30 s); peak RSS ${rss.toFixed(0)} MB`);
  if (pdfSeconds + cbzSeconds >= 30) process.exitCode = 1;
} finally {
  await rm(out, { recursive: true, force: true });
}
