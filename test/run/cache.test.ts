import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RenderCache, type CacheMeta } from '../../src/run/cache.js';
import { sha256 } from '../../src/util/hash.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'comic-cache-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const meta = (key: string): CacheMeta => ({
  key,
  jobId: 'panel:1-1',
  backend: 'draft',
  server: null,
  seed: 7,
  template: { id: 'panel', version: '1.0.0' },
  params: { steps: 20 },
  createdAt: '2026-11-24T00:00:00.000Z',
  timings: { queuedMs: 0, runMs: 5 },
  dropped: [],
  detail: null,
});

/** A small real PNG: the cache only takes images that decode whole. */
const png = (color = '#336699'): Promise<Buffer> => sharp({ create: { width: 8, height: 8, channels: 3, background: color } }).png().toBuffer();

describe('RenderCache', () => {
  it('stores an image under its key and finds it again', async () => {
    const cache = new RenderCache(join(dir, 'cache'));
    const src = join(dir, 'img.png');
    const bytes = await png();
    await writeFile(src, bytes);
    const key = sha256('a');
    expect(await cache.get(key)).toBeNull();
    await cache.put(src, meta(key));
    const entry = await cache.get(key);
    expect(entry?.meta.jobId).toBe('panel:1-1');
    expect(await readFile(entry!.image)).toEqual(bytes);
  });

  it('treats an image without metadata (a crash mid-put) as absent', async () => {
    const cache = new RenderCache(join(dir, 'cache'));
    const key = sha256('b');
    const src = join(dir, 'img.png');
    await writeFile(src, await png());
    await cache.put(src, meta(key));
    await rm(cache.imagePath(key).replace(/\.png$/, '.json'));
    expect(await cache.get(key)).toBeNull();
  });

  it('lists, prunes by age and keep-set, and clears', async () => {
    const cache = new RenderCache(join(dir, 'cache'));
    const src = join(dir, 'img.png');
    await writeFile(src, await png());
    const keys = ['c', 'd', 'e'].map((s) => sha256(s));
    for (const key of keys) await cache.put(src, meta(key));
    const listed: string[] = [];
    for await (const e of cache.entries()) listed.push(e.key);
    expect(listed.sort()).toEqual([...keys].sort());
    const pruned = await cache.prune({ keep: new Set([keys[0]!]) });
    expect(pruned.removed).toBe(2);
    expect(await cache.get(keys[0]!)).not.toBeNull();
    expect(await cache.get(keys[1]!)).toBeNull();
    expect((await cache.prune({ olderThanMs: 60_000 })).removed).toBe(0);
    await cache.clear();
    expect(await cache.get(keys[0]!)).toBeNull();
  });

  it('refuses anything that is not a content key, so a key can never become a path', () => {
    const cache = new RenderCache(join(dir, 'cache'));
    expect(() => cache.imagePath('../../etc/passwd')).toThrow(/not a content key/);
  });
});

describe('sweepTempFiles', () => {
  it('removes only the temp files an interrupted atomic write leaves', async () => {
    const { sweepTempFiles } = await import('../../src/util/fs.js');
    await writeFile(join(dir, 'page.png.4242.0badc0de.tmp'), 'partial');
    await writeFile(join(dir, 'notes.tmp'), 'a user file');
    await writeFile(join(dir, 'page.png'), 'whole');
    expect(await sweepTempFiles(dir)).toBe(1);
    expect((await readFile(join(dir, 'notes.tmp'), 'utf8'))).toBe('a user file');
    expect(await sweepTempFiles(join(dir, 'missing'))).toBe(0);
  });
});
