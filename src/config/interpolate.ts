/**
 * `${NAME}` and `${NAME:-default}` in configuration strings, resolved from the environment
 * given to loadConfig (never process.env directly, so tests stay hermetic). `$${` writes a
 * literal `${`. As in the shell, `:-default` applies when the variable is unset or empty.
 */
import type { YamlPath } from './locate.js';

export type InterpolationProblem =
  | { readonly kind: 'missing'; readonly path: YamlPath; readonly variable: string; readonly needle: string }
  | { readonly kind: 'malformed'; readonly path: YamlPath; readonly needle: string };

const REFERENCE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

export function interpolateEnv(
  data: unknown,
  env: NodeJS.ProcessEnv,
): { readonly data: unknown; readonly problems: readonly InterpolationProblem[] } {
  const problems: InterpolationProblem[] = [];
  const walk = (value: unknown, path: YamlPath): unknown => {
    if (typeof value === 'string') return interpolateString(value, env, path, problems);
    if (Array.isArray(value)) return value.map((item, index) => walk(item, [...path, index]));
    if (isPlainObject(value)) {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, walk(item, [...path, key])]));
    }
    return value;
  };
  return { data: walk(data, []), problems };
}

function interpolateString(text: string, env: NodeJS.ProcessEnv, path: YamlPath, problems: InterpolationProblem[]): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('$${', i)) {
      out += '${';
      i += 3;
      continue;
    }
    if (!text.startsWith('${', i)) {
      out += text[i];
      i += 1;
      continue;
    }
    const close = text.indexOf('}', i + 2);
    const match = close === -1 ? null : REFERENCE.exec(text.slice(i + 2, close));
    if (close === -1 || !match) {
      problems.push({ kind: 'malformed', path, needle: text.slice(i, close === -1 ? undefined : close + 1) });
      return text;
    }
    const name = match[1] as string;
    const fallback = match[2];
    const value = env[name];
    if (fallback !== undefined) {
      out += value === undefined || value === '' ? fallback : value;
    } else if (value === undefined) {
      problems.push({ kind: 'missing', path, variable: name, needle: text.slice(i, close + 1) });
    } else {
      out += value;
    }
    i = close + 1;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
