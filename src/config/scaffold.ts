/**
 * `comic init`: a new project folder gets the documented example configuration and a starter
 * script, both copied from the installed package so they are the ones the docs describe.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ComicError } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';

/** What init writes (name in the project) and where it comes from (path in the package). */
export const SCAFFOLD_FILES = [
  { name: 'comic.config.yaml', from: 'comic.config.yaml' },
  { name: 'comic.yaml', from: 'examples/lighthouse.yaml' },
] as const;

/** The installed package's root: the nearest folder above this module with our package.json. */
export function packageRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'comic.config.yaml'))) return dir;
    if (dirname(dir) === dir) throw new ComicError('INTERNAL', 'cannot find the comic package root (its comic.config.yaml is missing)');
  }
}

export interface ScaffoldOptions {
  readonly dir: string;
  /** Overwrite files that exist. */
  readonly force: boolean;
  /** Where the originals are; the installed package by default. */
  readonly from?: string;
}

/** Writes the scaffold (each file atomically) and returns the paths written. */
export async function scaffoldProject(options: ScaffoldOptions): Promise<string[]> {
  const root = options.from ?? packageRoot();
  const dir = resolve(options.dir);
  const targets = SCAFFOLD_FILES.map((file) => ({ ...file, path: join(dir, file.name) }));
  // Check every target before writing any, so a refusal leaves the folder untouched.
  const existing = targets.filter((target) => existsSync(target.path));
  if (existing.length > 0 && !options.force) {
    throw new ComicError('FILE_EXISTS', `not overwriting existing files: ${existing.map((t) => t.path).join(', ')}`, {
      hint: 'run again with --force to replace them, or choose another folder: comic init <dir>',
    });
  }
  const contents = await Promise.all(
    targets.map(async (target) => {
      try {
        return await readFile(join(root, target.from));
      } catch (error) {
        throw new ComicError('INTERNAL', `the comic package is incomplete: ${target.from} is missing from ${root}`, { cause: error });
      }
    }),
  );
  for (const [index, target] of targets.entries()) await writeFileAtomic(target.path, contents[index] as Buffer);
  return targets.map((target) => target.path);
}
