/** Reading JSON files with errors that point at file:line:column. */
import { readFile } from 'node:fs/promises';
import { ComicError, type ErrorCode, type SourceLocation } from '../errors.js';
import { jsonValueFlaw } from '../util/json-bounds.js';
import { formatJsonPath, jsonValueOffset, syntaxErrorOffset, type JsonPath } from '../util/json-scan.js';

export type JsonResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly message: string; readonly location: SourceLocation; readonly hint?: string };

/**
 * Names the place of a value in a parsed file for messages, e.g. `node #3 "Sampler"
 * (KSampler), input "seed"` for a workflow; null to fall back to the JSON path.
 */
export type DescribePlace = (value: unknown, path: JsonPath) => string | null;

export function parseJson(text: string, file: string, describe?: DescribePlace): JsonResult {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const position = /position (\d+)/.exec(message);
    // Node 20 leaves the position out of some messages; find it ourselves then.
    const offset = position ? Number(position[1]) : syntaxErrorOffset(text);
    return { ok: false, message: `${file} is not valid JSON: ${message.replace(/\s*in JSON at position \d+.*$/, '')}`, location: locationAt(text, offset, file) };
  }
  // Valid JSON can still hold what nothing downstream can hash or copy: refused here, where the file and place are known.
  const flaw = jsonValueFlaw(value);
  if (flaw === null) return { ok: true, value };
  const offset = jsonValueOffset(text, flaw.path) ?? 0;
  const place = describe?.(value, flaw.path) ?? `at ${formatJsonPath(flaw.path)}`;
  const problem = flaw.kind === 'number' ? flaw.problem.replace(/^the number/, `the number ${numberText(text, offset)}`) : flaw.problem;
  return {
    ok: false,
    message: `${file}: ${place}: ${problem}`,
    location: locationAt(text, offset, file),
    hint: flaw.kind === 'number' ? 'write a smaller number (a seed is at most 18446744073709551615)' : 'the file is damaged or was not written by ComfyUI or comic; save it again from where it came from',
  };
}

function locationAt(text: string, offset: number, file: string): SourceLocation {
  const before = text.slice(0, offset).split('\n');
  return { file, line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}

/** The number literal at `offset`, shortened when long: `1000000000…0000 (401 digits)`. */
function numberText(text: string, offset: number): string {
  const literal = /^-?[\d.eE+-]+/.exec(text.slice(offset, offset + 100_000))?.[0] ?? '';
  return literal.length <= 24 ? literal : `${literal.slice(0, 10)}…${literal.slice(-4)} (${literal.replace(/\D/g, '').length} digits)`;
}

export { syntaxErrorOffset };

/** Reads and parses a JSON file, throwing a ComicError with `code` when it is missing or malformed. */
export async function readJsonFile(file: string, code: ErrorCode): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ComicError(code, `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
  const parsed = parseJson(text, file);
  if (!parsed.ok) throw new ComicError(code, parsed.message, { location: parsed.location, ...(parsed.hint ? { hint: parsed.hint } : {}) });
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
