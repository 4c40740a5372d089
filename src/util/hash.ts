import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/**
 * JSON with object keys sorted at every depth, so equal values always serialise to equal
 * text whatever order their keys were built in. Content keys hash this text, which is
 * why it must never depend on insertion order, platform or locale.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array)) {
      // No prototype: a key named __proto__ (JSON.parse makes it an own key) stays a key, not dropped from the hash.
      const sorted = Object.create(null) as Record<string, unknown>;
      for (const k of Object.keys(v as Record<string, unknown>).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }
    if (typeof v === 'number' && !Number.isFinite(v)) throw new TypeError(`cannot hash non-finite number ${v}`);
    return v;
  });
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The sha256 of the canonical JSON of a value. */
export function hashValue(value: unknown): string {
  return sha256(canonicalJson(value));
}

/**
 * sha256 of files, each read once per hasher (streamed, so large files never sit in memory):
 * a run hashes a character sheet once however many panels it feeds.
 */
export function fileHasher(): (path: string) => Promise<string> {
  const hashes = new Map<string, Promise<string>>();
  return (path) => {
    let hash = hashes.get(path);
    if (!hash) {
      hash = fileSha256(path);
      hashes.set(path, hash);
      hash.catch(() => hashes.delete(path));
    }
    return hash;
  };
}

export async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
