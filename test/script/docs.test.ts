/** docs/script.md keeps step with the schema: every key documented, every example sound. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyzeScript } from '../../src/script/index.js';
import { PRESET_LAYOUTS } from '../../src/script/layouts.js';
import { keyPaths } from '../../src/script/schema-keys.js';
import { ScriptSchema, TRIM_PRESETS } from '../../src/script/schema.js';

const doc = readFileSync(new URL('../../docs/script.md', import.meta.url), 'utf8');
const yamlBlocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);

describe('docs/script.md', () => {
  it('documents every key of the schema, written as its full path in backticks', () => {
    const paths = keyPaths(ScriptSchema);
    expect(paths.length).toBeGreaterThan(60);
    const undocumented = paths.filter((path) => !doc.includes(`\`${path}\``));
    expect(undocumented).toEqual([]);
  });

  it('documents every layout preset and trim preset', () => {
    for (const name of [...Object.keys(PRESET_LAYOUTS), ...TRIM_PRESETS]) expect(doc).toContain(`\`${name}\``);
  });

  it('opens with a complete script that validates', () => {
    const { comic, diagnostics } = analyzeScript(yamlBlocks[0]!, { file: 'docs/script.md', checkFiles: false });
    expect(diagnostics).toEqual([]);
    expect(comic).not.toBeNull();
  });

  it('has no example with unknown keys or YAML mistakes (each fragment is checked on its own)', () => {
    expect(yamlBlocks.length).toBeGreaterThan(5);
    for (const block of yamlBlocks) {
      const { diagnostics } = analyzeScript(block, { file: 'fragment.yaml', checkFiles: false });
      const mistakes = diagnostics.filter((d) => /unknown key|YAML|duplicate|expected|must/.test(d.message));
      expect(mistakes, block).toEqual([]);
    }
  });
});
