/**
 * The folders a run writes to (the output folder of each script and the render cache),
 * checked before any work: a folder we cannot write is found at the start, with its path
 * and what to do, not after the GPU has rendered every image with nowhere to put it.
 *
 * The check writes a file and removes it rather than asking `access()`: permission bits do
 * not tell the whole story (root ignores them; a read-only mount or an immutable folder
 * refuses root too), a real write does.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ComicError } from '../errors.js';
import { isFileSystemError, isNoSpace } from '../util/fs-errors.js';

export type FolderRole = 'output' | 'cache';

const FLAGS: Record<FolderRole, string> = { output: '--out', cache: '--cache' };

/** The folders under each role that a run writes into, when they exist already (we create the others). */
const SUBFOLDERS: Record<FolderRole, readonly string[]> = {
  output: ['.comic', 'characters', 'backgrounds', 'panels', 'pages'],
  cache: ['staging'],
};

/** The error for a folder of `role` that a write to `path` (in it) failed in. */
export function folderWriteError(role: FolderRole, folder: string, error: NodeJS.ErrnoException, what = 'is not writable'): ComicError {
  const name = role === 'output' ? 'output folder' : 'cache folder';
  const reason = `${error.code ?? 'error'}${error.path && resolve(error.path) !== resolve(folder) ? ` on ${error.path}` : ''}`;
  if (isNoSpace(error.code)) {
    return new ComicError('DISK_FULL', `the ${name} ${folder} has no space left (${reason})`, {
      hint: role === 'cache' ? 'free some space, run `comic cache prune`, or choose another folder with --cache' : `free some space, or choose another folder with ${FLAGS[role]}`,
      cause: error,
    });
  }
  return new ComicError('FOLDER_NOT_WRITABLE', `the ${name} ${folder} ${what} (${reason})`, {
    hint: `fix its permissions, or choose another folder with ${FLAGS[role]} (\`${role}\` in comic.config.yaml); \`comic doctor\` checks both folders`,
    cause: error,
  });
}

/** Creates `folder` if needed and proves that a file can be written in it (and in the subfolders a run uses). */
export async function ensureWritableFolder(folder: string, role: FolderRole): Promise<void> {
  const absolute = resolve(folder);
  try {
    await mkdir(absolute, { recursive: true });
  } catch (error) {
    if (!isFileSystemError(error)) throw error;
    throw folderWriteError(role, absolute, error, error.code === 'EEXIST' || error.code === 'ENOTDIR' ? 'cannot be created: a file is in the way' : 'cannot be created');
  }
  const info = await stat(absolute);
  if (!info.isDirectory()) throw folderWriteError(role, absolute, Object.assign(new Error('not a folder'), { code: 'ENOTDIR', path: absolute }), 'is a file, not a folder');
  for (const sub of ['', ...SUBFOLDERS[role]]) {
    const dir = join(absolute, sub);
    if (sub !== '' && !(await stat(dir).then((s) => s.isDirectory(), () => false))) continue;
    await probeWrite(dir, role, absolute);
  }
}

async function probeWrite(dir: string, role: FolderRole, folder: string): Promise<void> {
  const probe = join(dir, `.comic-write-check.${process.pid}.${randomBytes(4).toString('hex')}`);
  try {
    await writeFile(probe, '');
  } catch (error) {
    if (!isFileSystemError(error)) throw error;
    throw folderWriteError(role, folder, error.path === probe ? { ...error, path: dir } : error);
  } finally {
    await rm(probe, { force: true }).catch(() => undefined);
  }
}

/** Every folder a run writes to: each script's output folder and the cache. */
export async function ensureRunFolders(outDirs: readonly string[], cacheDir: string): Promise<void> {
  for (const dir of outDirs) await ensureWritableFolder(dir, 'output');
  await ensureWritableFolder(cacheDir, 'cache');
}
