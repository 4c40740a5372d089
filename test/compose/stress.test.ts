/**
 * No text is ever left out: a stress script (tiny panels, four or more long balloons per
 * panel, captions, sound effects, words longer than any balloon) is composed, and every
 * dialogue line, caption and sound effect of every panel must be on the page, whole, in a
 * box of its own inside the page. Measured from the lettering boxes the composer returns
 * and from the page's pixels, not from the warnings.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatLocation } from '../../src/errors.js';
import { face } from '../../src/compose/fonts.js';
import { computeLayout } from '../../src/compose/layout.js';
import { hyphenator } from '../../src/compose/lettering/hyphenate.js';
import { MIN_FONT_SIZE_PT } from '../../src/compose/lettering/metrics.js';
import { composePageDetailed, type DetailedPage } from '../../src/compose/page.js';
import type { LetteringKind, PageLayout, Rect } from '../../src/compose/types.js';
import { parseScript, type Comic, type Page, type YamlPath } from '../../src/script/index.js';

const FIXTURES = join(process.cwd(), 'test', 'fixtures');

interface Composed {
  readonly page: Page;
  readonly layout: PageLayout;
  readonly composed: DetailedPage;
  /** The same page with no lettering, to see what the lettering changed. */
  readonly bare: { data: Buffer; width: number };
  readonly lettered: { data: Buffer; width: number };
}

/** What the script asks to be lettered on a page: every line, caption and sound effect. */
interface Expected {
  readonly panelId: string;
  readonly kind: LetteringKind;
  readonly text: string;
  readonly path: YamlPath;
}

function expectedOf(page: Page): Expected[] {
  return page.panels.flatMap((panel) => [
    ...(panel.caption === null ? [] : [{ panelId: panel.id, kind: 'caption' as const, text: panel.caption, path: [...panel.path, 'caption'] }]),
    ...panel.dialogue.map((line) => ({ panelId: panel.id, kind: line.kind, text: line.text, path: line.path })),
    ...panel.sfx.map((sfx) => ({ panelId: panel.id, kind: 'sfx' as const, text: sfx.text, path: sfx.path })),
  ]);
}

/** The characters of a text in order, without the spaces and hyphens that wrapping adds or takes away. */
const squash = (text: string) => text.toLocaleUpperCase('en').replace(/[\s-]+/g, '');
const samePath = (a: YamlPath, b: YamlPath) => a.length === b.length && a.every((s, i) => s === b[i]);
const contains = (outer: Rect, inner: Rect) =>
  inner.x >= outer.x && inner.y >= outer.y && inner.x + inner.width <= outer.x + outer.width && inner.y + inner.height <= outer.y + outer.height;
const disjoint = (a: Rect, b: Rect) => a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;

async function solid(page: Page): Promise<Map<string, Buffer>> {
  const images = new Map<string, Buffer>();
  for (const [i, panel] of page.panels.entries()) {
    images.set(panel.id, await sharp({ create: { width: 48, height: 48, channels: 3, background: { r: 60 + 12 * i, g: 120, b: 200 - 8 * i } } }).png().toBuffer());
  }
  return images;
}

async function raw(png: Buffer) {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width };
}

async function composeAll(comic: Comic): Promise<Composed[]> {
  const out: Composed[] = [];
  for (const page of comic.pages) {
    const layout = computeLayout(page, comic.meta.format, comic.meta.direction);
    const panelImages = await solid(page);
    const composed = await composePageDetailed({ page, layout, panelImages, comicMeta: comic.meta, locate: (path) => comic.locate(path) });
    const blank: Page = { ...page, panels: page.panels.map((p) => ({ ...p, dialogue: [], caption: null, sfx: [] })) };
    const plain = await composePageDetailed({ page: blank, layout, panelImages, comicMeta: comic.meta });
    out.push({ page, layout, composed, bare: await raw(plain.png), lettered: await raw(composed.png) });
  }
  return out;
}

function load(name: string): Comic {
  const file = join(FIXTURES, name);
  return parseScript(readFileSync(file, 'utf8'), { file, checkFiles: false });
}

describe('lettering under stress: nothing is left out', () => {
  let comic: Comic;
  let pages: Composed[];
  beforeAll(async () => {
    comic = load('stress-lettering.yaml');
    pages = await composeAll(comic);
  }, 60_000);

  it('the script is a stress: tiny crowded panels, and text that does not fit where it belongs', () => {
    const panels = comic.pages.flatMap((p) => p.panels);
    expect(panels.filter((p) => p.dialogue.length >= 4).length).toBeGreaterThanOrEqual(8);
    expect(panels.filter((p) => p.sfx.length >= 2).length).toBeGreaterThanOrEqual(4);
    expect(panels.filter((p) => p.caption !== null).length).toBeGreaterThanOrEqual(8);
    // It does not fit: the composer had to move text out of its panel, or the test would prove little.
    const warnings = pages.flatMap((p) => p.composed.warnings);
    expect(warnings.filter((w) => /does not fit in the panel/.test(w)).length).toBeGreaterThanOrEqual(10);
  });

  it('every dialogue line, caption and sound effect of every panel is in a box, whole, once', () => {
    for (const { page, composed } of pages) {
      const expected = expectedOf(page);
      expect(composed.lettering).toHaveLength(expected.length);
      for (const item of expected) {
        const boxes = composed.lettering.filter((b) => b.panelId === item.panelId && samePath(b.path, item.path));
        expect(boxes, `${item.panelId} ${item.kind} "${item.text}"`).toHaveLength(1);
        const [box] = boxes;
        expect(box!.kind).toBe(item.kind);
        // The lines drawn hold every character of the script's text, in order.
        expect(squash(box!.lines.join(' ')), `${item.panelId} ${item.kind}`).toBe(squash(item.text));
      }
    }
  });

  it('every box is inside the page (the safe area), tails included, and no two overlap', () => {
    for (const { composed, layout } of pages) {
      for (const box of composed.lettering) {
        expect(contains(layout.safe, box.extent), `${box.panelId} ${box.kind} "${box.text}"`).toBe(true);
        expect(contains(box.extent, box)).toBe(true);
      }
      const boxes = composed.lettering;
      for (const [i, a] of boxes.entries()) {
        for (const b of boxes.slice(i + 1)) expect(disjoint(a, b), `"${a.text}" and "${b.text}"`).toBe(true);
      }
    }
  });

  it('every line fits inside its box at the size it is set; text below the minimum size says so', () => {
    const faceOf = (kind: LetteringKind) => face(kind === 'caption' ? 'caption' : kind === 'whisper' ? 'whisper' : kind === 'sfx' ? 'display' : 'dialogue');
    const minimum = (MIN_FONT_SIZE_PT * comic.meta.format.dpi) / 72;
    for (const { composed } of pages) {
      for (const box of composed.lettering) {
        for (const line of box.lines) {
          expect(faceOf(box.kind).shape(line, box.size).width, `${box.kind} line "${line}"`).toBeLessThanOrEqual(box.width);
        }
        if (box.kind !== 'sfx' && box.size < minimum - 0.01) {
          const at = formatLocation(comic.locate(box.path));
          expect(composed.warnings.some((w) => w.includes('below the minimum') && w.endsWith(`(at ${at})`)), `${box.kind} "${box.text}"`).toBe(true);
        }
      }
    }
  });

  it('every box is drawn: the lettered page differs from the bare one over most of each box', () => {
    for (const { composed, bare, lettered } of pages) {
      for (const box of composed.lettering) {
        let changed = 0;
        for (let y = box.y; y < box.y + box.height; y++) {
          for (let x = box.x; x < box.x + box.width; x++) {
            const i = (y * bare.width + x) * 3;
            if (Math.abs(bare.data[i]! - lettered.data[i]!) + Math.abs(bare.data[i + 1]! - lettered.data[i + 1]!) + Math.abs(bare.data[i + 2]! - lettered.data[i + 2]!) > 60) changed++;
          }
        }
        // Balloons and captions are filled shapes; a sound effect's letters fill a good part of its tilted box.
        const share = changed / (box.width * box.height);
        expect(share, `${box.panelId} ${box.kind} "${box.text}"`).toBeGreaterThan(box.kind === 'sfx' ? 0.15 : 0.5);
      }
    }
  });

  it('each text moved out of its panel is a warning naming the panel and its file:line:column', () => {
    for (const { composed, layout } of pages) {
      for (const box of composed.lettering) {
        const panel = layout.panels.find((p) => p.panelId === box.panelId)!;
        if (contains(panel, box.extent)) continue;
        const at = formatLocation(comic.locate(box.path));
        expect(
          composed.warnings.filter((w) => w.startsWith(`panel ${box.panelId}: `) && w.includes('does not fit in the panel') && w.endsWith(`(at ${at})`)),
          `${box.panelId} ${box.kind} "${box.text}"`,
        ).toHaveLength(1);
      }
    }
  });

  it("a word longer than its balloon is hyphenated at the language's hyphenation points", () => {
    const pieces = hyphenator('en')!;
    const all = pages.flatMap((p) => p.composed.lettering);
    for (const word of ['SUPERCALIFRAGILISTICEXPIALIDOCIOUSLY', 'PNEUMONOULTRAMICROSCOPICSILICOVOLCANOCONIOSIS', 'HIPPOPOTOMONSTROSESQUIPPEDALIOPHOBIA']) {
      const box = all.find((b) => squash(b.text).includes(word))!;
      // The word as drawn: its letters, with "-" and a new line wherever it was broken.
      const drawn = box.lines.join('\n').match(new RegExp(word.split('').join('(?:-\n)?')))?.[0];
      expect(drawn, word).toBeDefined();
      const breaks: number[] = [];
      let letters = 0;
      for (let i = 0; i < drawn!.length; i++) {
        if (drawn!.startsWith('-\n', i)) {
          breaks.push(letters);
          i++;
        } else letters++;
      }
      expect(breaks.length, `${word} is broken across lines`).toBeGreaterThan(0);
      const allowed = new Set(pieces(word).map((_, i, all) => all.slice(0, i + 1).join('').length));
      for (const at of breaks) expect(allowed.has(at), `${word} broken after "${word.slice(0, at)}"`).toBe(true);
    }
  });
});

describe('lettering that no page could hold at the minimum size', () => {
  it('is still lettered, whole and inside the page, smaller than the minimum, and says so', async () => {
    const comic = load('overfull-lettering.yaml');
    const [{ composed, layout, page }] = (await composeAll(comic)) as [Composed];
    const line = page.panels[0]!.dialogue[0]!;
    const box = composed.lettering.find((b) => samePath(b.path, line.path))!;
    expect(box).toBeDefined();
    expect(squash(box.lines.join(' '))).toBe(squash(line.text));
    expect(contains(layout.safe, box.extent)).toBe(true);
    expect(box.scale).toBeLessThan(1);
    // The caption of the other panel keeps its place: the long line does not cover it.
    const caption = composed.lettering.find((b) => b.kind === 'caption')!;
    expect(disjoint(caption, box)).toBe(true);
    expect(composed.warnings).toEqual([
      expect.stringMatching(/^panel 1-1: the speech "This line goes on .*" does not fit in the panel; it is set at \d+% size, below the minimum, .*\(at .*overfull-lettering\.yaml:17:13\)$/),
      // No font of the fallback chain has the hieroglyph of panel 1-2's caption.
      expect.stringMatching(/^panel 1-2: no lettering font has a glyph for "𓀀" \(U\+13000\); it is drawn as an empty box \(at .*overfull-lettering\.yaml:40:\d+\)$/),
    ]);
  });
});
