/**
 * What made a cached image is part of what it is. A content key names what was asked for
 * (template, prompts, seed, references); the cache entry also records what made it — the
 * backend, whether it was the SD API standing in for ComfyUI (the fallback), and the
 * provenance of every job it was made from — and a lookup serves it only to a run it suits:
 *
 * - A draft storyboard never satisfies a ComfyUI or SD API run.
 * - A real render satisfies a draft run (and `comic compose`): it is the same panel (same
 *   key: prompt, size, seed, references), only better, and it costs nothing to serve,
 *   while drawing a storyboard over it would throw GPU work away for a preview.
 * - An image the fallback made is re-rendered by a run whose backend is ComfyUI and is not
 *   falling back itself, unless the user keeps it (`--keep-fallback`, `keepFallback: true`).
 * - Whatever is made from other jobs (a panel from a character sheet, a page from its
 *   panels) follows them: it is served only when what it was made from is still what those
 *   jobs have now, so a page composed from storyboards or fallback panels is composed again
 *   once its panels are real renders.
 *
 * Entries written before provenance was recorded count by their backend; a page among them
 * (nothing says what its panels were) is composed again for a real run.
 */
import type { BackendName } from '../backends/types.js';
import type { Job } from '../graph/index.js';
import { sha256 } from '../util/hash.js';
import type { CacheMeta, MadeBy } from './cache.js';

/** The run a lookup serves: its backend as it is now, and whether fallback images are kept. */
export interface ServePolicy {
  /** The backend rendering now: 'comfyui', 'sdapi' (chosen, or the fallback after a switch), 'draft', 'cache' (compose). */
  readonly backend: BackendName;
  readonly keepFallback: boolean;
}

/** The stamp of every job finished so far in this run, by job id. */
export type Stamps = ReadonlyMap<string, { readonly stamp: string }>;

/** Why a cached entry is not served to this run (null: it is). */
export type Refusal = 'draft' | 'fallback' | 'inputs';

/** What made this entry, also for entries written before it was recorded. */
export function madeBy(meta: CacheMeta): MadeBy {
  if (meta.made) return meta.made;
  // Before the mark existed, an SD API image in a cache ComfyUI runs share was the fallback's.
  return { backend: meta.backend, fallback: meta.backend === 'sdapi', from: null };
}

/** A short fingerprint of what made an entry (transitively): what its dependents record. */
export function stampOf(meta: CacheMeta): string {
  return stampOfMade(madeBy(meta));
}

export function stampOfMade(made: MadeBy): string {
  const from = made.from === null ? null : Object.entries(made.from).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return sha256(JSON.stringify([made.backend, made.fallback, from])).slice(0, 16);
}

/** The provenance a job gets from the stamps of its deps. */
export function madeFrom(job: Job, stamps: Stamps): Record<string, string> {
  return Object.fromEntries(job.deps.map((id) => [id, stamps.get(id)?.stamp ?? 'unknown']));
}

/** Whether a real render is asked for (not a storyboard preview, not `comic compose`). */
function wantsReal(backend: BackendName): boolean {
  return backend === 'comfyui' || backend === 'sdapi';
}

/**
 * Whether `meta` (the cached entry of `job`) may be served to a run with `policy`, given the
 * stamps its deps have in this run.
 */
export function refusal(job: Job, meta: CacheMeta, policy: ServePolicy, stamps: Stamps): Refusal | null {
  const made = madeBy(meta);
  const real = wantsReal(policy.backend);
  if (real && made.backend === 'draft') return 'draft';
  if (made.fallback && policy.backend === 'comfyui' && !policy.keepFallback) return 'fallback';
  if (job.deps.length > 0) {
    if (made.from === null) {
      // An old entry: nothing says what it was made from. A page is cheap to compose again.
      if (real && made.backend === 'compose') return 'inputs';
    } else {
      for (const dep of job.deps) if (made.from[dep] !== stamps.get(dep)?.stamp) return 'inputs';
    }
  }
  return null;
}

/** The provenance of what a backend makes now, with the deps it is made from. */
export function madeNow(job: Job, backend: BackendName | 'compose', fallback: boolean, stamps: Stamps): MadeBy {
  return { backend, fallback, from: madeFrom(job, stamps) };
}

/**
 * Whether an export recorded at `recordedAt` is older than one of its pages' cache entries
 * (null: a page this run has no entry for; it is made again, and so is the export).
 */
export function exportStale(recordedAt: string, pagesCreatedAt: readonly (string | null)[]): boolean {
  const at = Date.parse(recordedAt);
  return pagesCreatedAt.some((created) => created === null || !(Date.parse(created) <= at));
}
