/**
 * A handful of fuzz cases through the built CLI (bin/comic.js in a process of its own): the
 * in-process suites beside this file hold the bulk; these show that at process level a bad
 * input ends with exit code 2, a position or a node, and no stack trace.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parseScript, ScriptError } from '../../src/script/index.js';
import { root, runComic } from '../support/process.js';
import { applyText, FUZZ_SEED, HOSTILE_RAW, textMutation } from './mutate.js';

const work = mkdtempSync(join(tmpdir(), 'comic-fuzz-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const EXAMPLE = readFileSync(join(root, 'examples', 'lighthouse.yaml'), 'utf8');
const STACK_OR_INTERNAL = /INTERNAL|internal error|\n\s+at [\w.<]|RangeError|TypeError/;

/** Mutated example scripts (from the suite's seed) that the parser rejects. */
function brokenScripts(count: number): string[] {
  const samples = fc.sample(fc.array(textMutation, { minLength: 1, maxLength: 3 }), { seed: FUZZ_SEED + 31, numRuns: 200 });
  const broken: string[] = [];
  for (const mutations of samples) {
    const text = applyText(EXAMPLE, mutations);
    try {
      parseScript(text, { file: 'x.yaml', checkFiles: false });
    } catch (error) {
      if (error instanceof ScriptError && error.diagnostics.some((d) => d.message.startsWith('YAML:')) === (broken.length % 2 === 0)) broken.push(text);
    }
    if (broken.length === count) break;
  }
  return broken;
}

describe('fuzz cases through the built CLI', () => {
  it('mutated scripts: `comic validate` exits 2 with file:line:column, no stack trace', async () => {
    const scripts = brokenScripts(4);
    expect(scripts).toHaveLength(4);
    scripts.forEach((text, i) => writeFileSync(join(work, `fuzz-${i}.yaml`), text));
    const runs = await Promise.all(scripts.map((_, i) => runComic(['validate', `fuzz-${i}.yaml`], { cwd: work })));
    runs.forEach((run, i) => {
      const output = `${String(run.stdout)}${String(run.stderr)}`;
      expect(output, output).not.toMatch(STACK_OR_INTERNAL);
      expect(output).toMatch(new RegExp(`fuzz-${i}\\.yaml:\\d+:\\d+: `));
      expect(run.exitCode, output).toBe(2);
    });
  });

  it('a template whose workflow.json nests 100,000 levels deep, or holds a 400-digit number: exit 2 naming the node', async () => {
    const cases = { deep: HOSTILE_RAW.deep, huge: HOSTILE_RAW.huge };
    const runs = await Promise.all(
      Object.entries(cases).map(async ([name, raw]) => {
        const dir = join(work, `templates-${name}`, 'panel');
        cpSync(join(root, 'templates', 'panel'), dir, { recursive: true });
        const workflow = readFileSync(join(dir, 'workflow.json'), 'utf8');
        writeFileSync(join(dir, 'workflow.json'), workflow.replace(/"inputs": \{/, `"inputs": { "fuzzed": ${raw},`));
        return runComic(['templates', 'validate', '--templates', join(work, `templates-${name}`)], { cwd: work });
      }),
    );
    for (const run of runs) {
      const output = `${String(run.stdout)}${String(run.stderr)}`;
      expect(output, output).not.toMatch(STACK_OR_INTERNAL);
      expect(output).toMatch(/workflow\.json:\d+:\d+: .*node #\d+ .*input "fuzzed"/);
      expect(run.exitCode, output).toBe(2);
    }
  });

  it('an editor-format import holding a number no double holds: exit 2 naming the node', async () => {
    const file = join(work, 'import.json');
    const editor = readFileSync(join(root, 'test', 'fixtures', 'ui-workflows', '01-txt2img-control-after-generate.json'), 'utf8');
    writeFileSync(file, editor.replace('"widgets_values": [', `"widgets_values": [${HOSTILE_RAW.overflow}, `));
    const objectInfo = join(root, 'test', 'fixtures', 'comfyui', 'object_info.json');
    const run = await runComic(['templates', 'import', file, '--object-info', objectInfo, '--out', join(work, 'imported')], { cwd: work });
    const output = `${String(run.stdout)}${String(run.stderr)}`;
    expect(output, output).not.toMatch(STACK_OR_INTERNAL);
    expect(output).toMatch(/import\.json:\d+:\d+: .*node #\d+.*the number 1e999 is too large/);
    expect(run.exitCode, output).toBe(2);
  });
});
