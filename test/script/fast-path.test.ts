/**
 * The fast first read (js-yaml) must give exactly the model the position-keeping read gives,
 * and positions must still be right when asked for later.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScript } from '../../src/script/index.js';
import { fastYamlValue } from '../../src/script/fast-yaml.js';

const examples = resolve(import.meta.dirname, '../../examples');
// A comment with an anchor-like "&" sends the script down the full read.
const FORCE_FULL = '\n# force the full read: &full\n';

describe.each(['lighthouse.yaml', 'manga-rtl.yaml'])('%s', (name) => {
  const file = resolve(examples, name);
  const text = readFileSync(file, 'utf8');

  it('takes the fast path, and the full read gives the same model', () => {
    expect(fastYamlValue(text)).toBeDefined();
    expect(fastYamlValue(text + FORCE_FULL)).toBeUndefined();
    const fast = parseScript(text, { file, checkFiles: false });
    const full = parseScript(text + FORCE_FULL, { file, checkFiles: false });
    expect(JSON.stringify(fast)).toBe(JSON.stringify(full));
  });

  it('locates paths exactly as the full read does', () => {
    const fast = parseScript(text, { file, checkFiles: false });
    const full = parseScript(text + FORCE_FULL, { file, checkFiles: false });
    for (const path of [['comic', 'title'], ['pages', 1, 'panels', 0, 'prompt'], ['characters'], ['pages', 0, 'layout']]) {
      expect(fast.locate(path)).toEqual(full.locate(path));
    }
  });
});

describe('fastYamlValue', () => {
  it.each([
    ['an alias', 'a: &x 1\nb: *x\n'],
    ['a tag', 'a: !!str 1\n'],
    ['a non-text key', 'characters:\n  1: { description: x }\n'],
    ['a boolean key', 'params: { true: 1 }\n'],
    ['a complex key', '? [a, b]\n: c\n'],
    ['__proto__', '__proto__: {}\n'],
    ['a duplicate key', 'a: 1\na: 2\n'],
    ['a syntax error', 'a: [1, 2\n'],
  ])('leaves %s to the full read', (_what, text) => {
    expect(fastYamlValue(text)).toBeUndefined();
  });
});
