/**
 * Preflight against the ComfyUI emulator: fetch its /api/object_info as the client does,
 * check workflows before any /prompt, and (for the clean ones) confirm that the server's own
 * validation agrees.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  buildWorkflow,
  loadTemplateRegistry,
  parseObjectInfo,
  preflight,
  preflightError,
  type ApiWorkflow,
  type ObjectInfo,
} from '../../src/templates/index.js';
import { sampleParams } from '../../src/templates/validate.js';
import { startComfyEmulator, type ComfyEmulator, type ComfyEmulatorOptions } from '../fakes/comfyui/index.js';
import { thrown } from './helpers.js';

const emulators: ComfyEmulator[] = [];
afterEach(async () => {
  await Promise.all(emulators.splice(0).map((emulator) => emulator.close()));
});

async function serverWith(options: ComfyEmulatorOptions = {}): Promise<{ emulator: ComfyEmulator; objectInfo: ObjectInfo }> {
  const emulator = await startComfyEmulator({ stepMs: 0, ...options });
  emulators.push(emulator);
  const response = await fetch(`${emulator.url}/api/object_info`);
  expect(response.status).toBe(200);
  return { emulator, objectInfo: parseObjectInfo(await response.json(), emulator.url) };
}

function noPromptSent(emulator: ComfyEmulator): void {
  expect(emulator.log.filter((entry) => entry.path.endsWith('/prompt'))).toEqual([]);
  expect(emulator.prompts.size).toBe(0);
}

describe('preflight against the ComfyUI emulator', () => {
  it('passes every built-in template on a server with the default models, and the server agrees', async () => {
    const { emulator, objectInfo } = await serverWith();
    const registry = await loadTemplateRegistry({ dirs: [] });
    const workflows = new Map<string, ApiWorkflow>();
    for (const id of registry.ids()) {
      const template = registry.resolve({ id, range: null });
      // The emulator's input folder has example.png, as every ComfyUI install does.
      const params: Record<string, unknown> = { ...sampleParams(template), steps: 2 };
      for (const name of template.imageInputs) params[name] = 'example.png';
      if ('hires_steps' in template.params) params.hires_steps = 1;
      const workflow = buildWorkflow(template, params, { objectInfo, server: emulator.url });
      expect(preflight(workflow, objectInfo, { server: emulator.url }), id).toEqual([]);
      workflows.set(id, workflow);
    }
    noPromptSent(emulator);

    for (const [id, workflow] of workflows) {
      const response = await fetch(`${emulator.url}/api/prompt`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: workflow, client_id: 'templates-test' }),
      });
      expect(response.status, `${id}: ${await response.clone().text()}`).toBe(200);
    }
  });

  it('reports a missing node class, naming the server, before any /prompt', async () => {
    const { emulator, objectInfo } = await serverWith();
    const registry = await loadTemplateRegistry({ dirs: [] });
    const workflow = {
      ...buildWorkflow(registry.resolve({ id: 'panel', range: null }), { positive: 'a lighthouse' }, { objectInfo, server: emulator.url }),
      '20': { class_type: 'FaceDetailer', inputs: { image: ['6', 0] }, _meta: { title: 'Fix faces' } },
    };
    const problems = preflight(workflow, objectInfo, { server: emulator.url });
    expect(problems.map((p) => p.message)).toEqual([
      `${emulator.url}: node #20 "Fix faces" (FaceDetailer): the server has no node class "FaceDetailer" (a custom node that is not installed there?)`,
    ]);
    const error = preflightError(problems, emulator.url);
    expect(error.code).toBe('SERVER_MISSING_CAPABILITY');
    expect(error.message).toContain(`${emulator.url} cannot run this workflow`);
    noPromptSent(emulator);
  });

  it('reports a missing model with what the server has, before any /prompt', async () => {
    const { emulator, objectInfo } = await serverWith({ models: { checkpoints: ['v1-5-pruned-emaonly.safetensors', 'dreamshaper_8.safetensors'] } });
    const registry = await loadTemplateRegistry({ dirs: [] });
    const panel = registry.resolve({ id: 'panel', range: null });

    // Resolving the logical name fails first, with the candidates.
    const error = thrown(() => buildWorkflow(panel, { positive: 'p' }, { objectInfo, server: emulator.url }));
    expect(error.code).toBe('SERVER_MISSING_CAPABILITY');
    expect(error.message).toBe(`checkpoints model "sdxl-base" (template panel@1.0.0, parameter "checkpoint") is not available on ${emulator.url}`);
    expect(error.hint).toContain('"dreamshaper_8.safetensors", "v1-5-pruned-emaonly.safetensors"');

    // A file name written into a workflow is caught by preflight.
    const workflow = buildWorkflow(panel, { positive: 'p' });
    const problems = preflight(workflow, objectInfo, { server: emulator.url });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ kind: 'not-in-list', input: 'ckpt_name', value: 'sd_xl_base_1.0.safetensors' });
    expect(problems[0]!.message).toBe(
      `${emulator.url}: node #1 "Checkpoint" (CheckpointLoaderSimple): input "ckpt_name": "sd_xl_base_1.0.safetensors" is not on this server; it has checkpoints "dreamshaper_8.safetensors", "v1-5-pruned-emaonly.safetensors"`,
    );
    noPromptSent(emulator);
  });

  it('reports a value not in a COMBO list, before any /prompt', async () => {
    const { emulator, objectInfo } = await serverWith();
    const registry = await loadTemplateRegistry({ dirs: [] });
    const workflow = buildWorkflow(registry.resolve({ id: 'panel-sd15', range: null }), { positive: 'p', sampler: 'euler_fast', scheduler: 'karras' }, { objectInfo, server: emulator.url });
    const problems = preflight(workflow, objectInfo, { server: emulator.url });
    expect(problems.map((p) => [p.node?.id, (p as { input?: string }).input])).toEqual([
      ['5', 'sampler_name'],
      ['14', 'sampler_name'],
    ]);
    expect(problems[0]!.message).toMatch(new RegExp(`^${emulator.url}: node #5 "Sampler" \\(KSampler\\): input "sampler_name": "euler_fast" is not on this server; it has "euler", `));
    noPromptSent(emulator);

    // The server's own validation rejects the same inputs.
    const response = await fetch(`${emulator.url}/api/prompt`, { method: 'POST', body: JSON.stringify({ prompt: workflow }) });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { node_errors: Record<string, unknown> };
    expect(Object.keys(body.node_errors).sort()).toEqual(['14', '5']);
  });
});
