/**
 * The effective configuration as people and tools see it (`comic config list|get`): one row
 * per setting with its source. Values go through JSON, where every Secret becomes "***".
 */
import { ComicError } from '../errors.js';
import { formatDuration } from './duration.js';
import { formatByteSize } from './size.js';
import { suggestionSuffix } from './suggest.js';
import { SETTING_KEYS, type ResolvedConfig, type SettingKey, type ValueSource } from './types.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface SettingRow {
  readonly key: SettingKey;
  readonly value: JsonValue;
  readonly source: ValueSource;
}

export function describeSource(source: ValueSource): string {
  switch (source.kind) {
    case 'flag':
      return `flag ${source.flag}`;
    case 'env':
      return `env ${source.variable}`;
    case 'project':
      return `project ${source.file}`;
    case 'user':
      return `user ${source.file}`;
    case 'default':
      return 'default';
  }
}

const GETTERS: Record<SettingKey, (config: ResolvedConfig) => unknown> = {
  servers: (c) => c.servers,
  fallback: (c) => c.fallback,
  keepFallback: (c) => c.keepFallback,
  output: (c) => c.output,
  cache: (c) => c.cache,
  templates: (c) => c.templates,
  backend: (c) => c.backend,
  freeMemory: (c) => c.freeMemory,
  'timeouts.connect': (c) => c.timeouts.connect,
  'timeouts.queue': (c) => c.timeouts.queue,
  'timeouts.start': (c) => c.timeouts.start,
  'timeouts.nodeSilence': (c) => c.timeouts.nodeSilence,
  'timeouts.reconnect': (c) => c.timeouts.reconnect,
  'timeouts.request': (c) => c.timeouts.request,
  'timeouts.download': (c) => c.timeouts.download,
  'timeouts.render': (c) => c.timeouts.render,
  'limits.imageBytes': (c) => c.limits.imageBytes,
  'limits.jsonBytes': (c) => c.limits.jsonBytes,
  exports: (c) => c.exports,
  'pdf.edition': (c) => c.pdf.edition,
  'screen.format': (c) => c.screen.format,
  'screen.quality': (c) => c.screen.quality,
  'comfyui.launch': (c) => c.comfyui.launch,
  'comfyui.previews': (c) => c.comfyui.previews,
  'serve.apiKeys': (c) => c.serve.apiKeys,
  'serve.port': (c) => c.serve.port,
  'serve.host': (c) => c.serve.host,
};

/** JSON round trip: Secret.toJSON() masks every credential. */
const toJson = (value: unknown): JsonValue => JSON.parse(JSON.stringify(value ?? null)) as JsonValue;

export function settingRows(config: ResolvedConfig): SettingRow[] {
  return SETTING_KEYS.map((key) => ({ key, value: toJson(GETTERS[key](config)), source: config.sources[key] }));
}

const isDuration = (key: SettingKey) => key.startsWith('timeouts.');
const isSize = (key: SettingKey) => key.startsWith('limits.');

/** A value on one line: strings bare, durations as "10s", the rest as compact JSON. */
export function formatValue(key: SettingKey, value: JsonValue): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && isDuration(key)) return formatDuration(value);
  if (typeof value === 'number' && isSize(key)) return formatByteSize(value);
  return JSON.stringify(value);
}

/** A `lookupSetting` result on one line, formatted like `config list` formats that setting. */
export function formatLookedUp(found: LookedUp): string {
  const setting = SETTING_KEYS.find((key) => key === found.key);
  if (setting) return formatValue(setting, found.value);
  return typeof found.value === 'string' ? found.value : JSON.stringify(found.value);
}

export function formatRows(rows: readonly SettingRow[]): string {
  const width = Math.max(...rows.map((row) => row.key.length));
  return rows.map((row) => `${row.key.padEnd(width)}  ${formatValue(row.key, row.value)}  (${describeSource(row.source)})\n`).join('');
}

export interface LookedUp {
  readonly key: string;
  readonly value: JsonValue;
  /** The source of each setting the value is made of (one, or several for a group such as "timeouts"). */
  readonly sources: Readonly<Partial<Record<SettingKey, ValueSource>>>;
}

/**
 * A setting (`output`), a group of settings (`timeouts`), or a path into one (`fallback.url`,
 * `servers.0.name`).
 */
export function lookupSetting(config: ResolvedConfig, key: string): LookedUp {
  const rows = settingRows(config);
  const exact = rows.find((row) => row.key === key);
  if (exact) return { key, value: exact.value, sources: { [exact.key]: exact.source } };

  const group = rows.filter((row) => row.key.startsWith(`${key}.`));
  if (group.length > 0) {
    const value = Object.fromEntries(group.map((row) => [row.key.slice(key.length + 1), row.value]));
    return { key, value, sources: Object.fromEntries(group.map((row) => [row.key, row.source])) };
  }

  const owner = rows.find((row) => key.startsWith(`${row.key}.`));
  if (owner) {
    let value: JsonValue | undefined = owner.value;
    for (const segment of key.slice(owner.key.length + 1).split('.')) {
      value = value !== null && typeof value === 'object' ? (value as Record<string, JsonValue>)[segment] : undefined;
    }
    if (value !== undefined) return { key, value, sources: { [owner.key]: owner.source } };
  }

  const known = [...SETTING_KEYS, 'timeouts', 'limits', 'pdf', 'screen', 'serve', 'comfyui'];
  throw new ComicError('USAGE', `unknown setting "${key}"${suggestionSuffix(key, known)}`, {
    hint: `settings: ${known.join(', ')} (and paths inside them, e.g. fallback.url, servers.0.url)`,
  });
}
