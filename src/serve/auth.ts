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

/** Failed authentications of one address in the current window. */
interface AddressRecord {
  windowStart: number;
  failures: number;
  /** Unauthenticated answers to it logged one by one in this window, and those only counted. */
  logged: number;
  quiet: number;
}

/** Unauthenticated answers logged one by one per address and minute; the rest are summed up. */
export const LOGGED_FAILURES_PER_WINDOW = 3;
/** Addresses remembered at once: a flood from many addresses cannot grow the table without bound. */
const MAX_ADDRESSES = 10_000;

/**
 * Failed authentication, limited per client address: after `max` failures in a window
 * (a minute) an address gets 429 for the rest of it, valid key or not (else a guess that
 * works would still tell itself apart), and no key is even checked. The log says the first
 * few failures of an address one by one and the rest as one summary line per window, so a
 * flood of wrong keys neither fills the disk nor hides the other lines.
 */
export class AuthFailures {
  readonly #records = new Map<string, AddressRecord>();
  readonly #timer: NodeJS.Timeout;

  constructor(
    readonly max: number,
    readonly log: (message: string) => void,
    readonly windowMs = 60_000,
    readonly now: () => number = Date.now,
  ) {
    this.#timer = setInterval(() => this.flush(), windowMs);
    this.#timer.unref();
  }

  #record(address: string): AddressRecord {
    const now = this.now();
    let record = this.#records.get(address);
    if (record && now - record.windowStart >= this.windowMs) {
      this.#summarize(address, record);
      record = undefined;
    }
    if (!record) {
      if (this.#records.size >= MAX_ADDRESSES) this.flush(true);
      record = { windowStart: now, failures: 0, logged: 0, quiet: 0 };
      this.#records.set(address, record);
    }
    return record;
  }

  /** Seconds until `address` may try again; 0 when it may now. */
  retryAfter(address: string): number {
    const record = this.#records.get(address);
    if (!record || record.failures < this.max) return 0;
    const left = record.windowStart + this.windowMs - this.now();
    return left <= 0 ? 0 : Math.max(1, Math.ceil(left / 1000));
  }

  /** Counts a failed authentication of `address`. */
  fail(address: string): void {
    this.#record(address).failures++;
  }

  /** Whether an unauthenticated answer to `address` gets its own log line (else it is counted for the summary). */
  logLine(address: string): boolean {
    const record = this.#record(address);
    if (record.logged < LOGGED_FAILURES_PER_WINDOW) {
      record.logged++;
      return true;
    }
    record.quiet++;
    return false;
  }

  /** Summary lines for the windows that are over (all of them with `all`), and forgets them. */
  flush(all = false): void {
    const now = this.now();
    for (const [address, record] of this.#records) {
      if (!all && now - record.windowStart < this.windowMs) continue;
      this.#summarize(address, record);
      this.#records.delete(address);
    }
  }

  #summarize(address: string, record: AddressRecord): void {
    if (record.quiet === 0) return;
    const seconds = Math.round(Math.max(this.windowMs, this.now() - record.windowStart) / 1000);
    this.log(`${record.quiet} more unauthenticated requests from ${address} in ${seconds}s (${record.failures} failed authentications in all) were not logged one by one`);
  }

  close(): void {
    clearInterval(this.#timer);
    this.flush(true);
  }
}
