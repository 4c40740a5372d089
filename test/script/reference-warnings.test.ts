/** Validate-time warnings for references a panel names but its template cannot take (issue 15). */
import { beforeAll, describe, expect, it } from 'vitest';
import { analyzeScript, formatDiagnostic } from '../../src/script/index.js';
import type { TemplateReferenceLookup } from '../../src/script/references.js';
import { loadTemplateRegistry } from '../../src/templates/index.js';

let lookup: TemplateReferenceLookup;
beforeAll(async () => {
  const registry = await loadTemplateRegistry({ dirs: [] });
  lookup = (ref) => {
    const t = registry.resolve(ref);
    return { name: `${t.id}@${t.version}`, references: t.references, slots: t.imageInputs.length };
  };
});

const script = (family: string, characters: string[]) => `comic:
  title: Crowd
  style: ink
defaults:
  family: ${family}
characters:
${characters.map((id) => `  ${id}: { description: "${id} the keeper" }`).join('\n')}
backgrounds:
  room: { prompt: lamp room }
pages:
  - panels:
      - prompt: everyone at once
        characters: [${characters.join(', ')}]
        background: room
`;

const warnings = (text: string) => {
  const { comic, diagnostics } = analyzeScript(text, { file: 'crowd.yaml', checkFiles: false, templateReferences: lookup });
  expect(comic).not.toBeNull();
  return diagnostics.filter((d) => d.severity === 'warning').map(formatDiagnostic);
};

describe('panels naming more references than their template takes', () => {
  it('Qwen-Image-Edit: three characters fill its three pictures; the background is left out, at its line', () => {
    const [warning, ...rest] = warnings(script('qwen-image-edit', ['ann', 'bob', 'cid']));
    expect(rest).toEqual([]);
    expect(warning).toMatch(/^crowd\.yaml:16:21: warning: panel 1-1: panel-qwen-edit@1\.0\.0 takes 3 images \(up to 3 characters and a background\); left out: background 'room'/);
  });

  it('Flux.2: the fifth character is left out, named at its position in the list', () => {
    const [warning, ...rest] = warnings(script('flux2', ['ann', 'bob', 'cid', 'dee', 'eve']));
    expect(rest).toEqual([]);
    expect(warning).toMatch(/^crowd\.yaml:17:42: warning: panel 1-1: panel-flux2@1\.0\.0 takes 5 images \(up to 4 characters and a background\); left out: eve's sheet\n {2}hint: eve is drawn from the prompt alone/);
  });

  it('says nothing when everything fits, or when the template takes no image at all', () => {
    expect(warnings(script('flux2', ['ann', 'bob']))).toEqual([]);
    expect(warnings(script('qwen-image-edit', ['ann', 'bob']))).toEqual([]);
    // SDXL: the characters have sheets, so panel-ref; it takes one, the second is named.
    expect(warnings(script('sdxl', ['ann', 'bob']))).toEqual([expect.stringMatching(/crowd\.yaml:14:27: warning: panel 1-1: panel-ref@1\.0\.0 takes 1 image .*left out: bob's sheet/)]);
    expect(warnings(script('sdxl', ['ann', 'bob']).replace('defaults:\n  family: sdxl', 'defaults:\n  panel: { template: panel }'))).toEqual([]);
  });
});
