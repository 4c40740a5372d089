/**
 * User settings: one JSON file per user, kept by conf (projectName "comic"), written by
 * `comic config set` and read below the project config. Its folder is conf's default
 * (~/.config/comic/config.json on Linux) or $COMIC_USER_CONFIG_DIR, which tests always set so
 * they never touch the real home.
 */
import { existsSync, readFileSync } from 'node:fs';
import Conf from 'conf';
import { ComicError } from '../errors.js';
import { configError } from './issues.js';
import { createLocator } from './locate.js';
import type { LoadedConfigFile } from './project.js';

export const USER_CONFIG_DIR_ENV = 'COMIC_USER_CONFIG_DIR';

type Store = Record<string, unknown>;

function open(env: NodeJS.ProcessEnv): { conf: Conf<Store>; malformed: () => boolean } | null {
  const dir = env[USER_CONFIG_DIR_ENV];
  if (!dir && !env.HOME && !env.USERPROFILE && !env.APPDATA) return null;
  // conf would throw on malformed JSON before telling us the path; note it and report it ourselves.
  let malformed = false;
  const deserialize = (text: string): Store => {
    try {
      malformed = false;
      return JSON.parse(text) as Store;
    } catch {
      malformed = true;
      return {};
    }
  };
  try {
    // 0600: the file may hold credentials a user wrote into it by hand.
    const conf = new Conf<Store>({ projectName: 'comic', projectSuffix: '', configFileMode: 0o600, deserialize, ...(dir ? { cwd: dir } : {}) });
    return { conf, malformed: () => malformed };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ComicError('CONFIG_INVALID', `cannot open user settings${dir ? ` in ${dir}` : ''}: ${reason}`, { cause: error });
  }
}

/** Where the user settings file is (it may not exist), or null when there is no user folder. */
export function userSettingsPath(env: NodeJS.ProcessEnv): string | null {
  return open(env)?.conf.path ?? null;
}

/**
 * The settings store for this environment, or null when there is no user folder to use:
 * no $COMIC_USER_CONFIG_DIR and no home (an environment stripped bare, as in in-process tests).
 * A malformed file is an error, so nothing ever writes over a file a user could still fix.
 */
export function openUserSettings(env: NodeJS.ProcessEnv): Conf<Store> | null {
  const opened = open(env);
  if (opened?.malformed()) {
    throw configError('CONFIG_INVALID', [
      { file: opened.conf.path, location: null, message: 'is not valid JSON; fix or delete it' },
    ]);
  }
  return opened?.conf ?? null;
}

export interface UserSettings {
  /** The settings file (it may not exist yet); null when there is no user folder. */
  readonly file: string | null;
  /** Its contents as a config layer; null when the file does not exist. */
  readonly loaded: LoadedConfigFile | null;
}

export function loadUserSettings(env: NodeJS.ProcessEnv): UserSettings {
  const store = openUserSettings(env);
  if (!store || !existsSync(store.path)) return { file: store?.path ?? null, loaded: null };
  return {
    file: store.path,
    loaded: { file: store.path, data: store.store, locator: createLocator(store.path, readFileSync(store.path, 'utf8')) },
  };
}
