/**
 * `comic config set|unset`: edits the user settings file through conf, one key at a time,
 * checked against the same schema as config files before anything is written. Credentials
 * are refused here (a command line ends up in shell history); they belong in `${VAR}`
 * references in a config file.
 */
import { resolve } from 'node:path';
import { ComicError } from '../errors.js';
import { parseConfigFile } from './file-tier.js';
import { createLocator } from './locate.js';
import { fileConfigSchema } from './schema.js';
import { keyPaths } from './schema-keys.js';
import { suggestionSuffix } from './suggest.js';
import { parseServerUrl } from './urls.js';
import { openUserSettings } from './user.js';

/** Keys `config set` accepts, and how their values are read from the command line. */
const SETTABLE = {
  servers: { list: true },
  'fallback.url': { list: false },
  output: { list: false, dir: true },
  cache: { list: false, dir: true },
  templates: { list: true, dir: true },
  backend: { list: false },
  freeMemory: { list: false },
  'timeouts.connect': { list: false, number: true },
  'timeouts.queue': { list: false, number: true },
  'timeouts.start': { list: false, number: true },
  'timeouts.nodeSilence': { list: false, number: true },
  'timeouts.reconnect': { list: false, number: true },
  'timeouts.request': { list: false, number: true },
  'timeouts.download': { list: false, number: true },
  'timeouts.render': { list: false, number: true },
  'limits.imageBytes': { list: false, number: true },
  'limits.jsonBytes': { list: false, number: true },
  exports: { list: true },
  'pdf.edition': { list: false },
  'screen.format': { list: false },
  'screen.quality': { list: false, number: true },
  'comfyui.launch.command': { list: false },
  'comfyui.launch.args': { list: true },
  'comfyui.launch.cwd': { list: false, dir: true },
  'comfyui.previews': { list: false },
  'serve.port': { list: false, number: true },
  'serve.host': { list: false },
} as const satisfies Record<string, { list: boolean; dir?: boolean; number?: boolean }>;

export type SettableKey = keyof typeof SETTABLE;
export const SETTABLE_KEYS = Object.keys(SETTABLE) as SettableKey[];

const CREDENTIAL_KEYS = /(^|\.)(auth|headers|apiKeys|env)(\.|$)/;
const CREDENTIAL_HINT =
  'credentials are not set from the command line (shell history keeps them): reference a variable in ' +
  'comic.config.yaml, e.g. `bearer: ${COMFYUI_TOKEN}`, or set COMFYUI_TOKEN / COMIC_API_KEYS';

function refuseCredentials(message: string): ComicError {
  return new ComicError('CONFIG_INVALID', message, { hint: CREDENTIAL_HINT });
}

function settableKey(key: string): SettableKey {
  if (key in SETTABLE) return key as SettableKey;
  if (CREDENTIAL_KEYS.test(key)) throw refuseCredentials(`"${key}" holds credentials and cannot be set with comic config set`);
  throw new ComicError('USAGE', `"${key}" cannot be set${suggestionSuffix(key, SETTABLE_KEYS)}`, {
    hint: `settable keys: ${SETTABLE_KEYS.join(', ')}`,
  });
}

/** A command-line word → JSON value: `{…}`/`[…]` are parsed as JSON, digits as a number where one is expected. */
function parseWord(key: string, word: string, asNumber: boolean): unknown {
  if (/^\s*[[{]/.test(word)) {
    try {
      return JSON.parse(word) as unknown;
    } catch {
      throw new ComicError('CONFIG_INVALID', `${key}: the value looks like JSON but does not parse`, { hint: 'quote it for your shell, e.g. \'{"every": 5}\'' });
    }
  }
  return asNumber && /^\d+$/.test(word) ? Number(word) : word;
}

function assertNoCredentials(key: string, value: unknown): void {
  const urls = typeof value === 'string' ? [value] : [];
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entry = value as Record<string, unknown>;
    if ('auth' in entry || 'headers' in entry) throw refuseCredentials(`${key}: auth and headers cannot be set from the command line`);
    if (typeof entry.url === 'string') urls.push(entry.url);
  }
  for (const url of urls) {
    const parsed = parseServerUrl(url);
    if (parsed.ok && parsed.value.credentials) throw refuseCredentials(`${key}: a URL with user:password@ cannot be set from the command line`);
  }
}

function valueFrom(key: SettableKey, words: readonly string[], cwd: string): unknown {
  const spec: { list: boolean; dir?: boolean; number?: boolean } = SETTABLE[key];
  const read = (word: string) => {
    const value = parseWord(key, word, spec.number === true);
    return spec.dir && typeof value === 'string' ? resolve(cwd, value) : value;
  };
  if (spec.list) {
    // One JSON array, or one value per word.
    const only = words.length === 1 ? parseWord(key, words[0] as string, false) : undefined;
    const values = Array.isArray(only) ? only.map((item) => (spec.dir && typeof item === 'string' ? resolve(cwd, item) : item)) : words.map(read);
    for (const value of values) assertNoCredentials(key, value);
    return values;
  }
  if (words.length !== 1) throw new ComicError('USAGE', `${key} takes one value, got ${words.length}`);
  const value = read(words[0] as string);
  assertNoCredentials(key, value);
  return value;
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  if (rest.length === 0) {
    target[head] = value;
    return;
  }
  const child = target[head];
  const next = child !== null && typeof child === 'object' && !Array.isArray(child) ? { ...(child as Record<string, unknown>) } : {};
  target[head] = next;
  setPath(next, rest, value);
}

function requireStore(env: NodeJS.ProcessEnv) {
  const store = openUserSettings(env);
  if (!store) {
    throw new ComicError('CONFIG_INVALID', 'there is no user settings folder: no home directory and no COMIC_USER_CONFIG_DIR', {
      hint: 'set COMIC_USER_CONFIG_DIR to a folder for comic settings',
    });
  }
  return store;
}

/**
 * Sets `key` in the user settings. Relative folders are stored absolute (resolved against
 * `cwd`), since the settings file applies wherever comic runs. Returns the file and the value written.
 */
export function setUserSetting(options: { env: NodeJS.ProcessEnv; cwd: string; key: string; words: readonly string[] }): { file: string; value: unknown } {
  const key = settableKey(options.key);
  const value = valueFrom(key, options.words, options.cwd);
  const store = requireStore(options.env);
  const candidate = { ...store.store };
  setPath(candidate, key.split('.'), value);
  // The whole resulting file must be valid, so a set can never leave a broken file behind.
  parseConfigFile({ file: store.path, data: candidate, locator: createLocator('comic config set', null) }, options.env);
  store.set(key, value);
  return { file: store.path, value };
}

/** Removes `key` (any key of the schema, also credentials) from the user settings. */
export function unsetUserSetting(options: { env: NodeJS.ProcessEnv; key: string }): { file: string; removed: boolean } {
  const known = keyPaths(fileConfigSchema).filter((path) => !path.includes('[]'));
  if (!known.includes(options.key)) {
    throw new ComicError('USAGE', `unknown key "${options.key}"${suggestionSuffix(options.key, known)}`);
  }
  const store = requireStore(options.env);
  const removed = store.has(options.key);
  if (removed) store.delete(options.key);
  return { file: store.path, removed };
}
