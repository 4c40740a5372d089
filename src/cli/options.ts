/**
 * Command-line options spelled the same way in every command: their parsers, and how they
 * become loadConfig's flags (which then win over environment, project and user settings).
 */
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
  readonly templates?: readonly string[];
  readonly export?: readonly string[];
  readonly port?: number;
  readonly host?: string;
}

export function configFlags(flags: CommonFlags): ConfigFlags {
  return {
    ...(flags.config !== undefined && { configFile: flags.config }),
    ...(flags.server !== undefined && { servers: flags.server }),
    ...(flags.out !== undefined && { output: flags.out }),
    ...(flags.cache !== undefined && { cache: flags.cache }),
    ...(flags.backend !== undefined && { backend: flags.backend }),
    ...(typeof flags.fallback === 'string' && { fallback: flags.fallback }),
    ...(flags.fallback === false && { fallback: false as const }),
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
