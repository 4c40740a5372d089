/**
 * What the fuzz suites share: the seed, counters that back the figures in docs/testing.md,
 * and realistic mutations of real files — edits a person, a tool or a damaged disk could
 * make (a line lost, doubled or swapped, a value of the wrong type, garbage, control
 * characters, values nested absurdly deep, numbers no double holds).
 */
import fc from 'fast-check';

/** Every fuzz suite runs from this seed, so a failure reproduces; FUZZ_SEED=n explores others. */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20_261_204);

/** fast-check options for `runs` cases from the suite's seed (each property offsets it, so they differ). */
export function fuzzOptions(runs: number, offset: number): fc.Parameters<unknown> {
  return { seed: FUZZ_SEED + offset, numRuns: runs, endOnFailure: true };
}

/** Cases run per kind, checked at the end of each suite against the documented minimums. */
export class CaseCounter {
  readonly #counts = new Map<string, number>();
  add(kind: string, n = 1): void {
    this.#counts.set(kind, (this.#counts.get(kind) ?? 0) + n);
  }
  get(kind: string): number {
    return this.#counts.get(kind) ?? 0;
  }
  total(): number {
    return [...this.#counts.values()].reduce((a, b) => a + b, 0);
  }
}

/** Text that makes a value unusable once inside a file: each is raw text, placed where a value goes. */
export const HOSTILE_RAW = {
  deep: `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
  deepObjects: `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`,
  huge: `1${'0'.repeat(400)}`,
  hugeNegative: `-9${'9'.repeat(399)}`,
  overflow: '1e999',
  underflow: '-1e999',
} as const;
export type HostileKind = keyof typeof HOSTILE_RAW;

/** Values that are valid JSON but odd: wrong types, edge numbers, unicode and control characters. */
export const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -0, -1, 1.5, 2 ** 53 + 1, 2 ** 64, 1e308, -1e-320, '', ' ', '0', 'null', '[]', '\u0000', '\u001b[31mred', '\u202eevil', '𝕬🎨', 'é\u0301', '\uFEFF', 'a'.repeat(10_000)),
  fc.constantFrom([], {}, [null], { '': 1 }, JSON.parse('{"__proto__": {"polluted": 1}}') as unknown, ['1', 0], ['999', 0], ['1', -1], ['1', 1.5], { __value__: [1, 2] }),
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.jsonValue({ maxDepth: 3 }),
);

export type Step = string | number;

/** Every path into a JSON value (containers and leaves), the root excluded. */
export function pathsOf(value: unknown, prefix: Step[] = [], into: Step[][] = []): Step[][] {
  if (value === null || typeof value !== 'object') return into;
  const entries: [Step, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  for (const [key, child] of entries) {
    const path = [...prefix, key];
    into.push(path);
    pathsOf(child, path, into);
  }
  return into;
}

function parentOf(root: unknown, path: readonly Step[]): Record<string | number, unknown> | null {
  let node = root;
  for (const step of path.slice(0, -1)) {
    if (node === null || typeof node !== 'object') return null;
    node = (node as Record<string | number, unknown>)[step];
  }
  return node !== null && typeof node === 'object' ? (node as Record<string | number, unknown>) : null;
}

/** A change to a parsed JSON value; `raw` marks a hostile text placed at the path when it is written out. */
export type ValueMutation =
  | { readonly kind: 'set'; readonly at: number; readonly value: unknown }
  | { readonly kind: 'delete'; readonly at: number }
  | { readonly kind: 'duplicate'; readonly at: number }
  | { readonly kind: 'hostile'; readonly at: number; readonly raw: HostileKind };

export const valueMutation: fc.Arbitrary<ValueMutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: oddValue }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('hostile' as const), at: fc.nat(), raw: fc.constantFrom(...(Object.keys(HOSTILE_RAW) as HostileKind[])) }) },
);

const PLACEHOLDER = (i: number) => `@@hostile-${i}@@`;

export interface MutatedJson {
  readonly text: string;
  /** Where hostile raw texts were placed (paths into the written value). */
  readonly hostile: readonly (readonly Step[])[];
}

/**
 * Applies value mutations to a copy of `value` and writes it as JSON text, as an editor
 * (two-space indents) or a tool (compact) would.
 */
export function mutateJson(value: unknown, mutations: readonly ValueMutation[], pretty: boolean): MutatedJson {
  const copy = structuredClone(value);
  const raws: string[] = [];
  const hostile: Step[][] = [];
  for (const mutation of mutations) {
    const paths = pathsOf(copy);
    if (paths.length === 0) break;
    const path = paths[mutation.at % paths.length]!;
    const parent = parentOf(copy, path);
    if (parent === null) continue;
    const key = path[path.length - 1]!;
    if (mutation.kind === 'set') parent[key] = structuredClone(mutation.value);
    else if (mutation.kind === 'delete') {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
    } else if (mutation.kind === 'duplicate') {
      if (Array.isArray(parent)) parent.splice(key as number, 0, structuredClone(parent[key as number]));
      else parent[`${String(key)}_copy`] = structuredClone(parent[key]);
    } else {
      parent[key] = PLACEHOLDER(raws.length);
      raws.push(HOSTILE_RAW[mutation.raw]);
      hostile.push(path);
    }
  }
  let text = pretty ? JSON.stringify(copy, null, 2) : JSON.stringify(copy);
  raws.forEach((raw, i) => (text = text.replace(JSON.stringify(PLACEHOLDER(i)), raw)));
  // A later mutation may have removed an earlier placeholder's value: keep only the placed ones.
  return { text, hostile: hostile.filter((_, i) => !text.includes(PLACEHOLDER(i))) };
}

/** Characters that matter to YAML and JSON syntax, plus unicode and control characters. */
const syntaxChar = fc.constantFrom(...':-[]{},"\'#&*!|>%@` \t\n?\\'.split(''), 'a', '0', 'é', '\u0000', '\u0007', '\u001b', '\u007f', '\u0085', '\u2028', '\uFEFF', '\uD800', '🎨', '\r', '\r\n');

/** Raw values to put after a `key: ` in YAML, right or wrong. */
const yamlScalar = fc.constantFrom(
  '[',
  '{}',
  '[]',
  '- x',
  '~',
  'null',
  '1e400',
  '-.inf',
  '.nan',
  `1${'0'.repeat(400)}`,
  '0x1F',
  '0o17',
  '!!binary aGVsbG8=',
  '!!str 1',
  '"\\u0000"',
  '"\\x1b[2J"',
  '&a x',
  '*a',
  '|',
  '>-',
  '"unclosed',
  "'also unclosed",
  `${'['.repeat(200)}${']'.repeat(200)}`,
  `${'{a: '.repeat(300)}1${'}'.repeat(300)}`,
  'a'.repeat(5_000),
  '\u202e\u0627\u0644\u0639\u0631\u0628\u064a\u0629',
  '𝕬🎨👨‍👩‍👧',
  'true',
  '2026-12-04',
  '12:30:00',
);

/** A change to text: line edits, garbage, control characters, values swapped for others. */
export type TextMutation = (text: string) => string;

const lineEdit = (edit: (lines: string[], i: number, j: number) => void) =>
  fc.tuple(fc.nat(), fc.nat()).map(([a, b]): TextMutation => (text) => {
    const lines = text.split('\n');
    edit(lines, a % lines.length, b % lines.length);
    return lines.join('\n');
  });

export const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  // Delete a span of characters.
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 40 })).map(([at, length]): TextMutation => (t) => {
    const i = at % (t.length + 1);
    return t.slice(0, i) + t.slice(i + length);
  }),
  // Insert syntax characters, unicode or control characters.
  fc.tuple(fc.nat(), fc.array(syntaxChar, { minLength: 1, maxLength: 6 })).map(([at, chars]): TextMutation => (t) => {
    const i = at % (t.length + 1);
    return t.slice(0, i) + chars.join('') + t.slice(i);
  }),
  lineEdit((lines, i) => void lines.splice(i, 1)), // delete a line
  lineEdit((lines, i) => void lines.splice(i, 0, lines[i]!)), // duplicate a line
  lineEdit((lines, i, j) => ([lines[i], lines[j]] = [lines[j]!, lines[i]!])), // swap two lines
  lineEdit((lines, i, j) => void (lines[i] = `${' '.repeat(j % 4)}${j % 5 === 0 ? '\t' : ''}${lines[i]!.trimStart()}`)), // re-indent a line
  // Replace the value after a `key:` with another, of any type.
  fc.tuple(fc.nat(), yamlScalar).map(([at, value]): TextMutation => (t) => {
    const lines = t.split('\n');
    const keyed = lines.map((line, i) => [line, i] as const).filter(([line]) => /^\s*-?\s*[\w-]+:\s+\S/.test(line));
    if (keyed.length === 0) return t;
    const [line, i] = keyed[at % keyed.length]!;
    lines[i] = line.replace(/^(\s*-?\s*[\w-]+:\s+).*$/, `$1${value}`);
    return lines.join('\n');
  }),
  // Line endings of another system, or the file cut short.
  fc.constantFrom<TextMutation>((t) => t.replaceAll('\n', '\r\n'), (t) => t.replaceAll('\n', '\r'), (t) => `\uFEFF${t}`),
  fc.nat().map((at): TextMutation => (t) => t.slice(0, at % (t.length + 1))),
);

export function applyText(text: string, mutations: readonly TextMutation[]): string {
  return mutations.reduce((t, m) => m(t), text);
}
