/**
 * The PDF's invisible text layer for lettering set in the fallback fonts (Noto Sans JP, SC,
 * KR for Japanese, Chinese and Korean, Noto for symbols such as ★) and in the emphasis face:
 * each run of a line is written in the font file that draws it, so `pdftotext` gives every
 * character as written; checked with pdftotext, pdffonts, qpdf and pdftoppm.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExportLettering, type ExportPage, exportPageFrom, exportPdf } from '../../src/compose/export/index.js';
import { computeLayout } from '../../src/compose/layout.js';
import { composePage, composePageDetailed } from '../../src/compose/page.js';
import type { Page } from '../../src/script/model.js';
import { letteredSixPanelPage, meta, page, panelImages, readingLines, rows, SMALL } from './fixtures.js';

const JAPANESE = '日本語で話します。';
const CHINESE = '我们说中文。';
const KOREAN = '한국어로 말해요.';

function multilingualPage(): Page {
  return page(1, rows(2, 2), [
    { characters: ['aki'], dialogue: [{ who: 'aki', text: JAPANESE }] },
    { characters: ['li'], dialogue: [{ who: 'li', text: CHINESE }] },
    { characters: ['min'], dialogue: [{ who: 'min', text: KOREAN }], caption: 'Night ★ three.' },
    { characters: ['mara'], dialogue: [{ who: 'mara', text: 'This is *very* important.' }], sfx: [{ text: 'Boom' }] },
  ]);
}

async function composed(p: Page): Promise<ExportPage> {
  const layout = computeLayout(p, SMALL, 'ltr');
  const input = { page: p, layout, panelImages: await panelImages(p, layout.panels), comicMeta: meta(SMALL) };
  return exportPageFrom(1, await composePageDetailed(input), false, () => composePage({ ...input, artOnly: true }));
}

/** Words one space apart; `squeeze` drops the spaces too (line breaks split CJK text anywhere). */
const words = (t: string) => t.replace(/\s+/g, ' ').trim();
const squeeze = (t: string) => t.replace(/\s+/g, '');
const fontRows = async (pdf: string) => (await execa('pdffonts', [pdf])).stdout.split('\n').slice(2).filter(Boolean);
const withoutRuns = (p: ExportPage): ExportPage => ({ ...p, lettering: p.lettering.map(({ runs: _runs, ...box }: ExportLettering) => box) });

let out: string;
let pages: ExportPage[];
let pdf: string;
beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'comic-fallback-text-'));
  pages = [await composed(multilingualPage())];
  pdf = (await exportPdf({ outDir: out, meta: meta(SMALL), pages, slug: 'multilingual' })).path;
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

describe('the text layer of lettering in the fallback fonts and in emphasis', () => {
  it('the composer sets those runs in the Noto fonts and the emphasis face (else there is nothing to test)', () => {
    const files = new Set(pages[0]!.lettering.flatMap((b) => (b.runs ?? []).flat().map((r) => r.file)));
    for (const family of ['noto-sans-jp', 'noto-sans-sc', 'noto-sans-kr']) expect([...files].some((f) => f.includes(`/${family}/`)), family).toBe(true);
    expect(files).toContain('@fontsource/comic-neue/files/comic-neue-latin-700-italic.woff2');
    const texts = pages[0]!.lettering.map((b) => (b as { text?: string }).text);
    expect(texts).toEqual(expect.arrayContaining([JAPANESE, CHINESE, KOREAN, 'NIGHT ★ THREE.', 'THIS IS VERY IMPORTANT.']));
  });

  it('pdftotext gives the Japanese, Chinese and Korean, the ★ and the emphasised word, as written', async () => {
    const raw = (await execa('pdftotext', ['-raw', pdf, '-'])).stdout;
    // Line by line, exactly as lettered, in reading order.
    expect(words(raw)).toBe(words(readingLines(pages[0]!).join(' ')));
    for (const text of [JAPANESE, CHINESE, KOREAN]) expect(squeeze(raw)).toContain(squeeze(text));
    expect(squeeze(raw)).toContain('NIGHT★THREE.');
    expect(raw).toContain('THIS IS VERY');
    expect(raw).not.toContain('*');
    // No character lost to a font without it (.notdef has no text).
    expect(raw).not.toMatch(/[\ufffd\u0000]/);
    const plain = squeeze((await execa('pdftotext', [pdf, '-'])).stdout);
    for (const text of [JAPANESE, CHINESE, KOREAN, '★THREE.', 'VERYIMPORTANT.']) expect(plain).toContain(squeeze(text));
  });

  it('pdffonts lists the Noto fonts and the emphasis face as embedded subsets, named the same each time', async () => {
    const rows = await fontRows(pdf);
    const names = rows.map((r) => r.split(/\s+/)[0]!);
    for (const row of rows) expect(row).toMatch(/\syes\s+yes\s+yes\s/); // emb, sub, uni
    for (const name of names) expect(name).toMatch(/^[A-Z]{6}\+[A-Za-z0-9._-]+$/);
    const bare = new Set(names.map((n) => n.replace(/^[A-Z]{6}\+/, '')));
    for (const font of ['NotoSansJP-Thin', 'NotoSansSC-Thin', 'NotoSansKR-Thin', 'ComicNeue-Bold', 'ComicNeue-BoldItalic', 'Bangers-Regular']) expect(bare).toContain(font);
    // Each font file one subset: no name twice.
    expect(new Set(names).size).toBe(names.length);
    const again = await exportPdf({ outDir: out, meta: meta(SMALL), pages, slug: 'multilingual-again' });
    expect(await fontRows(again.path)).toEqual(rows);
    expect((await readFile(again.path)).equals(await readFile(pdf))).toBe(true);
  });

  it('passes qpdf --check', async () => {
    expect((await execa('qpdf', ['--check', pdf])).stdout).toContain('No syntax or stream encoding errors found');
  });

  it('is invisible: the page renders the same without it; its Noto subsets hold only the glyphs used', async () => {
    const noText = await exportPdf({ outDir: out, meta: meta(SMALL), pages: pages.map((p) => ({ ...p, lettering: p.lettering.map(({ lines: _lines, ...box }: ExportLettering) => box) })), slug: 'no-text' });
    expect((await execa('pdftotext', [noText.path, '-'])).stdout.trim()).toBe('');
    const render = async (file: string) => (await sharp(Buffer.from((await execa('pdftoppm', ['-r', '100', '-png', file], { encoding: 'buffer' })).stdout)).raw().toBuffer()).toString('base64');
    expect(await render(pdf)).toBe(await render(noText.path));
    // Against the same text written in the faces alone (as boxes without runs are), each Noto
    // subset costs about a kilobyte (font program, widths, ToUnicode); the Noto files it is
    // cut from are 15–50 KB each.
    const faces = await exportPdf({ outDir: out, meta: meta(SMALL), pages: pages.map(withoutRuns), slug: 'faces-only' });
    const noto = (await fontRows(pdf)).filter((r) => r.includes('+NotoSans')).length;
    expect(noto).toBeGreaterThanOrEqual(3);
    const withText = (await readFile(pdf)).length;
    expect(withText - faces.bytes).toBeLessThan(noto * 2000);
  });

  it('boxes from before the runs were kept still give their Latin text; a run whose font file is gone falls back to the face', async () => {
    const old = await exportPdf({ outDir: out, meta: meta(SMALL), pages: pages.map(withoutRuns), slug: 'no-runs' });
    expect((await execa('qpdf', ['--check', old.path])).stdout).toContain('No syntax or stream encoding errors found');
    expect(words((await execa('pdftotext', ['-raw', old.path, '-'])).stdout)).toContain('THIS IS VERY IMPORTANT.');
    expect((await fontRows(old.path)).map((r) => r.split(/\s+/)[0]!.replace(/^[A-Z]{6}\+/, '')).sort()).toEqual(['Bangers-Regular', 'ComicNeue-Bold', 'ComicNeue-BoldItalic']);

    const gone = pages.map((p) => ({
      ...p,
      lettering: p.lettering.map((box) => ({ ...box, runs: box.runs?.map((line) => line.map((r) => ({ ...r, file: r.file.includes('noto-sans') ? '@fontsource-variable/noto-sans-jp/files/noto-sans-jp-9999-wght-normal.woff2' : r.file }))) })),
    }));
    const fallback = await exportPdf({ outDir: out, meta: meta(SMALL), pages: gone, slug: 'font-gone' });
    expect((await execa('qpdf', ['--check', fallback.path])).stdout).toContain('No syntax or stream encoding errors found');
    const raw = (await execa('pdftotext', ['-raw', fallback.path, '-'])).stdout;
    expect(raw).toContain('THIS IS VERY');
    expect(raw).toContain('THREE.');
    expect((await fontRows(fallback.path)).some((r) => r.includes('Noto'))).toBe(false);
  });

  it('Latin-only lettering keeps its subset names whether or not its boxes have runs', async () => {
    const p = letteredSixPanelPage();
    const latin = [await composed(p)];
    const [a, b] = await Promise.all([
      exportPdf({ outDir: out, meta: meta(SMALL), pages: latin, slug: 'latin-runs' }),
      exportPdf({ outDir: out, meta: meta(SMALL), pages: latin.map(withoutRuns), slug: 'latin-no-runs' }),
    ]);
    const names = async (file: string) => (await fontRows(file)).map((r) => r.split(/\s+/)[0]!).sort();
    expect(await names(a.path)).toEqual(await names(b.path));
    expect(words((await execa('pdftotext', ['-raw', a.path, '-'])).stdout)).toBe(words((await execa('pdftotext', ['-raw', b.path, '-'])).stdout));
  });
});
