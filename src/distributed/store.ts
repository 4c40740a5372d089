/**
 * The shared store every participant of a queue reads and writes: input images by their
 * sha256, result images by their content key. Names are content hashes, so a blob is never
 * rewritten with other bytes and any participant may write it. Two implementations: in
 * Redis (the default, with a TTL) and in a shared folder (`--store DIR`).
 */
import { ComicError } from '../errors.js';
import { ResultMeta, WIRE_VERSION } from './protocol.js';

/** "input": a reference image by sha256; "result"/"meta": a rendered image and its record by content key. */
export type BlobKind = 'input' | 'result' | 'meta';

export interface BlobStore {
  /** Where blobs live, for messages (never with credentials). */
  readonly description: string;
  has(kind: BlobKind, name: string): Promise<boolean>;
  get(kind: BlobKind, name: string): Promise<Buffer | null>;
  /** Readers see nothing or the whole blob. */
  put(kind: BlobKind, name: string, bytes: Uint8Array): Promise<void>;
  /** Several blobs, written in this order (in one round trip where the store can). */
  putAll(blobs: readonly Blob[]): Promise<void>;
}

export interface Blob {
  readonly kind: BlobKind;
  readonly name: string;
  readonly bytes: Uint8Array;
}

const NAME = /^[0-9a-f]{64}$/;

/** Blob names are hashes; anything else is refused before it reaches a path or a key. */
export function checkBlobName(name: string): string {
  if (!NAME.test(name)) throw new ComicError('INTERNAL', `not a content hash: ${JSON.stringify(name)}`);
  return name;
}

export interface StoredResult {
  readonly png: Buffer;
  readonly meta: ResultMeta;
}

/** A result exists once its record does: the image is written first. */
export function hasResult(store: BlobStore, key: string): Promise<boolean> {
  return store.has('meta', key);
}

export async function putResult(store: BlobStore, png: Uint8Array, meta: ResultMeta): Promise<void> {
  await store.putAll([
    { kind: 'result', name: meta.key, bytes: png },
    { kind: 'meta', name: meta.key, bytes: Buffer.from(JSON.stringify(meta)) },
  ]);
}

/** The result for `key`, or null when it is absent, half-written, or from another wire version. */
export async function getResult(store: BlobStore, key: string): Promise<StoredResult | null> {
  const metaBytes = await store.get('meta', key);
  if (metaBytes === null) return null;
  let json: unknown;
  try {
    json = JSON.parse(metaBytes.toString('utf8'));
  } catch {
    return null;
  }
  const parsed = ResultMeta.safeParse(json);
  if (!parsed.success || parsed.data.v !== WIRE_VERSION) return null;
  const png = await store.get('result', key);
  return png === null ? null : { png, meta: parsed.data };
}
