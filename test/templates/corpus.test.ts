/**
 * The editor-workflow corpus (test/fixtures/ui-workflows/corpus, sources in its SOURCES
 * file): real public workflows of many ages and model families — ComfyUI's examples, each
 * with the API prompt the frontend of its day sent (read from the example image's metadata),
 * and ComfyUI's own subgraph blueprints. Every one must convert against the 0.28 catalogue,
 * validate structurally there, and equal the frontend's prompt where one is known.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { structuralProblems } from '../../src/templates/catalogue-check.js';
import { convertUiWorkflow } from '../../src/templates/convert.js';
import type { ObjectInfo } from '../../src/templates/index.js';
import { widgetDefault } from '../../src/templates/widgets.js';

const CORPUS = fileURLToPath(new URL('../fixtures/ui-workflows/corpus/', import.meta.url));
const CATALOGUE_028 = fileURLToPath(new URL('../fixtures/comfyui/traces/0.28/GET_object_info_full.json', import.meta.url));

const CATALOGUE_08 = fileURLToPath(new URL('../fixtures/comfyui/traces/GET_object_info_full.json', import.meta.url));

const info = JSON.parse(readFileSync(CATALOGUE_028, 'utf8')) as ObjectInfo;
const read = (file: string): any => JSON.parse(readFileSync(join(CORPUS, file), 'utf8'));
const workflows = readdirSync(CORPUS)
  .filter((f) => f.endsWith('.json') && !f.endsWith('.api.json'))
  .sort();

/**
 * The one prompt that cannot be equal: the example image's prompt was made before its
 * nodes were collapsed into the group node the saved workflow has (the prompt's ids are the
 * ungrouped ones, 60–66, where the frontend would send 68:0–68:5).
 */
const KNOWN_DIFFERENT: Readonly<Record<string, string>> = {
  'examples-stable_cascade-stable_cascade__inpaint_controlnet.json': 'the prompt predates the group node in the saved workflow',
};

/**
 * Differences between a prompt the frontend sent years ago and the one it sends today with
 * the 0.28 catalogue, which are the catalogue's doing, not the conversion's:
 * - the old prompt has an input the 0.28 class no longer declares (the upload button the
 *   frontend then still sent: "upload", "choose file to upload"; a preview widget) — the
 *   server ignores it;
 * - the 0.28 class has an input the node did not have then (CLIPLoader.device,
 *   CLIPVisionEncode.crop, …): today's frontend sends its default, the old prompt lacks it.
 * Anything else is a difference.
 */
function promptDifferences(frontend: Record<string, any>, ours: Record<string, any>, catalogue: ObjectInfo = info): string[] {
  const diffs: string[] = [];
  for (const id of new Set([...Object.keys(frontend), ...Object.keys(ours)])) {
    const a = frontend[id];
    const b = ours[id];
    if (!a || !b) {
      diffs.push(`${a ? 'missing' : 'extra'} node ${id} (${(a ?? b).class_type})`);
      continue;
    }
    if (a.class_type !== b.class_type) diffs.push(`node ${id}: class ${a.class_type}, converted ${b.class_type}`);
    const def = catalogue[b.class_type];
    for (const input of new Set([...Object.keys(a.inputs), ...Object.keys(b.inputs)])) {
      const expected = JSON.stringify(a.inputs[input]);
      const actual = JSON.stringify(b.inputs[input]);
      if (expected === actual) continue;
      const declared = def?.input?.required?.[input] ?? def?.input?.optional?.[input];
      if (a.inputs[input] !== undefined && b.inputs[input] === undefined && !declared && !input.includes('.')) continue;
      if (a.inputs[input] === undefined && declared && JSON.stringify(widgetDefault(declared)) === actual) continue;
      diffs.push(`node ${id} (${a.class_type}) input "${input}": frontend ${expected}, converted ${actual}`);
    }
  }
  return diffs;
}

/**
 * A blueprint is a subgraph as the editor inserts it: its socket inputs unconnected, its
 * outputs going nowhere. To validate it as a runnable graph, feed each socket input from a
 * loader of that type and show each output in a PreviewAny (an output node).
 */
const FEEDERS: Readonly<Record<string, { type: string; widgets: unknown[] }>> = {
  IMAGE: { type: 'LoadImage', widgets: ['example.png', 'image'] },
  MASK: { type: 'LoadImageMask', widgets: ['example.png', 'alpha', 'image'] },
  VIDEO: { type: 'LoadVideo', widgets: ['clip.mp4', 'image'] },
  AUDIO: { type: 'LoadAudio', widgets: ['clip.wav', null] },
};

function asRunnable(blueprint: any): any {
  const wf = structuredClone(blueprint);
  const v1 = !Array.isArray(wf.links?.[0]) && wf.version === 1;
  let next = 100_000;
  const link = (origin: number, originSlot: number, target: number, targetSlot: number, type: string) => {
    const id = next++;
    wf.links.push(v1 ? { id, origin_id: origin, origin_slot: originSlot, target_id: target, target_slot: targetSlot, type } : [id, origin, originSlot, target, targetSlot, type]);
    return id;
  };
  wf.links ??= [];
  for (const instance of [...wf.nodes]) {
    (instance.inputs ?? []).forEach((input: any, slot: number) => {
      const feeder = FEEDERS[String(input.type).split(',')[0]!];
      if (input.link != null || input.widget || !feeder) return;
      const id = next++;
      wf.nodes.push({ id, type: feeder.type, mode: 0, inputs: [], outputs: [{ name: input.type, type: input.type, links: [] }], properties: {}, widgets_values: feeder.widgets });
      input.link = link(id, 0, instance.id, slot, input.type);
    });
    (instance.outputs ?? []).forEach((output: any, slot: number) => {
      const id = next++;
      wf.nodes.push({ id, type: 'PreviewAny', mode: 0, inputs: [{ name: 'source', type: '*', link: null }], outputs: [], properties: {}, widgets_values: [] });
      wf.nodes.at(-1).inputs[0].link = link(instance.id, slot, id, 0, output.type);
    });
  }
  return wf;
}

describe('editor-workflow corpus', () => {
  it('lists the source (repo, path, commit) of every corpus file in SOURCES', () => {
    const sources = readFileSync(join(CORPUS, 'SOURCES'), 'utf8')
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => line.split('\t'));
    for (const row of sources) {
      expect(row, row.join(' | ')).toHaveLength(4);
      expect(row[3], row[0]).toMatch(/^[0-9a-f]{40}$/);
      expect(existsSync(join(CORPUS, row[0]!)), row[0]).toBe(true);
    }
    const listed = new Set(sources.map((row) => row[0]));
    expect(readdirSync(CORPUS).filter((f) => f.endsWith('.json') && !listed.has(f))).toEqual([]);
  });

  it('is a corpus of real workflows of many kinds', () => {
    const withSubgraphs = workflows.filter((f) => (read(f).definitions?.subgraphs ?? []).length > 0);
    const withPrompt = workflows.filter((f) => existsSync(join(CORPUS, f.replace(/\.json$/, '.api.json'))));
    // The figures in docs/templates.md.
    expect(workflows.length).toBe(61);
    expect(withSubgraphs.length).toBe(13);
    expect(withPrompt.length).toBe(48);
  });

  it('converts the examples against the 0.8.0 catalogue too, equal to the frontend\'s prompts', () => {
    const old = JSON.parse(readFileSync(CATALOGUE_08, 'utf8')) as ObjectInfo;
    let equal = 0;
    for (const file of workflows.filter((f) => f.startsWith('examples-'))) {
      const { workflow, problems } = convertUiWorkflow(read(file), old, file);
      expect(problems, file).toEqual([]);
      if (promptDifferences(read(file.replace(/\.json$/, '.api.json')), workflow as Record<string, any>, old).length === 0) equal++;
    }
    expect(equal).toBe(47);
  });

  for (const file of workflows) {
    const promptFile = file.replace(/\.json$/, '.api.json');
    const hasPrompt = existsSync(join(CORPUS, promptFile));
    const comparison = !hasPrompt ? '' : KNOWN_DIFFERENT[file] ? `, differs from the frontend's prompt (${KNOWN_DIFFERENT[file]})` : ", equals the frontend's prompt";
    it(`${file}: converts, validates against the 0.28 catalogue${comparison}`, () => {
      const ui = read(file);
      const { workflow, problems } = convertUiWorkflow(ui, info, file);
      expect(Object.keys(workflow).length).toBeGreaterThan(0);
      if (file.startsWith('blueprint-')) {
        expect(structuralProblems(convertUiWorkflow(asRunnable(ui), info, file).workflow, info)).toEqual([]);
      } else {
        expect(problems).toEqual([]);
      }
      if (!hasPrompt) return;
      const diffs = promptDifferences(read(promptFile), workflow as Record<string, any>);
      if (KNOWN_DIFFERENT[file]) expect(diffs.length, KNOWN_DIFFERENT[file]).toBeGreaterThan(0);
      else expect(diffs).toEqual([]);
    });
  }
});
