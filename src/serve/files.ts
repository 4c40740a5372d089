/**
 * Output files over HTTP: which file a /api/files/<job>/<path> URL names, and its content
 * type. A path is resolved inside its job's folder with safeJoin, so `..`, absolute paths
 * and NUL bytes never reach a file outside it; hidden entries (the run manifest under
 * `.comic/`) are not served. Anything that is not a regular file is "not found".
 *
 * Text files (report.json, report.md, …) are not streamed as they are: they go through the
 * same masking step as every other answer (credentials of the configuration and the API
 * keys masked, control characters escaped), and paths in them are made relative to the
 * job's folder, so a client never learns a credential or where this machine keeps things.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, extname, isAbsolute, relative, sep } from 'node:path';
import { safeJoin } from '../util/fs.js';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.pdf': 'application/pdf',
  '.cbz': 'application/vnd.comicbook+zip',
  '.zip': 'application/zip',
  '.json': 'application/json; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.xml': 'application/xml; charset=utf-8',
  '.html': 'text/plain; charset=utf-8', // never rendered as a page on our origin
};

export function contentType(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** The file `rest` names inside `dir`, with its size; null when it is outside, hidden, missing or not a file. */
export async function resolveOutputFile(dir: string, rest: string): Promise<{ path: string; bytes: number } | null> {
  const parts = rest.split('/').filter((part) => part !== '');
  if (parts.length === 0 || parts.some((part) => part.startsWith('.') || part.includes('\\'))) return null;
  let path: string;
  try {
    path = safeJoin(dir, ...parts);
  } catch {
    return null;
  }
  try {
    const info = await stat(path);
    return info.isFile() ? { path, bytes: info.size } : null;
  } catch {
    return null;
  }
}

/** The URL of a file in a job's folder. */
export function outputUrl(jobId: string, dir: string, path: string): string {
  const parts = relative(dir, path).split(sep).map(encodeURIComponent);
  return `/api/files/${encodeURIComponent(jobId)}/${parts.join('/')}`;
}

/** Files read, cleaned and sent as text instead of streamed (see `servedText`). */
const TEXT_FILES = new Set(['.json', '.md', '.xml', '.txt', '.html', '.csv', '.yaml', '.yml', '.log']);

/** Text files larger than this are not served (a job's reports are a few KiB). */
export const SERVED_TEXT_BYTES = 16 * 1024 * 1024;

export function isServedAsText(path: string): boolean {
  return TEXT_FILES.has(extname(path).toLowerCase());
}

/**
 * A text file of the job folder `dir` as served: every path inside `dir` relative to it (a
 * JSON string that is an absolute path elsewhere becomes its file name), then `clean`.
 */
export async function servedText(path: string, dir: string, clean: (text: string) => string): Promise<string> {
  const text = await readFile(path, 'utf8');
  const local = (value: string): string => value.split(`${dir}${sep}`).join('').split(dir).join('.');
  if (extname(path).toLowerCase() === '.json') {
    try {
      const value: unknown = JSON.parse(text);
      const relativeTo = (v: string): string => {
        if (!isAbsolute(v)) return local(v);
        const inside = relative(dir, v);
        return inside === '' ? '.' : inside.startsWith('..') || isAbsolute(inside) ? basename(v) : inside;
      };
      return `${JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? clean(relativeTo(v)) : v), 2)}\n`;
    } catch {
      // not JSON after all: cleaned as text
    }
  }
  return clean(local(text));
}
