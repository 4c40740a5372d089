/**
 * API keys for `comic serve`. Only sha256 digests of the keys are kept; a presented token is
 * hashed and compared with every digest using timingSafeEqual, so neither the comparison's
 * timing nor its early exit tells an attacker how much of a key was right. Callers are
 * known by a label ("key 1", "key 2", in configuration order): logs and rate limits use the
 * label, never the key.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Secret } from '../config/index.js';

export interface Caller {
  /** "key 1", "key 2", …: safe to log and to show. */
  readonly label: string;
}

export class ApiKeys {
  readonly #digests: readonly { readonly label: string; readonly digest: Buffer }[];

  constructor(keys: readonly Secret[]) {
    // Duplicates would make two labels for one caller; the first one wins.
    const seen = new Set<string>();
    const digests: { label: string; digest: Buffer }[] = [];
    for (const key of keys) {
      const value = key.reveal();
      if (value === '') continue;
      const digest = sha256(value);
      const hex = digest.toString('hex');
      if (seen.has(hex)) continue;
      seen.add(hex);
      digests.push({ label: `key ${digests.length + 1}`, digest });
    }
    this.#digests = digests;
  }

  /** False when no key is configured: then every request is let in (loopback only; see docs/serve.md). */
  get enabled(): boolean {
    return this.#digests.length > 0;
  }

  get count(): number {
    return this.#digests.length;
  }

  /** The caller a token belongs to, or null. Every digest is compared, match or not. */
  identify(token: string | null): Caller | null {
    if (!this.enabled) return OPEN_CALLER;
    if (token === null || token === '') return null;
    const presented = sha256(token);
    let found: Caller | null = null;
    for (const { label, digest } of this.#digests) {
      if (timingSafeEqual(presented, digest) && found === null) found = { label };
    }
    return found;
  }
}

/** The one caller of a server without keys. */
const OPEN_CALLER: Caller = { label: 'anonymous' };

/** The token of `Authorization: Bearer <token>`, or null. */
export function bearerToken(header: string | undefined): string | null {
  if (header === undefined) return null;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match ? match[1]! : null;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
