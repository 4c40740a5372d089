import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { convertUiWorkflow, detectWorkflowFormat, preflight, readWorkflowFile, toApiWorkflow } from '../../src/templates/index.js';
import { asObjectInfo, objectInfo, readFixture, thrown, UI_WORKFLOWS } from './helpers.js';

const info = asObjectInfo(objectInfo());

/**
 * Each fixture is an editor workflow built by hand, next to the API graph the editor sends
 * for it (written by hand from the editor's rules, not produced by our converter).
 */
const FIXTURES = [
  ['01-txt2img-control-after-generate', 'plain txt2img: KSampler widgets with the "randomize" control slot after the seed'],
  ['02-reroute-primitive', 'Reroute chains and PrimitiveNodes (one feeding two widgets) inlined as values'],
  ['03-muted-bypassed', 'bypassed LoRA and ImageInvert routed through by type; muted nodes dropped with their links'],
  ['04-converted-widget', 'widgets converted to inputs: linked to real nodes (the link wins) and unlinked (the value stays)'],
  ['05-loadimage-note', 'LoadImage upload slot skipped; Note and MarkdownNote left out'],
  ['06-v1-subgraph', 'v1 links, nested subgraphs flattened to 10:1 and 10:3:1, a promoted seed, comments stripped'],
  ['07-legacy-group-node', 'a legacy group node (workflow>Sample) flattened to 12:0 and 12:1 with its widget values'],
] as const;

describe('editor format → API format', () => {
  for (const [name, what] of FIXTURES) {
    it(`${name}: ${what}`, () => {
      const ui = readFixture(`${name}.json`);
      expect(detectWorkflowFormat(ui)).toBe('ui');
      const { workflow, warnings } = convertUiWorkflow(ui, info, `${name}.json`);
      expect(workflow).toEqual(readFixture(`${name}.api.json`));
      expect(warnings).toEqual([]);
    });
  }

  it('produces workflows the server accepts (except where the editor itself drops a required link)', () => {
    for (const [name] of FIXTURES) {
      const { workflow } = convertUiWorkflow(readFixture(`${name}.json`), info);
      const problems = preflight(workflow, info, { server: 'http://local' }).map((p) => p.message);
      if (name === '03-muted-bypassed') {
        // The PreviewImage was fed by a muted node: the editor sends it without its input too.
        expect(problems).toEqual(['http://local: node #14 "Preview Image" (PreviewImage): required input "images" (IMAGE) is not connected']);
      } else {
        expect(problems, name).toEqual([]);
      }
    }
  });

  it('reads either format from a file', async () => {
    const ui = await readWorkflowFile(join(UI_WORKFLOWS, '01-txt2img-control-after-generate.json'), { objectInfo: info });
    expect(ui.format).toBe('ui');
    const api = await readWorkflowFile(join(UI_WORKFLOWS, '01-txt2img-control-after-generate.api.json'));
    expect(api.format).toBe('api');
    expect(api.workflow).toEqual(ui.workflow);
    // A /prompt request body is API format too.
    expect(toApiWorkflow({ prompt: api.workflow, client_id: 'x' }).workflow).toEqual(api.workflow);
  });

  it('asks for an object_info when given the editor format without one', () => {
    const error = thrown(() => toApiWorkflow(readFixture('01-txt2img-control-after-generate.json'), { file: 'wf.json' }));
    expect(error.code).toBe('WORKFLOW_CONVERT');
    expect(error.message).toContain('wf.json is in the editor (UI) format');
    expect(error.hint).toContain('--server URL or --object-info FILE');
    expect(thrown(() => toApiWorkflow({ hello: 'world' })).code).toBe('WORKFLOW_INVALID');
  });

  it('refuses a node class the object_info lacks, listing every one', () => {
    const ui = readFixture('01-txt2img-control-after-generate.json') as any;
    ui.nodes.find((n: any) => n.id === 3).type = 'KSamplerEfficient';
    ui.nodes.find((n: any) => n.id === 8).type = 'VAEDecodeTiledPlus';
    const error = thrown(() => convertUiWorkflow(ui, info, 'wf.json'));
    expect(error.code).toBe('WORKFLOW_CONVERT');
    expect(error.message).toContain('node 3: the node class "KSamplerEfficient" is not in the object_info');
    expect(error.message).toContain('node 8: the node class "VAEDecodeTiledPlus" is not in the object_info');
  });

  it('resolves KJNodes Get/Set pairs by name, and names a subgraph whose definition is missing', () => {
    const ui = readFixture('01-txt2img-control-after-generate.json') as any;
    ui.nodes.push(
      { id: 40, type: 'SetNode', mode: 0, inputs: [{ name: 'MODEL', type: 'MODEL', link: 40 }], outputs: [], properties: {}, widgets_values: ['base model'] },
      { id: 41, type: 'GetNode', mode: 0, inputs: [], outputs: [{ name: 'MODEL', type: 'MODEL', links: [41] }], properties: {}, widgets_values: ['base model'] },
    );
    ui.links = ui.links.filter((l: number[]) => l[0] !== 1);
    ui.links.push([40, 4, 0, 40, 0, 'MODEL'], [41, 41, 0, 3, 0, 'MODEL']);
    ui.nodes.find((n: any) => n.id === 3).inputs[0].link = 41;
    const { workflow } = convertUiWorkflow(ui, info);
    expect(workflow['3']!.inputs.model).toEqual(['4', 0]);
    expect(Object.keys(workflow)).not.toContain('40');

    const v1 = readFixture('06-v1-subgraph.json') as any;
    v1.definitions.subgraphs = v1.definitions.subgraphs.filter((d: any) => d.name !== 'Sampler stage');
    expect(thrown(() => convertUiWorkflow(v1, info)).message).toContain(
      'node 10 "Sampler stage" is an instance of the subgraph 7b3f5d2e-1c4a-4b8e-9f10-2a6c3d4e5f60, whose definition is missing',
    );
  });

  it('leaves out an unknown node that is connected to nothing, with a warning', () => {
    const ui = readFixture('01-txt2img-control-after-generate.json') as any;
    ui.nodes.push({ id: 30, type: 'Label (rgthree)', mode: 0, inputs: [], outputs: [], properties: {}, widgets_values: ['Panel 1'] });
    const { workflow, warnings } = convertUiWorkflow(ui, info);
    expect(Object.keys(workflow)).not.toContain('30');
    expect(warnings).toEqual(['node 30 "Label (rgthree)" (Label (rgthree)) is not a node class of this server and is connected to nothing; it is treated as an editor-only node and left out']);
  });

  it('refuses widget values that do not line up with the server\'s inputs', () => {
    const ui = readFixture('01-txt2img-control-after-generate.json') as any;
    // An extension widget inserted after the seed shifts every later value by one.
    ui.nodes.find((n: any) => n.id === 3).widgets_values = [1, 'randomize', 'extension', 20, 8, 'euler', 'normal', 1];
    const error = thrown(() => convertUiWorkflow(ui, info));
    expect(error.message).toContain('node 3 "KSampler" (KSampler): widget "steps" holds "extension" (expected a number for a INT)');
  });

  it('keeps {a|b} choices literally and warns, as the editor would pick one at random', () => {
    const ui = readFixture('01-txt2img-control-after-generate.json') as any;
    ui.nodes.find((n: any) => n.id === 6).widgets_values = ['a {red|blue} raincoat'];
    const { workflow, warnings } = convertUiWorkflow(ui, info);
    expect(workflow['6']!.inputs.text).toBe('a {red|blue} raincoat');
    expect(warnings[0]).toContain('{a|b} choices');
  });

  it('wraps array widget values (a multiselect COMBO) so they are not taken for links', () => {
    const custom = { ...objectInfo() } as Record<string, any>;
    custom.PickTags = {
      input: { required: { tags: ['COMBO', { options: ['ink', 'watercolor', 'noir'], multiselect: true }] } },
      input_order: { required: ['tags'] },
      output: ['STRING'],
      name: 'PickTags',
      display_name: 'Pick tags',
      output_node: false,
    };
    const ui = { version: 0.4, links: [], nodes: [{ id: 1, type: 'PickTags', mode: 0, inputs: [], outputs: [], properties: {}, widgets_values: [['ink', 'noir']] }] };
    expect(convertUiWorkflow(ui, asObjectInfo(custom)).workflow['1']!.inputs).toEqual({ tags: { __value__: ['ink', 'noir'] } });
  });

  it('maps widget values given as an object by name', () => {
    const ui = readFixture('01-txt2img-control-after-generate.json') as any;
    ui.nodes.find((n: any) => n.id === 5).widgets_values = { width: 640, height: 448, batch_size: 2 };
    expect(convertUiWorkflow(ui, info).workflow['5']!.inputs).toEqual({ width: 640, height: 448, batch_size: 2 });
  });

  it('gives an INT named seed its control slot even when the spec does not ask, as the frontend does', () => {
    // useIntWidget.ts: control_after_generate ?? ["seed", "noise_seed"].includes(name). The
    // slot after the seed is the control's, whatever it holds; the COMBO after it comes next.
    const custom = { ...objectInfo() } as Record<string, any>;
    custom.SeedThenMode = {
      input: { required: { seed: ['INT', { default: 0, min: 0, max: 100 }], mode: [['fixed', 'random']] } },
      input_order: { required: ['seed', 'mode'] },
      output: ['INT'],
      name: 'SeedThenMode',
      display_name: 'Seed then mode',
      output_node: false,
    };
    const ui = { version: 0.4, links: [], nodes: [{ id: 1, type: 'SeedThenMode', mode: 0, inputs: [], outputs: [], properties: {}, widgets_values: [5, 'random'] }] };
    // "random" sat in the control's slot; the mode widget starts at its first choice.
    expect(convertUiWorkflow(ui, asObjectInfo(custom)).workflow['1']!.inputs).toEqual({ seed: 5, mode: 'fixed' });
    ui.nodes[0]!.widgets_values = [5, 'fixed', 'random'];
    expect(convertUiWorkflow(ui, asObjectInfo(custom)).workflow['1']!.inputs).toEqual({ seed: 5, mode: 'random' });
    // Unless the spec says there is no control.
    custom.SeedThenMode.input.required.seed[1].control_after_generate = false;
    expect(convertUiWorkflow(ui, asObjectInfo(custom)).workflow['1']!.inputs).toEqual({ seed: 5, mode: 'fixed' });
  });

  it('refuses a group node without its definition, and a PrimitiveNode inside a group node', () => {
    const ui = readFixture('07-legacy-group-node.json') as any;
    const missing = structuredClone(ui);
    delete missing.extra.groupNodes;
    expect(thrown(() => convertUiWorkflow(missing, info)).message).toContain('group node "Sample", but the workflow has no definition');
    const primitive = structuredClone(ui);
    primitive.extra.groupNodes.Sample.nodes.push({ type: 'PrimitiveNode', mode: 0, inputs: [], outputs: [], properties: {}, widgets_values: [1] });
    expect(thrown(() => convertUiWorkflow(primitive, info)).message).toContain('contains a PrimitiveNode');
  });

  it('routes through a bypassed subgraph instance and drops a muted one', () => {
    const ui = readFixture('06-v1-subgraph.json') as any;
    const bypassed = structuredClone(ui);
    bypassed.nodes.find((n: any) => n.id === 10).mode = 4;
    // Bypassing passes an input of the consumer's type through; the instance has no IMAGE
    // input, so SaveImage loses its input, as in the editor.
    expect(convertUiWorkflow(bypassed, info).workflow['9']!.inputs).toEqual({ filename_prefix: 'subgraph' });
    expect(Object.keys(convertUiWorkflow(bypassed, info).workflow).sort()).toEqual(['4', '5', '6', '7', '9']);
    const muted = structuredClone(ui);
    muted.nodes.find((n: any) => n.id === 10).mode = 2;
    expect(Object.keys(convertUiWorkflow(muted, info).workflow).sort()).toEqual(['4', '5', '6', '7', '9']);
  });
});

