/**
 * Python value semantics the real server exposes on the wire: `json.dumps` output (", " and
 * ": " separators, ASCII-only), `repr()`/`str()` text inside error messages, and the
 * `int()`/`float()`/`bool()` coercions that prompt validation applies.
 */

/** Integers beyond 2^53 arrive as doubles; print the Python constants the catalogue really holds. */
const BIG_INT_TEXT = new Map<number, string>([
  [2 ** 64, '18446744073709551615'],
  [2 ** 63, '9223372036854775807'],
]);

function asciiEscape(text: string): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (code < 0x20 || (code > 0x7e && code <= 0xffff)) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else if (code > 0xffff) {
      const v = code - 0x10000;
      out += `\\u${(0xd800 + (v >> 10)).toString(16)}\\u${(0xdc00 + (v & 0x3ff)).toString(16)}`;
    } else out += ch;
  }
  return `${out}"`;
}

function pyNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
  const big = BIG_INT_TEXT.get(n);
  if (big !== undefined) return big;
  // Python writes exponents with a sign and at least two digits (1e-07, 1e+21).
  return String(n).replace(/e([+-])(\d)$/, 'e$10$2');
}

/** `json.dumps(value)` as aiohttp's json_response and send_json produce it. */
export function pyJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return asciiEscape(value);
  if (typeof value === 'number') return pyNumber(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) return `[${value.map(pyJson).join(', ')}]`;
  if (typeof value === 'object') {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v === undefined) continue;
      parts.push(`${asciiEscape(k)}: ${pyJson(v)}`);
    }
    return `{${parts.join(', ')}}`;
  }
  return asciiEscape(String(value));
}

function reprString(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + quote;
}

/** str() of a Python float: integral values keep their ".0" (5.0, not 5). */
export function pyFloatStr(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e16) return `${n}.0`;
  return pyRepr(n);
}

/** Python's repr() of a JSON value. */
export function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'string') return reprString(value);
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return Number.isNaN(value) ? 'nan' : Number.isFinite(value) ? pyNumber(value) : value > 0 ? 'inf' : '-inf';
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) => `${reprString(k)}: ${pyRepr(v)}`);
  return `{${entries.join(', ')}}`;
}

/** Python's str(): strings print bare, everything else as repr. */
export function pyStr(value: unknown): string {
  return typeof value === 'string' ? value : pyRepr(value);
}

/** Python's type name of a JSON value, as it appears in TypeError/AttributeError text. */
export function pyTypeName(value: unknown): string {
  if (value === null || value === undefined) return 'NoneType';
  if (typeof value === 'string') return 'str';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (Array.isArray(value)) return 'list';
  return 'dict';
}

/** A Python exception raised inside emulated server code. */
export class PyError extends Error {
  constructor(
    readonly pyType: string,
    message: string,
    readonly traceback: readonly string[] = [],
  ) {
    super(message);
    this.name = 'PyError';
  }
}

/** One traceback frame in the layout of traceback.format_tb (what the real server reports). */
export function frame(file: string, line: number, fn: string, code: string): string {
  return `  File "${file}", line ${line}, in ${fn}\n    ${code}\n`;
}

const INT_LITERAL = /^[+-]?\d+(?:_\d+)*$/;
const FLOAT_LITERAL = /^[+-]?(?:(?:\d+(?:_\d+)*)?\.?\d+(?:_\d+)*(?:[eE][+-]?\d+)?|\d+(?:_\d+)*\.|inf(?:inity)?|nan)$/i;

/** Python's int(value) for a JSON literal. */
export function pyInt(value: unknown): number {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') {
    if (Number.isNaN(value)) throw new PyError('ValueError', 'cannot convert float NaN to integer');
    if (!Number.isFinite(value)) throw new PyError('OverflowError', 'cannot convert float infinity to integer');
    return Math.trunc(value);
  }
  if (typeof value === 'string') {
    const text = value.trim();
    if (INT_LITERAL.test(text)) return Number(text.replace(/_/g, ''));
    throw new PyError('ValueError', `invalid literal for int() with base 10: ${reprString(value)}`);
  }
  throw new PyError('TypeError', `int() argument must be a string, a bytes-like object or a real number, not '${pyTypeName(value)}'`);
}

/** Python's float(value) for a JSON literal. */
export function pyFloat(value: unknown): number {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const text = value.trim();
    if (FLOAT_LITERAL.test(text)) {
      const lower = text.toLowerCase().replace(/_/g, '');
      if (lower.endsWith('nan')) return Number.NaN;
      if (lower.includes('inf')) return lower.startsWith('-') ? -Infinity : Infinity;
      return Number(lower);
    }
    throw new PyError('ValueError', `could not convert string to float: ${reprString(value)}`);
  }
  throw new PyError('TypeError', `float() argument must be a string or a real number, not '${pyTypeName(value)}'`);
}

/** Python truthiness. */
export function pyBool(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (typeof value === 'string') return value.length > 0;
  if (typeof value === 'number') return value !== 0 && !Number.isNaN(value);
  if (typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.length > 0;
  return Object.keys(value as object).length > 0;
}

/** Python == between JSON scalars (1 == 1.0 == True). */
export function pyEquals(a: unknown, b: unknown): boolean {
  const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : typeof v === 'boolean' ? Number(v) : undefined);
  const na = num(a);
  const nb = num(b);
  if (na !== undefined && nb !== undefined) return na === nb;
  if (typeof a === 'object' || typeof b === 'object') return JSON.stringify(a) === JSON.stringify(b);
  return a === b;
}
