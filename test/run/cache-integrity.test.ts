/**
 * The render cache keeps nothing broken and leaves nothing behind: an image is decoded whole
 * before it is put (a truncated PNG's header alone reads fine), an entry that no longer
 * decodes is dropped on lookup with the reason, and the staging and temp files of failed or
 * killed runs are swept (at run start and by `comic cache prune`), never those of a live run.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { ComicError } from '../../src/errors.js';
import { RenderCache, type CacheMeta } from '../../src/run/cache.js';
import { sha256 } from '../../src/util/hash.js';
import { truncated } from '../fakes/comfyui/hostile.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'comic-cache-integrity-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const meta = (key: string, server: string | null = 'gpu-a'): CacheMeta => ({
  key,
  jobId: 'panel:1-1',
  backend: server === null ? 'draft' : 'comfyui',
  server,
  seed: 7,
  template: { id: 'panel', version: '1.0.0' },
  params: {},
  createdAt: '2026-12-03T00:00:00.000Z',
  timings: { queuedMs: 0, runMs: 5 },
  dropped: [],
  detail: null,
});

/** A PNG with real image data (noise compresses badly, so half of it is really half the pixels). */
async function noisyPng(): Promise<Buffer> {
  const raw = Buffer.alloc(64 * 64 * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 2654435761) >>> 24;
  return sharp(raw, { raw: { width: 64, height: 64, channels: 3 } }).png().toBuffer();
}

const DEAD_PID = 4194999; // above Linux's pid_max: no such process
const DAY = 24 * 3_600_000;

describe('nothing broken enters the cache', () => {
  it('a truncated PNG (a good header, half its data) is refused by put, and its staging file removed', async () => {
    const cache = new RenderCache(join(dir, 'cache'));
    const key = sha256('truncated');
    const staging = cache.stagingPath(key);
    await mkdir(cache.stagingDir, { recursive: true });
    await writeFile(staging, truncated(await noisyPng()));
    expect((await sharp(staging).metadata()).width).toBe(64); // what a header check accepts

    const error = await cache.put(staging, meta(key), { move: true }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ComicError);
    expect((error as ComicError).code).toBe('SERVER_PROTOCOL');
    expect((error as ComicError).message).toMatch(/^the image server gpu-a made for panel:1-1 is not a whole image: it does not decode \((.*read error.*|its data is cut short or damaged)\); it was not cached$/);
    expect(await cache.get(key)).toBeNull();
    expect(await readdir(cache.stagingDir)).toEqual([]);
  });

  it('a whole image goes in, and lookup finds it', async () => {
    const cache = new RenderCache(join(dir, 'cache'));
    const key = sha256('whole');
    const source = join(dir, 'whole.png');
    await writeFile(source, await noisyPng());
    await cache.put(source, meta(key));
    const found = await cache.lookup(key);
    expect(found.kind).toBe('hit');
    expect(await new RenderCache(join(dir, 'cache')).lookup(key)).toMatchObject({ kind: 'hit' }); // decoded afresh by another instance
    expect((await cache.lookup(sha256('absent'))).kind).toBe('miss');
  });
});

describe('a broken entry is dropped on lookup', () => {
  it('an image cut short on disk (an old run cached it, or a crash): broken, with the reason, then gone', async () => {
    const cache = new RenderCache(join(dir, 'cache'));
    const key = sha256('poisoned');
    const source = join(dir, 'p.png');
    await writeFile(source, await noisyPng());
    await cache.put(source, meta(key));
    expect((await cache.lookup(key)).kind).toBe('hit');
    // As a run before this fix (which only read headers) left it:
    await writeFile(cache.imagePath(key), truncated(await readFile(cache.imagePath(key))));

    const found = await cache.lookup(key);
    expect(found.kind).toBe('broken');
    expect(found.kind === 'broken' && found.reason).toMatch(/^the cached image of panel:1-1 \([0-9a-f]{12}\) was dropped and is rendered again: it does not decode/);
    expect(await cache.get(key)).toBeNull();
    expect((await cache.lookup(key)).kind).toBe('miss');
  });

  it('an entry whose image is missing or empty is broken too', async () => {
    const cache = new RenderCache(join(dir, 'cache'));
    const key = sha256('empty');
    const source = join(dir, 'e.png');
    await writeFile(source, await noisyPng());
    await cache.put(source, meta(key));
    await writeFile(cache.imagePath(key), '');
    expect(await cache.lookup(key)).toMatchObject({ kind: 'broken', reason: expect.stringContaining('it is empty') });
  });
});

describe('leftovers of failed and killed runs', () => {
  async function plant(cache: RenderCache) {
    const key = sha256('leftover');
    const shard = join(cache.dir, key.slice(0, 2));
    await mkdir(cache.stagingDir, { recursive: true });
    await mkdir(shard, { recursive: true });
    const paths = {
      deadStaging: join(cache.stagingDir, `${key}.${DEAD_PID}.0badc0de.png`),
      deadTemp: join(cache.stagingDir, `${key}.${DEAD_PID}.0badc0de.png.${DEAD_PID}.12345678.tmp`),
      liveStaging: join(cache.stagingDir, `${key}.${process.pid}.cafebabe.png`),
      oldLiveStaging: join(cache.stagingDir, `${key}.${process.pid}.deadbeef.png`),
      shardTemp: join(shard, `${key}.png.${DEAD_PID}.87654321.tmp`),
      orphanOld: join(shard, `${key}.png`),
    };
    for (const path of Object.values(paths)) await writeFile(path, Buffer.alloc(1000));
    const old = new Date(Date.now() - 2 * DAY);
    await utimes(paths.oldLiveStaging, old, old);
    await utimes(paths.orphanOld, old, old);
    return paths;
  }

  const exists = (path: string) => stat(path).then(() => true, () => false);

  it('sweepStaging removes files of dead processes and day-old ones, never a live run\'s', async () => {
    const cache = new RenderCache(join(dir, 'cache'));
    const paths = await plant(cache);
    expect(await cache.sweepStaging()).toEqual({ removed: 3, bytes: 3000 });
    expect(await exists(paths.liveStaging)).toBe(true);
    expect(await exists(paths.deadStaging)).toBe(false);
    expect(await exists(paths.deadTemp)).toBe(false);
    expect(await exists(paths.oldLiveStaging)).toBe(false);
    expect(await exists(paths.shardTemp)).toBe(true); // shards are prune's business
  });

  it('`comic cache prune` removes them too (and temp files and orphan images in shards), and says so', async () => {
    const cache = new RenderCache(join(dir, 'cache'));
    const paths = await plant(cache);
    const err: string[] = [];
    const sink = (into: string[]) => ({ write: (chunk: string) => (into.push(String(chunk)), true) }) as unknown as NodeJS.WritableStream;
    const io: CliIO = { stdout: sink([]), stderr: sink(err), env: {}, cwd: dir };
    const code = await main(['node', 'comic', 'cache', 'prune', '--cache', cache.dir], io);
    expect(code).toBe(0);
    expect(err.join('')).toContain('removed 5 leftover files of failed or killed runs (4.9 KiB)');
    expect(await exists(paths.liveStaging)).toBe(true);
    for (const gone of [paths.deadStaging, paths.deadTemp, paths.oldLiveStaging, paths.shardTemp, paths.orphanOld]) expect(await exists(gone)).toBe(false);
  });
});
