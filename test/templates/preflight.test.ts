import { describe, expect, it } from 'vitest';
import { buildWorkflow, loadTemplateRegistry, preflight, preflightError, type ApiWorkflow } from '../../src/templates/index.js';
import { sampleParams, templateServerProblems } from '../../src/templates/validate.js';
import { asObjectInfo, objectInfo, sampleTemplate } from './helpers.js';

const SERVER = 'http://gpu-1.studio:8188';

/** The helpers' sample workflow (checkpoint → prompts → sampler → decode → save), with some inputs replaced. */
function txt2img(overrides: Record<string, Record<string, unknown>> = {}): Record<string, { class_type: string; inputs: Record<string, unknown>; _meta?: { title: string } }> {
  const workflow = structuredClone(sampleTemplate().workflow) as Record<string, { class_type: string; inputs: Record<string, unknown>; _meta?: { title: string } }>;
  for (const [id, inputs] of Object.entries(overrides)) Object.assign(workflow[id]!.inputs, inputs);
  return workflow;
}

const info = asObjectInfo(objectInfo());

describe('preflight', () => {
  it('passes a valid workflow', () => {
    expect(preflight(txt2img() as ApiWorkflow, info, { server: SERVER })).toEqual([]);
  });

  it('reports a node class the server lacks, naming the server, node and a suggestion', () => {
    const workflow = { ...txt2img(), '8': { class_type: 'KSamplerAdvnced', inputs: {}, _meta: { title: 'Second pass' } }, '9': { class_type: 'FaceDetailer', inputs: {} } };
    const problems = preflight(workflow as ApiWorkflow, info, { server: SERVER });
    expect(problems.map((p) => p.kind)).toEqual(['missing-node', 'missing-node']);
    expect(problems[0]!.message).toBe(`${SERVER}: node #8 "Second pass" (KSamplerAdvnced): the server has no node class "KSamplerAdvnced" (did you mean "KSamplerAdvanced"?)`);
    expect(problems[0]!.node).toEqual({ id: '8', title: 'Second pass', classType: 'KSamplerAdvnced' });
    expect(problems[1]!.message).toBe(`${SERVER}: node #9 (FaceDetailer): the server has no node class "FaceDetailer" (a custom node that is not installed there?)`);
  });

  it('reports a missing model with the files the server has', () => {
    const problems = preflight(txt2img({ '1': { ckpt_name: 'dreamshaper_8.safetensors' } }) as ApiWorkflow, info, { server: SERVER });
    expect(problems).toHaveLength(1);
    const [problem] = problems;
    expect(problem!.kind).toBe('not-in-list');
    expect(problem!.message).toBe(
      `${SERVER}: node #1 "Checkpoint" (CheckpointLoaderSimple): input "ckpt_name": "dreamshaper_8.safetensors" is not on this server; it has checkpoints "sd_xl_base_1.0.safetensors", "v1-5-pruned-emaonly.safetensors", "sdxl/juggernautXL_v9.safetensors", "flux1-dev-fp8.safetensors"`,
    );
    const none = preflight(txt2img() as ApiWorkflow, asObjectInfo(objectInfo({ checkpoints: [] })), { server: SERVER });
    expect(none[0]!.message).toContain('is not on this server, which has no checkpoints at all');
  });

  it('checks values against both COMBO encodings', () => {
    // Legacy encoding: KSampler.sampler_name is [["euler", …]].
    const legacy = preflight(txt2img({ '5': { sampler_name: 'euler_fast' } }) as ApiWorkflow, info, { server: SERVER });
    expect(legacy[0]).toMatchObject({ kind: 'not-in-list', input: 'sampler_name', value: 'euler_fast' });
    expect(legacy[0]!.message).toContain('"euler", "euler_cfg_pp"');
    // V3 encoding: ImageStitch.direction is ["COMBO", {options: [...]}].
    const stitched = {
      ...txt2img(),
      '8': { class_type: 'ImageStitch', inputs: { image1: ['6', 0], direction: 'diagonal', match_image_size: true, spacing_width: 0, spacing_color: 'white' } },
      '9': { class_type: 'ImageStitch', inputs: { image1: ['6', 0], direction: 'down', match_image_size: true, spacing_width: 0, spacing_color: 'white' } },
    };
    const v3 = preflight(stitched as ApiWorkflow, info, { server: SERVER });
    expect(v3).toHaveLength(1);
    expect(v3[0]).toMatchObject({ kind: 'not-in-list', input: 'direction', options: ['right', 'down', 'left', 'up'] });
  });

  it('reports values out of range and of the wrong type', () => {
    const problems = preflight(txt2img({ '5': { steps: 0, cfg: 'lots', denoise: 1.5 }, '4': { width: 8 } }) as ApiWorkflow, info, { server: SERVER });
    const byInput = Object.fromEntries(problems.map((p) => [(p as { input: string }).input, p]));
    expect(byInput.steps).toMatchObject({ kind: 'out-of-range', value: 0, min: 1, max: 10000 });
    expect(byInput.cfg).toMatchObject({ kind: 'wrong-type' });
    expect(byInput.denoise!.message).toContain('1.5 is outside the server\'s range [0, 1]');
    expect(byInput.width).toMatchObject({ kind: 'out-of-range', min: 16 });
  });

  it('reports required inputs that are missing or unconnected, bad links and unknown inputs', () => {
    const workflow = txt2img();
    delete workflow['5']!.inputs.latent_image;
    delete workflow['5']!.inputs.steps;
    workflow['6']!.inputs.samples = ['99', 0];
    workflow['7']!.inputs.images = ['1', 0]; // MODEL into IMAGE
    workflow['2']!.inputs.txt = 'typo';
    const problems = preflight(workflow as ApiWorkflow, info, { server: SERVER });
    const messages = problems.map((p) => p.message);
    expect(messages).toContain(`${SERVER}: node #5 "Sampler" (KSampler): required input "latent_image" (LATENT) is not connected`);
    expect(messages).toContain(`${SERVER}: node #5 "Sampler" (KSampler): required input "steps" (INT) is missing`);
    expect(messages).toContain(`${SERVER}: node #6 "Decode" (VAEDecode): input "samples": linked to node 99, which is not in the workflow`);
    expect(messages).toContain(`${SERVER}: node #7 "Save" (SaveImage): input "images": expects IMAGE but is linked to output 0 of #1 "Checkpoint" (CheckpointLoaderSimple), which gives MODEL`);
    expect(messages.some((m) => m.includes('has no input "txt"'))).toBe(true);
  });

  it('reports a workflow without an output node', () => {
    const workflow = txt2img();
    delete (workflow as any)['7'];
    expect(preflight(workflow as ApiWorkflow, info, { server: SERVER }).map((p) => p.kind)).toEqual(['no-output']);
  });

  it('leaves uploaded images to the upload step (they are not in the list yet)', () => {
    const workflow = { ...txt2img(), '8': { class_type: 'LoadImage', inputs: { image: 'comic-3f2a.png' } } };
    expect(preflight(workflow as ApiWorkflow, info, { server: SERVER })).toEqual([]);
  });

  it('turns problems into one error naming the server', () => {
    const problems = preflight(txt2img({ '1': { ckpt_name: 'nope.safetensors' } }) as ApiWorkflow, info, { server: SERVER });
    const error = preflightError(problems, SERVER);
    expect(error.code).toBe('SERVER_MISSING_CAPABILITY');
    expect(error.message).toContain(`${SERVER} cannot run this workflow:`);
    expect(error.message).toContain('"nope.safetensors" is not on this server');
    expect(preflightError(preflight(txt2img({ '5': { steps: 0 } }) as ApiWorkflow, info, { server: SERVER }), SERVER).code).toBe('WORKFLOW_INVALID');
  });
});

describe('built-in templates against the real object_info', () => {
  it('every built-in builds and preflights clean on a server with the default models', async () => {
    const registry = await loadTemplateRegistry({ dirs: [] });
    for (const id of registry.ids()) {
      const template = registry.resolve({ id, range: null });
      const workflow = buildWorkflow(template, sampleParams(template), { objectInfo: info, server: SERVER });
      expect(preflight(workflow, info, { server: SERVER }), id).toEqual([]);
      expect(templateServerProblems(template, info, SERVER), id).toEqual([]);
      // Every class the template says it needs is a core node of ComfyUI 0.8.0.
      for (const cls of template.requires.nodes) expect(Object.keys(info), `${id} needs ${cls}`).toContain(cls);
    }
  });

  it('says what a server without the SDXL checkpoint or CLIP vision model lacks', async () => {
    const registry = await loadTemplateRegistry({ dirs: [] });
    const bare = asObjectInfo(objectInfo({ checkpoints: ['v1-5-pruned-emaonly.safetensors'], clip_vision: [] }));
    const problems = templateServerProblems(registry.resolve({ id: 'panel-ref', range: null }), bare, SERVER);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toContain(`checkpoints model "sdxl-base" (required by panel-ref@1.0.0) is not available on ${SERVER}`);
    expect(problems[0]).toContain('"v1-5-pruned-emaonly.safetensors"');
    expect(problems[1]).toContain('has no clip_vision files at all');
    expect(templateServerProblems(registry.resolve({ id: 'panel-sd15', range: null }), bare, SERVER)).toEqual([]);
  });
});
