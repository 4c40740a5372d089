/**
 * `node --import tsx test/compose/render-golden.ts <out-dir>`: renders every golden page, the
 * golden draft and the balloon sheet into <out-dir>. golden.test.ts runs it with an empty fontconfig, so the
 * pages are proven to need no system font.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderBalloonSheet } from './balloon-sheet.js';
import { GOLDEN_PAGES, renderGolden, renderGoldenDraft } from './golden-pages.js';

const out = process.argv[2];
if (!out) {
  console.error('usage: render-golden.ts <out-dir>');
  process.exit(2);
}
for (const name of Object.keys(GOLDEN_PAGES)) writeFileSync(join(out, `${name}.png`), (await renderGolden(name)).png);
writeFileSync(join(out, 'draft.png'), await renderGoldenDraft());
writeFileSync(join(out, 'balloons.png'), await renderBalloonSheet());
