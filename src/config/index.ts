/**
 * Configuration for every command: `loadConfig` resolves flags > environment > project
 * config > user settings > defaults into one ResolvedConfig (see docs/config.md).
 */
import { dirname } from 'node:path';
import { fileTier } from './file-tier.js';
import { envTier, flagTier, implicitServerAuth } from './overrides.js';
import { findProjectConfig, loadConfigFile, type LoadedConfigFile } from './project.js';
import { defaultValues, mergeTiers, type Tier } from './resolve.js';
import { loadUserSettings } from './user.js';
import type { ConfigFlags, ResolvedConfig } from './types.js';
import { rememberSecrets } from '../util/redact.js';

export * from './types.js';
export { Secret, redact } from './secret.js';
export { describeSource } from './display.js';

export interface LoadConfigOptions {
  /** Where the project config search starts, and what relative flags and variables are relative to. */
  readonly cwd: string;
  /** The environment to read (COMFYUI_URL, COMIC_*, ${VAR} references); never process.env implicitly. */
  readonly env: NodeJS.ProcessEnv;
  readonly flags?: ConfigFlags;
}

/** The project config in effect: the --config file, or the one found from `cwd` upward. */
export async function projectConfigFile(options: LoadConfigOptions): Promise<LoadedConfigFile | null> {
  const explicit = options.flags?.configFile;
  return explicit === undefined ? findProjectConfig(options.cwd, options.env) : loadConfigFile(explicit, options.cwd);
}

export async function loadConfig(options: LoadConfigOptions): Promise<ResolvedConfig> {
  const { cwd, env, flags = {} } = options;
  const project = await projectConfigFile(options);
  const user = loadUserSettings(env);
  const tiers: Tier[] = [
    flagTier(flags, env, cwd),
    envTier(env, cwd),
    ...(project ? [fileTier(project, 'project', env)] : []),
    ...(user.loaded ? [fileTier(user.loaded, 'user', env)] : []),
  ];
  const defaults = defaultValues(project ? dirname(project.file) : cwd, implicitServerAuth(env));
  const config = mergeTiers(tiers, defaults, { project: project?.file ?? null, user: user.file });
  // Masked in every text this process writes from now on (src/util/redact.ts), files and stderr included.
  rememberSecrets(config.secrets);
  return config;
}
