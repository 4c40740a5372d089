/**
 * bench/validate's hot spot stays fixed: a valid script whose warnings need positions gets
 * them from the fast path (src/script/fast-positions.ts), without the `yaml` library's
 * position-keeping read; a script with a problem still takes that read.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { analyzeScript, formatDiagnostic } from '../../src/script/index.js';
import type { TemplateReferenceLookup } from '../../src/script/references.js';
import * as yamlSource from '../../src/script/yaml-source.js';
import { loadTemplateRegistry } from '../../src/templates/index.js';

vi.mock('../../src/script/yaml-source.js', async (original) => {
  const actual = await original<typeof import('../../src/script/yaml-source.js')>();
  return { ...actual, readYaml: vi.fn(actual.readYaml) };
});

let templateReferences: TemplateReferenceLookup;
beforeAll(async () => {
  const registry = await loadTemplateRegistry({ dirs: [] });
  templateReferences = (ref) => {
    const t = registry.resolve(ref);
    return { name: `${t.id}@${t.version}`, references: t.references, slots: t.imageInputs.length };
  };
});

const file = resolve(import.meta.dirname, '../../examples/lighthouse.yaml');
const text = readFileSync(file, 'utf8');

describe('positions for the warnings of a valid script', () => {
  it('come from the fast path: no position-keeping read', () => {
    const readYaml = vi.mocked(yamlSource.readYaml);
    readYaml.mockClear();
    const { comic, diagnostics } = analyzeScript(text, { file: 'lighthouse.yaml', checkFiles: false, templateReferences });
    expect(comic).not.toBeNull();
    expect(diagnostics.map((d) => formatDiagnostic(d).split('\n')[0])).toEqual([
      "lighthouse.yaml:116:28: warning: panel 4-2: panel-ref@1.0.0 takes 1 image (up to 1 character); left out: tobias's sheet",
      "lighthouse.yaml:123:28: warning: panel 4-3: panel-ref@1.0.0 takes 1 image (up to 1 character); left out: tobias's sheet",
    ]);
    expect(readYaml).not.toHaveBeenCalled();
  });

  it('a script with an error still takes the full read', () => {
    const readYaml = vi.mocked(yamlSource.readYaml);
    readYaml.mockClear();
    const { comic } = analyzeScript(text.replace('characters: [mara]', 'characters: [nobody]'), { file: 'lighthouse.yaml', checkFiles: false });
    expect(comic).toBeNull();
    expect(readYaml).toHaveBeenCalledTimes(1);
  });
});
