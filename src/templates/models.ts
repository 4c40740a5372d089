/**
 * Logical model names → each server's actual file. The same checkpoint sits under different
 * folders and with different case on different machines ("SDXL\\sd_xl_base_1.0.safetensors"
 * on Windows, "sdxl/sd_xl_base_1.0.safetensors" elsewhere), so names are matched ignoring
 * folder separators and case, against the COMBO list the server itself offers; the value
 * sent is always the server's own string.
 */
import { ComicError } from '../errors.js';
import { comboOptions, findInput, type ObjectInfo } from './object-info.js';

/**
 * Well-known logical names and the file stems they stand for, most preferred first. Only
 * names people actually use: anything else is matched as a file name.
 */
export const MODEL_ALIASES: Readonly<Record<string, readonly string[]>> = {
  'sdxl-base': ['sd_xl_base_1.0', 'sd_xl_base_1.0_0.9vae'],
  'sdxl-refiner': ['sd_xl_refiner_1.0', 'sd_xl_refiner_1.0_0.9vae'],
  sd15: ['v1-5-pruned-emaonly', 'v1-5-pruned-emaonly-fp16', 'v1-5-pruned'],
  'sd1.5': ['v1-5-pruned-emaonly', 'v1-5-pruned-emaonly-fp16', 'v1-5-pruned'],
  'juggernaut-xl': ['juggernautXL_v9', 'juggernautXL_v9_rdphoto2-lightning_4s', 'juggernautXL_v8'],
  'flux-dev': ['flux1-dev-fp8', 'flux1-dev'],
  'flux-schnell': ['flux1-schnell-fp8', 'flux1-schnell'],
  'comic-inks': ['comic-inks-sdxl'],
  'clip-vision-g': ['clip_vision_g', 'CLIP-ViT-bigG-14-laion2B-39B-b160k'],
  'clip-vision-h': ['CLIP-ViT-H-14-laion2B-s32B-b79K', 'clip_vision_h'],
  // Flux.2 (diffusion_models, text_encoders, vae): the file names ComfyUI's own Flux.2 templates download.
  'flux2-dev': ['flux2_dev_fp8mixed', 'flux2-dev', 'flux2_dev_bf16'],
  'flux2-klein-9b': ['flux-2-klein-9b-fp8', 'flux-2-klein-9b', 'flux2_klein_9b'],
  'flux2-klein-4b': ['flux-2-klein-4b-fp8', 'flux-2-klein-4b', 'flux2_klein_4b'],
  'flux2-text-encoder': ['mistral_3_small_flux2_bf16', 'mistral_3_small_flux2_fp8'],
  'flux2-vae': ['flux2-vae', 'flux2_vae'],
  // Qwen-Image-Edit 2509/2511 and what it loads with.
  'qwen-image-edit': ['qwen_image_edit_2509_fp8_e4m3fn', 'qwen_image_edit_2509_bf16', 'qwen_image_edit_2511_fp8mixed', 'qwen_image_edit_2511_bf16'],
  'qwen-image-edit-2511': ['qwen_image_edit_2511_fp8mixed', 'qwen_image_edit_2511_bf16'],
  'qwen-2.5-vl': ['qwen_2.5_vl_7b_fp8_scaled', 'qwen_2.5_vl_7b'],
  'qwen-image-vae': ['qwen_image_vae'],
};

/** Where a server lists the files of each model folder: a loader node class and its input. */
export const FOLDER_LISTS: Readonly<Record<string, readonly [classType: string, input: string]>> = {
  checkpoints: ['CheckpointLoaderSimple', 'ckpt_name'],
  loras: ['LoraLoader', 'lora_name'],
  vae: ['VAELoader', 'vae_name'],
  clip_vision: ['CLIPVisionLoader', 'clip_name'],
  clip: ['CLIPLoader', 'clip_name'],
  text_encoders: ['CLIPLoader', 'clip_name'],
  diffusion_models: ['UNETLoader', 'unet_name'],
  unet: ['UNETLoader', 'unet_name'],
  controlnet: ['ControlNetLoader', 'control_net_name'],
  style_models: ['StyleModelLoader', 'style_model_name'],
  upscale_models: ['UpscaleModelLoader', 'model_name'],
};

const MODEL_EXTENSIONS = /\.(safetensors|ckpt|pt|pth|bin|gguf|sft)$/i;

/** The files a server has in `folder`, or null when it does not say (unknown folder or loader). */
export function folderOptions(objectInfo: ObjectInfo, folder: string): string[] | null {
  const where = FOLDER_LISTS[folder];
  const def = where ? objectInfo[where[0]] : undefined;
  const input = where && def ? findInput(def, where[1]) : undefined;
  return input ? comboOptions(input.spec) : null;
}

export interface ModelContext {
  /** The server whose list this is (for messages). */
  readonly server?: string;
  /** What asks for the model, e.g. `template panel@1.0.0, parameter "checkpoint"`. */
  readonly what?: string;
  /** The model folder, e.g. "checkpoints" (for messages). */
  readonly folder?: string;
}

/**
 * The entry of `options` (a server's COMBO list) that `logical` names. Tried in order, the
 * first rule that finds anything decides: the whole path; a path suffix; the file name;
 * the file name without extension; the well-known aliases, in preference order; the stem
 * with punctuation ignored. Ambiguity within a rule, or no match at all, is a ComicError
 * listing the candidates.
 */
export function resolveModel(logical: string, options: readonly string[], context: ModelContext = {}): string {
  const wanted = normalisePath(logical);
  const entries = options.map((option) => ({ option, path: normalisePath(option) }));
  const rules: ((e: { path: string }) => boolean)[] = [
    (e) => e.path === wanted,
    (e) => wanted.includes('/') && e.path.endsWith(`/${wanted}`),
    (e) => baseName(e.path) === baseName(wanted),
    (e) => stem(e.path) === stem(wanted),
  ];
  for (const alias of MODEL_ALIASES[logical.toLowerCase()] ?? []) rules.push((e) => stem(e.path) === alias.toLowerCase());
  rules.push((e) => loose(stem(e.path)) === loose(stem(wanted)));

  for (const rule of rules) {
    const hits = entries.filter(rule);
    if (hits.length === 1) return hits[0]!.option;
    if (hits.length > 1) {
      throw new ComicError('TEMPLATE_PARAM', `${subject(logical, context)} is ambiguous${onServer(context)}: it matches ${hits.map((h) => JSON.stringify(h.option)).join(', ')}`, {
        hint: `name the file with its folder, e.g. "${hits[0]!.option.replace(/\\/g, '/')}"`,
      });
    }
  }
  const similar = options.filter((o) => loose(stem(normalisePath(o))).includes(loose(stem(wanted)).slice(0, 4)));
  throw new ComicError('SERVER_MISSING_CAPABILITY', `${subject(logical, context)} is not available${onServer(context)}`, {
    hint: options.length === 0
      ? `the server has no ${context.folder ?? 'model'} files at all; install the model there`
      : `the server has ${listForMessage(similar.length > 0 ? similar : options)}; install the model or name one of these`,
  });
}

/** A logical name's conventional file name, for when no server list is at hand. */
export function canonicalModelName(logical: string): string {
  const alias = MODEL_ALIASES[logical.toLowerCase()]?.[0];
  return alias ? `${alias}.safetensors` : logical;
}

/** At most `limit` quoted entries, then how many more. */
export function listForMessage(items: readonly string[], limit = 12): string {
  const shown = items.slice(0, limit).map((item) => JSON.stringify(item));
  return items.length > limit ? `${shown.join(', ')} and ${items.length - limit} more` : shown.join(', ');
}

function subject(logical: string, context: ModelContext): string {
  const model = `${context.folder ? `${context.folder} ` : ''}model "${logical}"`;
  return context.what ? `${model} (${context.what})` : model;
}

function onServer(context: ModelContext): string {
  return context.server ? ` on ${context.server}` : '';
}

function normalisePath(name: string): string {
  return name.replace(/\\/g, '/').replace(/^\.\//, '').toLowerCase();
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function stem(path: string): string {
  return baseName(path).replace(MODEL_EXTENSIONS, '');
}

function loose(text: string): string {
  return text.replace(/[^a-z0-9]/g, '');
}
