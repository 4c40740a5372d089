/**
 * The content-addressed render cache: one image and one metadata file per content key.
 * A key names its content, so an entry is never rewritten, only added or removed; the
 * metadata file is written last and its presence is what makes an entry exist, so a crash
 * mid-write leaves at most an orphan image that the next put overwrites.
 *
 * Nothing broken gets in or stays: an image is decoded whole before it is put (a PNG cut off
 * halfway has a good header, so reading that is not enough), and `lookup` decodes an entry
 * again before a run uses it; one that does not decode is dropped, with the reason, and
 * rendered again. Renders are staged in `staging/` (same disk, so a put is a rename); a
 * staging file whose process is gone is swept at the start of every run and by `prune`.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join, resolve as resolvePath, sep } from 'node:path';
import { ComicError, isComicError } from '../errors.js';
import { copyFileAtomic, writeFileAtomic } from '../util/fs.js';
import { folderWriteError } from './folders.js';
import { isRefusedWrite } from '../util/fs-errors.js';
import { imageProblem } from '../util/image-check.js';
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
  /** What made it (src/run/provenance.ts); absent in entries written before it was recorded. */
  readonly made?: MadeBy;
}

/** The provenance of an entry: which backend made it, as the fallback or not, from what (dep job id → its stamp). */
export interface MadeBy {
  readonly backend: BackendName | 'compose';
  /** Made by the SD API fallback standing in for ComfyUI: rendered again once ComfyUI is back. */
  readonly fallback: boolean;
  /** null only for entries written before provenance was recorded. */
  readonly from: Readonly<Record<string, string>> | null;
}

export interface CacheEntry {
  readonly key: string;
  readonly image: string;
  readonly meta: CacheMeta;
  readonly bytes: number;
  readonly mtimeMs: number;
}

/** What `lookup` found: an entry that decodes, none, or one that was broken and is gone now. */
export type CacheLookup =
  | { readonly kind: 'hit'; readonly entry: CacheEntry }
  | { readonly kind: 'miss' }
  | { readonly kind: 'broken'; readonly reason: string };

export interface SweepResult {
  readonly removed: number;
  readonly bytes: number;
}

const KEY = /^[0-9a-f]{64}$/;
/** `<key>.<pid>.<8 hex>.png`, and the temp sibling an atomic write makes beside it. */
const STAGING_NAME = /^[0-9a-f]{64}\.(\d+)\.[0-9a-f]{8}\.png(\.\d+\.[0-9a-f]{8}\.tmp)?$/;
/** A temp sibling (util/fs.ts) in a shard: `<key>.png.<pid>.<8 hex>.tmp`. */
const SHARD_TEMP = /^[0-9a-f]{64}\.(png|json)\.(\d+)\.[0-9a-f]{8}\.tmp$/;
/** A leftover of a live process is swept only once it is this old (a process id may be reused). */
const STALE_MS = 24 * 3_600_000;
/** An image without metadata younger than this may be a put in progress. */
const ORPHAN_MS = 3_600_000;

export class RenderCache {
  /** Entries this instance decoded whole, by key: the size and mtime they had then. */
  readonly #verified = new Map<string, string>();

  constructor(readonly dir: string) {}

  /** Where the image for `key` lives (whether or not it exists yet). */
  imagePath(key: string): string {
    return join(this.#shard(key), `${key}.png`);
  }

  get stagingDir(): string {
    return join(this.dir, 'staging');
  }

  /** A fresh staging path for a render of `key`: unique per write, so two runs sharing one cache (generate beside serve) never share one. */
  stagingPath(key: string): string {
    this.#shard(key); // refuses anything but a content key
    return join(this.stagingDir, `${key}.${process.pid}.${randomBytes(4).toString('hex')}.png`);
  }

  /**
   * A clear cache error (FOLDER_NOT_WRITABLE, DISK_FULL) naming the folder when `error` is, or
   * was caused by, a failed write inside the cache; null otherwise. A backend that could not
   * write its download here wraps that as a server problem: the cause says whose it is.
   */
  writeFailure(error: unknown): ComicError | null {
    const root = resolvePath(this.dir);
    const inCache = (path: string) => resolvePath(path) === root || resolvePath(path).startsWith(root + sep);
    for (let at: unknown = error, depth = 0; at instanceof Error && depth < 8; at = at.cause, depth++) {
      if (isComicError(at) && (at.code === 'FOLDER_NOT_WRITABLE' || at.code === 'DISK_FULL')) return at;
      if (isRefusedWrite(at) && inCache(at.path)) {
        return folderWriteError('cache', resolvePath(this.dir), at);
      }
    }
    return null;
  }

  /** Removes a staging file (a render that failed or was refused); a missing one is fine. */
  async discard(staging: string): Promise<void> {
    await rm(staging, { force: true });
  }

  /**
   * The entry for `key` if its image decodes whole. One that does not (cut short, corrupted,
   * missing) is deleted, and the reason returned, so the caller renders it again and says why.
   */
  async lookup(key: string): Promise<CacheLookup> {
    const entry = await this.get(key);
    if (entry === null) return { kind: 'miss' };
    const stamp = `${entry.bytes}:${entry.mtimeMs}`;
    if (this.#verified.get(key) === stamp) return { kind: 'hit', entry };
    const problem = await imageProblem(entry.image);
    if (problem === null) {
      this.#verified.set(key, stamp);
      return { kind: 'hit', entry };
    }
    this.#verified.delete(key);
    await this.delete(key);
    return { kind: 'broken', reason: `the cached image of ${entry.meta.jobId} (${key.slice(0, 12)}) was dropped and is rendered again: ${problem}` };
  }

  /** The entry as stored, without decoding its image (listing, pruning, dry runs). */
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
    const shard = this.#shard(meta.key);
    try {
      // A page we composed ourselves was encoded by sharp in this process; everything else came from outside.
      const problem = meta.backend === 'compose' ? null : await imageProblem(source);
      if (problem !== null) {
        const from = meta.server === null ? `backend ${meta.backend}` : `server ${meta.server}`;
        throw new ComicError(meta.server === null ? 'INTERNAL' : 'SERVER_PROTOCOL', `the image ${from} made for ${meta.jobId} is not a whole image: ${problem}; it was not cached`, {
          hint: 'render it again; if it keeps happening, the server (or a proxy in front of it) cuts images short',
        });
      }
      if (options.move) {
        await mkdir(shard, { recursive: true });
        await rename(source, this.imagePath(meta.key));
      } else {
        await copyFileAtomic(source, this.imagePath(meta.key));
      }
    } catch (error) {
      // A staging file that did not make it in is of no use to anyone.
      if (options.move) await this.discard(source);
      throw this.writeFailure(error) ?? error;
    }
    await writeFileAtomic(join(shard, `${meta.key}.json`), `${JSON.stringify(meta, null, 2)}\n`).catch((error: unknown) => {
      throw this.writeFailure(error) ?? error;
    });
    const info = await stat(this.imagePath(meta.key)).catch(() => null);
    if (info !== null && meta.backend !== 'compose') this.#verified.set(meta.key, `${info.size}:${info.mtimeMs}`);
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

  /**
   * Removes entries older than `olderThanMs` (by last write) that are not in `keep`, and the
   * leftovers no entry owns: staging files and temp files of processes that are gone, images
   * whose metadata never got written (`leftovers`).
   */
  async prune(options: { olderThanMs?: number; keep?: ReadonlySet<string>; now?: number }): Promise<{ removed: number; bytes: number; leftovers: SweepResult }> {
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
    const staging = await this.sweepStaging(now);
    const shards = await this.#sweepShards(now);
    return { removed, bytes, leftovers: { removed: staging.removed + shards.removed, bytes: staging.bytes + shards.bytes } };
  }

  /**
   * Removes what failed or killed runs left in `staging/`: files of processes that are no
   * longer running, and anything older than a day (a live process id may be a reused one).
   * Files of live runs (another `generate`, `serve`, this process) are left alone.
   */
  async sweepStaging(now = Date.now()): Promise<SweepResult> {
    let names: string[];
    try {
      names = await readdir(this.stagingDir);
    } catch {
      return { removed: 0, bytes: 0 }; // no staging folder yet
    }
    let removed = 0;
    let bytes = 0;
    for (const name of names) {
      const pid = STAGING_NAME.exec(name)?.[1];
      const path = join(this.stagingDir, name);
      const info = await stat(path).catch(() => null);
      if (info === null || !info.isFile()) continue;
      if (!isStale(pid === undefined ? null : Number(pid), info.mtimeMs, now, STALE_MS)) continue;
      await rm(path, { force: true });
      removed++;
      bytes += info.size;
    }
    return { removed, bytes };
  }

  /** Temp files of dead processes, and images without metadata that no put is still writing. */
  async #sweepShards(now: number): Promise<SweepResult> {
    let shards: string[];
    try {
      shards = (await readdir(this.dir)).filter((s) => /^[0-9a-f]{2}$/.test(s));
    } catch {
      return { removed: 0, bytes: 0 };
    }
    let removed = 0;
    let bytes = 0;
    for (const shard of shards) {
      const files = await readdir(join(this.dir, shard)).catch(() => [] as string[]);
      const present = new Set(files);
      for (const name of files) {
        const temp = SHARD_TEMP.exec(name);
        const orphan = /^[0-9a-f]{64}\.png$/.test(name) && !present.has(name.replace(/\.png$/, '.json'));
        if (temp === null && !orphan) continue;
        const path = join(this.dir, shard, name);
        const info = await stat(path).catch(() => null);
        if (info === null || !info.isFile()) continue;
        if (temp !== null ? !isStale(Number(temp[2]), info.mtimeMs, now, STALE_MS) : now - info.mtimeMs < ORPHAN_MS) continue;
        await rm(path, { force: true });
        removed++;
        bytes += info.size;
      }
    }
    return { removed, bytes };
  }

  async delete(key: string): Promise<void> {
    this.#verified.delete(key);
    // Metadata first: once it is gone the entry no longer exists, even if the image removal fails.
    await rm(join(this.#shard(key), `${key}.json`), { force: true });
    await rm(this.imagePath(key), { force: true });
  }

  async clear(): Promise<void> {
    this.#verified.clear();
    await rm(this.dir, { recursive: true, force: true });
  }

  #shard(key: string): string {
    if (!KEY.test(key)) throw new ComicError('INTERNAL', `not a content key: ${JSON.stringify(key)}`);
    return join(this.dir, key.slice(0, 2));
  }
}

/** A leftover of process `pid` (null: unknown) last written at `mtimeMs`: stale once that process is gone, or after `maxAgeMs`. */
function isStale(pid: number | null, mtimeMs: number, now: number, maxAgeMs: number): boolean {
  if (now - mtimeMs >= maxAgeMs) return true;
  return pid !== null && !processAlive(pid);
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  if (!Number.isSafeInteger(pid) || pid <= 0) return false; // kill(0) would ask about our own process group
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
