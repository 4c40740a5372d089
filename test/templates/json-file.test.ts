import { describe, expect, it } from 'vitest';
import { formatJson, parseJson, syntaxErrorOffset } from '../../src/templates/json-file.js';

describe('template JSON files', () => {
  it('formats for people: short arrays and objects inline, the rest one entry per line', () => {
    const value = { id: 'x', inject: [{ node: 'title:Sampler', input: 'seed' }], inputs: { model: ['1', 0], text: 'a'.repeat(120) } };
    const text = formatJson(value);
    expect(text).toBe(
      [
        '{',
        '  "id": "x",',
        '  "inject": [{"node": "title:Sampler", "input": "seed"}],',
        '  "inputs": {',
        '    "model": ["1", 0],',
        `    "text": "${'a'.repeat(120)}"`,
        '  }',
        '}',
        '',
      ].join('\n'),
    );
    expect(JSON.parse(text)).toEqual(value);
    expect(formatJson({ empty: {}, list: [] })).toBe('{"empty": {}, "list": []}\n');
  });

  it('reports broken JSON with file, line and column', () => {
    const result = parseJson('{\n  "a": 1,\n  "b": }\n', 'manifest.json');
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.location.file).toBe('manifest.json');
      expect(result.location.line).toBe(3);
      expect(result.location.column).toBe(8);
      expect(result.message).toMatch(/^manifest\.json is not valid JSON: /);
    }
  });

  it('finds the first syntax error itself', () => {
    expect(syntaxErrorOffset('{"a": 1,,}')).toBe(8);
    expect(syntaxErrorOffset('{"a" 1}')).toBe(5);
    expect(syntaxErrorOffset('[1, tru]')).toBe(4);
    expect(syntaxErrorOffset('{"a": [1, 2}')).toBe(11);
    expect(syntaxErrorOffset('{"a": "\\"x" 1}')).toBe(12);
  });
});
