/**
 * The multi-reference template families (issue 15): every built-in template validates
 * against both real node catalogues (ComfyUI 0.8.0 and 0.28.0) with any number of its
 * reference slots filled, empty slots are cut out of the graph, and a two-character panel
 * with a background runs end to end on the emulator with its three images uploaded and
 * wired into the template's inputs.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import type { RunReport } from '../../src/run/report.js';
import { buildWorkflow } from '../../src/templates/builder.js';
import { structuralProblems } from '../../src/templates/catalogue-check.js';
import { loadTemplateRegistry, type ObjectInfo, type Template, type TemplateRegistry } from '../../src/templates/index.js';
import { manifestShapeProblems, manifestWorkflowProblems } from '../../src/templates/manifest.js';
import { preflight } from '../../src/templates/preflight.js';
import { sampleParams } from '../../src/templates/validate.js';
import { isLink, type ApiWorkflow } from '../../src/templates/workflow.js';
import { startComfyEmulator, type ComfyEmulator } from '../fakes/comfyui/index.js';

const TRACES = fileURLToPath(new URL('../fixtures/comfyui/traces/', import.meta.url));
/** The node catalogues of real servers, captured with no models installed. */
const CATALOGUES = { '0.8.0': join(TRACES, 'GET_object_info_full.json'), '0.28.0': join(TRACES, '0.28', 'GET_object_info_full.json') };

/** Each loader's COMBO list gets the files a server with the family's models would have. */
const MODELS: Record<string, [string, string, string[]]> = {
  checkpoints: ['CheckpointLoaderSimple', 'ckpt_name', ['sd_xl_base_1.0.safetensors', 'v1-5-pruned-emaonly.safetensors', 'flux1-dev-fp8.safetensors']],
  clip_vision: ['CLIPVisionLoader', 'clip_name', ['clip_vision_g.safetensors']],
  diffusion_models: ['UNETLoader', 'unet_name', ['flux2_dev_fp8mixed.safetensors', 'qwen_image_edit_2509_fp8_e4m3fn.safetensors']],
  text_encoders: ['CLIPLoader', 'clip_name', ['mistral_3_small_flux2_bf16.safetensors', 'qwen_2.5_vl_7b_fp8_scaled.safetensors']],
  vae: ['VAELoader', 'vae_name', ['flux2-vae.safetensors', 'qwen_image_vae.safetensors']],
};

function catalogue(file: string): ObjectInfo {
  const info = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { input: { required: Record<string, unknown[]> } }>;
  for (const [cls, input, files] of Object.values(MODELS)) {
    const spec = info[cls]!.input.required[input]!;
    // Both COMBO encodings: [[...files]] (0.8) and ["COMBO", {options}] (V3 nodes).
    if (Array.isArray(spec[0])) spec[0] = [...files];
    else (spec[1] as { options: string[] }).options = [...files];
  }
  return info as unknown as ObjectInfo;
}

/** The template built with its first `filled` image slots given and the rest left empty. */
function built(template: Template, filled: number, info: ObjectInfo): ApiWorkflow {
  const params: Record<string, unknown> = { ...sampleParams(template) };
  template.imageInputs.forEach((name, i) => (params[name] = i < filled ? `ref-${i + 1}.png` : undefined));
  return buildWorkflow(template, params, { objectInfo: info, server: 'http://gpu:8188' });
}

function danglingLinks(workflow: ApiWorkflow): string[] {
  return Object.entries(workflow).flatMap(([id, node]) =>
    Object.entries(node.inputs).flatMap(([input, value]) => (isLink(value) && !workflow[value[0]] ? [`${id}.${input} → ${value[0]}`] : [])),
  );
}

const classes = (workflow: ApiWorkflow, cls: string) => Object.entries(workflow).filter(([, node]) => node.class_type === cls);

let registry: TemplateRegistry;
beforeAll(async () => {
  registry = await loadTemplateRegistry({ dirs: [] });
});

describe.each(Object.entries(CATALOGUES))('every built-in template against the ComfyUI %s catalogue', (_version, file) => {
  const info = catalogue(file);

  it('has all its node classes there, and validates with 0, 1 and every reference slot filled', () => {
    const ids = registry.ids();
    expect(ids).toEqual(expect.arrayContaining(['panel-flux2', 'panel-qwen-edit', 'character-sheet-flux2', 'character-sheet-qwen-edit', 'background-flux2', 'background-qwen-edit']));
    for (const id of ids) {
      const template = registry.resolve({ id, range: null });
      for (const cls of template.requires.nodes) expect(Object.keys(info), `${id} needs ${cls}`).toContain(cls);
      const required = template.imageInputs.filter((name) => !template.targets.absent[name]).length;
      for (const filled of new Set([required, Math.max(required, 1), template.imageInputs.length])) {
        if (filled > template.imageInputs.length) continue;
        const workflow = built(template, filled, info);
        expect(structuralProblems(workflow, info), `${id} with ${filled} reference(s)`).toEqual([]);
        expect(preflight(workflow, info, { server: 'http://gpu:8188' }).filter((p) => p.kind !== 'not-in-list' || !('input' in p) || p.input !== 'image'), `${id} with ${filled}`).toEqual([]);
        expect(danglingLinks(workflow), id).toEqual([]);
      }
    }
  });

  it('catches a miswired reference (the check has teeth)', () => {
    const template = registry.resolve({ id: 'panel-flux2', range: null });
    const workflow = structuredClone(built(template, 2, info)) as Record<string, { class_type: string; inputs: Record<string, unknown> }>;
    const [latentId] = classes(workflow as ApiWorkflow, 'ReferenceLatent')[0]!;
    const [loadId] = classes(workflow as ApiWorkflow, 'LoadImage')[0]!;
    workflow[latentId]!.inputs.latent = [loadId, 0]; // an IMAGE where a LATENT goes
    expect(structuralProblems(workflow as ApiWorkflow, info).join('\n')).toMatch(/latent/);
  });
});

describe('reference slots', () => {
  const info = catalogue(CATALOGUES['0.28.0']);

  it('declares what each panel template takes', () => {
    const takes = (id: string) => {
      const t = registry.resolve({ id, range: null });
      return { slots: t.imageInputs.length, ...t.references, label: t.referenceLabel };
    };
    expect(takes('panel-flux2')).toEqual({ slots: 5, character: 4, background: 1, label: 'image {n}' });
    expect(takes('panel-qwen-edit')).toEqual({ slots: 3, character: 3, background: 1, label: 'picture {n}' });
    expect(takes('panel-ref')).toEqual({ slots: 1, character: 1, background: 0, label: null });
    expect(takes('panel')).toEqual({ slots: 0, character: 0, background: 0, label: null });
  });

  it('Flux.2: two references chain two ReferenceLatents; the empty slots and their LoadImages are gone', () => {
    const workflow = built(registry.resolve({ id: 'panel-flux2', range: null }), 2, info);
    expect(classes(workflow, 'LoadImage').map(([, n]) => n.inputs.image)).toEqual(['ref-1.png', 'ref-2.png']);
    const latents = classes(workflow, 'ReferenceLatent');
    expect(latents).toHaveLength(2);
    const guidance = classes(workflow, 'FluxGuidance')[0]![1];
    // Guidance reads the second ReferenceLatent, which reads the first, which reads the prompt.
    const second = workflow[(guidance.inputs.conditioning as [string, number])[0]]!;
    expect(second._meta?.title).toBe('Reference latent 2');
    const first = workflow[(second.inputs.conditioning as [string, number])[0]]!;
    expect(first._meta?.title).toBe('Reference latent 1');
    expect(workflow[(first.inputs.conditioning as [string, number])[0]]!._meta?.title).toBe('Positive prompt');
    // With no reference it is plain text to image.
    const none = built(registry.resolve({ id: 'panel-flux2', range: null }), 0, info);
    expect(classes(none, 'LoadImage')).toEqual([]);
    expect(classes(none, 'ReferenceLatent')).toEqual([]);
  });

  it('Qwen-Image-Edit: one picture is wired to both encoders; image2 and image3 are unplugged', () => {
    const workflow = built(registry.resolve({ id: 'panel-qwen-edit', range: null }), 1, info);
    const encoders = classes(workflow, 'TextEncodeQwenImageEditPlus');
    expect(encoders).toHaveLength(2);
    const [loadId] = classes(workflow, 'LoadImage')[0]!;
    for (const [, node] of encoders) {
      expect(node.inputs.image1).toEqual([loadId, 0]);
      expect(node.inputs).not.toHaveProperty('image2');
      expect(node.inputs).not.toHaveProperty('image3');
    }
    expect(classes(workflow, 'LoadImage')).toHaveLength(1);
  });

  it('refuses a manifest that claims more references than it has image slots', async () => {
    const dir = fileURLToPath(new URL('../../templates/panel-qwen-edit/', import.meta.url));
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Record<string, any>;
    const workflow = JSON.parse(await readFile(join(dir, 'workflow.json'), 'utf8')) as ApiWorkflow;
    manifest.references = { character: 4, background: 1 };
    manifest.params.image2.absent = { bypass: [{ node: 'title:Reference 2', input: 'image' }] };
    const shape = manifestShapeProblems(manifest);
    expect(shape.problems).toEqual([]);
    const { problems } = manifestWorkflowProblems(shape.manifest!, workflow);
    expect(problems).toContain("references.character: 4 is more than the template's 3 image parameter(s)");
    expect(problems.join('\n')).toMatch(/params\.image2\.absent\.bypass\.0: input "image" of node \d+ \(LoadImage\) must be a link/);
  });
});

const SCRIPT = `comic:
  title: Two at the lamp
  style: ink and watercolor
  format: { trim: us-comic, dpi: 60, bleed: 0in }
  seed: 7
defaults:
  family: FAMILY
characters:
  mara: { name: Mara, description: "young keeper, red raincoat" }
  tobias: { name: Tobias, description: "old keeper, white beard" }
backgrounds:
  lamp-room: { prompt: "lamp room, brass lens, storm outside" }
pages:
  - layout: "1"
    panels:
      - prompt: Mara and Tobias turn the crank together
        characters: [mara, tobias]
        background: lamp-room
`;

describe.each([
  ['flux2', 'panel-flux2', 'image'],
  ['qwen-image-edit', 'panel-qwen-edit', 'picture'],
])('a two-character panel with a background, %s, on the ComfyUI emulator', (family, panelTemplate, word) => {
  let dir: string;
  let emulator: ComfyEmulator;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'comic-families-'));
    await writeFile(join(dir, 'comic.yaml'), SCRIPT.replace('FAMILY', family));
    emulator = await startComfyEmulator({ stepMs: 0 });
  });
  afterAll(async () => {
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('uploads the three references and they reach the template inputs of the submitted workflow', async () => {
    const sink = { write: () => true } as unknown as NodeJS.WritableStream;
    const io: CliIO = { stdout: sink, stderr: sink, env: {}, cwd: dir };
    const code = await main(['node', 'comic', 'generate', 'comic.yaml', '--out', 'out', '--cache', 'cache', '--server', emulator.url, '--no-fallback'], io);
    const report = JSON.parse(await readFile(join(dir, 'out', 'report.json'), 'utf8')) as RunReport;
    expect(report.jobs.filter((j) => j.status === 'failed'), JSON.stringify(report.jobs)).toEqual([]);
    expect(code).toBe(0);
    const byId = Object.fromEntries(report.jobs.map((j) => [j.id, j]));
    expect(Object.keys(byId)).toEqual(expect.arrayContaining(['character:mara', 'character:tobias', 'background:lamp-room', 'panel:1-1']));

    // The panel's prompt: the one with LoadImage nodes.
    const panels = [...emulator.prompts.values()].map((p) => p.prompt as ApiWorkflow).filter((w) => classes(w, 'LoadImage').length > 0);
    expect(panels).toHaveLength(1);
    const workflow = panels[0]!;
    const loads = classes(workflow, 'LoadImage');
    expect(loads).toHaveLength(3);
    expect(emulator.log.filter((e) => e.method === 'POST' && e.path.endsWith('/upload/image') && e.status === 200).length).toBeGreaterThanOrEqual(3);

    // Slot n holds mara's sheet, tobias's sheet, the background plate: compare the uploaded bytes.
    const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
    const expected = await Promise.all(['character:mara', 'character:tobias', 'background:lamp-room'].map(async (id) => sha(await readFile(byId[id]!.output!))));
    const template = registry.resolve({ id: panelTemplate, range: null });
    const got: string[] = [];
    for (const [slot, name] of template.imageInputs.slice(0, 3).entries()) {
      const nodeId = template.targets.inject[name]![0]!.nodeId;
      const filename = workflow[nodeId]!.inputs.image as string;
      const response = await fetch(`${emulator.url}/api/view?filename=${encodeURIComponent(filename)}&type=input`);
      expect(response.status, `slot ${slot + 1}: ${filename}`).toBe(200);
      got.push(sha(Buffer.from(await response.arrayBuffer())));
    }
    expect(got).toEqual(expected);

    // Every uploaded image is wired in: a ReferenceLatent each (Flux.2) or image1..3 of both encoders (Qwen).
    if (family === 'flux2') expect(classes(workflow, 'ReferenceLatent')).toHaveLength(3);
    else for (const [, node] of classes(workflow, 'TextEncodeQwenImageEditPlus')) expect(['image1', 'image2', 'image3'].every((k) => isLink(node.inputs[k]))).toBe(true);

    // The prompt names the references by number.
    const positive = JSON.stringify(workflow);
    expect(positive).toContain(`(the character in ${word} 1)`);
    expect(positive).toContain(`(the character in ${word} 2)`);
    expect(positive).toContain(`(the setting in ${word} 3)`);
  }, 90_000);
});
