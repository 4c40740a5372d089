/**
 * The PDF's text layer and its screen edition, and the EPUB 3 fixed-layout edition, checked
 * with the tools readers rely on: pdftotext, pdffonts, pdfinfo and qpdf (poppler-utils,
 * qpdf), epubcheck (skipped, saying so, when it is not installed).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, execaSync } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportEpub, type ExportLettering, type ExportPage, exportPageFrom, exportPdf } from '../../src/compose/export/index.js';
import { computeLayout } from '../../src/compose/layout.js';
import { composePageDetailed } from '../../src/compose/page.js';
import type { ReadingDirection } from '../../src/script/model.js';
import { letteredSixPanelPage, meta, panelImages, readingLines, SMALL } from './fixtures.js';

async function composedPages(direction: ReadingDirection, count: number): Promise<ExportPage[]> {
  const pages: ExportPage[] = [];
  for (let n = 1; n <= count; n++) {
    const p = letteredSixPanelPage(n);
    const layout = computeLayout(p, SMALL, direction);
    const composed = await composePageDetailed({ page: p, layout, panelImages: await panelImages(p, layout.panels), comicMeta: meta(SMALL, direction) });
    pages.push(exportPageFrom(n, composed));
  }
  return pages;
}

/** Words only, one space apart: what a search for the text would match. */
const words = (text: string) => text.replace(/\s+/g, ' ').trim();

let out: string;
let pages: ExportPage[];

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'comic-editions-'));
  pages = await composedPages('ltr', 2);
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

describe('PDF text layer', () => {
  let pdf: string;
  beforeAll(async () => {
    pdf = (await exportPdf({ outDir: out, meta: meta(SMALL), pages, slug: 'print' })).path;
  });

  it('the composer says what each piece of lettering reads (else there is nothing to test)', () => {
    for (const page of pages) {
      expect(page.lettering.length).toBeGreaterThan(3);
      for (const box of page.lettering as readonly ExportLettering[]) expect(box.lines?.length).toBeGreaterThan(0);
      expect(new Set(page.lettering.map((b) => b.kind))).toContain('sfx');
      expect(new Set(page.lettering.map((b) => b.kind))).toContain('caption');
    }
  });

  it('pdftotext gives every balloon, caption and sound effect, each whole, on its own page', async () => {
    for (const [i, page] of pages.entries()) {
      const { stdout } = await execa('pdftotext', ['-f', String(i + 1), '-l', String(i + 1), pdf, '-']);
      const text = words(stdout);
      for (const box of page.lettering as readonly ExportLettering[]) expect(text).toContain(words(box.lines!.join(' ')));
    }
  });

  it('the text comes in reading order (per panel: the caption, the balloons as lettered, then the sound effects)', async () => {
    const { stdout } = await execa('pdftotext', ['-raw', pdf, '-']);
    expect(words(stdout)).toBe(words(pages.flatMap(readingLines).join(' ')));
  });

  it('pdffonts lists the lettering fonts, embedded as subsets with a deterministic tag', async () => {
    const { stdout } = await execa('pdffonts', [pdf]);
    const rows = stdout.split('\n').slice(2).filter(Boolean);
    const names = rows.map((r) => r.split(/\s+/)[0]!);
    expect(names.map((n) => n.replace(/^[A-Z]{6}\+/, '')).sort()).toEqual(['Bangers-Regular', 'ComicNeue-Bold', 'ComicNeue-BoldItalic', 'ComicNeue-Regular']);
    for (const row of rows) expect(row).toMatch(/\syes\s+yes\s+yes\s/); // emb, sub, uni
    const again = await exportPdf({ outDir: out, meta: meta(SMALL), pages, slug: 'print-again' });
    expect((await execa('pdffonts', [again.path])).stdout).toBe(stdout);
  });

  it('passes qpdf --check and costs under 10% over the raster-only PDF', async () => {
    await execa('qpdf', ['--check', pdf]);
    const bare = await exportPdf({ outDir: out, meta: meta(SMALL), pages: pages.map((p) => ({ ...p, lettering: [] })), slug: 'bare' });
    expect((await execa('pdftotext', [bare.path, '-'])).stdout.trim()).toBe('');
    const size = (await stat(pdf)).size;
    expect(size).toBeGreaterThan(bare.bytes);
    expect(size).toBeLessThanOrEqual(bare.bytes * 1.1);
  });

  it('the screen edition crops to the trim box; the print edition keeps the bleed', async () => {
    const screen = await exportPdf({ outDir: out, meta: meta(SMALL), pages, slug: 'screen' }, { edition: 'screen' });
    await execa('qpdf', ['--check', screen.path]);
    const { stdout } = await execa('pdfinfo', ['-box', '-f', '1', '-l', '1', screen.path]);
    const pt = (px: number) => ((px * 72) / SMALL.dpi).toFixed(2).replace('.', '\\.');
    const { trim, canvas } = pages[0]!.layout;
    const trimBox = [trim.x, canvas.height - trim.y - trim.height, trim.x + trim.width, canvas.height - trim.y].map(pt).join('\\s+');
    expect(stdout).toMatch(new RegExp(`Page    1 CropBox:\\s+${trimBox}`));
    expect(stdout).toMatch(new RegExp(`Page    1 TrimBox:\\s+${trimBox}`));
    expect(stdout).toMatch(new RegExp(`Page    1 MediaBox:\\s+0\\.00\\s+0\\.00\\s+${pt(canvas.width)}\\s+${pt(canvas.height)}`));
    expect(stdout).toMatch(new RegExp(`Page    1 BleedBox:\\s+0\\.00\\s+0\\.00\\s+${pt(canvas.width)}\\s+${pt(canvas.height)}`));
  });
});

/** epubcheck: the Debian package's jar (its /usr/bin wrapper needs binfmt_misc), or one on the PATH. */
function epubcheckCommand(): [string, string[]] | null {
  for (const jar of ['/usr/share/java/epubcheck.jar']) if (existsSync(jar)) return ['java', ['-jar', jar]];
  const found = execaSync('sh', ['-c', 'command -v epubcheck'], { reject: false });
  return found.exitCode === 0 ? [found.stdout.trim(), []] : null;
}
const epubcheck = epubcheckCommand();
if (epubcheck === null) console.warn('export-editions: epubcheck is not installed (Debian package epubcheck); the EPUB validation test is skipped');

describe('EPUB 3 fixed layout', () => {
  async function opf(epub: string): Promise<string> {
    return (await execa('unzip', ['-p', epub, 'OEBPS/content.opf'])).stdout;
  }

  it('is an OCF zip: mimetype first and stored, pre-paginated pages cut to the trim box', async () => {
    const epub = (await exportEpub({ outDir: out, meta: meta(SMALL), pages: pages.map((p, i) => ({ ...p, cover: i === 0 })), slug: 'book' })).path;
    expect((await execa('unzip', ['-t', epub])).stdout).toMatch(/No errors detected/);
    const listing = (await execa('unzip', ['-Zv', epub])).stdout;
    expect((await execa('unzip', ['-Z1', epub])).stdout.split('\n')[0]).toBe('mimetype');
    expect(listing).toMatch(/mimetype[\s\S]*?compression method:\s+none \(stored\)/);
    const text = await opf(epub);
    expect(text).toContain('<meta property="rendition:layout">pre-paginated</meta>');
    expect(text).toContain('<spine page-progression-direction="ltr">');
    // The marked cover is the cover image and stands alone; the next page is a recto (right, left to right).
    expect(text).toContain('<item id="img-001" href="images/001.jpg" media-type="image/jpeg" properties="cover-image"/>');
    expect(text).toContain('<itemref idref="page-001" properties="rendition:page-spread-center"/>');
    expect(text).toContain('<itemref idref="page-002" properties="page-spread-right"/>');
    const { trim } = pages[1]!.layout;
    const page = (await execa('unzip', ['-p', epub, 'OEBPS/pages/002.xhtml'])).stdout;
    expect(page).toContain(`<meta name="viewport" content="width=${trim.width}, height=${trim.height}"/>`);
  });

  it('reads right to left when the script does, recto on the left', async () => {
    const rtl = await composedPages('rtl', 2);
    const epub = (await exportEpub({ outDir: out, meta: meta(SMALL, 'rtl'), pages: rtl, slug: 'manga' })).path;
    const text = await opf(epub);
    expect(text).toContain('<spine page-progression-direction="rtl">');
    expect(text).toContain('<itemref idref="page-001" properties="page-spread-left"/>');
    expect(text).toContain('<itemref idref="page-002" properties="page-spread-right"/>');
  });

  it.skipIf(epubcheck === null)(
    'passes epubcheck, left to right with a cover and right to left without',
    async () => {
      const [command, prefix] = epubcheck!;
      const books = [
        await exportEpub({ outDir: out, meta: meta(SMALL), pages: pages.map((p, i) => ({ ...p, cover: i === 0 })), slug: 'check-book' }),
        await exportEpub({ outDir: out, meta: meta(SMALL, 'rtl'), pages: await composedPages('rtl', 2), slug: 'check-manga' }),
      ];
      for (const book of books) {
        const result = await execa(command, [...prefix, book.path], { reject: false, all: true });
        expect(result.all).toMatch(/No errors or warnings detected/);
        expect(result.exitCode).toBe(0);
      }
    },
    // The JVM starts slowly on a shared two-core machine (a minute is usual there).
    300_000,
  );
});
