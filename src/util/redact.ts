/**
 * The one masking step every text leaving the process passes through: stdout and stderr
 * lines, events, the run report (report.json, report.md), the run manifest, the serve log
 * and what `comic serve` hands to its clients, files included.
 *
 * Two things happen to a text, in this order:
 *
 * 1. Every credential of the configuration (`config.secrets`: header values, tokens,
 *    passwords, the base64 `user:password` of each Basic auth, API keys) is replaced by
 *    `***`, in every form a server or a library is known to echo it back: raw, URL-encoded
 *    (upper- or lower-case hex, `+` for spaces), JSON-escaped and HTML-escaped.
 * 2. Control characters (C0 but tab and newline, DEL, C1, and the bidirectional overrides)
 *    are written as visible escapes (`\u001b`, `\u202e`): no escape sequence from a server's
 *    error body reaches a terminal, a log or report.md.
 *
 * Secrets are known from two places: those a caller passes (a renderer's `secrets`), and
 * those of every configuration this process has loaded (`rememberSecrets`, called by
 * `loadConfig`), so an error printed at the very end of `main()` is masked as well.
 */
import type { Secret } from '../config/secret.js';

export const MASK = '***';

/** Values of every configuration loaded in this process (see `rememberSecrets`). */
const remembered = new Set<string>();
let rememberedNeedles: string[] | null = null;

/** Adds credentials to the ones masked everywhere in this process. */
export function rememberSecrets(secrets: Iterable<Secret | string>): void {
  for (const secret of secrets) {
    const value = typeof secret === 'string' ? secret : secret.reveal();
    if (value === '' || remembered.has(value)) continue;
    remembered.add(value);
    rememberedNeedles = null;
  }
}

/** Every form of `value` a text may carry it in. */
export function secretForms(value: string): string[] {
  const forms = new Set<string>([value]);
  const encodings = [encodeURIComponent(value), encodeURI(value), encodeURIComponent(value).replace(/%20/g, '+')];
  for (const encoded of encodings) {
    forms.add(encoded);
    forms.add(encoded.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()));
  }
  forms.add(JSON.stringify(value).slice(1, -1));
  forms.add(JSON.stringify(JSON.stringify(value).slice(1, -1)).slice(1, -1)); // inside JSON inside JSON
  forms.add(value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;'));
  forms.add(value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;'));
  forms.delete('');
  return [...forms];
}

function needlesOf(values: Iterable<string>): string[] {
  const needles = new Set<string>();
  for (const value of values) if (value !== '') for (const form of secretForms(value)) needles.add(form);
  // Longest first, so a secret that contains another is masked whole.
  return [...needles].sort((a, b) => b.length - a.length);
}

function replaceAll(text: string, needles: readonly string[]): string {
  let result = text;
  for (const needle of needles) if (result.includes(needle)) result = result.split(needle).join(MASK);
  return result;
}

// C0 controls but \t and \n, DEL, C1 controls (0x9b is CSI on 8-bit terminals), and the
// bidirectional overrides and isolates (text that reads differently than it is).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Control characters of `text` as visible escapes (ESC as `\u001b`); tab and newline are
 * kept. The escape is JSON's own, so escaping a JSON text keeps it valid JSON.
 */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    return `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

export type Mask = (text: string) => string;

/**
 * A masking function for these secrets and every remembered one: secrets become `***`,
 * control characters visible escapes.
 */
export function createMask(secrets: Iterable<Secret | string> = []): Mask {
  const own = needlesOf([...secrets].map((s) => (typeof s === 'string' ? s : s.reveal())));
  let seen = -1;
  let needles: string[] = own;
  return (text) => {
    if (seen !== remembered.size) {
      seen = remembered.size;
      needles = own.length === 0 ? globalNeedles() : [...new Set([...globalNeedles(), ...own])].sort((a, b) => b.length - a.length);
    }
    return escapeControl(replaceAll(text, needles));
  };
}

function globalNeedles(): string[] {
  rememberedNeedles ??= needlesOf(remembered);
  return rememberedNeedles;
}

/**
 * `text` with every remembered secret masked and nothing else changed: the last net under
 * the process's own stdout and stderr, whose terminal renderers draw with escape sequences.
 */
export function maskSecrets(text: string): string {
  return remembered.size === 0 ? text : replaceAll(text, globalNeedles());
}

/** `text` with every remembered secret masked and its control characters escaped. */
export function mask(text: string): string {
  return escapeControl(replaceAll(text, globalNeedles()));
}

/**
 * `JSON.stringify(value, null, indent)` with every string value in it masked first, so
 * no form of a secret survives in the JSON text, whatever escaping JSON gives it.
 */
export function maskedJson(value: unknown, indent?: number, clean: Mask = mask): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? clean(v) : v), indent);
}

/**
 * Every string inside `value` (objects and arrays walked, nothing else changed) masked: for
 * findings and failures that are kept as data and printed or sent later, in any shape.
 */
export function maskDeep<T>(value: T, clean: Mask = mask): T {
  if (typeof value === 'string') return clean(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => maskDeep(item, clean)) as T;
  if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, maskDeep(item, clean)])) as T;
  }
  return value;
}

/** What a masked output needs of a stream. */
export interface TextSink {
  write(chunk: string | Uint8Array, ...rest: unknown[]): unknown;
}

/**
 * `stream` with every write masked first (secrets, control characters): for commands whose
 * output is plain text, so none of their lines can pass by the masking step. Not for a
 * terminal renderer that draws with escape sequences of its own (those mask their data).
 */
export function maskedOutput<S extends TextSink>(stream: S, clean: Mask = mask): S {
  return new Proxy(stream, {
    get(target, key) {
      if (key === 'write') {
        return (chunk: string | Uint8Array, ...rest: unknown[]) => target.write(clean(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')), ...rest);
      }
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
