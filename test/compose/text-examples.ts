/**
 * `node --import tsx test/compose/text-examples.ts <out-dir> [prefix]`: letters a page of text
 * examples (line breaks, emphasis, fallback fonts, repeated sound effects) and writes each
 * panel as a PNG crop, for the before/after pictures in docs/lettering.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { computeLayout } from '../../src/compose/layout.js';
import { composePageDetailed } from '../../src/compose/page.js';
import type { PageFormat } from '../../src/script/model.js';
import { meta, page, panelImages, rows } from './fixtures.js';

const FORMAT: PageFormat = { preset: 'custom', width: 995, height: 1538, dpi: 150, bleed: 19, margin: 38 };

export const TEXT_EXAMPLES = page(1, rows(2, 2, 2), [
  { characters: ['mara'], dialogue: [{ who: 'mara', text: "Don't even think about it." }] },
  { characters: ['tom'], dialogue: [{ who: 'tom', text: 'Get out of my lighthouse and never come back here again, you thief!', kind: 'shout' }] },
  { characters: ['mara'], dialogue: [{ who: 'mara', text: 'I *told* you, I\'m not going in there. Not *ever*.' }] },
  { characters: ['aki'], dialogue: [{ who: 'aki', text: '★ 日本語 中文 한국어 ★' }] },
  { characters: [], sfx: [{ text: 'Boom' }, { text: 'Boom' }, { text: 'Boom' }] },
  { characters: ['mara'], caption: 'Meanwhile, at the incomprehensibilities department.', dialogue: [{ who: 'mara', text: 'Who lit the lamp?' }] },
]);

const out = process.argv[2];
const prefix = process.argv[3] ?? '';
if (out) {
  mkdirSync(out, { recursive: true });
  const layout = computeLayout(TEXT_EXAMPLES, FORMAT, 'ltr');
  const composed = await composePageDetailed({ page: TEXT_EXAMPLES, layout, panelImages: await panelImages(TEXT_EXAMPLES, layout.panels), comicMeta: meta(FORMAT) });
  writeFileSync(join(out, `${prefix}page.png`), composed.png);
  for (const [i, box] of layout.panels.entries()) {
    const crop = await sharp(composed.png).extract({ left: Math.round(box.x), top: Math.round(box.y), width: Math.round(box.width), height: Math.round(box.height) }).png().toBuffer();
    writeFileSync(join(out, `${prefix}panel-${i + 1}.png`), crop);
  }
  console.log((composed as { warnings?: readonly string[] }).warnings?.join('\n') ?? '');
}
