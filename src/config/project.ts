/**
 * Finds and reads the project configuration with cosmiconfig: comic.config.{yaml,yml,json,js},
 * .comicrc, .comicrc.{yaml,yml,json}, or a "comic" key in package.json, in the working
 * directory and then each parent, stopping after the home directory (or at the filesystem
 * root when the working directory is outside home). We walk the folders ourselves, one
 * cosmiconfig search per folder, because cosmiconfig's own "global" strategy would also read
 * ~/.config/comic/, and user settings have their own home (user.ts).
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, extname, relative, resolve, isAbsolute } from 'node:path';
import { cosmiconfig, defaultLoaders, type Loader } from 'cosmiconfig';
import { ComicError, isComicError } from '../errors.js';
import { configError } from './issues.js';
import { createLocator, type Locator } from './locate.js';
import { parseJsonText, parseYamlText } from './parse-text.js';

/** In the order they win when a folder holds several. */
export const PROJECT_SEARCH_PLACES = [
  'comic.config.yaml',
  'comic.config.yml',
  'comic.config.json',
  'comic.config.js',
  '.comicrc',
  '.comicrc.yaml',
  '.comicrc.yml',
  '.comicrc.json',
  'package.json',
] as const;

/** A configuration file's raw data and how to point into it. */
export interface LoadedConfigFile {
  readonly file: string;
  /** As written (before interpolation and validation); undefined for an empty file. */
  readonly data: unknown;
  readonly locator: Locator;
}

const yamlLoader: Loader = (file, text) => parseYamlText(file, text);
const jsonLoader: Loader = (file, text) => parseJsonText(file, text);

function explorer() {
  return cosmiconfig('comic', {
    searchPlaces: [...PROJECT_SEARCH_PLACES],
    searchStrategy: 'none',
    // An empty comic.config.yaml is still this project's config, not a reason to look further up.
    ignoreEmptySearchPlaces: false,
    cache: false,
    loaders: { '.yaml': yamlLoader, '.yml': yamlLoader, noExt: yamlLoader, '.json': jsonLoader, '.js': defaultLoaders['.js'] },
  });
}

/** The folders searched, nearest first. */
export function searchDirs(cwd: string, env: NodeJS.ProcessEnv): string[] {
  const home = resolve(env.HOME || env.USERPROFILE || homedir());
  const start = resolve(cwd);
  const rel = relative(home, start);
  const insideHome = rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
  const dirs: string[] = [];
  for (let dir = start; ; dir = dirname(dir)) {
    dirs.push(dir);
    if ((insideHome && dir === home) || dirname(dir) === dir) return dirs;
  }
}

/** The project config file that applies in `cwd`, without reading it further than needed. */
export async function findProjectConfig(cwd: string, env: NodeJS.ProcessEnv): Promise<LoadedConfigFile | null> {
  const search = explorer();
  for (const dir of searchDirs(cwd, env)) {
    const result = await withFileErrors(dir, () => search.search(dir));
    if (result) return describe(result.filepath, result.config);
  }
  return null;
}

/** Reads an explicitly named config file (--config FILE, relative to `cwd`). */
export async function loadConfigFile(path: string, cwd: string): Promise<LoadedConfigFile> {
  const file = resolve(cwd, path);
  const result = await withFileErrors(file, () => explorer().load(file)).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ComicError('CONFIG_INVALID', `config file not found: ${file}`, { hint: 'check the --config path' });
    }
    throw error;
  });
  if (!result) throw new ComicError('CONFIG_INVALID', `${file} has no "comic" key`, { hint: 'add a "comic" key, or name a comic.config.yaml' });
  return describe(result.filepath, result.config);
}

async function describe(file: string, data: unknown): Promise<LoadedConfigFile> {
  const ext = extname(file);
  const isPackage = basename(file) === 'package.json';
  // JS modules have no text to point into; the file alone names the place.
  const text = ext === '.js' ? null : await readFile(file, 'utf8');
  return { file, data, locator: createLocator(file, text, isPackage ? ['comic'] : []) };
}

/** Loader failures (syntax errors are ComicErrors already; a JS module may throw anything). */
async function withFileErrors<T>(where: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (isComicError(error) || (error as NodeJS.ErrnoException).code === 'ENOENT') throw error;
    const file = (error as { filepath?: string }).filepath ?? where;
    const reason = error instanceof Error ? error.message : String(error);
    throw configError('CONFIG_INVALID', [{ file, location: null, message: `could not be loaded: ${reason}` }]);
  }
}
