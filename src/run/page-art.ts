/**
 * A page's art (the page composed again without its lettering), shared by the exports of one
 * run that draw over it: the vector PDF and the lettering-free PDF. Composing it costs about
 * what composing the page does (a quarter of a second at 300 dpi), so when both are made the
 * first keeps each page's art in the cache's staging folder and the second reads it and
 * removes it: memory stays at one page whatever the comic's length. What is left (an export
 * served from the manifest never asks) goes at the end of the run; a killed run's files are
 * swept with the rest of staging.
 */
import { readFile, rm } from 'node:fs/promises';
import { writeFileAtomic } from '../util/fs.js';
import type { RenderCache } from './cache.js';

export class PageArt {
  readonly #kept = new Map<string, { readonly path: string; uses: number }>();

  /** `exports`: how many of the run's exports draw over the art. */
  constructor(
    readonly cache: RenderCache,
    readonly exports: number,
  ) {}

  /** The art of the page with this content key: kept from an earlier export of the run, or composed now. */
  async get(pageKey: string, compose: () => Promise<Buffer>): Promise<Buffer> {
    if (this.exports < 2) return compose();
    const kept = this.#kept.get(pageKey);
    if (kept === undefined) {
      const art = await compose();
      const path = this.cache.stagingPath(pageKey);
      // No room to keep it: the next export composes it again.
      await writeFileAtomic(path, art).then(
        () => this.#kept.set(pageKey, { path, uses: 1 }),
        () => undefined,
      );
      return art;
    }
    const art = await readFile(kept.path).catch(() => null);
    if (++kept.uses >= this.exports) {
      this.#kept.delete(pageKey);
      await rm(kept.path, { force: true });
    }
    return art ?? compose();
  }

  /** Removes what no export took. */
  async close(): Promise<void> {
    const paths = [...this.#kept.values()].map((k) => k.path);
    this.#kept.clear();
    await Promise.all(paths.map((path) => rm(path, { force: true })));
  }
}
