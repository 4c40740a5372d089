/**
 * PNG encoding of a raw RGB canvas on every core.
 *
 * A 300 dpi page is 6.5 Mpx, and zlib is single-threaded: one deflate stream takes longer
 * than everything else composing does. As pigz does, the rows are cut into strips deflated
 * side by side on the libuv pool; each strip but the last ends on a sync flush (a byte-aligned
 * empty stored block), so the raw streams concatenate into one valid zlib stream. The
 * dictionary restarts at each strip, which costs well under 1% in size. Node supplies
 * deflate and CRC-32; the container around them is a few fixed chunks (PNG spec, ISO 15948).
 */
import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

const deflateRaw = promisify(zlib.deflateRaw);

export interface PngOptions {
  /**
   * `fast` for print pages: run-length matches only (zlib's Z_RLE), which on rendered art
   * is twice as fast as level 1 and as small; `small` for web images: level 6.
   */
  readonly compression: 'fast' | 'small';
  /** Written as the pHYs chunk, so print tools place the page at its size. */
  readonly dpi?: number;
  /**
   * Resolves once rows `top` up to (not including) `bottom` are final, so a caller still
   * painting can have finished rows compressed meanwhile. Default: all rows are final.
   */
  readonly rowsReady?: (top: number, bottom: number) => Promise<void>;
}

const DEFLATE = {
  fast: { level: 1, strategy: zlib.constants.Z_RLE, memLevel: 9 },
  small: { level: 6, strategy: zlib.constants.Z_DEFAULT_STRATEGY },
} as const;

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Below this many bytes per strip, a thread hop costs more than it saves. */
const MIN_STRIP_BYTES = 1 << 20;

/** An 8-bit RGB, non-interlaced PNG of `data` (width × height × 3 bytes, row by row). */
export async function encodeRgbPng(data: Buffer, width: number, height: number, options: PngOptions): Promise<Buffer> {
  if (data.length !== width * height * 3) throw new RangeError(`expected ${width * height * 3} bytes for ${width}×${height} RGB, got ${data.length}`);
  const stride = width * 3 + 1;
  const strips = Math.max(1, Math.min(height, availableParallelism() * 2, Math.floor((stride * height) / MIN_STRIP_BYTES)));
  const rowsPerStrip = Math.ceil(height / strips);

  const encoded: Promise<{ deflated: Buffer; adler: number; length: number }>[] = [];
  for (let top = 0; top < height; top += rowsPerStrip) {
    const rows = Math.min(rowsPerStrip, height - top);
    const last = top + rows >= height;
    // Each strip starts as soon as its rows are final, whatever the order.
    encoded.push(
      (options.rowsReady?.(top, top + rows) ?? Promise.resolve()).then(async () => {
        const filtered = filterNone(data, width, top, rows);
        const finishFlush = last ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH;
        // One output chunk per strip: at the 16 KiB default, every chunk is a round trip to the main thread.
        const chunkSize = filtered.length + (filtered.length >> 6) + 1024;
        const deflating = deflateRaw(filtered, { ...DEFLATE[options.compression], finishFlush, chunkSize });
        // The checksum runs here while the pool deflates.
        const adler = adler32(filtered);
        return { deflated: await deflating, adler, length: filtered.length };
      }),
    );
  }
  const parts = await Promise.all(encoded);
  const trailer = Buffer.alloc(4);
  trailer.writeUInt32BE(parts.reduce((sum, part) => adler32Concat(sum, part.adler, part.length), ADLER_START));
  return Buffer.concat([
    SIGNATURE,
    ...chunk('IHDR', ihdr(width, height)),
    ...(options.dpi ? chunk('pHYs', phys(options.dpi)) : []),
    ...chunk('IDAT', zlibHeader(DEFLATE[options.compression].level), ...parts.map((part) => part.deflated), trailer),
    ...chunk('IEND'),
  ]);
}

/** Rows `top`..`top+rows` with a leading filter byte 0 (None): art gains little from filtering at fast levels. */
function filterNone(data: Buffer, width: number, top: number, rows: number): Buffer {
  const rowBytes = width * 3;
  const out = Buffer.allocUnsafe(rows * (rowBytes + 1));
  for (let y = 0; y < rows; y++) {
    const at = y * (rowBytes + 1);
    out[at] = 0;
    data.copy(out, at + 1, (top + y) * rowBytes, (top + y + 1) * rowBytes);
  }
  return out;
}

const ADLER_START = 1;
const ADLER_MOD = 65521;
/** The most bytes summed before the 32-bit sums could overflow (zlib's NMAX). */
const ADLER_NMAX = 5552;

function adler32(data: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < data.length; ) {
    const end = Math.min(data.length, i + ADLER_NMAX);
    for (; i < end; i++) {
      a += data[i]!;
      b += a;
    }
    a %= ADLER_MOD;
    b %= ADLER_MOD;
  }
  return ((b << 16) | a) >>> 0;
}

/**
 * The Adler-32 of A followed by B, from theirs and B's length. With a = 1 + Σbytes and
 * b = Σ of a after each byte: a(AB) = a(A) + a(B) − 1 and b(AB) = b(A) + b(B) + |B|·(a(A) − 1).
 */
function adler32Concat(first: number, second: number, secondLength: number): number {
  const a1 = first & 0xffff;
  const b1 = first >>> 16;
  const a = (a1 + (second & 0xffff) + ADLER_MOD - 1) % ADLER_MOD;
  const b = (b1 + (second >>> 16) + (secondLength % ADLER_MOD) * ((a1 + ADLER_MOD - 1) % ADLER_MOD)) % ADLER_MOD;
  return ((b << 16) | a) >>> 0;
}

/** CMF/FLG: deflate with a 32 KiB window, FLEVEL from the level, checksummed to a multiple of 31. */
function zlibHeader(level: number): Buffer {
  const cmf = 0x78;
  const flevel = level < 2 ? 0 : level < 6 ? 1 : level === 6 ? 2 : 3;
  let flg = flevel << 6;
  flg += 31 - ((cmf * 256 + flg) % 31);
  return Buffer.from([cmf, flg]);
}

function ihdr(width: number, height: number): Buffer {
  const body = Buffer.alloc(13);
  body.writeUInt32BE(width, 0);
  body.writeUInt32BE(height, 4);
  body[8] = 8; // bit depth
  body[9] = 2; // colour type: truecolour
  // compression 0, filter method 0, no interlace
  return body;
}

function phys(dpi: number): Buffer {
  const perMetre = Math.round(dpi / 0.0254);
  const body = Buffer.alloc(9);
  body.writeUInt32BE(perMetre, 0);
  body.writeUInt32BE(perMetre, 4);
  body[8] = 1; // unit: metre
  return body;
}

/** A chunk whose body is `parts` laid end to end, as pieces to concatenate: length and type, body, CRC-32 of type and body. */
function chunk(type: string, ...parts: Buffer[]): Buffer[] {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(parts.reduce((sum, part) => sum + part.length, 0), 0);
  head.write(type, 4, 'latin1');
  let crc = zlib.crc32(head.subarray(4));
  for (const part of parts) crc = zlib.crc32(part, crc);
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE(crc >>> 0);
  return [head, ...parts, tail];
}
