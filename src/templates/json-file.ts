/** Reading JSON files with errors that point at file:line:column. */
import { readFile } from 'node:fs/promises';
import { ComicError, type ErrorCode, type SourceLocation } from '../errors.js';

export type JsonResult = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly message: string; readonly location: SourceLocation };

export function parseJson(text: string, file: string): JsonResult {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const position = /position (\d+)/.exec(message);
    // Node 20 leaves the position out of some messages; find it ourselves then.
    const offset = position ? Number(position[1]) : syntaxErrorOffset(text);
    const before = text.slice(0, offset).split('\n');
    const location = { file, line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
    return { ok: false, message: `${file} is not valid JSON: ${message.replace(/\s*in JSON at position \d+.*$/, '')}`, location };
  }
}

/**
 * Where the first JSON syntax error is, by a small recursive-descent scan (only used when
 * the runtime's message does not say).
 */
export function syntaxErrorOffset(text: string): number {
  let at = 0;
  const fail = (): never => {
    throw at;
  };
  const space = () => {
    while (/\s/.test(text[at] ?? '')) at++;
  };
  const literal = (word: string) => (text.startsWith(word, at) ? (at += word.length) : fail());
  const string = () => {
    at++;
    while (at < text.length && text[at] !== '"') at += text[at] === '\\' ? 2 : 1;
    if (at >= text.length) fail();
    at++;
  };
  const value = (): void => {
    space();
    const c = text[at];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      at++;
      space();
      if (text[at] === close) return void at++;
      for (;;) {
        if (c === '{') {
          space();
          if (text[at] !== '"') fail();
          string();
          space();
          if (text[at] !== ':') fail();
          at++;
        }
        value();
        space();
        if (text[at] === ',') at++;
        else if (text[at] === close) return void at++;
        else fail();
      }
    }
    if (c === '"') return string();
    if (c === 't') return void literal('true');
    if (c === 'f') return void literal('false');
    if (c === 'n') return void literal('null');
    const number = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(at));
    if (!number) fail();
    at += number![0].length;
  };
  try {
    value();
    space();
    return at < text.length ? at : Math.max(0, text.length - 1);
  } catch (offset) {
    return typeof offset === 'number' ? offset : 0;
  }
}

/** Reads and parses a JSON file, throwing a ComicError with `code` when it is missing or malformed. */
export async function readJsonFile(file: string, code: ErrorCode): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ComicError(code, `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
  const parsed = parseJson(text, file);
  if (!parsed.ok) throw new ComicError(code, parsed.message, { location: parsed.location });
  return parsed.value;
}

/**
 * JSON for people to read and edit: two-space indents, but any array or object that fits
 * on one line within `width` stays on one line (inject targets, links, size rules).
 */
export function formatJson(value: unknown, width = 100): string {
  const inline = (v: unknown): string => {
    if (Array.isArray(v)) return `[${v.map(inline).join(', ')}]`;
    if (v !== null && typeof v === 'object') {
      return `{${Object.entries(v as Record<string, unknown>).map(([k, item]) => `${JSON.stringify(k)}: ${inline(item)}`).join(', ')}}`;
    }
    return JSON.stringify(v);
  };
  const render = (v: unknown, indent: string, room: number): string => {
    const flat = inline(v);
    if (v === null || typeof v !== 'object' || flat.length <= room) return flat;
    const inner = `${indent}  `;
    const entries = Array.isArray(v)
      ? v.map((item) => `${inner}${render(item, inner, width - inner.length - 1)}`)
      : Object.entries(v as Record<string, unknown>).map(([k, item]) => {
          const key = `${JSON.stringify(k)}: `;
          return `${inner}${key}${render(item, inner, width - inner.length - key.length - 1)}`;
        });
    const [open, close] = Array.isArray(v) ? ['[', ']'] : ['{', '}'];
    return entries.length === 0 ? `${open}${close}` : `${open}\n${entries.join(',\n')}\n${indent}${close}`;
  };
  return `${render(value, '', width)}\n`;
}
