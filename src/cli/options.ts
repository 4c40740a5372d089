/**
 * Command-line options spelled the same way in every command: their parsers, and how they
 * become loadConfig's flags (which then win over environment, project and user settings).
 */
import { Option } from 'commander';
import type { ConfigFlags } from '../config/index.js';
import { ComicError } from '../errors.js';

/** The shared options as commander hands them over; a command without an option leaves it undefined. */
export interface CommonFlags {
  readonly config?: string;
  readonly server?: readonly string[];
  readonly out?: string;
  readonly cache?: string;
  readonly backend?: string;
  /** A URL, false for --no-fallback, or commander's default true when neither was given. */
  readonly fallback?: string | boolean;
  /** --keep-fallback (comic generate): keep the SD API fallback's images once ComfyUI is back. */
  readonly keepFallback?: boolean;
  readonly templates?: readonly string[];
  readonly export?: readonly string[];
  readonly port?: number;
  readonly host?: string;
}

/**
 * The options several commands share, built in one place so that their spelling, parser and
 * help read alike everywhere; `what` rewords the help where a command uses one its own way.
 */
export const sharedOption = {
  config: (what = 'use this config file instead of searching for comic.config.yaml') => new Option('--config <file>', what),
  out: (what = 'output folder (default from config: out)') => new Option('-o, --out <dir>', what),
  cache: (what = 'render cache folder') => new Option('--cache <dir>', `${what} (default from config: .comic/cache)`),
  server: (what = 'a ComfyUI server (repeatable; replaces the configured ones)') => new Option('--server <url>', what).argParser(repeatable),
  fallback: (what = 'the Stable Diffusion API to fall back to when ComfyUI is unreachable') => new Option('--fallback <url>', what),
  noFallback: (what = 'never fall back to the SD API') => new Option('--no-fallback', what),
  templates: (what = 'a folder of user templates, searched before the built-in ones (repeatable)') =>
    new Option('--templates <dir>', what).argParser(repeatable),
  exports: (what = 'png,pdf,pdf-art,cbz,webtoon,epub, comma-separated or repeated (default from config: png,pdf,cbz)') =>
    new Option('--export <kinds>', what).argParser(commaList),
};

export function configFlags(flags: CommonFlags): ConfigFlags {
  return {
    ...(flags.config !== undefined && { configFile: flags.config }),
    ...(flags.server !== undefined && { servers: flags.server }),
    ...(flags.out !== undefined && { output: flags.out }),
    ...(flags.cache !== undefined && { cache: flags.cache }),
    ...(flags.backend !== undefined && { backend: flags.backend }),
    ...(typeof flags.fallback === 'string' && { fallback: flags.fallback }),
    ...(flags.fallback === false && { fallback: false as const }),
    ...(flags.keepFallback === true && { keepFallback: true }),
    ...(flags.templates !== undefined && { templates: flags.templates }),
    ...(flags.export !== undefined && flags.export.length > 0 && { exports: flags.export }),
    ...(flags.port !== undefined && { port: flags.port }),
    ...(flags.host !== undefined && { host: flags.host }),
  };
}

/** `--export pdf,cbz --export webtoon` → every item, in order. */
export const commaList = (value: string, previous: string[] = []): string[] => [
  ...previous,
  ...value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
];

/** `--server A --server B` → [A, B]. */
export const repeatable = (value: string, previous: string[] = []): string[] => [...previous, value];

export function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new ComicError('USAGE', `${flag} takes a whole number of at least 1, not ${JSON.stringify(value)}`);
  return n;
}
