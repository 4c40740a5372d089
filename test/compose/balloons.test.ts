/**
 * Balloons and tails as a letterer would check them: one outline per balloon with its
 * tail (a pixel test), tails aimed at the mouth and ending short of it, thought trails
 * short of the head, off-panel tails to the panel's edge, and balloons placed where the art
 * is quiet (from the panel image itself).
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { meanDetail, measureDetail } from '../../src/compose/detail.js';
import { computeLayout } from '../../src/compose/layout.js';
import { TAIL_REACH } from '../../src/compose/lettering/panel.js';
import { tailHeading } from '../../src/compose/lettering/shapes.js';
import { composePageDetailed } from '../../src/compose/page.js';
import type { Rect } from '../../src/compose/types.js';
import { DialogueSchema } from '../../src/script/schema.js';
import { SHEET_DPI, SHEET_ROWS, DIRECTIONS, sheetCell, sheetCells, type SheetCell } from './balloon-sheet.js';
import { meta, page, panelImage, rows, SMALL } from './fixtures.js';

const EM = (9 * SHEET_DPI) / 72;
const LINE = Math.max(1, EM * 0.075);

/** One cell's SVG fragments, rendered alone as grey pixels. */
async function grey(cell: Rect, fragments: string, background: string): Promise<Uint8Array> {
  const w = Math.round(cell.width);
  const h = Math.round(cell.height);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><rect width="100%" height="100%" fill="${background}"/><g transform="translate(${-cell.x} ${-cell.y})">${fragments}</g></svg>`;
  return sharp(Buffer.from(svg)).greyscale().raw().toBuffer();
}

/** `inside` shrunk by `r` pixels (a square min filter, in two passes). */
function erode(inside: boolean[], w: number, h: number, r: number): boolean[] {
  const across = inside.map((_, i) => {
    const x = i % w;
    for (let d = -r; d <= r; d++) if (!inside[i + d] || x + d < 0 || x + d >= w) return false;
    return true;
  });
  return across.map((_, i) => {
    for (let d = -r; d <= r; d++) if (!across[i + d * w]) return false;
    return true;
  });
}

/** Pixels of the balloon's fill region, well inside its outline, that are not white. */
async function darkInside(c: SheetCell, balloon: string): Promise<{ dark: number; interior: number }> {
  const w = Math.round(c.cell.width);
  const h = Math.round(c.cell.height);
  const mask = await grey(c.cell, c.art.shapes.map((d) => `<path d="${d}" fill="#000"/>`).join(''), '#fff');
  const drawn = await grey(c.cell, balloon, '#8fb8d8');
  const interior = erode(Array.from(mask, (v) => v < 128), w, h, Math.ceil(LINE + 1.5));
  let dark = 0;
  let count = 0;
  interior.forEach((inside, i) => {
    if (!inside) return;
    count++;
    if (drawn[i]! < 235) dark++;
  });
  return { dark, interior: count };
}

describe('one outline per balloon with its tail', () => {
  it.each(SHEET_ROWS.map((row, i) => [`${row.kind}${row.rounded ? ' (rounded)' : ''}`, i] as const))(
    '%s: no outline inside the fill, tails in eight directions',
    async (_, row) => {
      for (const column of DIRECTIONS.keys()) {
        const c = sheetCell(row, column);
        const { dark, interior } = await darkInside(c, c.art.balloon);
        expect(interior, 'the interior is measured').toBeGreaterThan(500);
        expect(dark, `${c.kind} toward ${Math.round((c.direction * 180) / Math.PI)}°`).toBe(0);
      }
    },
  );

  it('this check bites: filled as one path, a tail wound against its body leaves a seam', async () => {
    let seams = 0;
    for (const c of sheetCells().filter((cell) => cell.art.tail !== null)) {
      const stroke = c.art.balloon.slice(0, c.art.balloon.indexOf('/>') + 2);
      const { dark } = await darkInside(c, `${stroke}<path d="${c.art.shapes.join('')}" fill="#fff"/>`);
      if (dark > 0) seams++;
    }
    expect(seams).toBeGreaterThan(0);
  });
});

/** The distance from the centre of the balloon's outer bounds to their ellipse toward `theta`. */
function outerRadius(rect: Rect, theta: number): number {
  const rx = rect.width / 2;
  const ry = rect.height / 2;
  return (rx * ry) / Math.hypot(ry * Math.cos(theta), rx * Math.sin(theta));
}

describe('tails', () => {
  const tailed = sheetCells().filter((c) => c.art.tail !== null);

  it('aim their point at the mouth, from every direction', () => {
    for (const c of tailed) {
      const { tip } = c.art.tail!;
      const toMouth = Math.atan2(c.mouth.y - tip.y, c.mouth.x - tip.x);
      const off = Math.abs(Math.atan2(Math.sin(tailHeading(c.art.tail!) - toMouth), Math.cos(tailHeading(c.art.tail!) - toMouth)));
      expect(off, `${c.kind} toward ${c.direction}`).toBeLessThan(0.02);
    }
  });

  it('curve rather than run straight, when the mouth is off to the side', () => {
    const c = tailed.find((cell) => cell.kind === 'speech' && Math.abs(cell.direction - Math.PI / 4) < 1e-9)!;
    const { base, tip, bend } = c.art.tail!;
    const mid = { x: (base[0].x + base[1].x) / 2, y: (base[0].y + base[1].y) / 2 };
    // The bend's distance from the straight line from the base to the tip.
    const cross = Math.abs((tip.x - mid.x) * (bend.y - mid.y) - (tip.y - mid.y) * (bend.x - mid.x)) / Math.hypot(tip.x - mid.x, tip.y - mid.y);
    expect(cross).toBeGreaterThan(0.3 * EM);
  });

  it('end about half to two-thirds of the way from the balloon to the mouth, never at it', () => {
    for (const c of tailed) {
      const centre = { x: c.art.rect.x + c.art.rect.width / 2, y: c.art.rect.y + c.art.rect.height / 2 };
      const theta = Math.atan2(c.mouth.y - centre.y, c.mouth.x - centre.x);
      const gap = Math.hypot(c.mouth.x - centre.x, c.mouth.y - centre.y) - outerRadius(c.art.rect, theta);
      const { tip } = c.art.tail!;
      const left = Math.hypot(c.mouth.x - tip.x, c.mouth.y - tip.y) / gap;
      expect(left, `${c.kind} toward ${c.direction}`).toBeGreaterThan(1 / 3 - 0.03);
      expect(left, `${c.kind} toward ${c.direction}`).toBeLessThan(0.5 + 0.03);
    }
    expect(TAIL_REACH).toBeGreaterThanOrEqual(0.5);
    expect(TAIL_REACH).toBeLessThanOrEqual(2 / 3);
  });

  it('thought trails end short of the head, their circles shrinking toward it', () => {
    for (const c of sheetCells().filter((cell) => cell.kind === 'thought')) {
      const trail = c.art.trail!;
      expect(trail).toHaveLength(3);
      expect(trail[0]!.r).toBeGreaterThan(trail[2]!.r);
      const last = trail[2]!;
      const reach = Math.hypot(c.mouth.x - last.x, c.mouth.y - last.y) - last.r;
      expect(reach, `toward ${c.direction}`).toBeGreaterThan(1.2 * EM);
    }
  });

  it('run to the panel edge toward an off-panel speaker, pointing out through it', () => {
    for (const side of ['left', 'right', 'top', 'bottom'] as const) {
      const c = sheetCell(0, 0, { side });
      const area = { x: c.cell.x + EM * 0.5, y: c.cell.y + EM * 0.5, width: c.cell.width - EM, height: c.cell.height - EM };
      const { tip } = c.art.tail!;
      const heading = tailHeading(c.art.tail!);
      if (side === 'left') expect([tip.x, Math.cos(heading)]).toEqual([area.x, expect.closeTo(-1, 1)]);
      if (side === 'right') expect([tip.x, Math.cos(heading)]).toEqual([area.x + area.width, expect.closeTo(1, 1)]);
      if (side === 'top') expect([tip.y, Math.sin(heading)]).toEqual([area.y, expect.closeTo(-1, 1)]);
      if (side === 'bottom') expect([tip.y, Math.sin(heading)]).toEqual([area.y + area.height, expect.closeTo(1, 1)]);
    }
  });
});

describe('off-panel speakers in a composed page', () => {
  it('are a side the script names on the line', () => {
    expect(DialogueSchema.parse({ who: 'tom', text: 'Here!', offPanel: 'left' }).offPanel).toBe('left');
    expect(DialogueSchema.safeParse({ who: 'tom', text: 'Here!', offPanel: 'behind' }).success).toBe(false);
  });

  it('get a tail to the panel edge on their side, not at a drawn character', async () => {
    const p = page(1, rows(2), [
      { characters: ['mara'], dialogue: [{ who: 'tom', text: 'Over here!', offPanel: 'right' }] },
      { characters: ['mara'], dialogue: [{ who: 'tom', text: 'Over here!' }] },
    ]);
    const layout = computeLayout(p, SMALL, 'ltr');
    const images = new Map(await Promise.all(layout.panels.map(async (box) => [box.panelId, await panelImage(box.width, box.height, 200)] as const)));
    const composed = await composePageDetailed({ page: p, layout, panelImages: images, comicMeta: meta(SMALL) });
    const [off, drawn] = composed.lettering;
    const box = layout.panels[0]!;
    const inner = box.x + box.width - layout.border.width;
    // The tail reaches the border on the right; the balloon sits by that edge.
    expect(off!.extent.x + off!.extent.width).toBeGreaterThanOrEqual(inner - 2);
    expect(off!.x + off!.width / 2).toBeGreaterThan(box.x + box.width / 2);
    // Without the flag the speaker is the one drawn in the panel: the tail ends inside it.
    const other = layout.panels[1]!;
    expect(drawn!.extent.x + drawn!.extent.width).toBeLessThan(other.x + other.width - layout.border.width - 5);
  });
});

describe('the detail map', () => {
  it('is zero on flat art and high on noise, and averages over any block', async () => {
    const flat = await sharp({ create: { width: 640, height: 320, channels: 3, background: '#6a8' } }).raw().toBuffer();
    const noisy = await noise(640, 320);
    const f = measureDetail(flat, 640, 320, 3);
    const n = measureDetail(noisy, 640, 320, 3);
    expect([f.columns, f.rows]).toEqual([64, 32]);
    expect(meanDetail(f, 0, 0, 1, 1)).toBe(0);
    expect(meanDetail(n, 0, 0, 1, 1)).toBeGreaterThan(0.8);
    // Noise on the left half only.
    const half = Buffer.from(flat);
    for (let y = 0; y < 320; y++) noisy.copy(half, y * 1920, y * 1920, y * 1920 + 960);
    const h = measureDetail(half, 640, 320, 3);
    expect(meanDetail(h, 0, 0, 0.5, 1)).toBeGreaterThan(0.8);
    expect(meanDetail(h, 0.5, 0, 1, 1)).toBe(0);
    expect(meanDetail(h, 0, 0, 1, 1)).toBeCloseTo(0.5 * meanDetail(h, 0, 0, 0.5, 1), 5);
  });
});

async function noise(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 70 } } })
    .raw()
    .toBuffer();
}

/** Busy noise over the whole image but for a flat `quiet` block (fractions of the image). */
async function artWithQuietRegion(width: number, height: number, quiet: Rect): Promise<Buffer> {
  const pixels = await noise(width, height);
  for (let y = Math.round(quiet.y * height); y < Math.round((quiet.y + quiet.height) * height); y++) {
    pixels.fill(150, (y * width + Math.round(quiet.x * width)) * 3, (y * width + Math.round((quiet.x + quiet.width) * width)) * 3);
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

describe('balloons go where the art is quiet', () => {
  const p = page(1, rows(1, 1), [
    { characters: ['mara'], dialogue: [{ who: 'mara', text: 'Is anyone there?' }] },
    { characters: ['tom'], dialogue: [{ who: 'tom', text: 'Only the sea.' }] },
  ]);
  const layout = computeLayout(p, SMALL, 'ltr');

  async function letteredOver(quiet: Rect | null) {
    const images = new Map(
      await Promise.all(
        layout.panels.map(async (box) => [box.panelId, quiet ? await artWithQuietRegion(box.width, box.height, quiet) : await panelImage(box.width, box.height, 120)] as const),
      ),
    );
    return composePageDetailed({ page: p, layout, panelImages: images, comicMeta: meta(SMALL) });
  }
  const centreIn = (b: Rect, box: Rect, q: Rect) => {
    const x = (b.x + b.width / 2 - box.x) / box.width;
    const y = (b.y + b.height / 2 - box.y) / box.height;
    return x > q.x && x < q.x + q.width && y > q.y && y < q.y + q.height;
  };

  it.each([
    ['lower left', { x: 0.04, y: 0.62, width: 0.5, height: 0.33 }],
    ['right', { x: 0.5, y: 0.05, width: 0.46, height: 0.38 }],
    ['bottom right', { x: 0.45, y: 0.7, width: 0.5, height: 0.26 }],
  ])('in the one quiet region (%s) of busy art', async (_, quiet) => {
    const composed = await letteredOver(quiet);
    for (const [i, box] of layout.panels.entries()) {
      const balloon = composed.lettering.find((b) => b.panelId === box.panelId)!;
      expect(centreIn(balloon, box, quiet), `panel ${i + 1}: ${JSON.stringify(balloon)}`).toBe(true);
    }
  });

  it.each([
    ['flat', null],
    ['equally busy all over', { x: 0, y: 0, width: 0, height: 0 }],
  ])('and at the top of the panel, over the speaker, when the art is %s', async (_, quiet) => {
    const composed = await letteredOver(quiet);
    for (const box of layout.panels) {
      const balloon = composed.lettering.find((b) => b.panelId === box.panelId)!;
      expect(balloon.y - box.y).toBeLessThan(box.height * 0.15);
    }
  });
});
