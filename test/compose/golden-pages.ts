/**
 * The golden pages: small lettered pages covering every kind of lettering, both reading
 * directions, a splash and explicit cells. Used by golden.test.ts and by render-golden.ts
 * (which renders them in a child process with no fonts configured).
 */
import { renderDraftPanel } from '../../src/backends/draft/render.js';
import { computeLayout } from '../../src/compose/layout.js';
import { composePageDetailed } from '../../src/compose/page.js';
import type { ComposedPage } from '../../src/compose/types.js';
import type { Page, ReadingDirection } from '../../src/script/model.js';
import { letteredSixPanelPage, meta, page, panelImages, rows, SMALL } from './fixtures.js';

interface GoldenPage {
  readonly page: Page;
  readonly direction: ReadingDirection;
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
};

export async function renderGolden(name: string): Promise<ComposedPage> {
  const golden = GOLDEN_PAGES[name];
  if (!golden) throw new Error(`no golden page ${name}`);
  const comic = meta(SMALL, golden.direction);
  const layout = computeLayout(golden.page, SMALL, golden.direction);
  return composePageDetailed({ page: golden.page, layout, panelImages: await panelImages(golden.page, layout.panels), comicMeta: comic });
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
