/**
 * Issue #16: after the first YAML syntax error, later positions in a config file came out a
 * line early, the `yaml` reader's own line count losing the line breaks inside the tokens it
 * gives up on. Positions are counted from the text (util/line-counter.ts), as for scripts.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { createLocator } from '../../src/config/locate.js';
import { parseYamlText } from '../../src/config/parse-text.js';
import type { ComicError } from '../../src/errors.js';
import { caught, useSandbox } from './helpers.js';

const sandbox = useSandbox();

/** Two mistakes: an unclosed `{` in a flow map (line 2), and a second `:` in a plain value (line 6). */
const BROKEN = [
  'servers:',
  '  - { url: http://gpu:8188, name: GRAND{PA }',
  '  - url: http://b:8188',
  '    name: second',
  'output: ./out',
  'cache: ./cache: again',
  '',
].join('\n');

/** Every `file:line:column` the error names, in order. */
function positions(error: ComicError, file: string): { line: number; column: number }[] {
  const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const found = [...error.message.matchAll(new RegExp(`${escaped}:(\\d+):(\\d+)`, 'g'))].map((m) => ({ line: Number(m[1]), column: Number(m[2]) }));
  return error.location ? [{ line: error.location.line, column: error.location.column }, ...found] : found;
}

describe('config file: YAML syntax error positions', () => {
  it('the second error of a file with two points at the real spot (line 6, the second ":"), not a line early', async () => {
    const box = await sandbox();
    const file = await box.write('p/comic.config.yaml', BROKEN);
    const error = (await caught(() => loadConfig({ cwd: join(box.home, 'p'), env: box.env() }))) as unknown as ComicError;
    expect(error.code).toBe('CONFIG_INVALID');
    const lines = (await readFile(file, 'utf8')).split('\n');
    const spots = positions(error, file);
    expect(spots.length).toBeGreaterThan(2);
    // The first error, at the unclosed `{`.
    expect(spots[0]).toEqual({ line: 2, column: 40 });
    expect(lines[1]!.slice(39)).toMatch(/^\{PA/);
    // The second mistake, where it is written: the `:` after ./cache on line 6 (it came out as 5:15, on a 13-character line).
    expect(spots).toContainEqual({ line: 6, column: 15 });
    expect(lines[5]!.slice(14)).toMatch(/^: again/);
    expect(spots).not.toContainEqual({ line: 5, column: 15 });
    // And no position of any error lies past the end of its line.
    for (const spot of spots) {
      expect(spot.line).toBeLessThanOrEqual(lines.length);
      expect(spot.column, `${spot.line}:${spot.column}`).toBeLessThanOrEqual(lines[spot.line - 1]!.length + 1);
    }
  });

  it('parseYamlText counts lines from the text (and CRLF files the same)', () => {
    for (const text of [BROKEN, BROKEN.replaceAll('\n', '\r\n')]) {
      const error = (() => {
        try {
          parseYamlText('c.yaml', text);
        } catch (e) {
          return e as ComicError;
        }
        throw new Error('expected a syntax error');
      })();
      expect(error.message).toContain('c.yaml:6:15: YAML syntax');
      expect(error.message).toContain('c.yaml:4:9: YAML syntax'); // `: second`, not 3:32 on a 22-character line
      expect(error.message).not.toContain('GRAND'); // never quotes the file
    }
  });

  it('the locator, on the same count, still finds values (a guard: its text has no syntax error)', () => {
    const text = 'a: "one\n  two"\nb: { c: 1 }\n';
    const locator = createLocator('c.yaml', text);
    expect(locator.value(['b', 'c'])).toEqual({ file: 'c.yaml', line: 3, column: 9 });
    expect(locator.key(['b'])).toEqual({ file: 'c.yaml', line: 3, column: 1 });
  });
});
