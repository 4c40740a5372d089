/**
 * Precedence: each tier (flags, environment, project file, user settings) offers values for
 * some settings with their source; the first tier that has a setting wins, else its default.
 * Settings are replaced whole, never merged: a `servers` list or a `fallback` from a higher
 * tier brings its own credentials, so a token meant for one server is never sent to another.
 */
import { resolve } from 'node:path';
import { Secret } from './secret.js';
import { DEFAULT_MAX_CONCURRENT } from './schema.js';
import {
  SETTING_KEYS,
  type BackendKind,
  type ComfyPreviews,
  type ExportKind,
  type FallbackConfig,
  type FreeMemoryPolicy,
  type LaunchConfig,
  type PdfEdition,
  type ResolvedConfig,
  type ScreenFormat,
  type ServerAuth,
  type ServerConfig,
  type SettingKey,
  type ValueSource,
} from './types.js';

/** The value type of each setting. */
export interface SettingValues {
  servers: readonly ServerConfig[];
  fallback: FallbackConfig | null;
  keepFallback: boolean;
  output: string;
  cache: string;
  templates: readonly string[];
  backend: BackendKind;
  freeMemory: FreeMemoryPolicy;
  'timeouts.connect': number;
  'timeouts.queue': number;
  'timeouts.start': number;
  'timeouts.nodeSilence': number;
  'timeouts.reconnect': number;
  'timeouts.request': number;
  'timeouts.download': number;
  'timeouts.render': number;
  'limits.imageBytes': number;
  'limits.jsonBytes': number;
  exports: readonly ExportKind[];
  'pdf.edition': PdfEdition;
  'screen.format': ScreenFormat;
  'screen.quality': number;
  'comfyui.launch': LaunchConfig | null;
  'comfyui.previews': ComfyPreviews;
  'serve.apiKeys': readonly Secret[];
  'serve.port': number;
  'serve.host': string;
}

export interface Sourced<T> {
  readonly value: T;
  readonly source: ValueSource;
}

/** What one tier says, setting by setting. */
export type Tier = { [K in SettingKey]?: Sourced<SettingValues[K]> };

export const DEFAULT_SERVER_URL = 'http://127.0.0.1:8188';

/** Local ComfyUI's address, as ComfyUI itself defaults to. */
export function defaultServer(auth: ServerAuth): ServerConfig {
  return { url: DEFAULT_SERVER_URL, name: '127.0.0.1:8188', maxConcurrent: DEFAULT_MAX_CONCURRENT, headers: {}, auth };
}

/**
 * Defaults. Directories are relative to `baseDir`: the project config's folder when there
 * is one (so running from a subfolder writes to the same place), else the working directory.
 */
export function defaultValues(baseDir: string, serverAuth: ServerAuth): SettingValues {
  return {
    servers: [defaultServer(serverAuth)],
    fallback: null,
    keepFallback: false,
    output: resolve(baseDir, 'out'),
    cache: resolve(baseDir, '.comic/cache'),
    templates: [],
    backend: 'comfyui',
    freeMemory: { kind: 'never' },
    // The ComfyUI client's own defaults (src/comfy/types.ts), generous: a checkpoint load or a
    // big VAE decode sends nothing for minutes.
    'timeouts.connect': 30_000,
    'timeouts.queue': 30 * 60_000,
    'timeouts.start': 10 * 60_000,
    'timeouts.nodeSilence': 10 * 60_000,
    // Long enough for a dropped connection or a proxy restart, short enough that a server
    // that is really gone hands its jobs to the fallback soon.
    'timeouts.reconnect': 10_000,
    // Total deadlines (a server that drips a byte at a time cannot hold a job) and byte caps
    // (a hostile or broken server cannot fill memory or disk): the ComfyUI client's defaults.
    'timeouts.request': 120_000,
    'timeouts.download': 120_000,
    'timeouts.render': 30 * 60_000,
    'limits.imageBytes': 256 * 1024 * 1024,
    'limits.jsonBytes': 64 * 1024 * 1024,
    exports: ['png', 'pdf', 'cbz'],
    'pdf.edition': 'print',
    // WebP at 82 keeps a 300 dpi page well under 2 MB with no visible loss in line art.
    'screen.format': 'webp',
    'screen.quality': 82,
    'comfyui.launch': null,
    // The server's own --preview-method (off unless it was started with one): a batch run
    // shows no previews, and ComfyUI spends nothing on making them.
    'comfyui.previews': 'server',
    'serve.apiKeys': [],
    'serve.port': 8787,
    'serve.host': '127.0.0.1',
  };
}

/** Tiers in precedence order, highest first. */
export function mergeTiers(
  tiers: readonly Tier[],
  defaults: SettingValues,
  files: ResolvedConfig['files'],
): ResolvedConfig {
  const values = {} as Record<SettingKey, unknown>;
  const sources = {} as Record<SettingKey, ValueSource>;
  for (const key of SETTING_KEYS) {
    const found = tiers.find((tier) => tier[key] !== undefined)?.[key];
    values[key] = found ? found.value : defaults[key];
    sources[key] = found ? found.source : { kind: 'default' };
  }
  const v = values as unknown as SettingValues;
  const config = {
    servers: v.servers,
    fallback: v.fallback,
    keepFallback: v.keepFallback,
    output: v.output,
    cache: v.cache,
    templates: v.templates,
    backend: v.backend,
    freeMemory: v.freeMemory,
    timeouts: {
      connect: v['timeouts.connect'],
      queue: v['timeouts.queue'],
      start: v['timeouts.start'],
      nodeSilence: v['timeouts.nodeSilence'],
      reconnect: v['timeouts.reconnect'],
      request: v['timeouts.request'],
      download: v['timeouts.download'],
      render: v['timeouts.render'],
    },
    limits: { imageBytes: v['limits.imageBytes'], jsonBytes: v['limits.jsonBytes'] },
    exports: v.exports,
    pdf: { edition: v['pdf.edition'] },
    screen: { format: v['screen.format'], quality: v['screen.quality'] },
    comfyui: { launch: v['comfyui.launch'], previews: v['comfyui.previews'] },
    serve: { apiKeys: v['serve.apiKeys'], port: v['serve.port'], host: v['serve.host'] },
    sources,
    files,
  };
  return { ...config, secrets: collectSecrets(config) };
}

function authSecrets(auth: ServerAuth): Secret[] {
  switch (auth.kind) {
    case 'none':
      return [];
    case 'bearer':
      return [auth.token];
    case 'query':
      return [auth.value];
    case 'basic':
      // The header carries base64(user:password); a log that prints it must be masked too.
      return [auth.password, new Secret(Buffer.from(`${auth.user}:${auth.password.reveal()}`).toString('base64'))];
  }
}

function collectSecrets(config: Omit<ResolvedConfig, 'secrets'>): Secret[] {
  return [
    ...config.servers.flatMap((server) => [...Object.values(server.headers), ...authSecrets(server.auth)]),
    ...(config.fallback ? authSecrets(config.fallback.auth) : []),
    ...Object.values(config.comfyui.launch?.env ?? {}),
    ...config.serve.apiKeys,
  ];
}
