/**
 * Writes a zip archive (CBZ, EPUB) atomically, streaming it out while entries are added so
 * pages never pile up in memory. Entries carry a fixed timestamp: the same pages give a
 * byte-identical archive.
 */
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { ZipFile } from 'yazl';
import { writeStreamAtomic } from '../../util/fs.js';

const ENTRY_TIME = new Date(Date.UTC(2000, 0, 1));

/** Adds one entry; `compress: false` stores it (already-compressed images, EPUB's mimetype). */
export type AddEntry = (name: string, data: Buffer | string, compress: boolean) => void;

/** Runs `fill`, then finishes the archive at `path`; resolves to its size. A failure leaves nothing behind. */
export async function writeZip(path: string, fill: (add: AddEntry) => Promise<void>): Promise<number> {
  const zip = new ZipFile();
  // yazl's output is a stream.PassThrough; its typings only say NodeJS.ReadableStream.
  const output = zip.outputStream as unknown as Readable;
  // The atomic writer attaches to the stream only after creating the folder; until then a
  // failure destroying it must not surface as an uncaught 'error' (the writer still sees it).
  output.on('error', () => undefined);
  const written = writeStreamAtomic(path, output);
  try {
    await fill((name, data, compress) =>
      zip.addBuffer(typeof data === 'string' ? Buffer.from(data, 'utf8') : data, name, { compress, mtime: ENTRY_TIME, mode: 0o100644 }),
    );
  } catch (error) {
    // Fail the stream: the atomic write then removes its temp file.
    output.destroy(error as Error);
    await written.catch(() => undefined);
    throw error;
  }
  zip.end();
  await written;
  return (await stat(path)).size;
}
