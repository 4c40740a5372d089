/**
 * zod issues → diagnostics: wording for people who write comics, the YAML position of each
 * issue, and suggestions. Unions are narrowed to the shape the user evidently meant, so
 * `sheet: { templte: x }` reports the unknown key, not "expected false or a mapping".
 */
import type { z } from 'zod';
import type { Diagnostic } from './diagnostics.js';
import type { YamlPath } from './model.js';
import type { Locate } from './positions.js';
import { allowedKeysAt } from './schema-keys.js';
import { didYouMean, nearest } from '../util/suggest.js';

type Issue = z.core.$ZodIssue;
type RawIssue = z.core.$ZodRawIssue;

/** `pages[0].panels[2].prompt`: the path as it reads in messages. */
export function displayPath(path: YamlPath): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

const EXPECTED: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping (key: value)',
  record: 'a mapping (key: value)',
  array: 'a list',
  null: 'nothing',
};

function quote(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : String(value);
}

/** What the user wrote, in a few words. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'nothing (an empty value)';
  if (typeof value === 'string') return `the text ${JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value)}`;
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}

/** True when the union option failed only because the value had another type. */
function isTypeMismatch(issues: readonly Issue[]): boolean {
  return issues.every((i) => i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_value'));
}

function expectedOf(issue: Issue): string[] {
  if (issue.code === 'invalid_type') return [EXPECTED[issue.expected] ?? issue.expected];
  if (issue.code === 'invalid_value') return issue.values.map(quote);
  return [];
}

function joinAlternatives(items: readonly string[]): string {
  const unique = [...new Set(items)];
  return unique.length <= 1 ? (unique[0] ?? 'something else') : `${unique.slice(0, -1).join(', ')} or ${unique[unique.length - 1]}`;
}

/** The per-parse error map: default wording for issues whose schema gives none. */
export function messageFor(issue: RawIssue): string | undefined {
  const input = issue.input;
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${EXPECTED[issue.expected] ?? issue.expected}, got ${describeValue(input)}`;
    case 'invalid_value':
      return issue.values.length === 1
        ? `expected ${quote(issue.values[0])}, got ${describeValue(input)}`
        : `expected one of ${issue.values.map(quote).join(', ')}; got ${describeValue(input)}`;
    case 'too_small':
      if (issue.origin === 'array') return `needs at least ${String(issue.minimum)} ${issue.minimum === 1 ? 'item' : 'items'}`;
      if (issue.origin === 'string') return 'must not be empty';
      return `must be ${issue.inclusive ? 'at least' : 'greater than'} ${String(issue.minimum)}, not ${String(input)}`;
    case 'too_big':
      if (issue.origin === 'array') return `may have at most ${String(issue.maximum)} items`;
      return `must be ${issue.inclusive ? 'at most' : 'less than'} ${String(issue.maximum)}, not ${String(input)}`;
    case 'invalid_union': {
      const alternatives = issue.errors.flatMap((option) => (option.length > 0 && isTypeMismatch(option) ? option.flatMap(expectedOf) : []));
      return `expected ${joinAlternatives(alternatives)}, got ${describeValue(input)}`;
    }
    default:
      return undefined;
  }
}

function valueAt(data: unknown, path: YamlPath): unknown {
  let current = data;
  for (const segment of path) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

function isAbsent(data: unknown, path: YamlPath): boolean {
  const parent = valueAt(data, path.slice(0, -1));
  const key = path[path.length - 1];
  return key !== undefined && parent !== null && typeof parent === 'object' && !Array.isArray(parent) && !Object.hasOwn(parent, key);
}

/**
 * Other names for a key, by the mapping they are written in (its path without list
 * indexes): ComicInfo.xml, the metadata of the CBZ that `comic` exports, calls the issue
 * `Number` and the language `LanguageISO`. Looked up case-insensitively, before the
 * spelling-based suggestion (`number` is no typo of `issue`).
 */
const KNOWN_ALIASES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  comic: { number: 'issue', languageiso: 'language' },
};

function unknownKeyHint(key: string, value: unknown, allowed: readonly string[], at: YamlPath): string | undefined {
  if (key === '<<') return 'YAML merge keys (<<) are not supported; write the keys out, or use `defaults`';
  const where = at.filter((s) => typeof s === 'string').join('.');
  const names = Object.hasOwn(KNOWN_ALIASES, where) ? KNOWN_ALIASES[where]! : {};
  const alias = Object.hasOwn(names, key.toLowerCase()) ? names[key.toLowerCase()] : undefined;
  if (alias !== undefined && allowed.includes(alias)) return `did you mean '${alias}'?`;
  const match = nearest(key, allowed);
  if (match !== null) return `did you mean '${match}'?`;
  // `{ text: Well, maybe }` splits at the comma into `text: Well` and a key `maybe` with no value.
  if (value === null) return 'inside { … } a comma ends a value; put text that has commas in quotes: text: "Well, maybe"';
  return didYouMean(key, allowed, 'allowed keys');
}

function hintFor(issue: Issue): string | undefined {
  if (issue.code === 'custom') {
    const hint = (issue.params as { hint?: unknown } | undefined)?.hint;
    return typeof hint === 'string' ? hint : undefined;
  }
  if (issue.code === 'invalid_value' && typeof issue.input === 'string') {
    return didYouMean(issue.input, issue.values.map(String), 'use one of');
  }
  if (issue.code === 'invalid_type' && issue.expected === 'string' && (typeof issue.input === 'number' || typeof issue.input === 'boolean')) {
    return `YAML read this as ${typeof issue.input === 'number' ? 'a number' : 'true/false'}; put it in quotes: "${String(issue.input)}"`;
  }
  return undefined;
}

/**
 * Diagnostics for a schema's issues. `base` is where the checked value sits in the script
 * (issues of a page checked on its own carry paths relative to that page).
 */
export function diagnosticsFromIssues(
  issues: readonly Issue[],
  options: { schema: z.core.$ZodType; data: unknown; locate: Locate; base?: YamlPath },
): Diagnostic[] {
  const { schema, data, locate } = options;
  const base = options.base ?? [];
  const out: Diagnostic[] = [];
  /** `shown` is the path the message names; the location may be a key inside it. */
  const emit = (path: YamlPath, at: 'key' | 'value', message: string, hint?: string, shown: YamlPath = path) => {
    const prefix = shown.length > 0 ? `${displayPath(shown)}: ` : '';
    out.push({ ...locate(path, at), severity: 'error', message: prefix + message, ...(hint ? { hint } : {}) });
  };
  const visit = (issue: Issue, prefix: YamlPath) => {
    const relative = [...prefix, ...issue.path] as YamlPath;
    const path = [...base, ...relative];
    switch (issue.code) {
      case 'invalid_union': {
        const meant = issue.errors.filter((option) => !isTypeMismatch(option));
        if (meant.length === 1) return meant[0]!.forEach((inner) => visit(inner, relative));
        return emit(path, 'value', issue.message);
      }
      case 'unrecognized_keys': {
        const allowed = allowedKeysAt(schema, relative);
        for (const key of issue.keys) {
          const hint = unknownKeyHint(key, valueAt(data, [...relative, key]), allowed, path);
          emit([...path, key], 'key', `unknown key '${key}'`, hint, path);
        }
        return;
      }
      case 'invalid_key': {
        const inner = issue.issues[0];
        return emit(path, 'key', inner?.message ?? issue.message, inner ? hintFor(inner) : undefined, path.slice(0, -1));
      }
      case 'invalid_type':
        if (issue.input === undefined && isAbsent(data, relative)) {
          return emit(path, 'value', `missing required key '${String(path[path.length - 1])}'`, undefined, path.slice(0, -1));
        }
        return emit(path, 'value', issue.message, hintFor(issue));
      default:
        return emit(path, 'value', issue.message, hintFor(issue));
    }
  };
  for (const issue of issues) visit(issue, []);
  return out;
}
