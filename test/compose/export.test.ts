/**
 * Exports checked by the real tools readers and printers rely on: pdfinfo and qpdf for the
 * PDF, unzip and xmllint (against the ComicInfo v2.0 schema) for the CBZ. The PDF's text
 * layer and editions and the EPUB are in export-editions.test.ts.
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { comicInfoXml, exportAll, exportCbz, type ExportPage, exportPageFrom, planWebtoon, screenPage } from '../../src/compose/export/index.js';
import { computeLayout } from '../../src/compose/layout.js';
import { composePageDetailed } from '../../src/compose/page.js';
import type { LetteringBox, PageLayout } from '../../src/compose/types.js';
import type { ReadingDirection } from '../../src/script/model.js';
import { letteredSixPanelPage, meta, panelImages, SMALL } from './fixtures.js';

const here = dirname(fileURLToPath(import.meta.url));
const XSD = join(here, '..', 'fixtures', 'ComicInfo-v2.0.xsd');

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

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

let out: string;
let pages: ExportPage[];

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'comic-export-'));
  pages = await composedPages('ltr', 3);
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

describe('exportAll', () => {
  let files: Awaited<ReturnType<typeof exportAll>>;
  beforeAll(async () => {
    files = await exportAll(['png', 'pdf', 'cbz', 'webtoon'], { outDir: out, meta: meta(SMALL), pages, characters: ['Mara', 'Tom'] });
  });

  it('writes exactly the named files and nothing else (no temp files left)', async () => {
    const written = await filesUnder(out);
    const webtoon = written.filter((f) => f.startsWith('webtoon/'));
    expect(written).toEqual(
      ['pages/001.png', 'pages/002.png', 'pages/003.png', 'the-last-lighthouse.cbz', 'the-last-lighthouse.pdf', ...webtoon].sort(),
    );
    expect(webtoon.length).toBeGreaterThanOrEqual(3);
    expect(files.map((f) => relative(out, f.path)).sort()).toEqual(written);
    for (const file of files) expect((await stat(file.path)).size).toBe(file.bytes);
  });

  it('the PDF passes qpdf --check and has one full-resolution page per comic page with trim and bleed boxes', async () => {
    const pdf = join(out, 'the-last-lighthouse.pdf');
    await execa('qpdf', ['--check', pdf]);
    const { stdout } = await execa('pdfinfo', ['-box', '-f', '1', '-l', '3', pdf]);
    expect(stdout).toMatch(/^Pages:\s+3$/m);
    expect(stdout).toMatch(/^Title:\s+The Last Lighthouse$/m);
    expect(stdout).toMatch(/^Author:\s+Ada Writer$/m);
    // Canvas 689×1051 px at 100 dpi = 496.08×756.72 pt; the bleed is 13 px = 9.36 pt.
    const layout = pages[0]!.layout;
    const pt = (px: number) => ((px * 72) / SMALL.dpi).toFixed(2);
    expect(stdout).toMatch(new RegExp(`Page    1 size:\\s+${pt(layout.canvas.width)} x ${pt(layout.canvas.height)} pts`));
    expect(stdout).toMatch(new RegExp(`Page    3 MediaBox:\\s+0\\.00\\s+0\\.00\\s+${pt(layout.canvas.width)}\\s+${pt(layout.canvas.height)}`));
    expect(stdout).toMatch(new RegExp(`Page    1 BleedBox:\\s+0\\.00\\s+0\\.00\\s+${pt(layout.canvas.width)}\\s+${pt(layout.canvas.height)}`));
    // The print edition: the CropBox keeps the bleed (a printer needs it).
    expect(stdout).toMatch(new RegExp(`Page    1 CropBox:\\s+0\\.00\\s+0\\.00\\s+${pt(layout.canvas.width)}\\s+${pt(layout.canvas.height)}`));
    const trim = [13, 13, 13 + 663, 13 + 1025].map(pt).map((v) => v.replace('.', '\\.')).join('\\s+');
    expect(stdout).toMatch(new RegExp(`Page    2 TrimBox:\\s+${trim}`));
    // The embedded image is the page at full resolution, unscaled.
    const images = await execa('pdfimages', ['-list', pdf]);
    const rows = images.stdout.split('\n').slice(2).filter(Boolean);
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row).toMatch(new RegExp(`image\\s+${layout.canvas.width}\\s+${layout.canvas.height}\\s+rgb\\s+3\\s+8`));
  });

  it('the PDF holds each page losslessly: the extracted image equals the PNG page pixel for pixel', async () => {
    const prefix = join(out, 'extracted');
    await execa('pdfimages', ['-png', '-f', '2', '-l', '2', join(out, 'the-last-lighthouse.pdf'), prefix]);
    const extracted = await sharp(`${prefix}-000.png`).raw().toBuffer({ resolveWithObject: true });
    const original = await sharp(join(out, 'pages', '002.png')).raw().toBuffer({ resolveWithObject: true });
    await rm(`${prefix}-000.png`);
    expect(extracted.info).toEqual(original.info);
    expect(extracted.data.equals(original.data)).toBe(true);
  });

  it('the CBZ is a screen edition: WebP pages cut to the trim box, under 2 MB, with a ComicInfo.xml valid against v2.0', async () => {
    const cbz = join(out, 'the-last-lighthouse.cbz');
    const test = await execa('unzip', ['-t', cbz]);
    expect(test.stdout).toMatch(/No errors detected/);
    const list = await execa('unzip', ['-Z1', cbz]);
    expect(list.stdout.split('\n')).toEqual(['001.webp', '002.webp', '003.webp', 'ComicInfo.xml']);
    const xmlDir = await mkdtemp(join(tmpdir(), 'comic-cbz-'));
    try {
      await execa('unzip', ['-q', cbz, '-d', xmlDir]);
      await execa('xmllint', ['--noout', '--schema', XSD, join(xmlDir, 'ComicInfo.xml')]);
      const xml = await readFile(join(xmlDir, 'ComicInfo.xml'), 'utf8');
      expect(xml).toContain('<Title>The Last Lighthouse</Title>');
      expect(xml).toContain('<Series>Lighthouse Tales</Series>');
      expect(xml).toContain('<Number>3</Number>');
      expect(xml).toContain('<Writer>Ada Writer</Writer>');
      expect(xml).toContain('<Letterer>Cy Letters</Letterer>');
      expect(xml).toContain('<PageCount>3</PageCount>');
      expect(xml).toContain('<LanguageISO>en</LanguageISO>');
      expect(xml).toContain('<Manga>No</Manga>');
      expect(xml).toContain('<Characters>Mara, Tom</Characters>');
      // No page is marked as the cover, so none is called FrontCover (story page 1 is story).
      expect(xml).not.toContain('FrontCover');
      const { width, height } = pages[0]!.layout.trim;
      for (const [i, name] of ['001.webp', '002.webp', '003.webp'].entries()) {
        const bytes = await readFile(join(xmlDir, name));
        expect(xml).toContain(`<Page Image="${i}" ImageSize="${bytes.length}" ImageWidth="${width}" ImageHeight="${height}" />`);
        expect(bytes.length).toBeLessThan(2 * 1024 * 1024);
        // The archived page is the trim area of the print page: no bleed.
        const info = await sharp(bytes).metadata();
        expect([info.format, info.width, info.height]).toEqual(['webp', width, height]);
      }
    } finally {
      await rm(xmlDir, { recursive: true, force: true });
    }
  });

  it('webtoon slices are 800 px wide, at most 1280 px high, and add up to the whole strip', async () => {
    const plan = planWebtoon(pages);
    const slices = files.filter((f) => f.kind === 'webtoon');
    expect(slices).toHaveLength(plan.cuts.length - 1);
    let total = 0;
    for (const slice of slices) {
      const info = await sharp(slice.path).metadata();
      expect(info.width).toBe(800);
      expect(info.height).toBeLessThanOrEqual(1280);
      total += info.height!;
    }
    expect(total).toBe(plan.height);
    for (const cut of plan.cuts) for (const l of plan.lettering) expect(cut <= l.top || cut >= l.bottom).toBe(true);
    expect(plan.forced).toEqual([]);
  });
});

describe('CBZ page formats and the cover', () => {
  it('calls only the page the script marks as the cover FrontCover', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'comic-cover-'));
    try {
      const withCover = pages.map((p, i) => ({ ...p, cover: i === 1 }));
      await exportCbz({ outDir: dir, meta: meta(SMALL), pages: withCover, slug: 'c' }, { format: 'jpeg' });
      const { stdout } = await execa('unzip', ['-p', join(dir, 'c.cbz'), 'ComicInfo.xml']);
      expect(stdout.match(/FrontCover/g)).toHaveLength(1);
      expect(stdout).toMatch(/<Page Image="1" Type="FrontCover" /);
      const list = await execa('unzip', ['-Z1', join(dir, 'c.cbz')]);
      expect(list.stdout.split('\n')).toEqual(['001.jpg', '002.jpg', '003.jpg', 'ComicInfo.xml']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('format png keeps the lossless print pages, byte for byte, bleed and all', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'comic-cbz-png-'));
    try {
      await exportCbz({ outDir: dir, meta: meta(SMALL), pages, slug: 'p' }, { format: 'png' });
      const { stdout } = await execa('unzip', ['-p', join(dir, 'p.cbz'), '002.png'], { encoding: 'buffer' });
      expect(Buffer.from(stdout).equals(await pages[1]!.png())).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('lowers the quality until a page fits the byte budget', async () => {
    const png = await pages[0]!.png();
    const trim = pages[0]!.layout.trim;
    const free = await screenPage(png, trim, { format: 'webp', quality: 95 });
    const budget = Math.floor(free.bytes.length * 0.6);
    const squeezed = await screenPage(png, trim, { format: 'webp', quality: 95, maxBytes: budget });
    expect(free.quality).toBe(95);
    expect(squeezed.quality).toBeLessThan(95);
    expect(squeezed.bytes.length).toBeLessThanOrEqual(budget);
  });
});

describe('exports: right to left and failure', () => {
  it('marks right-to-left comics as manga read right to left', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'comic-rtl-'));
    try {
      const rtlPages = await composedPages('rtl', 1);
      await exportCbz({ outDir: dir, meta: meta(SMALL, 'rtl'), pages: rtlPages, slug: 'manga' });
      const { stdout } = await execa('unzip', ['-p', join(dir, 'manga.cbz'), 'ComicInfo.xml']);
      expect(stdout).toContain('<Manga>YesAndRightToLeft</Manga>');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('leaves no partial CBZ behind when a page cannot be read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'comic-fail-'));
    try {
      const broken: ExportPage = { ...pages[1]!, png: () => Promise.reject(new Error('disk on fire')) };
      await expect(exportCbz({ outDir: dir, meta: meta(SMALL), pages: [pages[0]!, broken] })).rejects.toThrow('disk on fire');
      expect(await filesUnder(dir)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a slug that would write outside the output folder', async () => {
    await expect(exportCbz({ outDir: out, meta: meta(SMALL), pages, slug: '../escape' })).rejects.toMatchObject({ code: 'OUTPUT_UNSAFE' });
  });
});

describe('ComicInfo.xml', () => {
  it('escapes markup in every field and validates', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'comic-xml-'));
    try {
      const xml = comicInfoXml(
        meta(SMALL, 'ltr', { title: 'Tom & Jerry <"Quoted">', series: null, issue: null, authors: [{ name: 'A & B', role: 'artist' }] }),
        [{ width: 10, height: 20, size: 300 }],
      );
      expect(xml).toContain('<Title>Tom &amp; Jerry &lt;&quot;Quoted&quot;&gt;</Title>');
      expect(xml).toContain('<Penciller>A &amp; B</Penciller>');
      expect(xml).toContain('<Inker>A &amp; B</Inker>');
      expect(xml).not.toContain('<Series>');
      const file = join(dir, 'ComicInfo.xml');
      await writeFile(file, xml);
      await execa('xmllint', ['--noout', '--schema', XSD, file]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('planWebtoon', () => {
  const layout = (height: number, panels: { y: number; height: number }[]): PageLayout => ({
    canvas: { width: 800, height },
    trim: { x: 0, y: 0, width: 800, height },
    safe: { x: 0, y: 0, width: 800, height },
    panels: panels.map((p, i) => ({ panelId: `1-${i + 1}`, readingOrder: i, bleeds: false, bordered: true, x: 0, width: 800, ...p })),
    border: { width: 3, color: '#1a1a1a' },
  });
  const balloon = (y: number, height: number): LetteringBox => {
    const r = { x: 100, y, width: 200, height };
    return { ...r, extent: r, panelId: '1-1', kind: 'speech' };
  };

  it('cuts in a gutter rather than through art', () => {
    const page = { layout: layout(2000, [{ y: 0, height: 1000 }, { y: 1040, height: 960 }]), lettering: [] };
    expect(planWebtoon([page]).cuts).toEqual([0, 1040, 2000]);
  });

  it('moves a cut off a balloon (through art when no gutter is in reach)', () => {
    const page = { layout: layout(2400, [{ y: 0, height: 2400 }]), lettering: [balloon(1200, 150)] };
    const plan = planWebtoon([page]);
    expect(plan.cuts[1]).toBe(1200);
    for (const cut of plan.cuts) expect(cut <= 1200 || cut >= 1350).toBe(true);
  });

  it('reports a forced cut when lettering is taller than a slice', () => {
    const page = { layout: layout(3000, [{ y: 0, height: 3000 }]), lettering: [balloon(10, 2900)] };
    const plan = planWebtoon([page], { maxHeight: 1280 });
    expect(plan.forced.length).toBeGreaterThan(0);
    for (let i = 1; i < plan.cuts.length; i++) expect(plan.cuts[i]! - plan.cuts[i - 1]!).toBeLessThanOrEqual(1280);
  });

  it('scales pages of any width to the strip width', () => {
    const wide = { ...layout(1000, []), trim: { x: 10, y: 10, width: 1600, height: 1000 } };
    const plan = planWebtoon([{ layout: wide, lettering: [] }]);
    expect(plan.pages[0]).toEqual({ top: 0, height: 500, scale: 0.5 });
  });
});
