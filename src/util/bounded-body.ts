/**
 * Reading what a server sends, within a byte cap: a body is read as a stream and the read
 * stops (the rest is never pulled off the socket) as soon as it passes the cap, so a hostile
 * or broken server cannot fill our memory or our disk. A declared Content-Length over the cap
 * is refused before the first byte.
 */

/** Thrown when a body is (or says it will be) larger than its cap. */
export class BodyTooLarge extends Error {
  override readonly name = 'BodyTooLarge';
  constructor(
    readonly limit: number,
    /** What arrived before we stopped (0 when the declared length alone was too much). */
    readonly received: number,
    /** The Content-Length the server declared, when it did. */
    readonly declared: number | null,
  ) {
    super(declared !== null && declared > limit ? `declared ${declared} bytes, more than ${limit}` : `more than ${limit} bytes`);
  }
}

/** The Content-Length a response declares, or null. */
export function declaredLength(response: Response): number | null {
  const header = response.headers.get('content-length');
  if (header === null || !/^\d+$/.test(header.trim())) return null;
  const value = Number(header);
  return Number.isSafeInteger(value) ? value : null;
}

/**
 * The body's chunks, throwing BodyTooLarge once more than `maxBytes` arrived (before that
 * chunk is passed on). The body is cancelled when the reader stops early for any reason.
 */
export async function* cappedChunks(response: Response, maxBytes: number, onBytes?: (total: number) => void): AsyncGenerator<Uint8Array> {
  const declared = declaredLength(response);
  const body = response.body;
  if (declared !== null && declared > maxBytes) {
    await body?.cancel().catch(() => undefined);
    throw new BodyTooLarge(maxBytes, 0, declared);
  }
  if (body === null) return;
  const reader = body.getReader();
  let total = 0;
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        return;
      }
      total += value.byteLength;
      onBytes?.(total);
      if (total > maxBytes) throw new BodyTooLarge(maxBytes, total, declared);
      yield value;
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

/** The whole body as UTF-8 text (a BOM dropped, as `response.text()` does), within `maxBytes`. */
export async function readTextCapped(response: Response, maxBytes: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of cappedChunks(response, maxBytes)) {
    chunks.push(chunk);
    size += chunk.byteLength;
  }
  const whole = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
  chunks.length = 0;
  return new TextDecoder('utf-8').decode(whole);
}

/**
 * At most `maxBytes` of the body as text, the rest dropped without an error: for error
 * answers, of which only a snippet is ever shown.
 */
export async function readTextPrefix(response: Response, maxBytes: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const body = response.body;
  if (body === null) return '';
  const reader = body.getReader();
  try {
    while (size < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
  return new TextDecoder('utf-8').decode(Buffer.concat(chunks, size).subarray(0, maxBytes));
}

/** "64 MiB", "1.5 GiB", "512 B": for messages. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1 && value % 1024 === 0) {
    value /= 1024;
    unit++;
  }
  if (value >= 1024 && unit < units.length - 1) {
    // Not a whole number of the next unit: one decimal is enough for a message.
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit++;
    }
    return `${value.toFixed(1)} ${units[unit]}`;
  }
  return `${value} ${units[unit]}`;
}
