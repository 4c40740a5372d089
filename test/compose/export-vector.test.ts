/**
 * The PDF's vector lettering and the lettering-free PDF for translators, checked with the
 * tools readers and printers rely on (qpdf, pdffonts, pdftotext, pdftoppm), on composed test
 * pages and on examples/lighthouse.yaml run end to end with the draft backend (including its
 * pages served from the cache, with and without their drawings).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DraftBackend } from '../../src/backends/draft/backend.js';
import { type ExportLettering, type ExportPage, exportPageFrom, exportPdf, exportPdfArt, letteringShapes } from '../../src/compose/export/index.js';
import { pathOperators, shapeOperators } from '../../src/compose/export/vector.js';
import { computeLayout } from '../../src/compose/layout.js';
import { letterPage } from '../../src/compose/lettering/index.js';
import { composePage, composePageDetailed } from '../../src/compose/page.js';
import { EventBus } from '../../src/progress/events.js';
import { RenderCache } from '../../src/run/cache.js';
import { generate } from '../../src/run/generate.js';
import { prepareScript } from '../../src/run/prepare.js';
import { loadTemplateRegistry } from '../../src/templates/index.js';
import { letteredSixPanelPage, meta, panelImages, readingLines, SMALL } from './fixtures.js';

let out: string;
beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'comic-vector-'));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

/** Pages composed in memory, each with its art (the same page composed without lettering). */
async function composedPages(count: number): Promise<ExportPage[]> {
  const pages: ExportPage[] = [];
  for (let n = 1; n <= count; n++) {
    const p = letteredSixPanelPage(n);
    const layout = computeLayout(p, SMALL, 'ltr');
    const input = { page: p, layout, panelImages: await panelImages(p, layout.panels), comicMeta: meta(SMALL) };
    const composed = await composePageDetailed(input);
    pages.push(exportPageFrom(n, composed, false, () => composePage({ ...input, artOnly: true })));
  }
  return pages;
}

/** The whole file in qpdf's QDF form (streams decompressed, one object after another), as latin1 text. */
async function qdfText(pdf: string): Promise<string> {
  const qdf = join(out, `${Math.random().toString(36).slice(2)}.qdf`);
  await execa('qpdf', ['--qdf', '--object-streams=disable', pdf, qdf]);
  const text = (await readFile(qdf)).toString('latin1');
  await rm(qdf);
  return text;
}

/** The page's content streams, decompressed (qpdf's QDF form), concatenated. */
async function contentStreams(pdf: string): Promise<string> {
  const text = await qdfText(pdf);
  return [...text.matchAll(/%% Contents for page \d+[\s\S]*?stream\n([\s\S]*?)endstream/g)].map((m) => m[1]).join('\n');
}

/**
 * The page rendered by poppler at `dpi`, as greyscale pixels; `blur` softens it first, so that
 * comparing two renderings compares shapes, not how two rasterisers anti-alias an edge.
 */
async function rendered(
  pdf: string,
  page: number,
  dpi: number,
  blur = false,
  crop?: { x: number; y: number; width: number; height: number },
): Promise<{ data: Buffer; width: number; height: number }> {
  const area = crop ? ['-x', String(Math.round(crop.x)), '-y', String(Math.round(crop.y)), '-W', String(Math.round(crop.width)), '-H', String(Math.round(crop.height))] : [];
  const { stdout } = await execa('pdftoppm', ['-f', String(page), '-l', String(page), '-r', String(dpi), ...area, '-gray', '-png', pdf], { encoding: 'buffer' });
  const image = sharp(Buffer.from(stdout)).greyscale();
  const { data, info } = await (blur ? image.blur(2.5) : image).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Mean absolute difference of two same-sized grey images inside `rect` (pixels of the first's scale). */
function meanDiff(a: { data: Buffer; width: number }, b: { data: Buffer; width: number }, rect: { x: number; y: number; width: number; height: number }): number {
  let sum = 0;
  let n = 0;
  for (let y = Math.round(rect.y); y < Math.round(rect.y + rect.height); y++) {
    for (let x = Math.round(rect.x); x < Math.round(rect.x + rect.width); x++) {
      sum += Math.abs(a.data[y * a.width + x]! - b.data[y * b.width + x]!);
      n++;
    }
  }
  return sum / Math.max(1, n);
}

/** Of the inked pixels in `rect`, the share that are edge greys (anti-aliasing): small when edges are sharp. */
function greyShare(img: { data: Buffer; width: number }, rect: { x: number; y: number; width: number; height: number }): number {
  let inked = 0;
  let grey = 0;
  for (let y = Math.round(rect.y); y < Math.round(rect.y + rect.height); y++) {
    for (let x = Math.round(rect.x); x < Math.round(rect.x + rect.width); x++) {
      const v = img.data[y * img.width + x]!;
      if (v < 235) inked++;
      if (v < 235 && v > 60) grey++;
    }
  }
  return grey / Math.max(1, inked);
}

const PATH_OPERATOR = /(?:^|\s)(?:m|l|c|re|h|f\*?|S|B\*?)\s/g;

describe('SVG path data as PDF operators', () => {
  it('lines, relative moves, H and V, quadratics and cubics', () => {
    expect(pathOperators('M10 20L30 40H50V60Z')).toBe('10 20 m\n30 40 l\n50 40 l\n50 60 l\nh\n');
    expect(pathOperators('m10 20l5 5h5v-5z')).toBe('10 20 m\n15 25 l\n20 25 l\n20 20 l\nh\n');
    expect(pathOperators('M0 0Q30 30 60 0')).toBe('0 0 m\n20 20 40 20 60 0 c\n');
    expect(pathOperators('M0 0C0 10 10 10 10 0S20 -10 20 0')).toBe('0 0 m\n0 10 10 10 10 0 c\n10 -10 20 -10 20 0 c\n');
  });

  it('arcs become quarter-turn cubics ending exactly at the arc end (a full circle from two halves)', () => {
    const ops = pathOperators('M0 50a50 50 0 1 0 100 0a50 50 0 1 0 -100 0Z');
    const curves = ops.split('\n').filter((l) => l.endsWith(' c'));
    expect(curves).toHaveLength(4);
    expect(curves[1]!.endsWith(' 100 50 c')).toBe(true);
    expect(curves[3]!.endsWith(' 0 50 c')).toBe(true);
    // Every point on the arc is 50 from the centre (the control points sit off it).
    for (const curve of curves) {
      const [x, y] = curve.split(' ').slice(4, 6).map(Number);
      expect(Math.hypot(x! - 50, y! - 50)).toBeCloseTo(50, 1);
    }
  });

  it('shapes, styles and transforms are read; anything outside the vocabulary is refused, not drawn wrong', () => {
    const shapes = letteringShapes('<g transform="rotate(90 0 0)"><rect x="1" y="2" width="3" height="4" fill="#fff" stroke="#111" stroke-width="2" stroke-dasharray="3 2"/><path d="M0 0L1 1" fill="none" stroke="red" paint-order="stroke"/></g>');
    expect(shapes).toHaveLength(2);
    expect(shapes![0]).toMatchObject({ path: '1 2 3 4 re\n', fill: '#fff', stroke: '#111', strokeWidth: 2, dash: [3, 2] });
    expect(shapes![0]!.transform!.map((n) => Math.round(n))).toEqual([0, 1, -1, 0, 0, 0]);
    expect(shapes![1]).toMatchObject({ fill: null, stroke: 'red', strokeFirst: true });
    expect(letteringShapes('<g><text x="0" y="0">HI</text></g>')).toBeNull();
    expect(letteringShapes('<g><path d="M0 0L1 1" fill="url(#grad)"/></g>')).toBeNull();
    expect(letteringShapes('<image href="x.png"/>')).toBeNull();
  });

  it('paints as SVG does: fill then stroke, or the stroke under the fill (paint-order), dashes, joins and opacity', () => {
    const black = () => [0, 0, 0] as const;
    const gs = (fill: number, stroke: number) => `A${fill}-${stroke}`;
    const [plain, under, faint] = [
      letteringShapes('<path d="M0 0L9 9Z" fill="#fff" stroke="#111" stroke-width="2" stroke-linejoin="round" stroke-dasharray="3"/>')!,
      letteringShapes('<path d="M0 0L9 9Z" fill="#fff" stroke="#111" paint-order="stroke"/>')!,
      letteringShapes('<g opacity="0.5"><path d="M0 0L9 9Z" fill-rule="evenodd"/></g>')!,
    ];
    expect(shapeOperators(plain, black, gs)).toBe('q\n0 0 0 rg\n0 0 0 RG\n2 w\n1 j\n0 J\n4 M\n[3 3] 0 d\n0 0 m\n9 9 l\nh\nB\nQ\n');
    expect(shapeOperators(under, black, gs)).toContain('0 0 m\n9 9 l\nh\nS\n0 0 m\n9 9 l\nh\nf\n');
    expect(shapeOperators(faint, black, gs)).toBe('q\n/A0.5-1 gs\n0 0 0 rg\n0 0 m\n9 9 l\nh\nf*\nQ\n');
  });

  it('the lettering draws every kind (balloons, whispers, thoughts, shouts, captions, SFX) in that vocabulary', () => {
    const p = letteredSixPanelPage();
    const layout = computeLayout(p, SMALL, 'ltr');
    const { items } = letterPage(p, layout, meta(SMALL));
    expect(new Set(items.map((it) => it.box.kind))).toEqual(new Set(['speech', 'whisper', 'shout', 'thought', 'caption', 'sfx']));
    for (const item of items) {
      const shapes = letteringShapes(item.svg);
      expect(shapes, `${item.box.kind} "${item.box.text}"`).not.toBeNull();
      expect(shapes!.length).toBeGreaterThan(0);
    }
  });
});

describe('the vector PDF and the lettering-free PDF', () => {
  let pages: ExportPage[];
  let vector: string;
  let raster: string;
  let art: string;
  beforeAll(async () => {
    pages = await composedPages(2);
    vector = (await exportPdf({ outDir: out, meta: meta(SMALL), pages, slug: 'vector' })).path;
    // The same pages as an older cache gives them: no drawings, so the lettering stays raster.
    const old = pages.map((p) => ({ ...p, lettering: p.lettering.map(({ svg: _svg, ...box }: ExportLettering) => box) }));
    raster = (await exportPdf({ outDir: out, meta: meta(SMALL), pages: old, slug: 'raster' })).path;
    art = (await exportPdfArt({ outDir: out, meta: meta(SMALL), pages, slug: 'vector' })).path;
  });

  it('is written as <slug>.pdf and <slug>-art.pdf, and qpdf finds nothing wrong with either', async () => {
    expect(vector.endsWith('vector.pdf')).toBe(true);
    expect(art.endsWith('vector-art.pdf')).toBe(true);
    for (const pdf of [vector, raster, art]) {
      const { stdout } = await execa('qpdf', ['--check', pdf]);
      expect(stdout).toContain('No syntax or stream encoding errors found');
    }
  });

  it('draws the lettering as vector paths over the art (the raster edition has none)', async () => {
    const ops = (await contentStreams(vector)).match(PATH_OPERATOR)?.length ?? 0;
    const none = (await contentStreams(raster)).match(PATH_OPERATOR)?.length ?? 0;
    expect(none).toBe(0);
    expect(ops).toBeGreaterThan(500);
  });

  it('looks like the raster lettering at the page dpi, and is sharper than it zoomed in', async () => {
    for (let i = 0; i < pages.length; i++) {
      const dpi = SMALL.dpi;
      const [v, r, a] = await Promise.all([rendered(vector, i + 1, dpi, true), rendered(raster, i + 1, dpi, true), rendered(art, i + 1, dpi, true)]);
      for (const box of pages[i]!.lettering) {
        // The vector lettering agrees with the composed page's; the art alone does not.
        const near = meanDiff(v, r, box);
        expect(near, `${box.kind} on page ${i + 1}`).toBeLessThan(10);
        if (box.kind !== 'sfx') expect(meanDiff(a, r, box)).toBeGreaterThan(near + 10);
      }
      // At 8× the dpi a vector edge stays one pixel wide; an enlarged raster edge is eight.
      const zoom = 8;
      for (const box of pages[i]!.lettering.filter((b) => b.kind === 'speech' || b.kind === 'caption').slice(0, 2)) {
        // The text in the middle of the balloon or caption, on its white or tinted ground.
        const inner = { x: (box.x + box.width * 0.2) * zoom, y: (box.y + box.height * 0.25) * zoom, width: box.width * 0.6 * zoom, height: box.height * 0.5 * zoom };
        const [vz, rz] = await Promise.all([rendered(vector, i + 1, dpi * zoom, false, inner), rendered(raster, i + 1, dpi * zoom, false, inner)]);
        const whole = { x: 0, y: 0, width: vz.width, height: vz.height };
        expect(greyShare(vz, whole), `${box.kind} on page ${i + 1}`).toBeLessThan(0.6 * greyShare(rz, whole));
      }
    }
  }, 60_000);

  it('keeps its text layer: every line of lettering, in reading order, in embedded font subsets', async () => {
    const words = (t: string) => t.replace(/\s+/g, ' ').trim();
    const { stdout } = await execa('pdftotext', ['-raw', vector, '-']);
    expect(words(stdout)).toBe(words(pages.flatMap(readingLines).join(' ')));
    const fonts = (await execa('pdffonts', [vector])).stdout.split('\n').slice(2).filter(Boolean);
    expect(fonts.length).toBe(4);
    for (const row of fonts) expect(row).toMatch(/\syes\s+yes\s+yes\s/);
  });

  it("a tilted sound effect's text lies tilted on its letters: made visible, it falls inside them", async () => {
    // The raster edition, its invisible text turned visible (render mode 3 → 0, same length):
    // the text of each effect, black, must cover the drawn letters and not the art beside them.
    const visible = join(out, 'visible.pdf');
    await writeFile(visible, (await qdfText(raster)).replace(/^3 Tr$/gm, '0 Tr'), 'latin1');
    let tilted = 0;
    const zoom = 3;
    for (let i = 0; i < pages.length; i++) {
      // At 3× the page's dpi (upright text on a 7° effect covers about 84% of it there, not 97%).
      const [v, r, a] = await Promise.all([rendered(visible, i + 1, SMALL.dpi * zoom), rendered(raster, i + 1, SMALL.dpi * zoom), rendered(art, i + 1, SMALL.dpi * zoom)]);
      for (const box of pages[i]!.lettering.filter((b) => b.kind === 'sfx')) {
        const name = box.lines?.join(' ');
        expect(Math.abs(box.rotation ?? 0), `${name}'s tilt`).toBeGreaterThanOrEqual(4);
        tilted++;
        // The drawn effect: where the lettered page differs from the art (its outline and
        // fill), a pixel's neighbours included; its fill: where it is lighter than the art.
        const drawn = (x: number, y: number) => Math.abs(r.data[y * r.width + x]! - a.data[y * a.width + x]!) > 30;
        const near = (x: number, y: number) => [-1, 0, 1].some((dy) => [-1, 0, 1].some((dx) => drawn(x + dx, y + dy)));
        let text = 0;
        let onLetters = 0;
        let fill = 0;
        let covered = 0;
        for (let y = Math.round(box.y * zoom); y < Math.round((box.y + box.height) * zoom); y++) {
          for (let x = Math.round(box.x * zoom); x < Math.round((box.x + box.width) * zoom); x++) {
            const at = y * v.width + x;
            const darkened = r.data[at]! - v.data[at]! >= 60;
            if (darkened) text++;
            if (darkened && near(x, y)) onLetters++;
            if (r.data[at]! - a.data[at]! > 30) {
              fill++;
              if (darkened) covered++;
            }
          }
        }
        expect(text, `${name}: the text layer is drawn with its font's outlines`).toBeGreaterThan(50);
        expect(onLetters / text, `${name} on page ${i + 1}: the text on the letters`).toBeGreaterThan(0.99);
        expect(covered / fill, `${name} on page ${i + 1}: the letters under the text`).toBeGreaterThan(0.93);
      }
    }
    expect(tilted).toBeGreaterThan(0);
  });

  it('the lettering-free PDF has the art and no text, no fonts, no lettering paths', async () => {
    expect((await execa('pdftotext', [art, '-'])).stdout.trim()).toBe('');
    expect((await execa('pdffonts', [art])).stdout.split('\n').slice(2).filter(Boolean)).toEqual([]);
    expect((await contentStreams(art)).match(PATH_OPERATOR)?.length ?? 0).toBe(0);
    const { stdout } = await execa('pdfinfo', ['-box', art]);
    expect(stdout).toMatch(/Pages:\s+2/);
    expect(stdout).toMatch(/TrimBox:/);
  });

  it('is about the raster edition\'s size (within 10%), and the same pages give the same bytes', async () => {
    const [v, r] = await Promise.all([stat(vector), stat(raster)]);
    expect(Math.abs(v.size - r.size) / r.size).toBeLessThan(0.1);
    const again = await exportPdf({ outDir: out, meta: meta(SMALL), pages, slug: 'vector-again' });
    expect((await readFile(again.path)).equals(await readFile(vector))).toBe(true);
  });

  it('a page whose art cannot be had keeps its raster lettering; the lettering-free PDF refuses to make it', async () => {
    const broken = pages.map((p) => ({ ...p, art: () => Promise.reject(new Error('panels evicted')) }));
    const file = await exportPdf({ outDir: out, meta: meta(SMALL), pages: broken, slug: 'no-art' });
    expect((await execa('qpdf', ['--check', file.path])).stdout).toContain('No syntax or stream encoding errors found');
    // The vectors lie over the same lettering in the pixels: a little heavier, in the same place.
    const r = await rendered(raster, 1, SMALL.dpi, true);
    const b = await rendered(file.path, 1, SMALL.dpi, true);
    for (const box of pages[0]!.lettering) expect(meanDiff(b, r, box)).toBeLessThan(15);
    await expect(exportPdfArt({ outDir: out, meta: meta(SMALL), pages: broken, slug: 'no-art' })).rejects.toThrow('panels evicted');
    const none = pages.map(({ art: _art, ...p }) => p);
    await expect(exportPdfArt({ outDir: out, meta: meta(SMALL), pages: none, slug: 'no-art' })).rejects.toMatchObject({ code: 'NOT_CACHED' });
  });

  it('a drawing outside the vocabulary leaves that page raster rather than drawn wrong', async () => {
    const odd = pages.map((p) => ({ ...p, lettering: p.lettering.map((b, i) => (i === 0 ? { ...b, svg: `<g><text>${b.lines?.[0] ?? ''}</text></g>` } : b)) }));
    const file = await exportPdf({ outDir: out, meta: meta(SMALL), pages: odd.slice(0, 1), slug: 'odd' });
    expect((await contentStreams(file.path)).match(PATH_OPERATOR)?.length ?? 0).toBe(0);
  });
});

describe('examples/lighthouse.yaml, generated with the draft backend', () => {
  const EXAMPLE = join(process.cwd(), 'examples', 'lighthouse.yaml');
  let dir: string;
  let pdf: string;
  let artPdf: string;
  let comicPages: Awaited<ReturnType<typeof prepareScript>>['comic']['pages'];

  async function run(force = false) {
    const templates = await loadTemplateRegistry({ dirs: [] });
    const prepared = await prepareScript(EXAMPLE, { cwd: process.cwd(), templates, exports: ['pdf', 'pdf-art'] });
    comicPages = prepared.comic.pages;
    const backend = new DraftBackend();
    const result = await generate({
      scripts: [prepared],
      outDir: join(dir, 'out'),
      backend,
      templates,
      cache: new RenderCache(join(dir, 'cache')),
      bus: new EventBus(),
      signal: new AbortController().signal,
      only: null,
      force,
    });
    await backend.close();
    expect(result.summary.exitCode).toBe(0);
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'comic-vector-example-'));
    await run();
    const files = await readdir(join(dir, 'out'));
    pdf = join(dir, 'out', files.find((f) => f.endsWith('.pdf') && !f.endsWith('-art.pdf'))!);
    artPdf = join(dir, 'out', files.find((f) => f.endsWith('-art.pdf'))!);
  }, 120_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("leaves nothing in the cache's staging folder (the pages' art is kept there between the two PDFs)", async () => {
    expect(await readdir(join(dir, 'cache', 'staging'))).toEqual([]);
  });

  /** Letters only: no spaces, no hyphens (hyphenation adds some, line breaks take some). */
  const squeeze = (t: string) => t.toLocaleUpperCase('en').replace(/[\s\-\u00ad]+/g, '');

  it('pdftotext gives every dialogue line, caption and sound effect of the script, in reading order', async () => {
    for (const [i, page] of comicPages.entries()) {
      const { stdout } = await execa('pdftotext', ['-raw', '-f', String(i + 1), '-l', String(i + 1), pdf, '-']);
      const text = squeeze(stdout);
      let at = 0;
      for (const panel of page.panels) {
        for (const said of [...(panel.caption === null ? [] : [panel.caption]), ...panel.dialogue.map((d) => d.text)]) {
          const found = text.indexOf(squeeze(said), at);
          expect(found, `page ${i + 1}: "${said}" after what comes before it`).toBeGreaterThanOrEqual(0);
          at = found;
        }
        for (const sfx of panel.sfx) {
          // After the panel's words, before the next panel's.
          const found = text.indexOf(squeeze(sfx.text), at);
          expect(found, `page ${i + 1}: sound effect ${sfx.text} after the panel's words`).toBeGreaterThanOrEqual(0);
          at = found;
        }
      }
    }
  });

  it('has its lettering as vectors and its fonts embedded; the art-only PDF has neither; qpdf is content', async () => {
    expect((await contentStreams(pdf)).match(PATH_OPERATOR)?.length ?? 0).toBeGreaterThan(2000);
    for (const row of (await execa('pdffonts', [pdf])).stdout.split('\n').slice(2).filter(Boolean)) expect(row).toMatch(/\syes\s+yes\s+yes\s/);
    expect((await execa('pdftotext', [artPdf, '-'])).stdout.trim()).toBe('');
    for (const file of [pdf, artPdf]) expect((await execa('qpdf', ['--check', file])).stdout).toContain('No syntax or stream encoding errors found');
  });

  it('pages from the cache keep their drawings; older entries without them export with raster lettering', async () => {
    const before = await readFile(pdf);
    await rm(pdf);
    await run();
    expect((await readFile(pdf)).equals(before)).toBe(true);

    // Entries as an older comic wrote them: the page's lettering boxes, no drawings.
    const cache = join(dir, 'cache');
    for (const shard of await readdir(cache)) {
      if (!/^[0-9a-f]{2}$/.test(shard)) continue;
      for (const name of (await readdir(join(cache, shard))).filter((n) => n.endsWith('.json'))) {
        const file = join(cache, shard, name);
        const meta = JSON.parse(await readFile(file, 'utf8')) as { detail?: { drawings?: unknown } | null };
        if (meta.detail?.drawings === undefined) continue;
        delete meta.detail.drawings;
        await writeFile(file, JSON.stringify(meta));
      }
    }
    await rm(pdf);
    await run();
    expect(existsSync(pdf)).toBe(true);
    expect((await contentStreams(pdf)).match(PATH_OPERATOR)?.length ?? 0).toBe(0);
    const { stdout } = await execa('pdftotext', [pdf, '-']);
    expect(squeeze(stdout)).toContain(squeeze(comicPages[0]!.panels[0]!.caption!));
  }, 120_000);
});
