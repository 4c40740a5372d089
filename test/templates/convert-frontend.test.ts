/**
 * The frontend's conversion rules one by one, on small editor workflows built here and on
 * corpus workflows with one thing changed, against the 0.28 catalogue. Each expectation is
 * what Comfy-Org/ComfyUI_frontend's graphToPrompt (src/utils/executionUtil.ts) sends, by
 * the rules cited in src/templates/convert.ts, flatten.ts and widgets.ts.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { convertUiWorkflow } from '../../src/templates/convert.js';
import type { ObjectInfo } from '../../src/templates/index.js';
import { manifestSkeleton } from '../../src/templates/skeleton.js';
import { thrown } from './helpers.js';

const info = JSON.parse(readFileSync(fileURLToPath(new URL('../fixtures/comfyui/traces/0.28/GET_object_info_full.json', import.meta.url)), 'utf8')) as ObjectInfo;
const corpus = (name: string): any => JSON.parse(readFileSync(fileURLToPath(new URL(`../fixtures/ui-workflows/corpus/${name}`, import.meta.url)), 'utf8'));

type Link = [number, number, number, number, number, string];

/** A v0.4 node: inputs as [name, type, link?, widget?]. */
function node(id: number, type: string, widgets: unknown, inputs: [string, string, number | null, string?][] = [], outputs: string[] = [], extra: Record<string, unknown> = {}) {
  return {
    id,
    type,
    mode: 0,
    inputs: inputs.map(([name, t, link, widget]) => ({ name, type: t, link, ...(widget ? { widget: { name: widget } } : {}) })),
    outputs: outputs.map((t) => ({ name: t, type: t, links: [] })),
    properties: {},
    widgets_values: widgets,
    ...extra,
  };
}

/** checkpoint → two prompts → KSampler → VAEDecode → SaveImage, with an empty latent. */
function txt2img(sampler: unknown[]) {
  const links: Link[] = [
    [1, 4, 0, 3, 0, 'MODEL'],
    [2, 6, 0, 3, 1, 'CONDITIONING'],
    [3, 7, 0, 3, 2, 'CONDITIONING'],
    [4, 5, 0, 3, 3, 'LATENT'],
    [5, 3, 0, 8, 0, 'LATENT'],
    [6, 4, 2, 8, 1, 'VAE'],
    [7, 8, 0, 9, 0, 'IMAGE'],
    [8, 4, 1, 6, 0, 'CLIP'],
    [9, 4, 1, 7, 0, 'CLIP'],
  ];
  return {
    version: 0.4,
    links,
    nodes: [
      node(4, 'CheckpointLoaderSimple', ['sd_xl_base_1.0.safetensors'], [], ['MODEL', 'CLIP', 'VAE']),
      node(5, 'EmptyLatentImage', [1024, 1024, 1], [], ['LATENT']),
      node(6, 'CLIPTextEncode', ['a lighthouse'], [['clip', 'CLIP', 8]], ['CONDITIONING'], { title: 'Positive' }),
      node(7, 'CLIPTextEncode', ['blurry'], [['clip', 'CLIP', 9]], ['CONDITIONING'], { title: 'Negative' }),
      node(3, 'KSampler', sampler, [['model', 'MODEL', 1], ['positive', 'CONDITIONING', 2], ['negative', 'CONDITIONING', 3], ['latent_image', 'LATENT', 4]], ['LATENT']),
      node(8, 'VAEDecode', null, [['samples', 'LATENT', 5], ['vae', 'VAE', 6]], ['IMAGE']),
      node(9, 'SaveImage', ['ComfyUI'], [['images', 'IMAGE', 7]], ['IMAGE']),
    ],
  };
}

const KSAMPLER = { steps: 20, cfg: 7, sampler_name: 'euler', scheduler: 'normal', denoise: 1 };

describe('control_after_generate in every saved form', () => {
  it.each([
    ['"randomize"', 'randomize'],
    ['"fixed"', 'fixed'],
    ['"increment"', 'increment'],
    ['"decrement"', 'decrement'],
    ['true (before the control became a combo)', true],
    ['false', false],
  ])('%s is the seed\'s companion slot, never a value', (_, control) => {
    const { workflow, problems } = convertUiWorkflow(txt2img([42, control, 20, 7, 'euler', 'normal', 1]), info);
    expect(workflow['3']!.inputs).toMatchObject({ seed: 42, ...KSAMPLER });
    expect(workflow['3']!.inputs).not.toHaveProperty('control_after_generate');
    expect(problems).toEqual([]);
  });

  it('reports a list that really is out of line, naming the node (title and id) and the widget', () => {
    // A workflow saved without the control slot: every value after the seed moves up one.
    const error = thrown(() => convertUiWorkflow(txt2img([42, 20, 7, 'euler', 'normal', 1]), info, 'old.json'));
    expect(error.message).toContain('node 3 "KSampler" (KSampler): widget "cfg" holds "euler" (expected a number for a FLOAT)');
    const text = thrown(() => convertUiWorkflow(txt2img([42, 'randomize', 'extension', 20, 7, 'euler', 'normal', 1]), info));
    expect(text.message).toContain('node 3 "KSampler" (KSampler): widget "steps" holds "extension" (expected a number for a INT)');
  });

  it('gives a COMBO with a control both the control and its filter slot, sending neither', () => {
    // PrimitiveString-free check on a real 0.28 class whose COMBO asks for a control: none
    // exists in core, so declare one; the frontend adds control_after_generate and control_filter_list.
    const custom = { ...info, PickStyle: { input: { required: { style: ['COMBO', { options: ['ink', 'noir'], control_after_generate: true }], strength: ['FLOAT', { default: 1 }] } }, output: ['STRING'], output_node: true, name: 'PickStyle' } } as ObjectInfo;
    const ui = { version: 0.4, links: [], nodes: [node(1, 'PickStyle', ['noir', 'fixed', '', 0.5])] };
    expect(convertUiWorkflow(ui, custom).workflow['1']!.inputs).toEqual({ style: 'noir', strength: 0.5 });
  });
});

describe('widgets the frontend does not send, values it wraps, values saved by name', () => {
  it('saves the upload button of LoadImage, LoadImageMask and LoadAudio (at the end of the required inputs) but never sends it', () => {
    const ui = {
      version: 0.4,
      links: [],
      nodes: [node(1, 'LoadImage', ['a.png', 'image']), node(2, 'LoadImageMask', ['m.png', 'red', 'image']), node(3, 'LoadAudio', ['voice.wav', null])],
    };
    const { workflow } = convertUiWorkflow(ui, info);
    expect(workflow['1']!.inputs).toEqual({ image: 'a.png' });
    expect(workflow['2']!.inputs).toEqual({ image: 'm.png', channel: 'red' });
    // The audio player widget is not saved at all (serialize: false); the upload button is.
    expect(workflow['3']!.inputs).toEqual({ audio: 'voice.wav' });
  });

  it('restores widgets_values saved as an object by name, and starts a widget with no saved value at its default', () => {
    const ui = txt2img([]);
    ui.nodes.find((n) => n.id === 3)!.widgets_values = { seed: 7, steps: 30, cfg: 4.5, sampler_name: 'dpmpp_2m', scheduler: 'karras' } as never;
    expect(convertUiWorkflow(ui, info).workflow['3']!.inputs).toMatchObject({ seed: 7, steps: 30, cfg: 4.5, sampler_name: 'dpmpp_2m', scheduler: 'karras', denoise: 1 });
  });

  it('wraps list values as __value__ so they are not taken for links', () => {
    const custom = { ...info, PickTags: { input: { required: { tags: ['COMBO', { options: ['ink', 'noir'], multiselect: true }] } }, output: ['STRING'], name: 'PickTags' } } as ObjectInfo;
    const ui = { version: 0.4, links: [], nodes: [node(1, 'PickTags', [['ink', 'noir']])] };
    expect(convertUiWorkflow(ui, custom).workflow['1']!.inputs).toEqual({ tags: { __value__: ['ink', 'noir'] } });
  });

  it('lays out a dynamic combo\'s sub-widgets after it, named <combo>.<input>', () => {
    const ui = {
      version: 0.4,
      links: [],
      nodes: [node(1, 'ResizeImageMaskNode', ['scale by multiplier', 1.5, 'bicubic'], [['input', 'IMAGE,MASK', null]], ['IMAGE'])],
    };
    expect(convertUiWorkflow(ui, info).workflow['1']!.inputs).toEqual({ resize_type: 'scale by multiplier', 'resize_type.multiplier': 1.5, scale_method: 'bicubic' });
  });
});

describe('PrimitiveNode, Reroute, Note', () => {
  it('writes a PrimitiveNode\'s value into the widgets it feeds directly; through a Reroute the target keeps its own', () => {
    const ui = txt2img([42, 'fixed', 20, 7, 'euler', 'normal', 1]);
    const sampler = ui.nodes.find((n) => n.id === 3)!;
    sampler.inputs.push({ name: 'steps', type: 'INT', link: 20, widget: { name: 'steps' } } as never, { name: 'cfg', type: 'FLOAT', link: 22, widget: { name: 'cfg' } } as never);
    ui.nodes.push(node(30, 'PrimitiveNode', [33, 'fixed'], [], ['INT']), node(31, 'PrimitiveNode', [2.5, 'fixed'], [], ['FLOAT']), node(32, 'Reroute', null, [['', '*', 21]], ['*']), node(33, 'Note', ['read me']));
    ui.links.push([20, 30, 0, 3, 4, 'INT'], [21, 31, 0, 32, 0, 'FLOAT'], [22, 32, 0, 3, 5, 'FLOAT']);
    const { workflow } = convertUiWorkflow(ui, info);
    expect(workflow['3']!.inputs).toMatchObject({ steps: 33, cfg: 7 });
    expect(Object.keys(workflow).sort()).toEqual(['3', '4', '5', '6', '7', '8', '9']);
  });
});

describe('muted and bypassed nodes', () => {
  it('passes a bypassed node through the input #getBypassSlotIndex picks for the consumer\'s type', () => {
    // ConditioningCombine bypassed between the positive prompt and the sampler: CONDITIONING
    // output 0 → input 0 (same slot, same type).
    const ui = txt2img([1, 'fixed', 20, 7, 'euler', 'normal', 1]);
    ui.nodes.push({ ...node(40, 'ConditioningCombine', null, [['conditioning_1', 'CONDITIONING', 40], ['conditioning_2', 'CONDITIONING', null]], ['CONDITIONING']), mode: 4 });
    ui.links = ui.links.filter((l) => l[0] !== 2);
    ui.links.push([40, 6, 0, 40, 0, 'CONDITIONING'], [41, 40, 0, 3, 1, 'CONDITIONING']);
    ui.nodes.find((n) => n.id === 3)!.inputs[1]!.link = 41;
    const { workflow } = convertUiWorkflow(ui, info);
    expect(workflow['3']!.inputs.positive).toEqual(['6', 0]);
    expect(workflow).not.toHaveProperty('40');
  });

  it('drops a link from a muted node at the end, so a widget linked to one loses its value too', () => {
    const ui = txt2img([1, 'fixed', 20, 7, 'euler', 'normal', 1]);
    ui.nodes.push({ ...node(41, 'PrimitiveInt', [9], [], ['INT']), mode: 2 });
    ui.nodes.find((n) => n.id === 3)!.inputs.push({ name: 'steps', type: 'INT', link: 50, widget: { name: 'steps' } } as never);
    ui.links.push([50, 41, 0, 3, 4, 'INT']);
    const { workflow } = convertUiWorkflow(ui, info);
    expect(workflow['3']!.inputs).not.toHaveProperty('steps');
    expect(workflow).not.toHaveProperty('41');
    // Bypassed instead: nothing to pass an INT through, so the widget keeps its value.
    ui.nodes.find((n) => n.id === 41)!.mode = 4;
    expect(convertUiWorkflow(ui, info).workflow['3']!.inputs.steps).toBe(20);
  });

  it('applies both inside subgraphs: a bypassed inner node passes through, a muted one is dropped with its links', () => {
    const base = corpus('blueprint-canny-to-image-z-image-turbo.json');
    const def = base.definitions.subgraphs[0];
    const bypassed = def.nodes.find((n: any) => n.mode === 4);
    expect(bypassed).toBeDefined();
    const { workflow } = convertUiWorkflow(base, info);
    const id = `${base.nodes[0].id}:${bypassed.id}`;
    expect(workflow).not.toHaveProperty(id);
    // Whatever consumed the bypassed node now reads one of its inputs' sources instead.
    for (const n of Object.values(workflow)) for (const v of Object.values(n.inputs)) if (Array.isArray(v)) expect(v[0]).not.toBe(id);

    const muted = structuredClone(base);
    const sampler = muted.definitions.subgraphs[0].nodes.find((n: any) => n.type === 'KSampler');
    sampler.mode = 2;
    const result = convertUiWorkflow(muted, info).workflow;
    const samplerId = `${base.nodes[0].id}:${sampler.id}`;
    expect(result).not.toHaveProperty(samplerId);
    for (const n of Object.values(result)) for (const v of Object.values(n.inputs)) if (Array.isArray(v)) expect(v[0]).not.toBe(samplerId);
  });
});

describe('subgraphs', () => {
  /** A v1 workflow: one instance (id 10) of a subgraph holding a KSampler (1) whose seed and steps are promoted. */
  function withSubgraph(instance: Record<string, unknown>) {
    const ui = txt2img([]) as any;
    const outer = ui.nodes.filter((n: any) => n.id !== 3);
    const links = ui.links.filter((l: Link) => ![1, 2, 3, 4, 5].includes(l[0]));
    links.push([1, 4, 0, 10, 0, 'MODEL'], [2, 6, 0, 10, 1, 'CONDITIONING'], [3, 7, 0, 10, 2, 'CONDITIONING'], [4, 5, 0, 10, 3, 'LATENT'], [5, 10, 0, 8, 0, 'LATENT']);
    return {
      version: 1,
      nodes: [
        ...outer,
        {
          id: 10,
          type: 'aaaaaaaa-1111-4222-8333-444444444444',
          mode: 0,
          inputs: [
            { name: 'model', type: 'MODEL', link: 1 },
            { name: 'positive', type: 'CONDITIONING', link: 2 },
            { name: 'negative', type: 'CONDITIONING', link: 3 },
            { name: 'latent', type: 'LATENT', link: 4 },
            { name: 'seed', type: 'INT', link: null, widget: { name: 'seed' } },
            { name: 'steps', type: 'INT', link: null, widget: { name: 'steps' } },
          ],
          outputs: [{ name: 'LATENT', type: 'LATENT', links: [5] }],
          properties: {},
          widgets_values: [],
          ...instance,
        },
      ],
      links: links.map(([id, o, os, t, ts, type]: Link) => ({ id, origin_id: o, origin_slot: os, target_id: t, target_slot: ts, type })),
      definitions: {
        subgraphs: [
          {
            id: 'aaaaaaaa-1111-4222-8333-444444444444',
            name: 'Sampler',
            inputs: ['model', 'positive', 'negative', 'latent', 'seed', 'steps'].map((name, i) => ({ id: `in${i}`, name, type: ['MODEL', 'CONDITIONING', 'CONDITIONING', 'LATENT', 'INT', 'INT'][i] })),
            outputs: [{ id: 'out0', name: 'LATENT', type: 'LATENT' }],
            nodes: [
              node(1, 'KSampler', [5, 'fixed', 8, 6.5, 'euler', 'normal', 1], [
                ['model', 'MODEL', 11],
                ['positive', 'CONDITIONING', 12],
                ['negative', 'CONDITIONING', 13],
                ['latent_image', 'LATENT', 14],
                ['seed', 'INT', 15, 'seed'],
                ['steps', 'INT', 16, 'steps'],
                ['cfg', 'FLOAT', null, 'cfg'],
              ], ['LATENT']),
            ],
            links: [
              [11, -10, 0, 1, 0, 'MODEL'],
              [12, -10, 1, 1, 1, 'CONDITIONING'],
              [13, -10, 2, 1, 2, 'CONDITIONING'],
              [14, -10, 3, 1, 3, 'LATENT'],
              [15, -10, 4, 1, 4, 'INT'],
              [16, -10, 5, 1, 5, 'INT'],
              [17, 1, 0, -20, 0, 'LATENT'],
            ].map(([id, o, os, t, ts, type]) => ({ id, origin_id: o, origin_slot: os, target_id: t, target_slot: ts, type })),
          },
        ],
      },
    };
  }

  it('expands an instance to outer:inner ids, wiring links across the boundary both ways', () => {
    const { workflow, problems } = convertUiWorkflow(withSubgraph({ widgets_values: [77, 30] }), info);
    expect(workflow['10:1']!.inputs).toMatchObject({ model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0] });
    expect(workflow['8']!.inputs.samples).toEqual(['10:1', 0]);
    expect(problems).toEqual([]);
  });

  it('applies promoted values of the io-widget era: one per widget-fed input, in input order', () => {
    expect(convertUiWorkflow(withSubgraph({ widgets_values: [77, 30] }), info).workflow['10:1']!.inputs).toMatchObject({ seed: 77, steps: 30, cfg: 6.5 });
  });

  it.each([
    ['a JSON string (the first saved form)', JSON.stringify([['-1', 'seed'], ['-1', 'steps'], ['1', 'cfg']]), [77, 30, 3.5]],
    ['[nodeId, widget] pairs', [['-1', 'seed'], ['-1', 'steps'], ['1', 'cfg']], [77, 30, 3.5]],
    ['triples with a source node', [['-1', 'seed', '1'], ['-1', 'steps', '1'], ['1', 'cfg', '1']], [77, 30, 3.5]],
    ['an inline {value} state', [['-1', 'seed', null, { value: 77 }], ['-1', 'steps', null, { value: 30 }], ['1', 'cfg', null, { value: 3.5 }]], []],
  ])('applies promoted values listed in proxyWidgets as %s', (_, proxyWidgets, values) => {
    const { workflow } = convertUiWorkflow(withSubgraph({ widgets_values: values, properties: { proxyWidgets } }), info);
    expect(workflow['10:1']!.inputs).toMatchObject({ seed: 77, steps: 30, cfg: 3.5 });
  });

  it('leaves the inner value where the instance stores none (null), and lets a link into the instance win', () => {
    const ui = withSubgraph({ widgets_values: [null, null, null], properties: { proxyWidgets: [['-1', 'seed'], ['-1', 'steps'], ['1', 'cfg']] } });
    expect(convertUiWorkflow(ui, info).workflow['10:1']!.inputs).toMatchObject({ seed: 5, steps: 8, cfg: 6.5 });
    const linked = withSubgraph({ widgets_values: [77, 30] }) as any;
    linked.nodes.push(node(20, 'PrimitiveInt', [12], [], ['INT']));
    linked.links.push({ id: 30, origin_id: 20, origin_slot: 0, target_id: 10, target_slot: 5, type: 'INT' });
    linked.nodes.find((n: any) => n.id === 10).inputs[5].link = 30;
    expect(convertUiWorkflow(linked, info).workflow['10:1']!.inputs).toMatchObject({ seed: 77, steps: ['20', 0] });
  });

  it('expands nested subgraphs (10:3:1), as in the corpus blueprints', () => {
    const { workflow } = convertUiWorkflow(corpus('blueprint-depth-to-image-z-image-turbo.json'), info);
    expect(Object.keys(workflow).some((id) => id.split(':').length === 3)).toBe(true);
  });

  it('maps App-mode inputs through promoted widgets to the inner inputs, and proposes them as parameters', () => {
    const ui = withSubgraph({ widgets_values: [77, 30], title: 'Sampler stage' }) as any;
    ui.extra = { linearData: { inputs: [[10, 'seed'], [10, 'steps'], [6, 'text']], outputs: [9] } };
    const result = convertUiWorkflow(ui, info);
    expect(result.appInputs.map((a) => a.targets)).toEqual([[{ node: '10:1', input: 'seed' }], [{ node: '10:1', input: 'steps' }], [{ node: '6', input: 'text' }]]);
    const { manifest } = manifestSkeleton(result.workflow, {
      id: 'app',
      source: 'app.json',
      appInputs: result.appInputs.map((a) => ({ widget: a.source.widget, label: a.label, targets: a.targets })),
    });
    expect(manifest.params.seed).toMatchObject({ type: 'int', default: 77, inject: [{ node: 'title:KSampler', input: 'seed' }] });
    expect(manifest.params.steps).toMatchObject({ type: 'int', default: 30 });
    expect(manifest.params.text).toMatchObject({ type: 'string', default: 'a lighthouse', inject: [{ node: 'title:Positive', input: 'text' }] });
    // The graph guesses still fill in what App mode did not cover, without doubling it.
    expect(manifest.params.positive).toBeUndefined();
    expect(manifest.params.negative).toMatchObject({ inject: [{ node: 'title:Negative', input: 'text' }] });
  });
});

describe('legacy group nodes', () => {
  it('takes group inputs through the group\'s Reroutes and its widget values in place (corpus: hidream e1)', () => {
    const { workflow } = convertUiWorkflow(corpus('examples-hidream-hidream_e1_example.json'), info);
    const api = corpus('examples-hidream-hidream_e1_example.api.json');
    for (const id of ['37:0', '37:1', '37:3', '37:6', '37:7', '37:8']) expect(workflow[id]!.inputs, id).toMatchObject(api[id].inputs);
  });
});
