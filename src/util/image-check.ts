/**
 * Whether a file is a whole image: decoded to the last pixel with sharp, not only its header
 * read. A PNG cut off halfway has a perfectly good header (and `metadata()` accepts it); only
 * decoding its data finds that it ends early (libpng: "read error").
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';

/** null when `path` decodes whole; otherwise what is wrong with it, in a few words. */
export async function imageProblem(path: string): Promise<string | null> {
  let bytes: Buffer;
  try {
    // From memory, not by path: libvips caches decoded files by name, and a cache entry that
    // changed on disk (cut short by a full disk, a crash, a hand) must be read again.
    bytes = await readFile(path);
  } catch (error) {
    return `it cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
  }
  if (bytes.length === 0) return 'it is empty';
  try {
    await sharp(bytes).raw().toBuffer();
    return null;
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).trim();
    // When libvips' error text is lost (its error buffer is shared by concurrent operations),
    // sharp says only this, which means nothing to a user; the decode did fail.
    return `it does not decode (${/failOn/i.test(reason) || reason === '' ? 'its data is cut short or damaged' : reason})`;
  }
}
