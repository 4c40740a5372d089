import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { pngHeader } from '../../src/compose/export/png-info.js';
import { computeLayout, resolveLayoutStyle } from '../../src/compose/layout.js';
import { composePageDetailed } from '../../src/compose/page.js';
import type { LetteringBox, PageLayout, PanelBox, Rect } from '../../src/compose/types.js';
import type { Page, ReadingDirection } from '../../src/script/model.js';
import { hsl, letteredSixPanelPage, meta, page, PANEL_HUES, rows, SMALL } from './fixtures.js';

type Rgb = [number, number, number];

const WHITE: Rgb = [255, 255, 255];
const BORDER: Rgb = [0x1a, 0x1a, 0x1a];
const { borderWidth: BW } = resolveLayoutStyle(undefined, SMALL.dpi);

function rgbOf(hex: string): Rgb {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as Rgb;
}

async function solidImages(p: Page): Promise<{ images: Map<string, Buffer>; colours: Rgb[] }> {
  const colours = p.panels.map((_, i) => rgbOf(hsl(PANEL_HUES[i % PANEL_HUES.length]!, 0.55, 0.55)));
  const images = new Map<string, Buffer>();
  for (const [i, panel] of p.panels.entries()) {
    const [r, g, b] = colours[i]!;
    images.set(panel.id, await sharp({ create: { width: 64, height: 48, channels: 3, background: { r, g, b } } }).png().toBuffer());
  }
  return { images, colours };
}

interface Raster {
  readonly width: number;
  readonly height: number;
  readonly data: Buffer;
  at(x: number, y: number): Rgb;
}

async function compose(p: Page, direction: ReadingDirection) {
  const layout = computeLayout(p, SMALL, direction);
  const { images, colours } = await solidImages(p);
  const composed = await composePageDetailed({ page: p, layout, panelImages: images, comicMeta: meta(SMALL, direction) });
  const { data, info } = await sharp(composed.png).raw().toBuffer({ resolveWithObject: true });
  expect(info.channels).toBe(3);
  const raster: Raster = {
    width: info.width,
    height: info.height,
    data,
    at: (x, y) => {
      const i = (y * info.width + x) * 3;
      return [data[i]!, data[i + 1]!, data[i + 2]!];
    },
  };
  return { composed, layout, colours, raster };
}

const within = (r: Rect, x: number, y: number) => x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height;
const shrink = (r: Rect, by: number): Rect => ({ x: r.x + by, y: r.y + by, width: r.width - 2 * by, height: r.height - 2 * by });
const contains = (outer: Rect, inner: Rect) =>
  inner.x >= outer.x && inner.y >= outer.y && inner.x + inner.width <= outer.x + outer.width && inner.y + inner.height <= outer.y + outer.height;
const disjoint = (a: Rect, b: Rect) => a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;

describe('composePage: panels, gutters and borders', () => {
  it('draws each panel in its rectangle, its border inside it, and white everywhere else', async () => {
    const p = page(1, rows(2, 1, 3), [{}, {}, {}, {}, {}, {}]);
    const { composed, layout, colours, raster } = await compose(p, 'ltr');
    expect(pngHeader(composed.png)).toMatchObject({ width: layout.canvas.width, height: layout.canvas.height, bitDepth: 8, colorType: 2 });
    expect([raster.width, raster.height]).toEqual([layout.canvas.width, layout.canvas.height]);

    let mismatches = 0;
    for (let y = 0; y < raster.height; y++) {
      for (let x = 0; x < raster.width; x++) {
        const index = layout.panels.findIndex((b) => within(b, x, y));
        const expected = index < 0 ? WHITE : within(shrink(layout.panels[index]!, BW), x, y) ? colours[index]! : BORDER;
        const actual = raster.at(x, y);
        if (actual.some((v, c) => Math.abs(v - expected[c]!) > 2)) mismatches++;
      }
    }
    expect(mismatches).toBe(0);
  });

  it('samples: gutter white, border dark, panel colour just inside the border', async () => {
    const p = page(1, rows(2), [{}, {}]);
    const { layout, colours, raster } = await compose(p, 'ltr');
    const a: Rect = layout.panels[0]!;
    const b: Rect = layout.panels[1]!;
    const mid = Math.round(a.y + a.height / 2);
    const gutterMiddle = Math.round((a.x + a.width + b.x) / 2);
    expect(raster.at(gutterMiddle, mid)).toEqual(WHITE);
    expect(raster.at(a.x + a.width - 1, mid)).toEqual(BORDER);
    expect(raster.at(a.x + a.width, mid)).toEqual(WHITE);
    expect(raster.at(b.x - 1, mid)).toEqual(WHITE);
    expect(raster.at(b.x, mid)).toEqual(BORDER);
    expect(raster.at(b.x + BW, mid)).toEqual(colours[1]);
    expect(raster.at(a.x + BW, a.y + BW)).toEqual(colours[0]);
    // The trim margin outside the live area is paper.
    expect(raster.at(layout.trim.x + 2, layout.trim.y + 2)).toEqual(WHITE);
  });

  it('mirrors right-to-left pages: the first panel is drawn on the right', async () => {
    const p = page(1, rows(3), [{}, {}, {}]);
    const ltr = await compose(p, 'ltr');
    const rtl = await compose(p, 'rtl');
    const y = Math.round(ltr.layout.safe.y + ltr.layout.safe.height / 2);
    const leftX = ltr.layout.safe.x + 20;
    const rightX = ltr.layout.safe.x + ltr.layout.safe.width - 20;
    expect(ltr.raster.at(leftX, y)).toEqual(ltr.colours[0]);
    expect(ltr.raster.at(rightX, y)).toEqual(ltr.colours[2]);
    expect(rtl.raster.at(leftX, y)).toEqual(rtl.colours[2]);
    expect(rtl.raster.at(rightX, y)).toEqual(rtl.colours[0]);
  });

  it('draws borders in the page\'s colour and width, and none around a borderless panel', async () => {
    const p = page(1, rows(2), [{}, { frame: 'borderless' }], { borderWidth: 5, borderColor: '#ff0000' });
    const { colours, raster, layout } = await compose(p, 'ltr');
    const [framed, bare] = layout.panels as [PanelBox, PanelBox];
    const midY = Math.round(framed.y + framed.height / 2);
    expect(raster.at(framed.x + 2, midY)).toEqual([255, 0, 0]);
    expect(raster.at(framed.x + 6, midY)).toEqual(colours[0]);
    expect(raster.at(bare.x, midY)).toEqual(colours[1]);
    expect(raster.at(bare.x + bare.width - 1, midY)).toEqual(colours[1]);
  });

  it('a splash bleeds to the canvas edge without a border', async () => {
    const { colours, raster } = await compose(page(1, rows(1), [{}]), 'ltr');
    expect(raster.at(0, 0)).toEqual(colours[0]);
    expect(raster.at(raster.width - 1, raster.height - 1)).toEqual(colours[0]);
  });

  it('names the panel whose image is missing', async () => {
    const p = page(2, rows(2), [{}, {}]);
    const layout = computeLayout(p, SMALL, 'ltr');
    const { images } = await solidImages(p);
    images.delete('2-2');
    await expect(composePageDetailed({ page: p, layout, panelImages: images, comicMeta: meta(SMALL) })).rejects.toMatchObject({
      code: 'PANEL_IMAGE_INVALID',
      message: expect.stringContaining('panel 2-2'),
    });
  });
  it('fails the page on a damaged panel image, naming it, while the others are still being painted', async () => {
    const p = page(2, rows(3), [{}, {}, {}]);
    const layout = computeLayout(p, SMALL, 'ltr');
    const { images } = await solidImages(p);
    images.set('2-2', Buffer.from('\x89PNG\r\n\x1a\n not really a PNG'));
    await expect(composePageDetailed({ page: p, layout, panelImages: images, comicMeta: meta(SMALL) })).rejects.toMatchObject({
      code: 'PANEL_IMAGE_INVALID',
      message: expect.stringMatching(/^page 2, panel 2-2: cannot fit/),
    });
  });
});

describe('composePage: lettering', () => {
  const textKinds = (boxes: readonly LetteringBox[]) => boxes.filter((b) => b.kind !== 'sfx');

  function checkPlacement(layout: PageLayout, boxes: readonly LetteringBox[]) {
    for (const box of boxes) {
      const panel = layout.panels.find((p) => p.panelId === box.panelId)!;
      // Inside the panel, clear of its border, tails included; and inside the safe area.
      expect(contains(shrink(panel, BW), box.extent)).toBe(true);
      expect(contains(layout.safe, box)).toBe(true);
    }
    for (const [i, a] of boxes.entries()) {
      for (const b of boxes.slice(i + 1)) if (a.panelId === b.panelId) expect(disjoint(a, b)).toBe(true);
    }
  }

  it('letters every line of every panel, inside its panel, with no two balloons overlapping', async () => {
    for (const direction of ['ltr', 'rtl'] as const) {
      const p = letteredSixPanelPage();
      const { composed, layout } = await compose(p, direction);
      const expected = p.panels.reduce((n, panel) => n + panel.dialogue.length + (panel.caption ? 1 : 0) + panel.sfx.length, 0);
      expect(composed.lettering).toHaveLength(expected);
      expect(composed.warnings).toEqual([]);
      checkPlacement(layout, composed.lettering);
      expect(composed.lettering.map((b) => b.kind).sort()).toEqual(['caption', 'caption', 'sfx', 'sfx', 'shout', 'speech', 'speech', 'speech', 'speech', 'speech', 'thought', 'whisper']);
    }
  });

  it('draws balloons as white shapes over the art', async () => {
    const p = letteredSixPanelPage();
    const { composed, raster, colours, layout } = await compose(p, 'ltr');
    for (const box of textKinds(composed.lettering).filter((b) => b.kind !== 'caption')) {
      const panelIndex = layout.panels.findIndex((q) => q.panelId === box.panelId);
      let white = 0;
      let art = 0;
      const cy = Math.round(box.y + box.height / 2);
      for (let x = box.x + Math.round(box.width * 0.3); x < box.x + box.width * 0.7; x++) {
        const px = raster.at(x, cy);
        if (px.every((v) => v > 240)) white++;
        if (px.every((v, c) => Math.abs(v - colours[panelIndex]![c]!) <= 2)) art++;
      }
      expect(white, `${box.kind} in ${box.panelId}`).toBeGreaterThan(0);
      expect(art, `${box.kind} in ${box.panelId}`).toBe(0);
    }
  });

  it('follows the reading direction: later text is lower, or beside it on the reading side', async () => {
    const p = page(1, rows(1), [
      { characters: ['a', 'b'], caption: 'Meanwhile.', dialogue: [{ who: 'a', text: 'First line.' }, { who: 'b', text: 'Second line.' }, { who: 'a', text: 'Third.' }] },
    ]);
    for (const direction of ['ltr', 'rtl'] as const) {
      const { composed } = await compose(p, direction);
      const boxes = composed.lettering;
      expect(boxes.map((b) => b.kind)).toEqual(['caption', 'speech', 'speech', 'speech']);
      for (let i = 1; i < boxes.length; i++) {
        const before = boxes[i - 1]!;
        const after = boxes[i]!;
        const below = after.y >= before.y + before.height;
        const beside = direction === 'ltr' ? after.x >= before.x + before.width : after.x + after.width <= before.x;
        expect(after.y >= before.y && (below || beside), `${direction}: item ${i}`).toBe(true);
      }
      // The caption starts the panel in its reading corner.
      const caption = boxes[0]!;
      const panel = computeLayout(p, SMALL, direction).panels[0]!;
      const centre = caption.x + caption.width / 2;
      expect(direction === 'ltr' ? centre < panel.x + panel.width / 2 : centre > panel.x + panel.width / 2).toBe(true);
    }
  });

  it('aims each tail at its speaker: left speaker tail left of right speaker tail', async () => {
    const p = page(1, rows(1), [{ characters: ['left', 'right'], dialogue: [{ who: 'left', text: 'Hi.' }, { who: 'right', text: 'Hello.' }] }]);
    const { composed } = await compose(p, 'ltr');
    const [first, second] = [composed.lettering[0]!, composed.lettering[1]!];
    expect(first.x + first.width / 2).toBeLessThan(second.x + second.width / 2);
    // Tails reach below their balloons, toward the speakers.
    expect(first.extent.y + first.extent.height).toBeGreaterThan(first.y + first.height);
  });

  it('aims a tail at its explicit anchor rather than at the speaker', async () => {
    /** Where the tail's tip is, across the panel (0 left edge, 1 right): the lettering's pixels in the extent's last rows. */
    const tipAcross = async (x: number) => {
      const p = page(1, rows(1), [{ characters: ['a'], dialogue: [{ who: 'a', text: 'Over here!', tail: { x, y: 0.9 } }] }]);
      const { composed, layout, colours, raster } = await compose(p, 'ltr');
      checkPlacement(layout, composed.lettering);
      const { extent } = composed.lettering[0]!;
      const box = layout.panels[0]!;
      const art = colours[0]!;
      const xs: number[] = [];
      for (let y = Math.floor(extent.y + extent.height) - 3; y < extent.y + extent.height; y++) {
        for (let px = Math.floor(extent.x); px < extent.x + extent.width; px++) {
          const [r, g, b] = raster.at(px, y);
          if (Math.abs(r - art[0]) + Math.abs(g - art[1]) + Math.abs(b - art[2]) > 30) xs.push(px);
        }
      }
      expect(xs.length).toBeGreaterThan(0);
      return (xs.reduce((a, b) => a + b, 0) / xs.length - box.x) / box.width;
    };
    // The speaker stands in the middle of the panel; the anchors say the voice comes from either side.
    expect(await tipAcross(0.05)).toBeLessThan(0.3);
    expect(await tipAcross(0.95)).toBeGreaterThan(0.7);
  });

  it('shrinks text that does not fit a small panel, and says so', async () => {
    const long = 'This is a very long speech that cannot possibly fit into such a tiny panel at the normal size. '.repeat(2);
    const p = page(1, rows(4, 4, 4, 4), Array.from({ length: 16 }, (_, i) => (i === 0 ? { characters: ['a'], dialogue: [{ who: 'a', text: long }] } : {})));
    const { composed, layout } = await compose(p, 'ltr');
    expect(composed.warnings.join('\n')).toMatch(/panel 1-1: (text shrunk to \d+%|the speech .* does not fit)/);
    checkPlacement(layout, composed.lettering);
    // Whatever happened to it, the whole speech is on the page.
    expect(composed.lettering).toHaveLength(1);
    expect(composed.lettering[0]!.lines.join(' ').replace(/[\s-]+/g, '')).toBe(long.toUpperCase().replace(/[\s-]+/g, ''));
  });

  it('keeps all four balloons of a tiny panel, moving what does not fit over the gutter, and says where', async () => {
    const lines = [
      'I told you the boats would not come back before the tide turned.',
      'You were right about the boats, and wrong about everything else.',
      'Name one thing I was wrong about this whole miserable week.',
      'The weather, the nets, the keeper and the price of fish.',
    ];
    const p = page(1, rows(3, 3, 3, 3), Array.from({ length: 12 }, (_, i) => (i === 4 ? { characters: ['a', 'b'], dialogue: lines.map((text, j) => ({ who: j % 2 ? 'b' : 'a', text })) } : {})));
    const { composed, layout } = await compose(p, 'ltr');
    expect(composed.lettering.map((b) => b.path)).toEqual(lines.map((_, j) => ['pages', 0, 'panels', 4, 'dialogue', j]));
    for (const box of composed.lettering) expect(contains(layout.safe, box.extent)).toBe(true);
    const panel = layout.panels[4]!;
    const outside = composed.lettering.filter((b) => !contains(panel, b.extent));
    expect(outside.length).toBeGreaterThan(0);
    // Without the script's file the warning names the text's path in it.
    for (const box of outside) {
      const j = box.path.at(-1);
      expect(composed.warnings.some((w) => w.startsWith('panel 1-5: the speech') && w.endsWith(`(at pages[0].panels[4].dialogue[${String(j)}])`))).toBe(true);
    }
  });
});
