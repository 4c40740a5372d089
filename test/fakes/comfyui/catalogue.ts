/**
 * The node catalogue: ComfyUI 0.8.0's real /object_info (448 core nodes plus the two test
 * nodes SlowProgress and FailingNode), with the model COMBO lists replaced by the models this
 * emulator is configured with and LoadImage's list taken from its input folder.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pyJson } from './python.js';

export type JsonObject = Record<string, unknown>;

export interface NodeDef {
  input: { required?: Record<string, unknown[]>; optional?: Record<string, unknown[]>; hidden?: JsonObject };
  input_order: { required?: string[]; optional?: string[]; hidden?: string[] };
  output: unknown[];
  output_node: boolean;
  [key: string]: unknown;
}

export interface InputInfo {
  /** A type name ("INT", "IMAGE", "COMBO", …) or a legacy COMBO option list. */
  readonly type: unknown;
  readonly options: JsonObject;
  readonly category: 'required' | 'optional';
}

/** Folder keys in the order GET /models lists them on a stock 0.8.0. */
export const MODEL_FOLDERS: readonly string[] = [
  'checkpoints', 'configs', 'loras', 'vae', 'text_encoders', 'diffusion_models', 'clip_vision', 'style_models',
  'embeddings', 'diffusers', 'vae_approx', 'controlnet', 'gligen', 'upscale_models', 'latent_upscale_models',
  'custom_nodes', 'hypernetworks', 'photomaker', 'classifiers', 'model_patches', 'audio_encoders',
];

/** What a bare emulator has installed: every model the built-in templates and the example comic use. */
export const DEFAULT_MODELS: Readonly<Record<string, readonly string[]>> = {
  checkpoints: [
    'sd_xl_base_1.0.safetensors',
    'v1-5-pruned-emaonly.safetensors',
    'sdxl/juggernautXL_v9.safetensors',
    'flux1-dev-fp8.safetensors',
  ],
  loras: ['comic-inks-sdxl.safetensors'],
  vae: ['sdxl_vae.safetensors', 'flux2-vae.safetensors', 'qwen_image_vae.safetensors'],
  diffusion_models: ['flux2_dev_fp8mixed.safetensors', 'qwen_image_edit_2509_fp8_e4m3fn.safetensors'],
  text_encoders: ['mistral_3_small_flux2_bf16.safetensors', 'qwen_2.5_vl_7b_fp8_scaled.safetensors'],
  clip_vision: ['clip_vision_g.safetensors', 'CLIP-ViT-H-14-laion2B-s32B-b79K.safetensors'],
  controlnet: [],
  upscale_models: ['4x-UltraSharp.pth'],
};

/** Which COMBO input of which loader lists which model folder. */
const MODEL_INPUTS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  CheckpointLoaderSimple: { ckpt_name: 'checkpoints' },
  CheckpointLoader: { ckpt_name: 'checkpoints' },
  unCLIPCheckpointLoader: { ckpt_name: 'checkpoints' },
  ImageOnlyCheckpointLoader: { ckpt_name: 'checkpoints' },
  CreateHookModelAsLora: { ckpt_name: 'checkpoints' },
  CreateHookModelAsLoraModelOnly: { ckpt_name: 'checkpoints' },
  LoraLoader: { lora_name: 'loras' },
  LoraLoaderModelOnly: { lora_name: 'loras' },
  CreateHookLora: { lora_name: 'loras' },
  CreateHookLoraModelOnly: { lora_name: 'loras' },
  VAELoader: { vae_name: 'vae' },
  CLIPLoader: { clip_name: 'text_encoders' },
  DualCLIPLoader: { clip_name1: 'text_encoders', clip_name2: 'text_encoders' },
  TripleCLIPLoader: { clip_name1: 'text_encoders', clip_name2: 'text_encoders', clip_name3: 'text_encoders' },
  QuadrupleCLIPLoader: {
    clip_name1: 'text_encoders', clip_name2: 'text_encoders', clip_name3: 'text_encoders', clip_name4: 'text_encoders',
  },
  UNETLoader: { unet_name: 'diffusion_models' },
  ControlNetLoader: { control_net_name: 'controlnet' },
  DiffControlNetLoader: { control_net_name: 'controlnet' },
  StyleModelLoader: { style_model_name: 'style_models' },
  CLIPVisionLoader: { clip_name: 'clip_vision' },
  GLIGENLoader: { gligen_name: 'gligen' },
  HypernetworkLoader: { hypernetwork_name: 'hypernetworks' },
  UpscaleModelLoader: { model_name: 'upscale_models' },
  PhotoMakerLoader: { photomaker_model_name: 'photomaker' },
  LatentUpscaleModelLoader: { model_name: 'latent_upscale_models' },
  ModelPatchLoader: { name: 'model_patches' },
  AudioEncoderLoader: { audio_encoder_name: 'audio_encoders' },
};

/** Nodes whose COMBO is the input folder's image list (checked by their own validate function). */
export const INPUT_IMAGE_NODES: ReadonlySet<string> = new Set(['LoadImage', 'LoadImageMask']);

/** VAELoader lists what it can decode without a file after the files. */
const VAE_BUILTINS = ['pixel_space'];

export const OBJECT_INFO_FIXTURE = fileURLToPath(new URL('../../fixtures/comfyui/object_info.json', import.meta.url));

const baseCatalogues = new Map<string, Record<string, NodeDef>>();

function loadBase(file: string): Record<string, NodeDef> {
  let base = baseCatalogues.get(file);
  if (base === undefined) {
    base = JSON.parse(readFileSync(file, 'utf8')) as Record<string, NodeDef>;
    baseCatalogues.set(file, base);
  }
  return base;
}

/** Python's sorted() on file names. */
function sortedNames(names: readonly string[]): string[] {
  return [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Replaces a COMBO's options in whichever of the two encodings the node uses. */
function setComboOptions(spec: unknown[], options: string[]): void {
  if (Array.isArray(spec[0])) spec[0] = options;
  else if (spec[0] === 'COMBO') spec[1] = { ...((spec[1] as JsonObject | undefined) ?? {}), options };
}

export type ModelLists = Readonly<Record<string, readonly string[]>>;

/** Defaults overridden folder by folder (a folder given in options replaces the default list). */
export function resolveModels(overrides: Partial<Record<string, string[]>> | undefined): ModelLists {
  const lists: Record<string, readonly string[]> = {};
  for (const folder of MODEL_FOLDERS) lists[folder] = sortedNames(DEFAULT_MODELS[folder] ?? []);
  for (const [folder, files] of Object.entries(overrides ?? {})) {
    if (files !== undefined) lists[folder] = sortedNames(files);
  }
  return lists;
}

export class Catalogue {
  private readonly nodes: Record<string, NodeDef>;
  /** /object_info is ~390 KB; its text only changes when the input folder does. */
  private serialized: { key: string; text: string } | undefined;

  constructor(
    readonly models: ModelLists,
    private readonly inputImages: () => string[],
    objectInfoFile: string = OBJECT_INFO_FIXTURE,
  ) {
    this.nodes = structuredClone(loadBase(objectInfoFile));
    for (const [classType, inputs] of Object.entries(MODEL_INPUTS)) {
      const def = this.nodes[classType];
      if (def === undefined) continue;
      for (const [name, folder] of Object.entries(inputs)) {
        const spec = def.input.required?.[name] ?? def.input.optional?.[name];
        if (spec === undefined) continue;
        const files = [...(models[folder] ?? [])];
        setComboOptions(spec, classType === 'VAELoader' ? [...files, ...VAE_BUILTINS] : files);
      }
    }
  }

  /** A node pack gone (its import failed on the last start): the class is no longer there. */
  remove(classType: string): void {
    delete this.nodes[classType];
    this.serialized = undefined;
  }

  has(classType: unknown): classType is string {
    return typeof classType === 'string' && Object.hasOwn(this.nodes, classType);
  }

  def(classType: string): NodeDef | undefined {
    return Object.hasOwn(this.nodes, classType) ? this.nodes[classType] : undefined;
  }

  isOutputNode(classType: string): boolean {
    return this.def(classType)?.output_node === true;
  }

  returnTypes(classType: string): unknown[] {
    return this.def(classType)?.output ?? [];
  }

  /** Required then optional inputs, in declaration order. */
  inputs(classType: string): Array<[string, InputInfo]> {
    const def = this.def(classType);
    if (def === undefined) return [];
    const out: Array<[string, InputInfo]> = [];
    for (const category of ['required', 'optional'] as const) {
      const specs = def.input[category] ?? {};
      const order = def.input_order[category] ?? Object.keys(specs);
      for (const name of order) {
        const spec = specs[name];
        if (spec !== undefined) out.push([name, { type: spec[0], options: (spec[1] as JsonObject | undefined) ?? {}, category }]);
      }
    }
    return out;
  }

  input(classType: string, name: string): InputInfo | undefined {
    return this.inputs(classType).find(([n]) => n === name)?.[1];
  }

  /** The model folder a loader's input names, if it is one. */
  modelFolder(classType: string, inputName: string): string | undefined {
    return MODEL_INPUTS[classType]?.[inputName];
  }

  modelInputs(classType: string): Readonly<Record<string, string>> {
    return MODEL_INPUTS[classType] ?? {};
  }

  /** Every node definition, with the current input folder in LoadImage's list. */
  objectInfo(): Record<string, NodeDef> {
    const images = sortedNames(this.inputImages());
    for (const classType of INPUT_IMAGE_NODES) {
      const spec = this.nodes[classType]?.input.required?.image;
      if (spec !== undefined) setComboOptions(spec, images);
    }
    return this.nodes;
  }

  /** GET /object_info's body. */
  objectInfoText(): string {
    const key = sortedNames(this.inputImages()).join('\n');
    if (this.serialized?.key !== key) this.serialized = { key, text: pyJson(this.objectInfo()) };
    return this.serialized.text;
  }
}
