/**
 * Serving the hostile answers of faults.ts: huge or endless bodies streamed with TCP
 * backpressure (so what was sent measures what the client read), drips, silences, and files
 * cut in half. Only the emulator's server calls this.
 */
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Faults, HostileAnswer } from './faults.js';

const CHUNK = 64 * 1024;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** True when the answer never comes (the request is held until the client or the emulator gives up). */
export function holds(answer: HostileAnswer | undefined): boolean {
  return answer?.kind === 'silent-view' || answer?.kind === 'silent-history' || answer?.kind === 'silent-jobs';
}

/**
 * Writes the hostile answer for a request the route handler has answered with `body` (the
 * real file or JSON text). Returns false when this answer does not replace the reply.
 */
export async function serveHostile(
  answer: HostileAnswer,
  res: ServerResponse,
  real: { readonly body: Buffer; readonly contentType: string } | null,
  faults: Faults,
  signal: AbortSignal,
): Promise<boolean> {
  switch (answer.kind) {
    case 'oversized-view': {
      const head = Buffer.alloc(CHUNK);
      PNG_SIGNATURE.copy(head);
      const zeros = Buffer.alloc(CHUNK);
      await stream(res, answer.bytes, answer.declared === true, 'image/png', (offset, length) => (offset === 0 ? head : zeros).subarray(0, length), faults, signal);
      return true;
    }
    case 'huge-object-info': {
      const text = real?.body.toString('utf8') ?? '{}';
      // The real catalogue, then one padding node whose description fills the rest: valid JSON of exactly `bytes` bytes (or the catalogue's own size, if larger).
      const prefix = Buffer.from(`${text.slice(0, text.lastIndexOf('}'))}${text.trim() === '{}' ? '' : ', '}"HostilePadding": {"input": {"required": {}}, "description": "`);
      const suffix = Buffer.from('"}}');
      const total = Math.max(answer.bytes, prefix.length + suffix.length);
      const suffixAt = total - suffix.length;
      await stream(res, total, answer.declared === true, 'application/json; charset=utf-8', (offset, length) => {
        const chunk = Buffer.alloc(length, 'x');
        if (offset < prefix.length) prefix.copy(chunk, 0, offset, Math.min(prefix.length, offset + length));
        if (offset + length > suffixAt) suffix.copy(chunk, Math.max(0, suffixAt - offset), Math.max(0, offset - suffixAt));
        return chunk;
      }, faults, signal);
      return true;
    }
    case 'truncated-png': {
      if (real === null) return false;
      const half = truncated(real.body);
      res.writeHead(200, { 'Content-Type': real.contentType, 'Content-Length': String(half.length) });
      res.end(half, () => (faults.hostileBytesSent += half.length));
      return true;
    }
    case 'dripping-view': {
      if (real === null) return false;
      res.writeHead(200, { 'Content-Type': real.contentType, 'Content-Length': String(real.body.length) });
      for (let i = 0; i < real.body.length; i++) {
        if (res.destroyed || signal.aborted) return true;
        res.write(real.body.subarray(i, i + 1), (error) => {
          if (!error) faults.hostileBytesSent += 1;
        });
        try {
          await sleep(answer.everyMs, undefined, { signal });
        } catch {
          return true;
        }
      }
      res.end();
      return true;
    }
    case 'silent-view':
    case 'silent-history':
    case 'silent-jobs':
      return true; // held by the caller
  }
}

/**
 * A PNG with every chunk before its image data intact (signature, IHDR, text chunks: its
 * header reads fine) and only the first half of that data; any other file cut in half.
 */
export function truncated(file: Buffer): Buffer {
  if (!file.subarray(0, 8).equals(PNG_SIGNATURE)) return file.subarray(0, Math.floor(file.length / 2));
  let offset = 8;
  let firstData = -1;
  let dataBytes = 0;
  while (offset + 8 <= file.length) {
    const length = file.readUInt32BE(offset);
    const type = file.toString('latin1', offset + 4, offset + 8);
    if (type === 'IDAT') {
      if (firstData < 0) firstData = offset;
      dataBytes += length;
    }
    offset += 12 + length;
  }
  if (firstData < 0) return file.subarray(0, Math.floor(file.length / 2));
  // Into the first IDAT's data: its chunk header plus half of all image data (or what the first chunk holds).
  return file.subarray(0, Math.min(file.length - 12, firstData + 8 + Math.max(1, Math.floor(dataBytes / 2))));
}

/** Streams `total` bytes as chunks from `chunkAt(offset, length)`, waiting for the client to read (drain) between them. */
async function stream(
  res: ServerResponse,
  total: number,
  declared: boolean,
  contentType: string,
  chunkAt: (offset: number, length: number) => Buffer,
  faults: Faults,
  signal: AbortSignal,
): Promise<void> {
  res.writeHead(200, declared ? { 'Content-Type': contentType, 'Content-Length': String(total) } : { 'Content-Type': contentType });
  let offset = 0;
  while (offset < total) {
    if (res.destroyed || signal.aborted) return;
    const length = Math.min(CHUNK, total - offset);
    const chunk = chunkAt(offset, length);
    offset += length;
    const flushed = res.write(chunk, (error) => {
      if (!error) faults.hostileBytesSent += chunk.length;
    });
    if (!flushed) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          res.off('drain', done);
          res.off('close', done);
          signal.removeEventListener('abort', done);
          resolve();
        };
        res.once('drain', done);
        res.once('close', done);
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }
  res.end();
}
