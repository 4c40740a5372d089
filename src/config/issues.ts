/**
 * Turns schema issues and interpolation problems into one ComicError that lists every
 * problem at its file:line:column, with "did you mean" suggestions. Messages never echo a
 * value that could be a credential: only enum values (backend, exports…) are quoted back.
 */
import type { z } from 'zod';
import { ComicError, formatLocation, type ErrorCode, type SourceLocation } from '../errors.js';
import type { InterpolationProblem } from './interpolate.js';
import type { Locator, YamlPath } from './locate.js';
import { knownKeysAt } from './schema-keys.js';
import { suggestionSuffix } from './suggest.js';

export interface ConfigProblem {
  /** null for formats without positions (JS modules): the file alone is named. */
  readonly location: SourceLocation | null;
  readonly file: string;
  readonly message: string;
}

/** `servers[0].auth` */
export function describePath(path: YamlPath): string {
  return path.reduce<string>((text, segment) => (typeof segment === 'number' ? `${text}[${segment}]` : text === '' ? segment : `${text}.${segment}`), '');
}

function valueAt(data: unknown, path: YamlPath): unknown {
  let value = data;
  for (const segment of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string | number, unknown>)[segment];
  }
  return value;
}

const prefixed = (path: YamlPath, message: string) => (path.length === 0 ? message : `${describePath(path)}: ${message}`);

/** Allowed values of an enum issue, also when it is nested in a union's alternatives. */
function allowedValues(issue: z.core.$ZodIssue): string[] {
  if (issue.code === 'invalid_value') return issue.values.filter((v): v is string => typeof v === 'string');
  if (issue.code === 'invalid_union') return issue.errors.flat().flatMap(allowedValues);
  return [];
}

export function problemsFromIssues(
  issues: readonly z.core.$ZodIssue[],
  data: unknown,
  schema: z.ZodType,
  locator: Locator,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const add = (location: SourceLocation | null, message: string) => problems.push({ location, file: locator.file, message });
  for (const issue of issues) {
    const path = issue.path as YamlPath;
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(schema, path);
      for (const key of issue.keys) {
        add(locator.key([...path, key]), prefixed(path, `unknown key "${key}"${suggestionSuffix(key, known)}`));
      }
      continue;
    }
    if (issue.code === 'invalid_key') {
      const inner = issue.issues[0]?.message ?? issue.message;
      add(locator.key(path), `${describePath(path)}: key ${inner}`);
      continue;
    }
    const input = valueAt(data, path);
    if (issue.code === 'invalid_type' && input === undefined) {
      const key = path[path.length - 1];
      add(locator.value(path), prefixed(path.slice(0, -1), `missing required key "${String(key)}"`));
      continue;
    }
    const allowed = allowedValues(issue);
    if (allowed.length > 0 && typeof input === 'string') {
      const choices = allowed.map((v) => `"${v}"`).join(', ');
      const message = issue.code === 'invalid_union' ? issue.message : `expected one of ${choices}`;
      add(locator.value(path), prefixed(path, `invalid value "${input}": ${message}${suggestionSuffix(input, allowed)}`));
      continue;
    }
    add(locator.value(path), prefixed(path, issue.message));
  }
  return problems;
}

export function problemsFromInterpolation(problems: readonly InterpolationProblem[], locator: Locator): ConfigProblem[] {
  return problems.map((problem) => ({
    location: locator.value(problem.path, problem.needle),
    file: locator.file,
    message:
      problem.kind === 'missing'
        ? prefixed(problem.path, `environment variable ${problem.variable} is not set (referenced as ${problem.needle})`)
        : prefixed(problem.path, `malformed variable reference ${JSON.stringify(problem.needle)}: write \${NAME} or \${NAME:-default}, or $\${ for a literal \${`),
  }));
}

const HINTS: Partial<Record<ErrorCode, string>> = {
  CONFIG_INVALID: 'fix the configuration and run again; docs/config.md lists every key',
  CONFIG_ENV_MISSING: 'set the variable, or give a default with ${NAME:-default}',
};

const where = (problem: ConfigProblem) => (problem.location ? formatLocation(problem.location) : problem.file);

/**
 * One error for all problems, in file order: the first is the error's own message and
 * location, the others follow on their own lines, each with its place.
 */
export function configError(code: ErrorCode, problems: readonly ConfigProblem[]): ComicError {
  const sorted = [...problems].sort(
    (a, b) => (a.location?.line ?? 0) - (b.location?.line ?? 0) || (a.location?.column ?? 0) - (b.location?.column ?? 0),
  );
  const [first, ...rest] = sorted;
  if (!first) return new ComicError('INTERNAL', 'configError called without problems');
  const head = first.location ? first.message : `${first.file}: ${first.message}`;
  const tail = rest.map((problem) => `\n  ${where(problem)}: ${problem.message}`).join('');
  const hint = HINTS[code];
  return new ComicError(code, head + tail, {
    ...(first.location ? { location: first.location } : {}),
    ...(hint ? { hint } : {}),
  });
}
