import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSdApiEmulator, type SdApiEmulator } from '../fakes/sdapi/index.js';
import { composeGrid, renderPicture } from '../fakes/sdapi/images.js';
import { generate, meanRgb, png, solidPng } from './helpers.js';

let emu: SdApiEmulator;

beforeAll(async () => {
  emu = await startSdApiEmulator({ stepMs: 0 });
});
afterAll(async () => {
  await emu.close();
});

const base = { prompt: 'a red kite over the sea', negative_prompt: 'text', seed: 1234, steps: 3, width: 128, height: 96 };

async function firstImage(route: 'txt2img' | 'img2img', body: Record<string, unknown>): Promise<Buffer> {
  return png((await generate(emu, route, body)).images[0] ?? '');
}

describe('deterministic pictures', () => {
  it('the same inputs give the same bytes', async () => {
    const a = await firstImage('txt2img', base);
    const b = await firstImage('txt2img', base);
    expect(a.equals(b)).toBe(true);
  });

  it('a different seed, prompt, negative prompt or size gives different bytes', async () => {
    const reference = await firstImage('txt2img', base);
    for (const change of [{ seed: 1235 }, { prompt: 'a blue kite' }, { negative_prompt: 'blurry' }, { width: 136 }]) {
      const other = await firstImage('txt2img', { ...base, ...change });
      expect(other.equals(reference), JSON.stringify(change)).toBe(false);
    }
  });

  it('differs in its pixels, not only its metadata, when the seed changes', async () => {
    const a = await sharp(await firstImage('txt2img', base)).raw().toBuffer();
    const b = await sharp(await firstImage('txt2img', { ...base, seed: 99 })).raw().toBuffer();
    expect(a.equals(b)).toBe(false);
  });

  it('img2img depends on the init image bytes and is itself reproducible', async () => {
    const red = (await solidPng('#ff0000')).toString('base64');
    const teal = (await solidPng('#008080')).toString('base64');
    const withRed = await firstImage('img2img', { ...base, init_images: [red] });
    expect((await firstImage('img2img', { ...base, init_images: [red] })).equals(withRed)).toBe(true);
    expect((await firstImage('img2img', { ...base, init_images: [teal] })).equals(withRed)).toBe(false);
  });

  it('an init image pulls the colour of the result towards it compared with txt2img', async () => {
    const plain = await meanRgb(await firstImage('txt2img', base));
    const tinted = await meanRgb(await firstImage('img2img', { ...base, init_images: [(await solidPng('#00ff00')).toString('base64')] }));
    expect(tinted[1] - plain[1]).toBeGreaterThan(30);
  });
});

describe('renderPicture', () => {
  const spec = { width: 40, height: 24, key: 'k', completed: 1, init: null };

  it('fills width × height × 3 bytes and is a pure function of its spec', () => {
    const picture = renderPicture(spec);
    expect(picture.pixels.length).toBe(40 * 24 * 3);
    expect(renderPicture(spec).pixels.equals(picture.pixels)).toBe(true);
  });

  it('unfinished sampling adds noise that fades as sampling completes', () => {
    const done = renderPicture(spec).pixels;
    const distance = (other: Buffer): number => other.reduce((sum, value, i) => sum + Math.abs(value - (done[i] ?? 0)), 0);
    const early = distance(renderPicture({ ...spec, completed: 0.1 }).pixels);
    const late = distance(renderPicture({ ...spec, completed: 0.9 }).pixels);
    expect(late).toBeGreaterThan(0);
    expect(early).toBeGreaterThan(late);
  });

  it('composeGrid tiles images in floor(sqrt(n)) rows', () => {
    const cell = renderPicture({ ...spec, width: 8, height: 8 });
    expect(composeGrid([cell, cell, cell, cell, cell, cell])).toMatchObject({ width: 24, height: 16 });
    expect(composeGrid([cell, cell, cell])).toMatchObject({ width: 24, height: 8 });
  });
});
