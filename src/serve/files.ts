/**
 * Output files over HTTP: which file a /api/files/<job>/<path> URL names, and its content
 * type. A path is resolved inside its job's folder with safeJoin, so `..`, absolute paths
 * and NUL bytes never reach a file outside it; hidden entries (the run manifest under
 * `.comic/`) are not served. Anything that is not a regular file is "not found".
 */
import { stat } from 'node:fs/promises';
import { extname, relative, sep } from 'node:path';
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
