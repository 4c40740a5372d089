/**
 * The page encoder: strips deflated side by side must still make one valid PNG. Checked by
 * decoding with sharp (libpng), inflating the IDAT stream with zlib (which verifies the
 * Adler-32), and pngcheck (every chunk's CRC and layout).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { execa } from 'execa';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngHeader, pngImageData } from '../../src/compose/export/png-info.js';
import { encodeRgbPng } from '../../src/compose/png.js';

/** Smooth gradients, flat runs and grain, like a lettered page. */
function pagelike(width: number, height: number): Buffer {
  const data = Buffer.alloc(width * height * 3);
  let seed = 7;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = (y * width + x) * 3;
      seed = (seed * 1103515245 + 12345) >>> 0;
      const flat = x % 97 < 20;
      data[at] = flat ? 255 : (x * 255) / width;
      data[at + 1] = flat ? 255 : (y * 255) / height;
      data[at + 2] = flat ? 255 : (seed >>> 24) & 0x3f;
    }
  }
  return data;
}

async function decoded(png: Buffer): Promise<Buffer> {
  return sharp(png, { failOn: 'warning' }).raw().toBuffer();
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'comic-png-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('encodeRgbPng', () => {
  it.each([
    ['one pixel', 1, 1],
    ['one row', 700, 1],
    ['one column', 1, 900],
    ['one strip', 64, 48],
    ['several strips', 1000, 1400],
  ])('round-trips %s exactly, with both compressions', async (_name, width, height) => {
    const pixels = pagelike(width, height);
    for (const compression of ['fast', 'small'] as const) {
      const png = await encodeRgbPng(pixels, width, height, { compression });
      expect(pngHeader(png)).toEqual({ width, height, bitDepth: 8, colorType: 2, interlaced: false });
      expect((await decoded(png)).equals(pixels)).toBe(true);
      // zlib checks the Adler-32 trailer, which is combined from the strips' checksums.
      const rows = inflateSync(pngImageData(png));
      expect(rows.length).toBe(height * (width * 3 + 1));
    }
  });

  it('passes pngcheck, chunk by chunk, with the page dpi in pHYs', async () => {
    const png = await encodeRgbPng(pagelike(1000, 1400), 1000, 1400, { compression: 'fast', dpi: 300 });
    const path = join(dir, 'page.png');
    await writeFile(path, png);
    const { stdout } = await execa('pngcheck', ['-v', path]);
    expect(stdout).toMatch(/No errors detected/);
    expect(stdout).toMatch(/chunk pHYs .*11811x11811 pixels\/meter \(300 dpi\)/);
    expect((await sharp(png).metadata()).density).toBe(300);
  });

  it('reads each strip only once its rows are ready, in whatever order they get ready', async () => {
    const width = 1000;
    const height = 1400;
    const want = pagelike(width, height);
    const canvas = Buffer.alloc(want.length); // black until "painted"
    const asked: { top: number; bottom: number; paint: () => void }[] = [];
    const encoding = encodeRgbPng(canvas, width, height, {
      compression: 'fast',
      rowsReady: (top, bottom) =>
        new Promise<void>((resolve) => {
          asked.push({ top, bottom, paint: () => (want.copy(canvas, top * width * 3, top * width * 3, bottom * width * 3), resolve()) });
        }),
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(asked.length).toBeGreaterThan(1);
    // The strips tile the rows exactly.
    const bands = asked.map(({ top, bottom }) => [top, bottom]).sort((a, b) => a[0]! - b[0]!);
    expect(bands[0]![0]).toBe(0);
    expect(bands.at(-1)![1]).toBe(height);
    for (let i = 1; i < bands.length; i++) expect(bands[i]![0]).toBe(bands[i - 1]![1]);
    // Bottom first: the strips are deflated out of order and still assemble in order.
    for (const strip of [...asked].reverse()) strip.paint();
    expect((await decoded(await encoding)).equals(want)).toBe(true);
  });

  it('fails when a strip is never painted, and rejects a buffer of the wrong size', async () => {
    const failing = encodeRgbPng(Buffer.alloc(1000 * 1400 * 3), 1000, 1400, {
      compression: 'fast',
      rowsReady: async (top) => {
        if (top > 0) throw new Error('panel 1-3 is damaged');
      },
    });
    await expect(failing).rejects.toThrow('panel 1-3 is damaged');
    await expect(encodeRgbPng(Buffer.alloc(10), 2, 2, { compression: 'fast' })).rejects.toThrow(RangeError);
  });
});
