import { describe, expect, it } from 'vitest';
import { buildWorkflow, loadTemplateRegistry, valueProblem, type Template } from '../../src/templates/index.js';
import { asObjectInfo, objectInfo, sampleTemplate, tempDir, thrown, writeTemplate } from './helpers.js';

async function sample(): Promise<Template> {
  const root = await tempDir();
  await writeTemplate(root, 'sample', sampleTemplate());
  return (await loadTemplateRegistry({ dirs: [root], builtin: false })).resolve({ id: 'sample', range: null });
}


const at = { file: '/comics/lighthouse.yaml', line: 12, column: 9 };

describe('buildWorkflow: injection', () => {
  it('injects by node title and by node id, and fills defaults', async () => {
    const template = await sample();
    const workflow = buildWorkflow(template, { positive: 'a lighthouse', seed: 42, width: 832, height: 1216, steps: 30 });
    expect(workflow['2']!.inputs.text).toBe('a lighthouse'); // title:Positive prompt
    expect(workflow['3']!.inputs.text).toBe(''); // node id "3", default
    expect(workflow['5']!.inputs).toMatchObject({ seed: 42, steps: 30, cfg: 7, sampler_name: 'euler' });
    expect(workflow['4']!.inputs).toMatchObject({ width: 832, height: 1216, batch_size: 1 });
    // Links and untouched literals stay as they were.
    expect(workflow['5']!.inputs.model).toEqual(['1', 0]);
    expect(workflow['7']!.inputs.filename_prefix).toBe('test');
  });

  it('never changes the template itself', async () => {
    const template = await sample();
    const before = JSON.stringify(template.workflow);
    buildWorkflow(template, { positive: 'x', seed: 1 });
    expect(JSON.stringify(template.workflow)).toBe(before);
  });

  it('injects one parameter into several nodes', async () => {
    const registry = await loadTemplateRegistry({ dirs: [] });
    const workflow = buildWorkflow(registry.resolve({ id: 'panel-sd15', range: null }), { positive: 'p', seed: 99, sampler: 'euler' });
    expect(workflow['5']!.inputs).toMatchObject({ seed: 99, sampler_name: 'euler', steps: 25 });
    expect(workflow['14']!.inputs).toMatchObject({ seed: 99, sampler_name: 'euler', steps: 15, denoise: 0.5 });
  });
});

describe('buildWorkflow: checks', () => {
  it('range-checks numbers, naming the template, the parameter and the script position', async () => {
    const template = await sample();
    const error = thrown(() => buildWorkflow(template, { positive: 'p', steps: 500 }, { location: at, paramLocations: { steps: { ...at, line: 14 } } }));
    expect(error.code).toBe('TEMPLATE_PARAM');
    expect(error.message).toBe('template sample@1.0.0: parameter "steps" must be between 1 and 150 (got 500)');
    expect(error.location).toEqual({ ...at, line: 14 });

    expect(thrown(() => buildWorkflow(template, { positive: 'p', cfg: -1 })).message).toContain('"cfg" must be between 0 and 30');
    expect(thrown(() => buildWorkflow(template, { positive: 'p', width: 256 })).message).toContain('"width" must be between 512 and 2048');
  });

  it('type-checks every kind of parameter', async () => {
    const template = await sample();
    const cases: [Record<string, unknown>, string][] = [
      [{ positive: 7 }, '"positive" must be text'],
      [{ positive: 'p', steps: 20.5 }, '"steps" must be a whole number between 1 and 150'],
      [{ positive: 'p', steps: '20' }, '"steps" must be a whole number'],
      [{ positive: 'p', cfg: 'high' }, '"cfg" must be a number between 0 and 30'],
      [{ positive: 'p', sampler: 'heun' }, '"sampler" must be one of "euler", "dpmpp_2m"'],
      [{ positive: 'p', checkpoint: '' }, '"checkpoint" must name a checkpoints model'],
      [{ positive: 'p', seed: null }, '"seed" must be a whole number'],
    ];
    for (const [params, message] of cases) expect(thrown(() => buildWorkflow(template, params)).message).toContain(message);
    expect(valueProblem({ type: 'boolean', description: '', inject: [] } as never, 'yes')).toBe('must be true or false');
    expect(valueProblem({ type: 'boolean', description: '', inject: [] } as never, true)).toBeNull();
    expect(valueProblem({ type: 'image', description: '', inject: [] } as never, 'sheet.png')).toBeNull();
  });

  it('reports a missing parameter that has no default, at the place that asked for the template', async () => {
    const template = await sample();
    const error = thrown(() => buildWorkflow(template, { seed: 1 }, { location: at }));
    expect(error.code).toBe('TEMPLATE_PARAM');
    expect(error.message).toBe('template sample@1.0.0 needs the parameter "positive" (string), and it has no default');
    expect(error.location).toEqual(at);
  });

  it('reports unknown parameters with a suggestion and where they were written', async () => {
    const template = await sample();
    const error = thrown(() => buildWorkflow(template, { positive: 'p', stpes: 30 }, { location: at, paramLocations: { stpes: { ...at, line: 15, column: 11 } } }));
    expect(error.code).toBe('TEMPLATE_PARAM');
    expect(error.message).toBe('template sample@1.0.0 has no parameter "stpes"');
    expect(error.hint).toContain('did you mean "steps"?');
    expect(error.hint).toContain('positive, negative, seed');
    expect(error.location).toEqual({ ...at, line: 15, column: 11 });
  });
});

describe('buildWorkflow: models', () => {
  it('resolves a logical model name to the file the server lists', async () => {
    const template = await sample();
    const info = asObjectInfo(objectInfo({ checkpoints: ['SDXL\\SD_XL_BASE_1.0.safetensors', 'v1-5-pruned-emaonly.safetensors'] }));
    const workflow = buildWorkflow(template, { positive: 'p' }, { objectInfo: info, server: 'http://gpu-2:8188' });
    // The server's own string, verbatim (Windows separators and case included).
    expect(workflow['1']!.inputs.ckpt_name).toBe('SDXL\\SD_XL_BASE_1.0.safetensors');
  });

  it('sends the conventional file name when no server list is at hand', async () => {
    const template = await sample();
    expect(buildWorkflow(template, { positive: 'p' })['1']!.inputs.ckpt_name).toBe('sd_xl_base_1.0.safetensors');
    expect(buildWorkflow(template, { positive: 'p', checkpoint: 'mine.safetensors' })['1']!.inputs.ckpt_name).toBe('mine.safetensors');
  });

  it('fails with the server, the parameter, the script position and the candidates when the model is absent', async () => {
    const template = await sample();
    const info = asObjectInfo(objectInfo({ checkpoints: ['v1-5-pruned-emaonly.safetensors', 'dreamshaper_8.safetensors'] }));
    const error = thrown(() =>
      buildWorkflow(template, { positive: 'p', checkpoint: 'sdxl-base' }, { objectInfo: info, server: 'http://gpu-2:8188', paramLocations: { checkpoint: at } }),
    );
    expect(error.code).toBe('SERVER_MISSING_CAPABILITY');
    expect(error.message).toBe('checkpoints model "sdxl-base" (template sample@1.0.0, parameter "checkpoint") is not available on http://gpu-2:8188');
    expect(error.hint).toContain('"v1-5-pruned-emaonly.safetensors", "dreamshaper_8.safetensors"');
    expect(error.location).toEqual(at);
  });
});
