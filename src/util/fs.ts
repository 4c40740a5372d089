import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { access, copyFile, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { ComicError } from '../errors.js';

/**
 * Resolves `parts` under `root` and refuses anything that would land outside it
 * (`..`, absolute paths, drive letters, NUL bytes). Every path built from data we did not
 * write ourselves (a server's file name, a script's job id) goes through here.
 */
export function safeJoin(root: string, ...parts: string[]): string {
  const base = resolve(root);
  for (const part of parts) {
    if (part.includes('\0')) throw unsafe(root, part);
  }
  const target = resolve(base, ...parts);
  const rel = relative(base, target);
  if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && !rel.split(sep).includes('..'))) return target;
  throw unsafe(root, parts.join('/'));
}

function unsafe(root: string, part: string): ComicError {
  return new ComicError('OUTPUT_UNSAFE', `refused to write ${JSON.stringify(part)}: it would land outside ${root}`);
}

function tempSibling(path: string): string {
  return `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}

/** The names tempSibling makes: what a killed process may leave behind. */
const TEMP_SIBLING = /\.\d+\.[0-9a-f]{8}\.tmp$/;

/**
 * Removes temp files a killed run left under `dir` (a SIGKILL cannot be caught, so its
 * writer never cleaned up). Only our own temp names are touched.
 */
export async function sweepTempFiles(dir: string): Promise<number> {
  let entries;
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch {
    return 0; // no folder yet: nothing to sweep
  }
  const stale = entries.filter((e) => e.isFile() && TEMP_SIBLING.test(e.name));
  await Promise.all(stale.map((e) => rm(join(e.parentPath, e.name), { force: true })));
  return stale.length;
}

/** Writes a file so that readers only ever see the old content or the whole new content. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = tempSibling(path);
  try {
    await writeFile(temp, data);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Streams into a temp file beside `path`, then renames it into place. */
export async function writeStreamAtomic(path: string, source: Readable | AsyncIterable<Uint8Array>): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = tempSibling(path);
  try {
    await pipeline(source, createWriteStream(temp));
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Copies a file so that `target` only ever holds the old or the whole new content. */
export async function copyFileAtomic(source: string, target: string): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const temp = tempSibling(target);
  try {
    await copyFile(source, temp);
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Whether something is at `path` (a file or a folder we may see). */
export async function pathExists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}
