/**
 * The content-addressed render cache: one image and one metadata file per content key.
 * A key names its content, so an entry is never rewritten, only added or removed; the
 * metadata file is written last and its presence is what makes an entry exist, so a crash
 * mid-write leaves at most an orphan image that the next put overwrites.
 */
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ComicError } from '../errors.js';
import { copyFileAtomic, writeFileAtomic } from '../util/fs.js';
import type { BackendName } from '../backends/types.js';

export interface CacheMeta {
  readonly key: string;
  readonly jobId: string;
  readonly backend: BackendName | 'compose';
  readonly server: string | null;
  readonly seed: number | null;
  readonly template: { readonly id: string; readonly version: string } | null;
  readonly params: Readonly<Record<string, unknown>>;
  readonly createdAt: string;
  readonly timings: { readonly queuedMs: number; readonly runMs: number };
  /** Parameters the backend could not honour. */
  readonly dropped: readonly string[];
  /** What a kind of job needs back on a cache hit (a page: where its lettering is). */
  readonly detail: Readonly<Record<string, unknown>> | null;
}

export interface CacheEntry {
  readonly key: string;
  readonly image: string;
  readonly meta: CacheMeta;
  readonly bytes: number;
  readonly mtimeMs: number;
}

const KEY = /^[0-9a-f]{64}$/;

export class RenderCache {
  constructor(readonly dir: string) {}

  /** Where the image for `key` lives (whether or not it exists yet). */
  imagePath(key: string): string {
    return join(this.#shard(key), `${key}.png`);
  }

  async get(key: string): Promise<CacheEntry | null> {
    const metaPath = join(this.#shard(key), `${key}.json`);
    try {
      const [text, info] = await Promise.all([readFile(metaPath, 'utf8'), stat(this.imagePath(key))]);
      return { key, image: this.imagePath(key), meta: JSON.parse(text) as CacheMeta, bytes: info.size, mtimeMs: info.mtimeMs };
    } catch {
      return null; // absent, or half-written by a crashed run: either way, not cached
    }
  }

  /**
   * Puts a finished image into the cache and records its metadata. With `move`, the source
   * (a staging file in the cache's own folder, so on the same disk) is renamed into place
   * instead of copied.
   */
  async put(source: string, meta: CacheMeta, options: { move?: boolean } = {}): Promise<void> {
    if (options.move) {
      await mkdir(this.#shard(meta.key), { recursive: true });
      await rename(source, this.imagePath(meta.key));
    } else {
      await copyFileAtomic(source, this.imagePath(meta.key));
    }
    await writeFileAtomic(join(this.#shard(meta.key), `${meta.key}.json`), `${JSON.stringify(meta, null, 2)}\n`);
  }

  async *entries(): AsyncGenerator<CacheEntry> {
    let shards: string[];
    try {
      shards = (await readdir(this.dir)).filter((s) => /^[0-9a-f]{2}$/.test(s)).sort();
    } catch {
      return;
    }
    for (const shard of shards) {
      const files = (await readdir(join(this.dir, shard))).filter((f) => f.endsWith('.json')).sort();
      for (const file of files) {
        const entry = await this.get(file.slice(0, -'.json'.length));
        if (entry) yield entry;
      }
    }
  }

  /** Removes entries older than `olderThanMs` (by last write) that are not in `keep`. */
  async prune(options: { olderThanMs?: number; keep?: ReadonlySet<string>; now?: number }): Promise<{ removed: number; bytes: number }> {
    const now = options.now ?? Date.now();
    let removed = 0;
    let bytes = 0;
    for await (const entry of this.entries()) {
      if (options.keep?.has(entry.key)) continue;
      if (options.olderThanMs !== undefined && now - entry.mtimeMs < options.olderThanMs) continue;
      await this.delete(entry.key);
      removed++;
      bytes += entry.bytes;
    }
    return { removed, bytes };
  }

  async delete(key: string): Promise<void> {
    // Metadata first: once it is gone the entry no longer exists, even if the image removal fails.
    await rm(join(this.#shard(key), `${key}.json`), { force: true });
    await rm(this.imagePath(key), { force: true });
  }

  async clear(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  #shard(key: string): string {
    if (!KEY.test(key)) throw new ComicError('INTERNAL', `not a content key: ${JSON.stringify(key)}`);
    return join(this.dir, key.slice(0, 2));
  }
}
