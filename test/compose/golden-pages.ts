/**
 * The golden pages: small lettered pages covering every kind of lettering, both reading
 * directions, a splash and explicit cells. Used by golden.test.ts and by render-golden.ts
 * (which renders them in a child process with no fonts configured).
 */
import sharp from 'sharp';
import { renderDraftPanel } from '../../src/backends/draft/render.js';
import { computeLayout } from '../../src/compose/layout.js';
import { composePageDetailed } from '../../src/compose/page.js';
import { seededRandom } from '../../src/compose/random.js';
import type { ComposedPage, PanelBox, Rect } from '../../src/compose/types.js';
import type { Page, ReadingDirection } from '../../src/script/model.js';
import { letteredSixPanelPage, meta, page, panelImages, rows, SMALL } from './fixtures.js';

interface GoldenPage {
  readonly page: Page;
  readonly direction: ReadingDirection;
  /** The panels' art, when not the fixtures' flat colours. */
  readonly art?: (panels: readonly PanelBox[]) => Promise<Map<string, Buffer>>;
}

export const GOLDEN_PAGES: Readonly<Record<string, GoldenPage>> = {
  'six-panel-ltr': { page: letteredSixPanelPage(1), direction: 'ltr' },
  'manga-rtl': {
    direction: 'rtl',
    page: page(2, rows(1, 2, 2), [
      { characters: ['aki', 'ren'], caption: 'Tokyo, the night before.', dialogue: [{ who: 'aki', text: 'You came back.' }, { who: 'ren', text: 'I never left.' }] },
      { characters: ['ren'], dialogue: [{ who: 'ren', text: 'Run!', kind: 'shout' }], sfx: [{ text: 'Dodon', at: 'bottom-left' }] },
      { characters: ['aki'], dialogue: [{ who: 'aki', text: 'Why is he lying to me?', kind: 'thought' }] },
      { characters: ['aki', 'ren'], dialogue: [{ who: 'ren', text: 'Not here. They are listening.', kind: 'whisper' }] },
      { characters: [], sfx: [{ text: 'Gogogo' }] },
    ]),
  },
  'cells-and-splash': {
    direction: 'ltr',
    page: page(3, { kind: 'cells', cells: [{ x: -0.1, y: -0.1, w: 1.2, h: 0.62 }, { x: 0, y: 0.52, w: 0.4, h: 0.48 }, { x: 0.4, y: 0.52, w: 0.6, h: 0.48 }] }, [
      { characters: ['mara'], caption: 'The lighthouse had been dark for forty years.', sfx: [{ text: 'Wooosh', at: 'top-right' }] },
      { characters: ['mara'], dialogue: [{ who: 'mara', text: 'Hello?' }] },
      { characters: ['mara', 'keeper'], dialogue: [{ who: 'keeper', text: 'Close the door, child. The storm gets in.' }, { who: 'mara', text: 'Who are you?' }] },
    ]),
  },
  // Off-panel voices (left, top, and a speaker not drawn), and balloons finding the quiet
  // part of busy art (flat blocks in speckled panels).
  'off-panel-and-quiet': {
    direction: 'ltr',
    page: page(4, rows(2, 1), [
      { characters: ['mara'], dialogue: [{ who: 'tom', text: 'Mara! Over here!', offPanel: 'left' }, { who: 'mara', text: 'Tom?' }] },
      { characters: ['tom'], dialogue: [{ who: 'keeper', text: 'Up here, both of you.', offPanel: 'top' }] },
      {
        characters: ['mara', 'tom'],
        dialogue: [
          { who: 'mara', text: 'The light is moving.', kind: 'whisper' },
          { who: 'tom', text: 'Lights do not move.', kind: 'thought' },
          { who: 'keeper', text: 'This one does!', kind: 'shout' },
        ],
      },
    ]),
    art: (panels) =>
      speckledArt(panels, [
        { x: 0.05, y: 0.55, width: 0.6, height: 0.4 },
        { x: 0.3, y: 0.04, width: 0.66, height: 0.3 },
        { x: 0.45, y: 0.05, width: 0.52, height: 0.9 },
      ]),
  },
  // Text: breaks for the balloon's shape, *emphasis*, the crossbar I only for the pronoun,
  // fallback fonts (★, Japanese, Chinese, Korean), a hyphenated long word, and alike sound
  // effects each stamped its own way.
  text: {
    direction: 'ltr',
    page: page(5, rows(2, 2), [
      { characters: ['mara'], dialogue: [{ who: 'mara', text: "Don't even think about it." }, { who: 'mara', text: "I *told* you, I'm not going in there. Not *ever*." }] },
      { characters: ['tom'], dialogue: [{ who: 'tom', text: 'Get out of my lighthouse and never come back here again, you thief!', kind: 'shout' }] },
      { characters: ['aki'], caption: 'Meanwhile, at the incomprehensibilities department.', dialogue: [{ who: 'aki', text: '★ 日本語 中文 한국어 ★' }] },
      { characters: [], sfx: [{ text: 'Boom' }, { text: 'Boom' }, { text: 'Boom' }] },
    ]),
  },
};

/** Busy speckled art (seeded, so the same every run) with one flat block per panel, in panel fractions. */
async function speckledArt(panels: readonly PanelBox[], quiet: readonly Rect[]): Promise<Map<string, Buffer>> {
  const entries = await Promise.all(
    panels.map(async (box, i) => {
      const { width, height } = box;
      const random = seededRandom(`speckle/${i}`);
      const pixels = Buffer.alloc(width * height * 3);
      for (let p = 0; p < width * height; p++) {
        const v = 70 + Math.floor(random() * 150);
        pixels[p * 3] = v;
        pixels[p * 3 + 1] = Math.min(255, v + 20);
        pixels[p * 3 + 2] = 150;
      }
      const q = quiet[i]!;
      for (let y = Math.round(q.y * height); y < Math.round((q.y + q.height) * height); y++) {
        for (let x = Math.round(q.x * width); x < Math.round((q.x + q.width) * width); x++) pixels.set([120, 170, 200], (y * width + x) * 3);
      }
      return [box.panelId, await sharp(pixels, { raw: { width, height, channels: 3 } }).png().toBuffer()] as const;
    }),
  );
  return new Map(entries);
}

export async function renderGolden(name: string): Promise<ComposedPage> {
  const golden = GOLDEN_PAGES[name];
  if (!golden) throw new Error(`no golden page ${name}`);
  const comic = meta(SMALL, golden.direction);
  const layout = computeLayout(golden.page, SMALL, golden.direction);
  const images = golden.art ? await golden.art(layout.panels) : await panelImages(golden.page, layout.panels);
  return composePageDetailed({ page: golden.page, layout, panelImages: images, comicMeta: comic });
}

/** A draft panel with every field filled, for the draft golden. */
export function renderGoldenDraft(): Promise<Buffer> {
  return renderDraftPanel({
    width: 320,
    height: 360,
    title: 'Panel 1-2',
    prompt: 'Mara climbs the spiral stairs, lantern in hand',
    characters: ['Mara', 'Tom'],
    camera: 'low angle',
    pose: 'climbing, looking up',
    dialogue: 'Mara: "Who lit the lamp?"',
    seed: 42,
  });
}
