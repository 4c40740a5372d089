/**
 * ComicInfo.xml's book fields (summary, volume, count, date, publisher, genres, web page,
 * story arc, age rating): read from the script's `comic:` keys, written in the schema's
 * order, and valid under the repo's copy of the schema (xmllint).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { comicInfoXml } from '../../src/compose/export/index.js';
import { analyzeScript } from '../../src/script/index.js';
import { meta, SMALL } from './fixtures.js';

const XSD = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'fixtures', 'ComicInfo-v2.0.xsd');

const SCRIPT = `
comic:
  title: The Last Lighthouse
  series: Tales of the Grey Coast
  issue: 1
  summary: A keeper's granddaughter & a lamp that lights itself.
  volume: 2
  count: 6
  year: 2026
  month: 11
  publisher: Grey Coast Press
  genres: [mystery, ghost story]
  web: https://example.org/lighthouse
  storyArc: The Storm
  ageRating: Teen
  authors: [Ines Calder, { name: Ada Marsh, role: letterer }]
pages:
  - panels:
      - prompt: a lighthouse
`;

async function validates(xml: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'comic-comicinfo-'));
  try {
    await writeFile(join(dir, 'ComicInfo.xml'), xml);
    await execa('xmllint', ['--noout', '--schema', XSD, join(dir, 'ComicInfo.xml')]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('ComicInfo.xml book fields', () => {
  it('come from the script and are written, escaped, in the schema order, and validate', async () => {
    const { comic, diagnostics } = analyzeScript(SCRIPT, { file: 'book.yaml', checkFiles: false });
    expect(diagnostics).toEqual([]);
    expect(comic!.meta.book).toEqual({
      summary: "A keeper's granddaughter & a lamp that lights itself.",
      volume: 2,
      count: 6,
      year: 2026,
      month: 11,
      publisher: 'Grey Coast Press',
      genres: ['mystery', 'ghost story'],
      web: 'https://example.org/lighthouse',
      storyArc: 'The Storm',
      ageRating: 'Teen',
    });
    const xml = comicInfoXml(comic!.meta, [{ width: 10, height: 20, size: 300 }]);
    const order = ['Title', 'Series', 'Number', 'Count', 'Volume', 'Summary', 'Year', 'Month', 'Writer', 'Letterer', 'Publisher', 'Genre', 'Web', 'PageCount', 'LanguageISO', 'Manga', 'StoryArc', 'AgeRating', 'Pages'];
    const found = order.map((name) => xml.indexOf(`<${name}>`));
    expect(found.every((at) => at >= 0), xml).toBe(true);
    expect([...found].sort((a, b) => a - b)).toEqual(found);
    expect(xml).toContain('<Summary>A keeper&apos;s granddaughter &amp; a lamp that lights itself.</Summary>');
    expect(xml).toContain('<Genre>mystery, ghost story</Genre>');
    expect(xml).toContain('<AgeRating>Teen</AgeRating>');
    await validates(xml);
  });

  it('a script without them writes none, and keeps its meta as before', async () => {
    const { comic } = analyzeScript('comic: { title: Plain }\npages: [{ panels: [{ prompt: x }] }]\n', { file: 'plain.yaml', checkFiles: false });
    expect(comic!.meta.book).toBeUndefined();
    const xml = comicInfoXml(meta(SMALL), [{ width: 10, height: 20, size: 300 }]);
    for (const name of ['Count', 'Volume', 'Summary', 'Year', 'Month', 'Publisher', 'Genre', 'Web', 'StoryArc', 'AgeRating']) expect(xml).not.toContain(`<${name}>`);
    await validates(xml);
  });

  it('writes the v2.1 draft fields the script has (Day, Translator, Tags, GTIN) in the draft order; the rest is valid v2.0', async () => {
    const script = SCRIPT.replace('  month: 11\n', '  month: 11\n  day: 24\n')
      .replace('  genres: [mystery, ghost story]\n', '  genres: [mystery, ghost story]\n  tags: [lighthouse, storm]\n')
      .replace('  ageRating: Teen\n', '  ageRating: Teen\n  gtin: 978-1-23456-789-7\n')
      .replace('{ name: Ada Marsh, role: letterer }]', '{ name: Ada Marsh, role: letterer }, { name: Jun Sato, role: translator }]');
    const { comic, diagnostics } = analyzeScript(script, { file: 'book.yaml', checkFiles: false });
    expect(diagnostics).toEqual([]);
    expect(comic!.meta.book).toMatchObject({ day: 24, tags: ['lighthouse', 'storm'], gtin: '978-1-23456-789-7' });
    const xml = comicInfoXml(comic!.meta, [{ width: 10, height: 20, size: 300 }]);
    // The element order of the ComicInfo v2.1 draft (anansi-project/comicinfo, drafts/v2.1/ComicInfo.xsd):
    // Day after Month, Translator after Editor, Tags after Genre, GTIN after Pages.
    const order = ['Title', 'Month', 'Day', 'Writer', 'Letterer', 'Translator', 'Publisher', 'Genre', 'Tags', 'Web', 'AgeRating', 'Pages', 'GTIN'];
    const found = order.map((name) => xml.indexOf(`<${name}>`));
    expect(found.every((at) => at >= 0), xml).toBe(true);
    expect([...found].sort((a, b) => a - b)).toEqual(found);
    expect(xml).toContain('<Day>24</Day>');
    expect(xml).toContain('<Translator>Jun Sato</Translator>');
    expect(xml).toContain('<Tags>lighthouse, storm</Tags>');
    expect(xml).toContain('<GTIN>9781234567897</GTIN>');
    // Without the four v2.1 elements, what is left is valid under the v2.0 schema.
    const v20 = xml.replace(/^ {2}<(Day|Translator|Tags|GTIN)>.*<\/\1>\n/gm, '');
    expect(v20).not.toMatch(/<(Day|Translator|Tags|GTIN)>/);
    await validates(v20);
    // And the v2.0 schema does see them: the check above is not vacuous.
    await expect(validates(xml)).rejects.toThrow();
  });

  it('refuses what ComicInfo cannot carry: an unknown age rating, a month 13, a web page that is no URL', () => {
    for (const bad of ['ageRating: Grown-ups', 'month: 13', 'day: 32', 'web: not a url', 'volume: 1.5', 'gtin: 12345', 'gtin: ISBN 978-1']) {
      const { diagnostics } = analyzeScript(`comic:\n  title: X\n  ${bad}\npages: [{ panels: [{ prompt: x }] }]\n`, { file: 'bad.yaml', checkFiles: false });
      expect(diagnostics.length, bad).toBeGreaterThan(0);
    }
  });
});
