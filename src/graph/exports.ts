import { ComicError } from '../errors.js';
import { EXPORT_KINDS, type ExportKind } from './types.js';

/**
 * Parses `--exports pdf,cbz` (also spelt with spaces). `png` is accepted and adds
 * nothing: the pages are the PNG output and are always made. Throws USAGE on anything else.
 */
export function parseExportList(text: string): ExportKind[] {
  const wanted = new Set<string>();
  for (const item of text.split(/[\s,]+/)) {
    const name = item.trim().toLowerCase();
    if (name === '' || name === 'png') continue;
    if (!(EXPORT_KINDS as readonly string[]).includes(name)) {
      throw new ComicError('USAGE', `unknown export "${item.trim()}"`, { hint: `choose from png, ${EXPORT_KINDS.join(', ')}` });
    }
    wanted.add(name);
  }
  return EXPORT_KINDS.filter((kind) => wanted.has(kind));
}
