/**
 * The store in Redis itself (the default): each blob is one binary string value with a TTL,
 * so results of abandoned runs expire on their own. A SET replaces the value whole, which is
 * what makes a write atomic for readers.
 */
import type { Redis } from 'ioredis';
import { names } from './protocol.js';
import { checkBlobName, type Blob, type BlobKind, type BlobStore } from './store.js';

/** A week: long enough for a coordinator to be restarted and collect its results. */
export const DEFAULT_BLOB_TTL_SECONDS = 7 * 24 * 3600;

export class RedisStore implements BlobStore {
  readonly description: string;

  constructor(
    private readonly redis: Redis,
    private readonly queue: string,
    display: string,
    private readonly ttlSeconds: number = DEFAULT_BLOB_TTL_SECONDS,
  ) {
    this.description = `Redis ${display}`;
  }

  async has(kind: BlobKind, name: string): Promise<boolean> {
    return (await this.redis.exists(this.#key(kind, name))) === 1;
  }

  get(kind: BlobKind, name: string): Promise<Buffer | null> {
    return this.redis.getBuffer(this.#key(kind, name));
  }

  async put(kind: BlobKind, name: string, bytes: Uint8Array): Promise<void> {
    await this.redis.set(this.#key(kind, name), asBuffer(bytes), 'EX', this.ttlSeconds);
  }

  /** In one MULTI: one round trip, and readers see all of the blobs or none. */
  async putAll(blobs: readonly Blob[]): Promise<void> {
    const multi = this.redis.multi();
    for (const { kind, name, bytes } of blobs) multi.set(this.#key(kind, name), asBuffer(bytes), 'EX', this.ttlSeconds);
    const replies = await multi.exec();
    const failed = replies?.find(([error]) => error !== null);
    if (failed) throw failed[0]!;
  }

  #key(kind: BlobKind, name: string): string {
    return names.blob(this.queue, kind, checkBlobName(name));
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
