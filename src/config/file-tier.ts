/**
 * A configuration file (project config or user settings) → a precedence tier: `${VAR}`
 * interpolation, schema validation with positions, relative folders resolved against the
 * file's own folder.
 */
import { dirname, resolve } from 'node:path';
import { configError, problemsFromInterpolation, problemsFromIssues } from './issues.js';
import { interpolateEnv } from './interpolate.js';
import type { LoadedConfigFile } from './project.js';
import type { Tier } from './resolve.js';
import { fileConfigSchema, type FileConfig } from './schema.js';
import type { ValueSource } from './types.js';

/** Validates a file's data; every problem is reported at once, with its place. */
export function parseConfigFile(loaded: LoadedConfigFile, env: NodeJS.ProcessEnv): FileConfig {
  const { data, problems } = interpolateEnv(loaded.data ?? {}, env);
  if (problems.length > 0) {
    const missingOnly = problems.every((problem) => problem.kind === 'missing');
    throw configError(missingOnly ? 'CONFIG_ENV_MISSING' : 'CONFIG_INVALID', problemsFromInterpolation(problems, loaded.locator));
  }
  const result = fileConfigSchema.safeParse(data);
  if (!result.success) {
    throw configError('CONFIG_INVALID', problemsFromIssues(result.error.issues, data, fileConfigSchema, loaded.locator));
  }
  return result.data;
}

export function fileTier(loaded: LoadedConfigFile, kind: 'project' | 'user', env: NodeJS.ProcessEnv): Tier {
  const config = parseConfigFile(loaded, env);
  const source: ValueSource = { kind, file: loaded.file };
  const base = dirname(loaded.file);
  const dir = (path: string) => resolve(base, path);
  const tier: Tier = {};
  const set = <K extends keyof Tier>(key: K, value: NonNullable<Tier[K]>['value'] | undefined) => {
    if (value !== undefined) tier[key] = { value, source } as Tier[K];
  };
  set('servers', config.servers);
  set('fallback', config.fallback);
  set('keepFallback', config.keepFallback);
  set('output', config.output === undefined ? undefined : dir(config.output));
  set('cache', config.cache === undefined ? undefined : dir(config.cache));
  set('templates', config.templates?.map(dir));
  set('backend', config.backend);
  set('freeMemory', config.freeMemory);
  set('timeouts.connect', config.timeouts?.connect);
  set('timeouts.queue', config.timeouts?.queue);
  set('timeouts.start', config.timeouts?.start);
  set('timeouts.nodeSilence', config.timeouts?.nodeSilence);
  set('timeouts.reconnect', config.timeouts?.reconnect);
  set('timeouts.request', config.timeouts?.request);
  set('timeouts.download', config.timeouts?.download);
  set('timeouts.render', config.timeouts?.render);
  set('limits.imageBytes', config.limits?.imageBytes);
  set('limits.jsonBytes', config.limits?.jsonBytes);
  set('exports', config.exports);
  set('pdf.edition', config.pdf?.edition);
  set('screen.format', config.screen?.format);
  set('screen.quality', config.screen?.quality);
  const launch = config.comfyui?.launch;
  set(
    'comfyui.launch',
    launch && { command: launch.command, args: launch.args ?? [], cwd: dir(launch.cwd ?? '.'), env: launch.env ?? {} },
  );
  set('comfyui.previews', config.comfyui?.previews);
  set('serve.apiKeys', config.serve?.apiKeys);
  set('serve.port', config.serve?.port);
  set('serve.host', config.serve?.host);
  return tier;
}
