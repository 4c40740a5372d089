import { sha256 } from '../util/hash.js';
import type { JobId } from './types.js';

/** Seeds are below 2^48: exact in a JS number, and accepted by ComfyUI and the SD API alike. */
export const SEED_BITS = 48;

/**
 * A job's seed, from the comic's base seed and the job id only: editing or adding one
 * panel never changes another job's seed, and the same script gives the same seeds on
 * every machine. (Renumbering a panel changes its id, hence its seed.)
 */
export function deriveSeed(baseSeed: number, jobId: JobId): number {
  const digest = sha256(`comic.seed/1\u0000${baseSeed}\u0000${jobId}`);
  return Number.parseInt(digest.slice(0, SEED_BITS / 4), 16);
}

/** The seed a job renders with: the one the script wrote, else the derived one. */
export function jobSeed(explicit: number | null, baseSeed: number, jobId: JobId): number {
  return explicit ?? deriveSeed(baseSeed, jobId);
}
