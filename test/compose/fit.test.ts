import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fitPanel, type FittedImage } from '../../src/compose/fit.js';
import { ComicError } from '../../src/errors.js';

/** 200×100: left half red, right half blue. */
async function halves(): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100"><rect width="100" height="100" fill="#ff0000"/><rect x="100" width="100" height="100" fill="#0000ff"/></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

function pixel(img: FittedImage, x: number, y: number): [number, number, number] {
  const i = (y * img.width + x) * 3;
  return [img.data[i]!, img.data[i + 1]!, img.data[i + 2]!];
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'comic-fit-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('fitPanel', () => {
  it('covers the box at its exact size, cropping around the focal point', async () => {
    const image = await halves();
    const left = await fitPanel(image, { width: 100, height: 100 }, { mode: 'cover', focus: { x: 0, y: 0.5 } });
    const rightSide = await fitPanel(image, { width: 100, height: 100 }, { mode: 'cover', focus: { x: 1, y: 0.5 } });
    const centre = await fitPanel(image, { width: 100, height: 100 }, { mode: 'cover' });
    expect([left.width, left.height, left.data.length]).toEqual([100, 100, 100 * 100 * 3]);
    expect(pixel(left, 5, 50)).toEqual([255, 0, 0]);
    expect(pixel(left, 94, 50)).toEqual([255, 0, 0]);
    expect(pixel(rightSide, 5, 50)).toEqual([0, 0, 255]);
    expect(pixel(centre, 20, 50)).toEqual([255, 0, 0]);
    expect(pixel(centre, 80, 50)).toEqual([0, 0, 255]);
  });

  it('never distorts: scaling up keeps the aspect (the colour edge stays in the middle)', async () => {
    // 200×100 covering 300×100 scales by 1.5 to 300×150 and crops rows; columns keep the split.
    const fitted = await fitPanel(await halves(), { width: 300, height: 100 }, { mode: 'cover' });
    expect(pixel(fitted, 147, 50)).toEqual([255, 0, 0]);
    expect(pixel(fitted, 153, 50)).toEqual([0, 0, 255]);
  });

  it('contains the whole image on white', async () => {
    const fitted = await fitPanel(await halves(), { width: 100, height: 100 }, { mode: 'contain' });
    expect(pixel(fitted, 50, 5)).toEqual([255, 255, 255]);
    expect(pixel(fitted, 50, 94)).toEqual([255, 255, 255]);
    expect(pixel(fitted, 10, 50)).toEqual([255, 0, 0]);
    expect(pixel(fitted, 90, 50)).toEqual([0, 0, 255]);
  });

  it('reads files and flattens transparency onto white', async () => {
    const file = join(dir, 'clear.png');
    await writeFile(file, await sharp({ create: { width: 10, height: 10, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toBuffer());
    const fitted = await fitPanel(file, { width: 20, height: 20 }, { mode: 'cover' });
    expect(pixel(fitted, 10, 10)).toEqual([255, 255, 255]);
  });

  it('reports a damaged or missing panel image with a code and a hint', async () => {
    const file = join(dir, 'broken.png');
    await writeFile(file, 'not an image');
    const broken = fitPanel(file, { width: 10, height: 10 }, { mode: 'cover' });
    await expect(broken).rejects.toBeInstanceOf(ComicError);
    await expect(broken).rejects.toMatchObject({ code: 'PANEL_IMAGE_INVALID', hint: expect.stringContaining('--force') });
    await expect(fitPanel(join(dir, 'missing.png'), { width: 10, height: 10 }, { mode: 'contain' })).rejects.toMatchObject({
      code: 'PANEL_IMAGE_INVALID',
      message: expect.stringContaining('missing.png'),
    });
  });
});
