/**
 * A scan of JSON text that keeps its own stack instead of recursing, so text nested a
 * million levels deep is walked like any other. It finds where the first syntax error is
 * (Node leaves the position out of some of its messages) and where the value at a path
 * starts (to give a file:line:column to a problem found in the parsed value).
 */

/** Keys and array indexes from the root to a value. */
export type JsonPath = readonly (string | number)[];

/** A container being read: the key or index of the value being read inside it. */
type Frame = { readonly kind: 'array'; index: number } | { readonly kind: 'object'; key: string };

type ScanResult = { readonly kind: 'found'; readonly offset: number } | { readonly kind: 'end'; readonly offset: number } | { readonly kind: 'syntax'; readonly offset: number };

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * Walks `text`; stops at the start of the value at `target` when given, at the first
 * syntax error, or at the end.
 */
function scan(text: string, target: JsonPath | null): ScanResult {
  let at = 0;
  const stack: Frame[] = [];
  const space = (): void => {
    while (at < text.length && (text[at] === ' ' || text[at] === '\t' || text[at] === '\n' || text[at] === '\r')) at++;
  };
  /** Reads a string at `at`; its text, or null when it is not one. */
  const string = (): string | null => {
    if (text[at] !== '"') return null;
    const start = at++;
    while (at < text.length && text[at] !== '"') at += text[at] === '\\' ? 2 : 1;
    if (at >= text.length) return null;
    at++;
    try {
      return JSON.parse(text.slice(start, at)) as string;
    } catch {
      at = start;
      return null;
    }
  };
  /** `"key" :` at `at`; the key, or null (at the offending character) when it is not there. */
  const key = (): string | null => {
    space();
    const name = string();
    if (name === null) return null;
    space();
    if (text[at] !== ':') return null;
    at++;
    return name;
  };
  const atTarget = (): boolean =>
    target !== null && stack.length === target.length && stack.every((frame, i) => (frame.kind === 'array' ? frame.index : frame.key) === target[i]);

  for (;;) {
    // A value starts here.
    space();
    if (atTarget()) return { kind: 'found', offset: at };
    const c = text[at];
    if (c === '[' || c === '{') {
      at++;
      space();
      if (text[at] === (c === '[' ? ']' : '}')) at++;
      else if (c === '[') {
        stack.push({ kind: 'array', index: 0 });
        continue;
      } else {
        const name = key();
        if (name === null) return { kind: 'syntax', offset: at };
        stack.push({ kind: 'object', key: name });
        continue;
      }
    } else if (c === '"') {
      if (string() === null) return { kind: 'syntax', offset: at };
    } else if (c === 't' || c === 'f' || c === 'n') {
      const word = c === 't' ? 'true' : c === 'f' ? 'false' : 'null';
      if (!text.startsWith(word, at)) return { kind: 'syntax', offset: at };
      at += word.length;
    } else {
      NUMBER.lastIndex = at;
      const number = NUMBER.exec(text);
      if (number === null) return { kind: 'syntax', offset: at };
      at += number[0].length;
    }
    // A value ended: close the containers it ends, until one goes on with a comma.
    for (;;) {
      space();
      const frame = stack.at(-1);
      if (frame === undefined) return at < text.length ? { kind: 'syntax', offset: at } : { kind: 'end', offset: at };
      if (text[at] === ',') {
        at++;
        if (frame.kind === 'array') frame.index++;
        else {
          const name = key();
          if (name === null) return { kind: 'syntax', offset: at };
          frame.key = name;
        }
        break;
      }
      if (text[at] !== (frame.kind === 'array' ? ']' : '}')) return { kind: 'syntax', offset: at };
      at++;
      stack.pop();
    }
  }
}

/** Where the first syntax error in `text` is (the last character when there is none). */
export function syntaxErrorOffset(text: string): number {
  const result = scan(text, null);
  return result.kind === 'syntax' ? result.offset : Math.max(0, text.length - 1);
}

/** Where the value at `path` starts in `text`, or null when the text has no such value. */
export function jsonValueOffset(text: string, path: JsonPath): number | null {
  const result = scan(text, path);
  return result.kind === 'found' ? result.offset : null;
}

/** `nodes[3].widgets_values[0]`; only the first `max` steps, then `…`. */
export function formatJsonPath(path: JsonPath, max = 8): string {
  const steps = path.slice(0, max).map((step, i) =>
    typeof step === 'number' ? `[${step}]` : /^[A-Za-z_$][\w$]*$/.test(step) ? `${i === 0 ? '' : '.'}${step}` : `[${JSON.stringify(step)}]`,
  );
  return `${steps.join('')}${path.length > max ? '…' : ''}` || '(the top level)';
}
