/**
 * Length caps before expensive checks (issue 16): a long language tag is refused before
 * Intl canonicalises it (quadratic in its length), a long unknown word is not compared with
 * every candidate by edit distance, and a script over the size cap is refused at once.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeScript, readScriptText } from '../../src/script/index.js';
import { MAX_SCRIPT_BYTES } from '../../src/script/parse.js';
import { MAX_LANGUAGE_TAG } from '../../src/script/schema.js';

const root = join(import.meta.dirname, '..', '..');
const example = readFileSync(join(root, 'examples', 'lighthouse.yaml'), 'utf8');
const check = (text: string) => analyzeScript(text, { file: 'comic.yaml', cwd: join(root, 'examples'), checkFiles: false });

/** A well-formed BCP 47 tag of about `chars` characters (unicode-extension attributes). */
function longTag(chars: number): string {
  const parts: string[] = [];
  for (let i = 0, n = 5; n < chars; i++, n += 6) parts.push(`a${i.toString(36).padStart(4, '0')}`);
  return `en-u-${parts.join('-')}`;
}

describe('caps before expensive checks', () => {
  it(`a language tag over ${MAX_LANGUAGE_TAG} characters is an error with a position, found in bounded time`, () => {
    expect(() => Intl.getCanonicalLocales(longTag(60))).not.toThrow(); // well-formed: only the cap refuses it
    const started = performance.now();
    const { comic, diagnostics } = check(example.replace('language: en', `language: ${longTag(600_000)}`));
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(comic).toBeNull();
    expect(diagnostics[0]).toMatchObject({ line: 12, severity: 'error', message: expect.stringContaining(`at most ${MAX_LANGUAGE_TAG} characters`) });
    expect(diagnostics[0]!.message.length).toBeLessThan(200); // the tag is not quoted back
  });

  it('a 35-character tag is still fine', () => {
    const tag = 'zh-Hant-TW-u-ca-chinese-nu-hanidec';
    expect(tag.length).toBeLessThanOrEqual(MAX_LANGUAGE_TAG);
    expect(check(example.replace('language: en', `language: ${tag}`)).diagnostics).toEqual([]);
  });

  it('a 900 KB colour name gets its error without an edit-distance search (once 159 s)', () => {
    const started = performance.now();
    const { diagnostics } = check(example.replace('pages:\n', `defaults:\n  page:\n    border: { color: ${'q'.repeat(900_000)} }\npages:\n`));
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(diagnostics.some((d) => d.message.includes('expected a colour'))).toBe(true);
  });

  it(`a script over ${MAX_SCRIPT_BYTES / 1024 / 1024} MiB is refused at once, saying so`, () => {
    const started = performance.now();
    const { comic, diagnostics } = check(example + `# ${'x'.repeat(MAX_SCRIPT_BYTES)}\n`);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(comic).toBeNull();
    expect(diagnostics).toEqual([expect.objectContaining({ line: 1, column: 1, severity: 'error', message: expect.stringMatching(/the script is 4\.0 MiB; a script may be at most 4 MiB/) })]);
  });

  it('a script file over the cap is refused before it is read, with the same error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'comic-caps-'));
    try {
      writeFileSync(join(dir, 'huge.yaml'), Buffer.alloc(MAX_SCRIPT_BYTES + 1, 0x20));
      await expect(readScriptText('huge.yaml', dir)).rejects.toMatchObject({ code: 'SCRIPT_INVALID', message: expect.stringContaining('huge.yaml:1:1: the script is 4.0 MiB; a script may be at most 4 MiB') });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
