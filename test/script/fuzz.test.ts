/**
 * Property tests: whatever the text, parseScript returns a Comic or throws a ScriptError
 * (never anything else), and every diagnostic points at a real line and column.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { parseScript, ScriptError } from '../../src/script/index.js';

const EXAMPLE = readFileSync(new URL('../../examples/lighthouse.yaml', import.meta.url), 'utf8');

/** Parses; returns null on success, or the diagnostics of the ScriptError; rethrows anything else. */
function attempt(text: string): void {
  try {
    parseScript(text, { file: 'fuzz.yaml', checkFiles: false, templateIds: ['panel', 'character-sheet', 'background'] });
  } catch (error) {
    if (!(error instanceof ScriptError)) throw error;
    const lineCount = text.split(/\r\n|\r|\n/).length;
    expect(error.diagnostics.length).toBeGreaterThan(0);
    for (const d of error.diagnostics) {
      expect(d.line).toBeGreaterThanOrEqual(1);
      expect(d.column).toBeGreaterThanOrEqual(1);
      expect(d.line).toBeLessThanOrEqual(lineCount + 1);
      expect(d.file).toBe('fuzz.yaml');
      expect(d.message.length).toBeGreaterThan(0);
    }
  }
}

/** Characters that matter to YAML, to make mutations reach the interesting paths. */
const yamlChar = fc.constantFrom(...':-[]{},"\'#&*!|>%@` \t\n?'.split(''), 'a', '0', 'é', '\u0000', '\uFEFF');

type Mutation = (text: string) => string;
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 40 })).map(([at, length]): Mutation => (t) => {
    const i = at % (t.length + 1);
    return t.slice(0, i) + t.slice(i + length);
  }),
  fc.tuple(fc.nat(), fc.array(yamlChar, { minLength: 1, maxLength: 6 })).map(([at, chars]): Mutation => (t) => {
    const i = at % (t.length + 1);
    return t.slice(0, i) + chars.join('') + t.slice(i);
  }),
  fc.tuple(fc.nat(), fc.nat()).map(([a, b]): Mutation => (t) => {
    const lines = t.split('\n');
    const i = a % lines.length;
    const j = b % lines.length;
    [lines[i], lines[j]] = [lines[j]!, lines[i]!];
    return lines.join('\n');
  }),
  fc.nat().map((a): Mutation => (t) => {
    const lines = t.split('\n');
    const i = a % lines.length;
    lines.splice(i, 0, lines[i]!);
    return lines.join('\n');
  }),
);

/** Values the script's keys could plausibly hold, right or wrong. */
const scriptish: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom('mara', 'tobias', 'lamp-room', 'panel@^2', '2-1-2', 'splash', '0.125in', '3mm', 'us-comic', 'rtl', 'shout', '', false, true, null, 0, -1, 2 ** 53, 1.5),
    fc.string({ maxLength: 12 }),
    fc.double(),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom('title', 'prompt', 'who', 'text', 'kind', 'layout', 'panels', 'characters', 'rows', 'cells', 'x', 'format', 'trim', 'seed', 'sheet', 'templte', '__proto__'), tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** Paths into the example's data, to replace or delete a value deep inside a valid script. */
const exampleData = parseYaml(EXAMPLE) as Record<string, unknown>;
function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== 'object') return [prefix];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return [prefix, ...entries.flatMap(([k, v]) => pathsOf(v, [...prefix, k]))];
}
const examplePaths = pathsOf(exampleData).filter((p) => p.length > 0);

function withValue(path: (string | number)[], value: unknown, remove: boolean): unknown {
  const copy = structuredClone(exampleData) as Record<string | number, unknown>;
  let node: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (remove) delete node[last];
  else node[last] = value;
  return copy;
}

describe('parseScript never throws anything but ScriptError', () => {
  it('on random text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), attempt), { numRuns: 150 });
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), attempt), { numRuns: 200 });
  });

  it('on random YAML values', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => attempt(stringify(value))), { numRuns: 150 });
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('comic', 'pages', 'characters', 'backgrounds', 'defaults', 'extra'), scriptish, { maxKeys: 5 }), (value) =>
        attempt(stringify(value)),
      ),
      { numRuns: 300 },
    );
  });

  it('on text mutations of the example script', () => {
    fc.assert(fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => attempt(mutations.reduce((t, m) => m(t), EXAMPLE))), {
      numRuns: 100,
    });
  });

  it('on value mutations deep inside the example script', () => {
    fc.assert(
      fc.property(fc.constantFrom(...examplePaths), scriptish, fc.boolean(), (path, value, remove) => attempt(stringify(withValue(path, value, remove)))),
      { numRuns: 150 },
    );
  });

  it('on hostile YAML: deep nesting, alias bombs, cycles, odd keys', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`)].join('\n');
    const cases = [
      `comic: ${'['.repeat(5000)}${']'.repeat(5000)}`,
      bomb,
      'comic: &c { title: x, self: *c }\npages: [{ panels: [{ prompt: p }] }]',
      'comic: { title: x, __proto__: { polluted: true }, constructor: 1 }\npages: [{ panels: [{ prompt: p }] }]',
      '? [a, b]\n: 1\n',
      '!!binary aGVsbG8=',
      'comic: !custom { title: x }\n',
      '\uFEFFcomic: { title: x }\npages: [{ panels: [{ prompt: p }] }]',
    ];
    for (const text of cases) attempt(text);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
