/**
 * The two tiers above the files: environment variables and command-line flags. Values are
 * checked with the same schemas as the files and reported by variable or flag name.
 *
 * Servers named here (COMFYUI_URL, --server) carry no per-server settings, so they get
 * `maxConcurrent` 2, a host:port name, Basic auth from `user:password@` in the URL, or else
 * the bearer token in $COMFYUI_TOKEN. Servers from a config file never get COMFYUI_TOKEN
 * implicitly: a file names its credentials itself (e.g. `bearer: ${COMFYUI_TOKEN}`).
 */
import { delimiter, resolve } from 'node:path';
import type { z } from 'zod';
import type { ErrorCode } from '../errors.js';
import { configError, problemsFromIssues } from './issues.js';
import { createLocator } from './locate.js';
import type { Tier } from './resolve.js';
import { backendSchema, exportKindSchema, fallbackSchema, portSchema, serverSchema } from './schema.js';
import { Secret } from './secret.js';
import { FLAG_NAMES, type ConfigFlags, type ServerAuth, type ServerConfig, type ValueSource } from './types.js';

export const ENV = {
  servers: 'COMFYUI_URL',
  token: 'COMFYUI_TOKEN',
  output: 'COMIC_OUTPUT',
  cache: 'COMIC_CACHE',
  backend: 'COMIC_BACKEND',
  fallback: 'COMIC_FALLBACK_URL',
  templates: 'COMIC_TEMPLATES',
  apiKeys: 'COMIC_API_KEYS',
} as const;

/** Checks one value; problems name `label` (a variable or a flag) instead of a file position. */
function check<S extends z.ZodType>(schema: S, value: unknown, label: string, code: ErrorCode): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw configError(code, problemsFromIssues(result.error.issues, value, schema, createLocator(label, null)));
}

/** Set and not empty: an empty variable counts as unset, as most tools treat it. */
function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}

const splitList = (text: string, separator: string) =>
  text
    .split(separator)
    .map((item) => item.trim())
    .filter((item) => item !== '');

/** The auth a server named outside config files gets when its URL carries none. */
export function implicitServerAuth(env: NodeJS.ProcessEnv): ServerAuth {
  const token = envValue(env, ENV.token);
  return token === undefined ? { kind: 'none' } : { kind: 'bearer', token: new Secret(token) };
}

function serversFromUrls(urls: readonly string[], label: string, code: ErrorCode, env: NodeJS.ProcessEnv): ServerConfig[] {
  const servers = urls.map((url, index) => {
    const server = check(serverSchema, url, urls.length > 1 ? `${label} (entry ${index + 1})` : label, code);
    return server.auth.kind === 'none' ? { ...server, auth: implicitServerAuth(env) } : server;
  });
  const names = servers.map((server) => server.name);
  const duplicate = names.find((name, index) => names.indexOf(name) !== index);
  if (duplicate !== undefined) {
    throw configError(code, [{ file: label, location: null, message: `lists ${duplicate} twice` }]);
  }
  return servers;
}

export function envTier(env: NodeJS.ProcessEnv, cwd: string): Tier {
  const tier: Tier = {};
  const from = (variable: string): ValueSource => ({ kind: 'env', variable });
  const code = 'CONFIG_INVALID';

  const urls = envValue(env, ENV.servers);
  if (urls !== undefined) {
    tier.servers = { value: serversFromUrls(splitList(urls, ','), ENV.servers, code, env), source: from(ENV.servers) };
  }
  const output = envValue(env, ENV.output);
  if (output !== undefined) tier.output = { value: resolve(cwd, output), source: from(ENV.output) };
  const cache = envValue(env, ENV.cache);
  if (cache !== undefined) tier.cache = { value: resolve(cwd, cache), source: from(ENV.cache) };
  const backend = envValue(env, ENV.backend);
  if (backend !== undefined) tier.backend = { value: check(backendSchema, backend.trim(), ENV.backend, code), source: from(ENV.backend) };
  const fallback = envValue(env, ENV.fallback);
  if (fallback !== undefined) tier.fallback = { value: check(fallbackSchema, fallback.trim(), ENV.fallback, code), source: from(ENV.fallback) };
  const templates = envValue(env, ENV.templates);
  if (templates !== undefined) {
    tier.templates = { value: splitList(templates, delimiter).map((dir) => resolve(cwd, dir)), source: from(ENV.templates) };
  }
  const apiKeys = envValue(env, ENV.apiKeys);
  if (apiKeys !== undefined) {
    tier['serve.apiKeys'] = { value: splitList(apiKeys, ',').map((key) => new Secret(key)), source: from(ENV.apiKeys) };
  }
  return tier;
}

export function flagTier(flags: ConfigFlags, env: NodeJS.ProcessEnv, cwd: string): Tier {
  const tier: Tier = {};
  const from = (flag: string): ValueSource => ({ kind: 'flag', flag });
  const code = 'USAGE';

  if (flags.servers !== undefined && flags.servers.length > 0) {
    tier.servers = { value: serversFromUrls(flags.servers, FLAG_NAMES.servers, code, env), source: from(FLAG_NAMES.servers) };
  }
  if (flags.output !== undefined) tier.output = { value: resolve(cwd, flags.output), source: from(FLAG_NAMES.output) };
  if (flags.cache !== undefined) tier.cache = { value: resolve(cwd, flags.cache), source: from(FLAG_NAMES.cache) };
  if (flags.backend !== undefined) {
    tier.backend = { value: check(backendSchema, flags.backend, FLAG_NAMES.backend, code), source: from(FLAG_NAMES.backend) };
  }
  if (flags.fallback === false) tier.fallback = { value: null, source: from('--no-fallback') };
  else if (flags.fallback !== undefined) {
    tier.fallback = { value: check(fallbackSchema, flags.fallback, FLAG_NAMES.fallback, code), source: from(FLAG_NAMES.fallback) };
  }
  if (flags.keepFallback === true) tier.keepFallback = { value: true, source: from(FLAG_NAMES.keepFallback) };
  if (flags.templates !== undefined && flags.templates.length > 0) {
    tier.templates = { value: flags.templates.map((dir) => resolve(cwd, dir)), source: from(FLAG_NAMES.templates) };
  }
  if (flags.exports !== undefined && flags.exports.length > 0) {
    const kinds = flags.exports.map((kind) => check(exportKindSchema, kind, FLAG_NAMES.exports, code));
    tier.exports = { value: [...new Set(kinds)], source: from(FLAG_NAMES.exports) };
  }
  if (flags.port !== undefined) tier['serve.port'] = { value: check(portSchema, flags.port, FLAG_NAMES.port, code), source: from(FLAG_NAMES.port) };
  if (flags.host !== undefined && flags.host !== '') tier['serve.host'] = { value: flags.host, source: from(FLAG_NAMES.host) };
  return tier;
}
