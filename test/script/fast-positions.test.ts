/**
 * The fast path's positions (src/script/fast-positions.ts) must be exactly the full read's
 * (src/script/positions.ts): for every path in a script, value and key, and for paths that
 * do not exist; and where the two readings could differ, it must step aside (null).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fastLocator } from '../../src/script/fast-positions.js';
import { fastYamlValue } from '../../src/script/fast-yaml.js';
import type { YamlPath } from '../../src/script/model.js';
import { readYaml } from '../../src/script/yaml-source.js';
import { generateScript } from '../../bench/plan.bench.js';

const examples = resolve(import.meta.dirname, '../../examples');

/** Every path in the data, and beside each a path that does not exist. */
function paths(value: unknown, prefix: YamlPath = []): YamlPath[] {
  const found: YamlPath[] = [prefix, [...prefix, 'no-such-key']];
  if (Array.isArray(value)) {
    value.forEach((item, i) => found.push(...paths(item, [...prefix, i])));
    found.push([...prefix, value.length]);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) found.push(...paths(item, [...prefix, key]));
  }
  return found;
}

/** `mayStepAside`: the locator may decline (null: the full read answers), but never answer differently. */
function expectSamePositions(text: string, mayStepAside = false): void {
  const value = fastYamlValue(text);
  expect(value).toBeDefined();
  const fast = fastLocator(text, 'f.yaml');
  if (fast === null && mayStepAside) return;
  expect(fast).not.toBeNull();
  const full = readYaml(text, 'f.yaml').locate;
  for (const path of paths(value)) {
    for (const at of ['value', 'key'] as const) {
      expect([path, at, fast!(path, at)]).toEqual([path, at, full(path, at)]);
    }
  }
}

describe('fast positions', () => {
  it.each(['lighthouse.yaml', 'manga-rtl.yaml'])('%s: every path, value and key, as the full read gives it', (name) => {
    expectSamePositions(readFileSync(resolve(examples, name), 'utf8'));
  });

  it('a generated novel (block and flow style, quoted text, comments)', () => {
    expectSamePositions(generateScript(6));
  });

  it('blank values, comments between key and value, flow mappings with bare keys, CRLF, block scalars', () => {
    expectSamePositions(
      [
        'comic:',
        '  title:   # the title comes next',
        '    "Quoted: title"',
        '  style:',
        'characters:',
        '  mara: { description: keeper, sheet: false }',
        '  tom: {description: "old", name: Tom}',
        'backgrounds: { sea: { prompt: open sea }, bare }',
        'pages:',
        '- layout: 2',
        '  panels:',
        '    - prompt: |',
        '        a block',
        '        scalar',
        '      characters: [ mara,tom ]',
        '    -   prompt: >-',
        '          folded',
        '        pose: sitting',
        '    - prompt: plain',
        '      caption: ~',
        '      sfx: []',
        '',
      ].join('\r\n'),
    );
  });

  it('random mappings and lists of plain and quoted text: the same positions, or none (property test)', () => {
    const word = fc.stringMatching(/^[a-z][a-z0-9 -]{0,8}[a-z0-9]$/);
    const scalar = fc.oneof(word, word.map((w) => `"${w}: x"`), fc.integer({ min: 0, max: 999 }).map(String), fc.constant(''));
    const yamlOf = (tree: unknown, indent: string): string => {
      if (typeof tree === 'string') return ` ${tree}`;
      if (Array.isArray(tree)) return tree.length === 0 ? ' []' : tree.map((item) => `\n${indent}- ${yamlOf(item, `${indent}  `).trimStart()}`).join('');
      const entries = Object.entries(tree as Record<string, unknown>);
      return entries.length === 0 ? ' {}' : entries.map(([k, v]) => `\n${indent}${k}:${yamlOf(v, `${indent}  `)}`).join('');
    };
    const tree = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, scalar, fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), tie('node'), { maxKeys: 3 })),
    })).node;
    fc.assert(
      fc.property(fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), tree, { minKeys: 1, maxKeys: 4 }), (root) => {
        const text = `${yamlOf(root, '').trimStart()}\n`;
        if (fastYamlValue(text) === undefined) return; // the full read's business
        // A list item with nothing in it (`- ` alone) has no node of its own in js-yaml: that one steps aside.
        expectSamePositions(text, true);
      }),
      { numRuns: 300, seed: 16 },
    );
  });

  it('steps aside for a byte-order mark', () => {
    expect(fastLocator('\uFEFFcomic: { title: T }\n', 'f.yaml')).toBeNull();
  });
});
