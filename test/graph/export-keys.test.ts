/**
 * An export's key covers the options that decide its file: changing any of them makes that
 * export again (and only that one), and options left at their defaults keep the key.
 */
import { describe, expect, it } from 'vitest';
import type { ExportOptions } from '../../src/compose/export/index.js';
import { planComic, type ExportKind } from '../../src/graph/index.js';
import { buildComic, context, sampleSpec } from './fixtures.js';

const ALL: ExportKind[] = ['pdf', 'pdf-art', 'cbz', 'webtoon', 'epub'];

function keys(exportOptions?: ExportOptions): Record<string, string> {
  const graph = planComic(buildComic(sampleSpec()), context(), { exports: ALL, ...(exportOptions && { exportOptions }) });
  return Object.fromEntries(graph.jobs.filter((j) => j.kind === 'export').map((j) => [j.id, j.key]));
}

/** Each option, changed from its default, and the exports whose files it decides. */
const CHANGES: [string, ExportOptions, string[]][] = [
  ['pdf.edition', { pdf: { edition: 'screen' } }, ['export:pdf', 'export:pdf-art']],
  ['cbz.format', { cbz: { format: 'jpeg' } }, ['export:cbz']],
  ['cbz.quality', { cbz: { quality: 60 } }, ['export:cbz']],
  ['cbz.maxBytes', { cbz: { maxBytes: 1_000_000 } }, ['export:cbz']],
  ['epub.quality', { epub: { quality: 60 } }, ['export:epub']],
  ['epub.maxBytes', { epub: { maxBytes: 1_000_000 } }, ['export:epub']],
  ['webtoon.width', { webtoon: { width: 720 } }, ['export:webtoon']],
  ['webtoon.maxHeight', { webtoon: { maxHeight: 1000 } }, ['export:webtoon']],
];

describe('export keys', () => {
  const base = keys();

  it('every export kind, the lettering-free PDF too, is planned with its own key', () => {
    expect(Object.keys(base).sort()).toEqual(['export:cbz', 'export:epub', 'export:pdf', 'export:pdf-art', 'export:webtoon']);
    expect(new Set(Object.values(base)).size).toBe(5);
  });

  it.each(CHANGES)('changing %s changes the key of exactly the exports it decides', (_name, options, affected) => {
    const changed = keys(options);
    for (const id of Object.keys(base)) {
      if (affected.includes(id)) expect(changed[id], id).not.toBe(base[id]);
      else expect(changed[id], id).toBe(base[id]);
    }
  });

  it('the print edition is the default: asking for it keeps the keys; options of other exports do not count', () => {
    expect(keys({ pdf: { edition: 'print' } })).toEqual(base);
    expect(keys({})).toEqual(base);
  });
});
