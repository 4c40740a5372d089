/**
 * Fuzzed comic scripts, in-process: whatever the text, parseScript returns a Comic or throws
 * a ScriptError (exit 2) whose every diagnostic points at a real line and column of the
 * text; a script that reads also plans (content keys hash every parameter) or fails with
 * an exit-2 error. Never INTERNAL, never anything else thrown.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { computeLayout } from '../../src/compose/layout.js';
import { ComicError } from '../../src/errors.js';
import { createFileHasher, planComic, type PlanContext } from '../../src/graph/index.js';
import { parseScript, ScriptError, type Comic } from '../../src/script/index.js';
import { loadTemplateRegistry, type TemplateRegistry } from '../../src/templates/index.js';
import { applyText, CaseCounter, fuzzOptions, oddValue, pathsOf, textMutation, type Step } from './mutate.js';

/** The documented minimum per run of the suite (docs/testing.md, "Fuzzing"). */
const MIN_SCRIPTS = 2_000;

const WHOLE = ['lighthouse.yaml', 'manga-rtl.yaml'].map((name) => readFileSync(new URL(`../../examples/${name}`, import.meta.url), 'utf8'));

/**
 * The example scripts whole, and cut down to their header and one page each: still real
 * scripts, but a third of the text, so the suite reads many more of them in its time.
 */
function excerpts(text: string): string[] {
  const lines = text.split('\n');
  const pages = lines.findIndex((line) => line === 'pages:');
  const starts = lines.flatMap((line, i) => (i > pages && line.startsWith('  - ') ? [i] : []));
  return starts.map((start, k) => [...lines.slice(0, pages + 1), ...lines.slice(start, starts[k + 1] ?? lines.length)].join('\n'));
}
const EXAMPLES = [...WHOLE, ...WHOLE.flatMap(excerpts)];
const counter = new CaseCounter();
let registry: TemplateRegistry;
let context: PlanContext;

const cpuAtStart = process.cpuUsage();
beforeAll(async () => {
  registry = await loadTemplateRegistry({ dirs: [] });
  context = { templates: registry, layoutPage: (page, format, direction) => computeLayout(page, format, direction), fileHash: createFileHasher(() => new Uint8Array()) };
});

/** The property, for one text. */
function checkScript(text: string): void {
  counter.add('scripts');
  let comic: Comic;
  try {
    comic = parseScript(text, { file: 'fuzz.yaml', checkFiles: false, templateIds: registry.ids() });
  } catch (error) {
    if (!(error instanceof ScriptError)) throw error;
    expect(error.exitCode).toBe(2);
    // Lines as the YAML reader breaks them (at \n); a column may point just past a line's end.
    const lines = text.split('\n');
    expect(error.diagnostics.length).toBeGreaterThan(0);
    for (const d of error.diagnostics) {
      const where = `${d.line}:${d.column} ${d.message}`;
      expect(d.file).toBe('fuzz.yaml');
      expect(d.line, where).toBeGreaterThanOrEqual(1);
      expect(d.line, where).toBeLessThanOrEqual(lines.length);
      expect(d.column, where).toBeGreaterThanOrEqual(1);
      expect(d.column, where).toBeLessThanOrEqual(lines[d.line - 1]!.length + 1);
      expect(d.message.length).toBeGreaterThan(0);
    }
    return;
  }
  counter.add('read');
  try {
    planComic(comic, context);
  } catch (error) {
    if (!(error instanceof ComicError) || error.code === 'INTERNAL') throw error;
    expect(error.exitCode, error.message).toBe(2);
  }
}

/** Values the script's keys could plausibly hold, right or wrong. */
const scriptish: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom('mara', 'tobias', 'lamp-room', 'panel@^2', '2-1-2', 'splash', '0.125in', '3mm', 'us-comic', 'rtl', 'shout', '', false, true, null, 0, -1, 2 ** 53, 1.5, Infinity, -Infinity, NaN),
    oddValue,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(
      fc.constantFrom('title', 'prompt', 'who', 'text', 'kind', 'layout', 'panels', 'characters', 'rows', 'cells', 'x', 'format', 'trim', 'seed', 'sheet', 'params', 'steps', 'templte', '__proto__'),
      tie('value'),
      { maxKeys: 4 },
    ),
  ),
})).value;

const exampleData = EXAMPLES.map((text) => parseYaml(text) as Record<string, unknown>);
const examplePaths = exampleData.map((data) => pathsOf(data));

function withValue(example: number, at: number, value: unknown, remove: boolean): unknown {
  const copy = structuredClone(exampleData[example]!) as Record<Step, unknown>;
  const paths = examplePaths[example]!;
  const path = paths[at % paths.length]!;
  let node: Record<Step, unknown> = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<Step, unknown>;
  const last = path[path.length - 1]!;
  if (remove) delete node[last];
  else node[last] = value;
  return copy;
}

describe('fuzzed comic scripts', () => {
  it('starts from valid scripts', () => {
    expect(EXAMPLES.length).toBeGreaterThan(5);
    for (const text of EXAMPLES) parseScript(text, { file: 'example.yaml', checkFiles: false, templateIds: registry.ids() });
  });

  it('text mutations of the example scripts (lines lost, doubled, swapped; values of other types; garbage)', () => {
    fc.assert(
      fc.property(fc.nat({ max: EXAMPLES.length - 1 }), fc.array(textMutation, { minLength: 1, maxLength: 4 }), (example, mutations) =>
        checkScript(applyText(EXAMPLES[example]!, mutations)),
      ),
      fuzzOptions(900, 1),
    );
  });

  it('value mutations deep inside the example scripts', () => {
    fc.assert(
      fc.property(fc.nat({ max: EXAMPLES.length - 1 }), fc.nat(), scriptish, fc.boolean(), (example, at, value, remove) =>
        checkScript(stringify(withValue(example, at, value, remove))),
      ),
      fuzzOptions(500, 2),
    );
  });

  it('random YAML values and random text', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('comic', 'pages', 'characters', 'backgrounds', 'defaults', 'extra'), scriptish, { maxKeys: 5 }), (value) =>
        checkScript(stringify(value)),
      ),
      fuzzOptions(300, 3),
    );
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => checkScript(stringify(value))), fuzzOptions(100, 4));
    fc.assert(fc.property(fc.string({ maxLength: 300 }), checkScript), fuzzOptions(100, 5));
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), checkScript), fuzzOptions(100, 6));
  });

  it('hostile YAML: deep nesting, alias bombs, cycles, odd keys, numbers no double holds', () => {
    const letter = (i: number) => String.fromCharCode(97 + i);
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 9 }, (_, i) => `${letter(i + 1)}: &${letter(i + 1)} [${Array(10).fill(`*${letter(i)}`).join(', ')}]`)].join('\n');
    const valid = WHOLE[0]!;
    const cases = [
      `comic: ${'['.repeat(5000)}${']'.repeat(5000)}`,
      `comic: ${'['.repeat(100_000)}${']'.repeat(100_000)}`,
      `comic:\n${Array.from({ length: 3000 }, (_, i) => `${' '.repeat(i + 1)}k${i}:`).join('\n')} x`,
      bomb,
      'comic: &c { title: x, self: *c }\npages: [{ panels: [{ prompt: p }] }]',
      'comic: { title: x, __proto__: { polluted: true }, constructor: 1 }\npages: [{ panels: [{ prompt: p }] }]',
      '? [a, b]\n: 1\n',
      '!!binary aGVsbG8=',
      'comic: !custom { title: x }\n',
      '\uFEFFcomic: { title: x }\npages: [{ panels: [{ prompt: p }] }]',
      valid.replace(/seed: \d+/, `seed: 1${'0'.repeat(400)}`),
      valid.replace(/seed: \d+/, 'seed: .inf'),
      valid.replace(/seed: \d+/, 'seed: .nan'),
      valid.replace('panels:', `panels:\n      - prompt: deep\n        params: { x: ${'['.repeat(90)}1${']'.repeat(90)} }`),
      valid.replace('panels:', `panels:\n      - prompt: deep\n        params: { x: ${'['.repeat(3000)}1${']'.repeat(3000)} }`),
      valid.replace('panels:', 'panels:\n      - prompt: huge\n        params: { x: 1e400, y: -.inf, z: .nan }'),
      valid.replace(/title: .*/, `title: "${'\u0000\u001b[2J'.repeat(50)}"`),
      valid.replaceAll('\n', '\r'),
      valid.repeat(3),
    ];
    for (const text of cases) checkScript(text);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

afterAll(() => {
  // The figures docs/testing.md gives: enforced here, so they stay true.
  expect(counter.get('scripts')).toBeGreaterThanOrEqual(MIN_SCRIPTS);
  expect(counter.get('read')).toBeGreaterThan(50);
  const cpu = process.cpuUsage(cpuAtStart);
  console.log(`fuzz: ${counter.get('scripts')} scripts (${counter.get('read')} read and planned), ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s of CPU`);
});
