/**
 * A manifest skeleton for an imported workflow, for the user to review and edit. When the
 * workflow has an App mode (the frontend's `extra.linearData.inputs`: the widgets its author
 * chose to expose), those become the parameters first, named after their widgets and aimed
 * at the inputs they land on in the API workflow (through subgraphs, for promoted widgets).
 * Then parameters are guessed from the graph (the prompts a sampler is fed, its seed and
 * settings, the latent size, the checkpoint, LoRAs, loaded images) for what App mode did
 * not cover. Guesses follow links rather than trust titles alone: the positive prompt is
 * what reaches a sampler's `positive` input; nodes are addressed by their titles.
 */
import type { Manifest, ModelFamily, ParamSpec, SdapiSource } from './manifest.js';
import { isLink, nodeTitle, type ApiWorkflow } from './workflow.js';

export interface Skeleton {
  readonly manifest: Manifest;
  /** What was guessed and what the user should check, one line each. */
  readonly notes: readonly string[];
}

const SAFE_SEED_MAX = Number.MAX_SAFE_INTEGER;
const SAMPLERS = new Set(['KSampler', 'KSamplerAdvanced']);
const CHECKPOINT_LOADERS: Readonly<Record<string, string>> = { CheckpointLoaderSimple: 'ckpt_name', CheckpointLoader: 'ckpt_name', unCLIPCheckpointLoader: 'ckpt_name' };

export const FAMILY_SIZES: Readonly<Record<ModelFamily, Manifest['size']>> = {
  sdxl: { multiple: 64, min: 512, max: 2048, pixels: 1024 * 1024 },
  sd15: { multiple: 64, min: 256, max: 1024, pixels: 512 * 512 },
  flux: { multiple: 16, min: 256, max: 2048, pixels: 1024 * 1024 },
  flux2: { multiple: 16, min: 256, max: 2048, pixels: 1024 * 1024 },
  'qwen-image-edit': { multiple: 16, min: 256, max: 2048, pixels: 1024 * 1024 },
};

/** SD API request field for each standard parameter. */
const SDAPI_FIELDS: Readonly<Record<string, string>> = {
  positive: 'prompt',
  negative: 'negative_prompt',
  seed: 'seed',
  width: 'width',
  height: 'height',
  steps: 'steps',
  cfg: 'cfg_scale',
  sampler: 'sampler_name',
  scheduler: 'scheduler',
  checkpoint: 'override_settings.sd_model_checkpoint',
};

/** An App-mode input resolved to the API workflow (convert.ts `AppInputTarget`). */
export interface SkeletonAppInput {
  readonly widget: string;
  readonly label: string;
  readonly targets: readonly { readonly node: string; readonly input: string }[];
}

export function manifestSkeleton(workflow: ApiWorkflow, options: { id: string; source: string; appInputs?: readonly SkeletonAppInput[] }): Skeleton {
  const notes: string[] = [];
  const params: Record<string, ParamSpec> = {};
  /** "node\u0000input" of every target a parameter already injects into. */
  const covered = new Set<string>();
  const ids = Object.keys(workflow).sort(byNodeId);
  const ref = (id: string): string => {
    const title = nodeTitle(workflow[id]!);
    const unique = title !== undefined && ids.filter((other) => nodeTitle(workflow[other]!) === title).length === 1;
    return unique ? `title:${title}` : id;
  };
  /** How notes name a node: by its title when it has a unique one. */
  const label = (id: string): string => {
    const r = ref(id);
    return r.startsWith('title:') ? `"${r.slice('title:'.length)}"` : `node ${id}`;
  };
  const literal = (id: string, input: string): unknown => {
    const value = workflow[id]?.inputs[input];
    return value === undefined || isLink(value) ? undefined : value;
  };
  const add = (name: string, given: ParamSpec, why: string): void => {
    let spec = given;
    // What an App-mode parameter already sets is not guessed again under another name.
    const inject = spec.inject.filter((t) => !covered.has(`${t.node}\u0000${t.input}`));
    if (inject.length === 0 || Object.hasOwn(params, name)) return;
    if (inject.length < spec.inject.length) spec = { ...spec, inject } as ParamSpec;
    params[name] = spec;
    for (const t of spec.inject) covered.add(`${t.node}\u0000${t.input}`);
    notes.push(`${name}: ${why}`);
  };

  for (const input of options.appInputs ?? []) {
    const targets = input.targets.filter((t) => literal(t.node, t.input) !== undefined);
    if (targets.length === 0) {
      notes.push(`App mode input "${input.widget}" of "${input.label}" does not land on a value in the API workflow (it is linked); add it by hand if needed`);
      continue;
    }
    const value = literal(targets[0]!.node, targets[0]!.input);
    const type = appParamType(value, targets[0]!.input);
    if (type === null) continue;
    let name = identifier(input.widget);
    if (Object.hasOwn(params, name)) name = identifier(`${input.label}_${input.widget}`);
    for (let n = 2; Object.hasOwn(params, name); n++) name = `${identifier(input.widget)}_${n}`;
    const inject = targets.map((t) => ({ node: ref(t.node), input: t.input }));
    const description = `App mode input "${input.widget}" of "${input.label}".`;
    const withDefault = type.type !== 'image' && !(type.type === 'model' && value === '');
    const spec = { ...type, ...(withDefault ? { default: value } : {}), description, inject } as unknown as ParamSpec;
    add(name, spec, `App mode input "${input.widget}" of "${input.label}" (${targets.map((t) => `${t.input} of ${label(t.node)}`).join(', ')})`);
  }

  const samplers = ids.filter((id) => SAMPLERS.has(workflow[id]!.class_type));
  const first = samplers[0];
  if (first === undefined) notes.push('no KSampler found: add the seed, steps and sampler parameters by hand');

  for (const [name, input] of [['positive', 'positive'], ['negative', 'negative']] as const) {
    const encoder = first === undefined ? undefined : promptEncoder(workflow, workflow[first]!.inputs[input]);
    if (encoder === undefined) {
      notes.push(`${name}: no text encoder feeds the sampler's ${input} input; add the parameter by hand`);
      continue;
    }
    const field = promptField(workflow, encoder);
    const text = literal(encoder, field);
    add(
      name,
      {
        type: 'string',
        description: name === 'positive' ? 'What to draw.' : 'What to avoid.',
        inject: [{ node: ref(encoder), input: field }],
        ...(name === 'negative' && typeof text === 'string' ? { default: text } : {}),
      },
      `the text of ${label(encoder)}, which feeds the sampler's ${input} input`,
    );
  }

  const samplerParam = (name: string, input: string, targets: readonly string[], spec: (value: unknown) => ParamSpec | null): void => {
    const usable = targets.filter((id) => literal(id, input) !== undefined);
    if (usable.length === 0) return;
    const made = spec(literal(usable[0]!, input));
    if (made) add(name, { ...made, inject: usable.map((id) => ({ node: ref(id), input })) } as ParamSpec, `${input} of ${usable.map(label).join(', ')}`);
  };
  const seedInput = (id: string) => (workflow[id]!.class_type === 'KSamplerAdvanced' ? 'noise_seed' : 'seed');
  if (samplers.length > 0) {
    const seedTargets = samplers.filter((id) => literal(id, seedInput(id)) !== undefined);
    if (seedTargets.length > 0) {
      add('seed', { type: 'int', default: 0, min: 0, max: SAFE_SEED_MAX, description: 'Noise seed.', inject: seedTargets.map((id) => ({ node: ref(id), input: seedInput(id) })) }, `the seed of ${seedTargets.map(label).join(', ')}`);
    }
    samplerParam('steps', 'steps', samplers.slice(0, 1), (v) => (typeof v === 'number' ? { type: 'int', default: v, min: 1, max: 150, description: 'Sampling steps.', inject: [] } : null));
    samplerParam('cfg', 'cfg', samplers, (v) => (typeof v === 'number' ? { type: 'float', default: v, min: 0, max: 30, description: 'Guidance scale.', inject: [] } : null));
    samplerParam('sampler', 'sampler_name', samplers, (v) => (typeof v === 'string' ? { type: 'string', default: v, description: 'ComfyUI sampler name.', inject: [] } : null));
    samplerParam('scheduler', 'scheduler', samplers, (v) => (typeof v === 'string' ? { type: 'string', default: v, description: 'ComfyUI scheduler name.', inject: [] } : null));
  }

  const checkpoint = ids.find((id) => Object.hasOwn(CHECKPOINT_LOADERS, workflow[id]!.class_type));
  const checkpointFile = checkpoint === undefined ? undefined : literal(checkpoint, CHECKPOINT_LOADERS[workflow[checkpoint]!.class_type]!);
  const family = guessFamily(typeof checkpointFile === 'string' ? checkpointFile : '');
  const size = FAMILY_SIZES[family];
  if (checkpoint !== undefined && typeof checkpointFile === 'string') {
    const input = CHECKPOINT_LOADERS[workflow[checkpoint]!.class_type]!;
    add('checkpoint', { type: 'model', folder: 'checkpoints', default: checkpointFile, description: 'Checkpoint (logical name or file name).', inject: [{ node: ref(checkpoint), input }] }, `${input} of ${label(checkpoint)}; the default is the file the workflow used (a logical name such as "sdxl-base" travels better)`);
  }

  const latent = ids.find((id) => /^Empty.*Latent/.test(workflow[id]!.class_type) && typeof literal(id, 'width') === 'number');
  if (latent !== undefined) {
    for (const side of ['width', 'height'] as const) {
      const value = literal(latent, side) as number;
      add(side, { type: 'int', default: Math.min(size.max, Math.max(size.min, value)), min: size.min, max: size.max, description: `Image ${side} in pixels.`, inject: [{ node: ref(latent), input: side }] }, `${side} of ${label(latent)}`);
    }
  } else {
    notes.push('width/height: no empty latent found (an img2img workflow?); comic sizes images through these two parameters');
  }

  ids.filter((id) => workflow[id]!.class_type === 'LoraLoader').forEach((id, i) => {
    const suffix = i === 0 ? '' : String(i + 1);
    const file = literal(id, 'lora_name');
    if (typeof file === 'string') add(`lora${suffix}`, { type: 'model', folder: 'loras', default: file, description: 'LoRA file.', inject: [{ node: ref(id), input: 'lora_name' }] }, `lora_name of ${label(id)}`);
    const strength = literal(id, 'strength_model');
    if (typeof strength === 'number') {
      const targets = ['strength_model', 'strength_clip'].filter((input) => typeof literal(id, input) === 'number');
      add(`lora${suffix}_strength`, { type: 'float', default: strength, min: -2, max: 2, description: 'LoRA strength (model and CLIP).', inject: targets.map((input) => ({ node: ref(id), input })) }, `${targets.join(' and ')} of ${label(id)}`);
    }
  });

  ids.filter((id) => workflow[id]!.class_type === 'LoadImage').forEach((id, i) => {
    add(`reference${i === 0 ? '' : String(i + 1)}`, { type: 'image', description: 'An input image (comic uploads it).', inject: [{ node: ref(id), input: 'image' }] }, `the image of ${label(id)}`);
  });

  const saves = ids.filter((id) => workflow[id]!.class_type === 'SaveImage');
  const previews = ids.filter((id) => workflow[id]!.class_type === 'PreviewImage');
  if (saves.length === 0) notes.push(previews.length > 0 ? 'outputs: only PreviewImage nodes, whose files are temporary; prefer a SaveImage node' : 'outputs: no image output node found; add a SaveImage node');

  const fields: Record<string, SdapiSource> = {};
  const unsupported: Record<string, string> = {};
  for (const name of Object.keys(params)) {
    const field = SDAPI_FIELDS[name];
    if (field) fields[field] = name;
    else unsupported[name] = 'no SD API field was guessed for it: map it in sdapi.fields, or say here why the fallback cannot honour it';
  }

  const manifest: Manifest = {
    id: options.id,
    version: '0.1.0',
    description: `Imported from ${options.source}: say what it draws.`,
    role: 'panel',
    family,
    notes: 'Generated by `comic templates import`: check every guessed parameter, then set role, description and version.',
    size,
    params,
    outputs: (saves.length > 0 ? saves : previews).map(ref),
    requires: {
      nodes: [...new Set(ids.map((id) => workflow[id]!.class_type))].sort(),
      models: Object.values(params).flatMap((p) => (p.type === 'model' && p.default ? [{ folder: p.folder, name: p.default }] : [])),
    },
    sdapi: { mode: 'txt2img', fields, unsupported },
  };
  notes.push(`family: ${family} (guessed from ${typeof checkpointFile === 'string' ? `"${checkpointFile}"` : 'nothing; no checkpoint loader'}), which sets the size rule`);
  return { manifest, notes };
}

/** The CLIPTextEncode that a conditioning link comes from, looking through a few conditioning nodes. */
function promptEncoder(workflow: ApiWorkflow, link: unknown, depth = 0): string | undefined {
  if (!isLink(link) || depth > 4) return undefined;
  const node = workflow[link[0]];
  if (!node) return undefined;
  // CLIPTextEncode and the model-specific encoders (TextEncodeQwenImageEditPlus, …), by their text input.
  if (/TextEncode/.test(node.class_type) && (typeof node.inputs.text === 'string' || typeof node.inputs.prompt === 'string')) return link[0];
  for (const input of ['conditioning', 'conditioning_to', 'conditioning_1', 'positive', 'negative']) {
    const found = promptEncoder(workflow, node.inputs[input], depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The parameter an App-mode input becomes, from the value it holds; null when none fits. */
function appParamType(value: unknown, input: string): Record<string, unknown> | null {
  if (typeof value === 'boolean') return { type: 'boolean' };
  if (typeof value === 'number') {
    return (Number.isInteger(value) && !/cfg|strength|denoise|scale|shift|weight/i.test(input)
      ? { type: 'int', ...(input === 'seed' || input === 'noise_seed' ? { min: 0, max: SAFE_SEED_MAX } : {}) }
      : { type: 'float' });
  }
  if (typeof value !== 'string') return null;
  if (input === 'image') return { type: 'image', description: 'An input image (comic uploads it).' };
  const folder = MODEL_INPUTS[input];
  if (folder) return { type: 'model', folder };
  return { type: 'string' };
}

/** Model inputs of the core loaders and the folder each reads from. */
const MODEL_INPUTS: Readonly<Record<string, string>> = {
  ckpt_name: 'checkpoints',
  unet_name: 'diffusion_models',
  clip_name: 'text_encoders',
  clip_name1: 'text_encoders',
  clip_name2: 'text_encoders',
  vae_name: 'vae',
  lora_name: 'loras',
  control_net_name: 'controlnet',
  model_name: 'upscale_models',
};

/** A parameter name (an identifier) made from a widget name or title. */
function identifier(text: string): string {
  const cleaned = text.toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
  return /^[a-z]/.test(cleaned) ? cleaned : `p_${cleaned || 'input'}`;
}

/** The input of a text encoder that holds the prompt. */
function promptField(workflow: ApiWorkflow, id: string): string {
  return typeof workflow[id]?.inputs.text === 'string' ? 'text' : 'prompt';
}

function guessFamily(checkpoint: string): ModelFamily {
  if (/flux/i.test(checkpoint)) return 'flux';
  if (/xl|pony|illustrious|noob/i.test(checkpoint)) return 'sdxl';
  if (checkpoint !== '') return 'sd15';
  return 'sdxl';
}

function byNodeId(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
