import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { type DraftPanelSpec, renderDraftPanel } from '../../src/backends/draft/render.js';

const spec: DraftPanelSpec = {
  width: 333,
  height: 517,
  title: 'Panel 2-3',
  prompt: 'Mara climbs the spiral stairs, lantern in hand, while the storm shakes the windows',
  characters: ['Mara', 'Tom'],
  camera: 'low angle',
  pose: 'climbing',
  dialogue: 'Mara: "Who lit the lamp?"',
  seed: 7,
};

async function raw(png: Buffer) {
  return sharp(png).raw().toBuffer({ resolveWithObject: true });
}

/** Dark pixels in the lower 40% (inside a 10 px margin): where the text card is. */
async function inkInLowerPart(png: Buffer): Promise<number> {
  const { data, info } = await raw(png);
  let ink = 0;
  for (let y = Math.round(info.height * 0.6); y < info.height - 10; y++) {
    for (let x = 10; x < info.width - 10; x++) {
      const i = (y * info.width + x) * 3;
      if (data[i]! < 110 && data[i + 1]! < 110 && data[i + 2]! < 110) ink++;
    }
  }
  return ink;
}

describe('renderDraftPanel', () => {
  it('renders a PNG of exactly the requested size, opaque', async () => {
    const png = await renderDraftPanel(spec);
    const meta = await sharp(png).metadata();
    expect([meta.format, meta.width, meta.height, meta.hasAlpha]).toEqual(['png', 333, 517, false]);
  });

  it('is deterministic in its inputs, and the seed changes the sketch', async () => {
    const [a, b, c] = await Promise.all([renderDraftPanel(spec), renderDraftPanel(spec), renderDraftPanel({ ...spec, seed: 8 })]);
    expect(a.equals(b)).toBe(true);
    expect(a.equals(c)).toBe(false);
  });

  it('writes the panel text in dark ink on a light card at the bottom, on light grey paper', async () => {
    const { data, info } = await raw(await renderDraftPanel(spec));
    // Paper in the top corner: light grey, not white.
    const corner = (10 * info.width + 10) * 3;
    expect([data[corner]!, data[corner + 1]!, data[corner + 2]!].every((v) => v > 200 && v < 250)).toBe(true);
    const ink = await inkInLowerPart(await renderDraftPanel(spec));
    expect(ink).toBeGreaterThan(300);
    // Without any text the bottom has far less ink.
    const bare = await inkInLowerPart(await renderDraftPanel({ ...spec, title: '', prompt: '', characters: [], camera: null, pose: null, dialogue: null }));
    expect(bare).toBeLessThan(ink / 2);
    expect(info.width).toBe(spec.width);
  });

  it('handles tiny and very wide panels', async () => {
    for (const [width, height] of [[24, 24], [2000, 300]] as const) {
      const meta = await sharp(await renderDraftPanel({ ...spec, width, height })).metadata();
      expect([meta.width, meta.height]).toEqual([width, height]);
    }
  });
});
