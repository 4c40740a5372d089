/**
 * A page's art is composed once for the run's exports that draw over it (the vector PDF and
 * the lettering-free PDF), kept in the cache's staging folder in between and removed after.
 */
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RenderCache } from '../../src/run/cache.js';
import { PageArt } from '../../src/run/page-art.js';

const KEY = 'a'.repeat(64);
let dir: string;
let cache: RenderCache;
let composed: number;
const compose = async () => {
  composed++;
  return Buffer.from(`art ${composed}`);
};
const staging = async () => (await readdir(cache.stagingDir).catch(() => [])).length;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'comic-page-art-'));
  cache = new RenderCache(join(dir, 'cache'));
  await mkdir(cache.stagingDir, { recursive: true });
  composed = 0;
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('the art of a page, for the exports that draw over it', () => {
  it('two exports: composed once, the same bytes for both, nothing left in staging after the second', async () => {
    const art = new PageArt(cache, 2);
    const first = await art.get(KEY, compose);
    expect(await staging()).toBe(1);
    const second = await art.get(KEY, compose);
    expect(second.equals(first)).toBe(true);
    expect(composed).toBe(1);
    expect(await staging()).toBe(0);
  });

  it('one export: composed when asked, nothing kept', async () => {
    const art = new PageArt(cache, 1);
    await art.get(KEY, compose);
    await art.get(KEY, compose);
    expect(composed).toBe(2);
    expect(await staging()).toBe(0);
  });

  it('what the second export never asked for is removed when the run closes it; a kept file that vanished is composed again', async () => {
    const art = new PageArt(cache, 2);
    await art.get(KEY, compose);
    await art.close();
    expect(await staging()).toBe(0);
    // Asked again after its file went: composed again rather than failing.
    const again = new PageArt(cache, 2);
    await again.get(KEY, compose);
    await rm(cache.stagingDir, { recursive: true, force: true });
    expect((await again.get(KEY, compose)).toString()).toBe('art 3');
  });
});
