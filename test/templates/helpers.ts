/** Shared fixtures for the template tests: a real object_info with models installed, and temp template folders. */
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect } from 'vitest';
import { ComicError } from '../../src/errors.js';
import type { ObjectInfo } from '../../src/templates/index.js';

/** ComfyUI 0.8.0's real /object_info (448 core nodes), captured with no models installed. */
const OBJECT_INFO_FILE = fileURLToPath(new URL('../fixtures/comfyui/object_info.json', import.meta.url));
export const UI_WORKFLOWS = fileURLToPath(new URL('../fixtures/ui-workflows/', import.meta.url));

/** The models the ComfyUI emulator installs by default. */
export const MODELS = {
  checkpoints: ['sd_xl_base_1.0.safetensors', 'v1-5-pruned-emaonly.safetensors', 'sdxl/juggernautXL_v9.safetensors', 'flux1-dev-fp8.safetensors'],
  loras: ['comic-inks-sdxl.safetensors'],
  clip_vision: ['clip_vision_g.safetensors', 'CLIP-ViT-H-14-laion2B-s32B-b79K.safetensors'],
  vae: ['sdxl_vae.safetensors', 'flux2-vae.safetensors', 'qwen_image_vae.safetensors'],
  diffusion_models: ['flux2_dev_fp8mixed.safetensors', 'qwen_image_edit_2509_fp8_e4m3fn.safetensors'],
  text_encoders: ['mistral_3_small_flux2_bf16.safetensors', 'qwen_2.5_vl_7b_fp8_scaled.safetensors'],
} as const;

type Spec = [unknown, Record<string, unknown>?];

/** The real object_info with model lists filled in (both COMBO encodings are kept as the server has them). */
export function objectInfo(models: Partial<Record<keyof typeof MODELS, readonly string[]>> = MODELS): Record<string, any> {
  const info = JSON.parse(readFileSync(OBJECT_INFO_FILE, 'utf8')) as Record<string, any>;
  const set = (cls: string, input: string, files: readonly string[] | undefined) => {
    const spec = info[cls].input.required[input] as Spec;
    if (files) spec[0] = [...files];
  };
  set('CheckpointLoaderSimple', 'ckpt_name', models.checkpoints);
  set('LoraLoader', 'lora_name', models.loras);
  set('CLIPVisionLoader', 'clip_name', models.clip_vision);
  set('VAELoader', 'vae_name', models.vae);
  set('UNETLoader', 'unet_name', models.diffusion_models);
  set('CLIPLoader', 'clip_name', models.text_encoders);
  return info;
}

export function asObjectInfo(info: Record<string, any>): ObjectInfo {
  return info as ObjectInfo;
}

export function readFixture(name: string): unknown {
  return JSON.parse(readFileSync(join(UI_WORKFLOWS, name), 'utf8'));
}

const temps: string[] = [];
afterEach(async () => {
  await Promise.all(temps.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'comic-templates-'));
  temps.push(dir);
  return dir;
}

/** A small valid template: checkpoint → prompts → sampler → save, with the usual parameters. */
export function sampleTemplate(overrides: { id?: string; version?: string; description?: string; steps?: number } = {}) {
  const workflow = {
    '1': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sd_xl_base_1.0.safetensors' }, _meta: { title: 'Checkpoint' } },
    '2': { class_type: 'CLIPTextEncode', inputs: { text: '', clip: ['1', 1] }, _meta: { title: 'Positive prompt' } },
    '3': { class_type: 'CLIPTextEncode', inputs: { text: '', clip: ['1', 1] }, _meta: { title: 'Negative prompt' } },
    '4': { class_type: 'EmptyLatentImage', inputs: { width: 1024, height: 1024, batch_size: 1 }, _meta: { title: 'Latent' } },
    '5': {
      class_type: 'KSampler',
      inputs: { model: ['1', 0], seed: 0, steps: overrides.steps ?? 20, cfg: 7, sampler_name: 'euler', scheduler: 'normal', positive: ['2', 0], negative: ['3', 0], latent_image: ['4', 0], denoise: 1 },
      _meta: { title: 'Sampler' },
    },
    '6': { class_type: 'VAEDecode', inputs: { samples: ['5', 0], vae: ['1', 2] }, _meta: { title: 'Decode' } },
    '7': { class_type: 'SaveImage', inputs: { images: ['6', 0], filename_prefix: 'test' }, _meta: { title: 'Save' } },
  };
  const manifest = {
    id: overrides.id ?? 'sample',
    version: overrides.version ?? '1.0.0',
    description: overrides.description ?? 'A test template.',
    role: 'panel',
    family: 'sdxl',
    size: { multiple: 64, min: 512, max: 2048, pixels: 1048576 },
    params: {
      positive: { type: 'string', inject: [{ node: 'title:Positive prompt', input: 'text' }] },
      negative: { type: 'string', default: '', inject: [{ node: '3', input: 'text' }] },
      seed: { type: 'int', default: 0, min: 0, max: 9007199254740991, inject: [{ node: 'title:Sampler', input: 'seed' }] },
      width: { type: 'int', default: 1024, min: 512, max: 2048, inject: [{ node: 'title:Latent', input: 'width' }] },
      height: { type: 'int', default: 1024, min: 512, max: 2048, inject: [{ node: '4', input: 'height' }] },
      checkpoint: { type: 'model', folder: 'checkpoints', default: 'sdxl-base', inject: [{ node: 'title:Checkpoint', input: 'ckpt_name' }] },
      steps: { type: 'int', default: 20, min: 1, max: 150, inject: [{ node: '5', input: 'steps' }] },
      cfg: { type: 'float', default: 7, min: 0, max: 30, inject: [{ node: '5', input: 'cfg' }] },
      sampler: { type: 'enum', options: ['euler', 'dpmpp_2m'], default: 'euler', inject: [{ node: '5', input: 'sampler_name' }] },
    },
    outputs: ['title:Save'],
    requires: {
      nodes: ['CLIPTextEncode', 'CheckpointLoaderSimple', 'EmptyLatentImage', 'KSampler', 'SaveImage', 'VAEDecode'],
      models: [{ folder: 'checkpoints', name: 'sdxl-base' }],
    },
    sdapi: {
      mode: 'txt2img',
      fields: { prompt: 'positive', negative_prompt: 'negative', seed: 'seed', width: 'width', height: 'height', steps: 'steps', cfg_scale: 'cfg', sampler_name: 'sampler', 'override_settings.sd_model_checkpoint': 'checkpoint' },
      unsupported: {},
    },
  };
  return { manifest, workflow };
}

/** Writes `<root>/<folder>/manifest.json` and `workflow.json`; returns the folder. */
export async function writeTemplate(root: string, folder: string, template: { manifest: unknown; workflow: unknown }): Promise<string> {
  const dir = join(root, folder);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(template.manifest, null, 2));
  await writeFile(join(dir, 'workflow.json'), JSON.stringify(template.workflow, null, 2));
  return dir;
}

/** What `run` threw, which must be a ComicError. */
export function thrown(run: () => unknown): ComicError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ComicError);
    return error as ComicError;
  }
  throw new Error('expected a ComicError');
}

/** What the promise `run` returns rejects with, which must be a ComicError. */
export async function rejected(run: () => Promise<unknown>): Promise<ComicError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(ComicError);
    return error as ComicError;
  }
  throw new Error('expected a ComicError');
}
