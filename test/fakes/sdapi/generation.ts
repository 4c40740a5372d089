/**
 * POST /sdapi/v1/txt2img and /img2img after validation: the checks the webui makes before
 * taking the lock (text2imgapi/img2imgapi), then, holding it, what process_images does that a
 * client can observe: seeds, model overrides, batches of timed steps, interrupt and skip,
 * the optional grid, and the {images, parameters, info} response.
 */
import { randomInt } from 'node:crypto';
import { httpException, pythonException } from './api-error.js';
import {
  ALWAYSON_SCRIPTS,
  SELECTABLE_SCRIPTS,
  WEBUI_VERSION,
  effectiveScheduler,
  resolveSamplerAndScheduler,
  type Checkpoint,
  type CheckpointList,
} from './catalog.js';
import type { RunningJob, SdEngine } from './engine.js';
import { composeGrid, decodeInitImage, encodePng, renderPicture, type ResizeMode, type RgbImage } from './images.js';
import { formatInfotext, pythonFloat, pythonJsonDumps } from './infotext.js';
import { isPlainObject } from './validation.js';

export type GenerationRoute = 'txt2img' | 'img2img';

/** What the emulator did with a generation request, in order; tests assert on the sequence. */
export interface SdJobEvent {
  readonly kind: 'received' | 'started' | 'finished';
  readonly route: GenerationRoute;
  readonly taskId: string;
}

export interface GenerationContext {
  readonly engine: SdEngine;
  readonly checkpoints: CheckpointList;
  /** The live global options (GET/POST /sdapi/v1/options read and change the same object). */
  readonly options: Record<string, unknown>;
  readonly onEvent: (event: SdJobEvent) => void;
}

export interface GenerationResponse {
  images: string[];
  parameters: Record<string, unknown>;
  info: string;
}

/** A GPU would run out of memory long before this; the emulator refuses rather than allocate. */
const MAX_PIXELS = 4096 * 4096;
const SEED_RANGE = 4294967294;
const TASK_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** Field values after validation; every key of the route's field table is present. */
type Values = Record<string, unknown>;

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown, fallback: number): number => (typeof v === 'number' ? v : fallback);

function createTaskId(route: GenerationRoute): string {
  const suffix = Array.from({ length: 7 }, () => TASK_ID_ALPHABET[randomInt(TASK_ID_ALPHABET.length)]).join('');
  return `task(${route}-${suffix})`;
}

/** get_fixed_seed: -1 (or nothing) means a random seed. */
function fixedSeed(seed: number): number {
  return seed === -1 ? randomInt(SEED_RANGE) : seed;
}

function checkScripts(route: GenerationRoute, values: Values): void {
  const scriptName = str(values['script_name']);
  const selectable: readonly string[] = SELECTABLE_SCRIPTS[route];
  if (scriptName && !selectable.includes(scriptName.toLowerCase())) {
    throw httpException(422, `Script '${scriptName}' not found`);
  }
  const alwayson = values['alwayson_scripts'];
  if (!isPlainObject(alwayson)) return;
  const known: readonly string[] = ALWAYSON_SCRIPTS[route];
  for (const name of Object.keys(alwayson)) {
    if (selectable.includes(name.toLowerCase())) {
      throw httpException(422, 'Cannot have a selectable script in the always on scripts params');
    }
    if (!known.includes(name.toLowerCase())) throw httpException(422, `always on script ${name} not found`);
  }
}

function pythonTypeName(value: unknown): string {
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'boolean') return 'bool';
  if (Array.isArray(value)) return 'list';
  if (value === null) return 'NoneType';
  return typeof value === 'object' ? 'dict' : 'str';
}

/** The images each init string stands for; anything but a string fails like the webui's `.startswith`. */
function initImageStrings(list: readonly unknown[]): string[] {
  return list.map((item) => {
    if (typeof item !== 'string') {
      throw pythonException('AttributeError', `'${pythonTypeName(item)}' object has no attribute 'startswith'`);
    }
    return item;
  });
}

export async function runGeneration(
  route: GenerationRoute,
  values: Values,
  context: GenerationContext,
): Promise<GenerationResponse> {
  const taskId = str(values['force_task_id']) || createTaskId(route);
  let initImages: string[] = [];
  if (route === 'img2img') {
    const list = values['init_images'];
    if (!Array.isArray(list)) throw httpException(404, 'Init image not found');
    initImages = initImageStrings(list);
    // The webui decodes the mask up front (a bad one is a 500); the emulator does not inpaint with it.
    const mask = str(values['mask']);
    if (mask) await decodeInitImage(mask, 8, 8, 0);
  }
  checkScripts(route, values);
  const { sampler, schedulerLabel } = resolveSamplerAndScheduler(
    str(values['sampler_name']) ?? str(values['sampler_index']),
    str(values['scheduler']),
  );
  const requestedScheduler = str(values['scheduler']) || (schedulerLabel === 'Automatic' ? null : schedulerLabel);

  context.onEvent({ kind: 'received', route, taskId });
  const processed = await context.engine.run(taskId, `scripts_${route}`, async (job) => {
    context.onEvent({ kind: 'started', route, taskId });
    try {
      return await processImages(job, {
        route,
        values,
        initImages,
        samplerName: sampler.name,
        schedulerLabel: effectiveScheduler(sampler, requestedScheduler)?.label ?? null,
        context,
      });
    } finally {
      // Still inside the lock, so a waiting job's 'started' always comes after this.
      context.onEvent({ kind: 'finished', route, taskId });
    }
  });

  const parameters = { ...values };
  if (route === 'img2img' && values['include_init_images'] !== true) {
    parameters['init_images'] = null;
    parameters['mask'] = null;
  }
  return {
    images: values['send_images'] === false ? [] : processed.images.map((png) => png.toString('base64')),
    parameters,
    info: pythonJsonDumps(processed.info),
  };
}

interface ProcessInput {
  readonly route: GenerationRoute;
  readonly values: Values;
  readonly initImages: readonly string[];
  readonly samplerName: string;
  /** The scheduler that shapes the sigmas (for "Schedule type"), or null for the sampler's default. */
  readonly schedulerLabel: string | null;
  readonly context: GenerationContext;
}

/** Global options overridden for one request; restored afterwards unless the request says not to. */
function applyOverrides(input: ProcessInput): { checkpoint: Checkpoint; clipSkip: number } {
  const { values, context } = input;
  const overrides = isPlainObject(values['override_settings']) ? values['override_settings'] : {};
  const requested = str(overrides['sd_model_checkpoint']);
  // An unknown checkpoint override is dropped silently: the loaded model runs instead.
  const override = requested === null ? undefined : context.checkpoints.find(requested);
  const current = context.checkpoints.find(String(context.options['sd_model_checkpoint'])) ?? context.checkpoints.default;
  const checkpoint = override ?? current;
  const clipSkip = num(overrides['CLIP_stop_at_last_layers'], num(context.options['CLIP_stop_at_last_layers'], 1));
  if (values['override_settings_restore_afterwards'] === false) {
    for (const [key, value] of Object.entries(overrides)) {
      if (key in context.options && key !== 'sd_model_checkpoint') context.options[key] = value;
    }
    context.options['sd_model_checkpoint'] = checkpoint.title;
    context.options['sd_checkpoint_hash'] = checkpoint.sha256;
  }
  return { checkpoint, clipSkip };
}

async function processImages(
  job: RunningJob,
  input: ProcessInput,
): Promise<{ images: Buffer[]; info: Record<string, unknown> }> {
  const { route, values, context } = input;
  const width = num(values['width'], 512);
  const height = num(values['height'], 512);
  const batchSize = num(values['batch_size'], 1);
  const nIter = num(values['n_iter'], 1);
  const steps = num(values['steps'], 50);
  const denoising = num(values['denoising_strength'], 0.75);
  // The VAE decodes latents of size/8, so the picture is the size rounded down to a multiple of 8.
  const outW = Math.floor(width / 8) * 8;
  const outH = Math.floor(height / 8) * 8;
  if (batchSize < 1 || nIter < 1) throw pythonException('IndexError', 'list index out of range');
  if (steps < 1) throw pythonException('ZeroDivisionError', 'division by zero');
  if (outW < 8 || outH < 8) throw pythonException('RuntimeError', `cannot make a ${width}x${height} image`);
  if (outW * outH > MAX_PIXELS) {
    throw pythonException('OutOfMemoryError', `CUDA out of memory. Tried to allocate a ${width}x${height} image.`);
  }

  const resizeMode = ([0, 1, 2, 3] as const).find((m) => m === values['resize_mode']) ?? 0;
  const initRgb: RgbImage[] = [];
  for (const encoded of input.initImages) initRgb.push(await decodeInitImage(encoded, outW, outH, resizeMode as ResizeMode));

  const { checkpoint, clipSkip } = applyOverrides(input);
  const prompt = str(values['prompt']) ?? '';
  const negativePrompt = str(values['negative_prompt']) ?? '';
  const total = batchSize * nIter;
  const subseedStrength = num(values['subseed_strength'], 0);
  const seed = fixedSeed(num(values['seed'], -1));
  const subseed = fixedSeed(num(values['subseed'], -1));
  const allSeeds = Array.from({ length: total }, (_, i) => seed + (subseedStrength === 0 ? i : 0));
  const allSubseeds = Array.from({ length: total }, (_, i) => subseed + i);
  const cfgScale = num(values['cfg_scale'], 7);
  const isImg2img = route === 'img2img';
  const extraParams: Record<string, string> = input.schedulerLabel ? { 'Schedule type': input.schedulerLabel } : {};

  const infotext = (index: number): string =>
    formatInfotext({
      prompt,
      negativePrompt,
      params: [
        ['Steps', steps],
        ['Sampler', input.samplerName],
        ...Object.entries(extraParams),
        ['CFG scale', pythonFloat(cfgScale)],
        ['Seed', allSeeds[index] ?? seed],
        ['Size', `${width}x${height}`],
        ['Model hash', checkpoint.hash],
        ['Model', checkpoint.nameForExtra],
        ['Variation seed', subseedStrength === 0 ? null : (allSubseeds[index] ?? subseed)],
        ['Variation seed strength', subseedStrength === 0 ? null : pythonFloat(subseedStrength)],
        ['Denoising strength', isImg2img ? pythonFloat(denoising) : null],
        ['Clip skip', clipSkip <= 1 ? null : clipSkip],
        ['Version', WEBUI_VERSION],
      ],
    });

  const picture = (index: number, completed: number): RgbImage => {
    const init = initRgb.length === 0 ? null : (initRgb[index % initRgb.length] ?? null);
    return renderPicture({
      width: outW,
      height: outH,
      key: JSON.stringify([
        prompt,
        negativePrompt,
        allSeeds[index],
        outW,
        outH,
        steps,
        cfgScale,
        input.samplerName,
        input.schedulerLabel,
        checkpoint.sha256,
        subseedStrength === 0 ? null : allSubseeds[index],
      ]),
      completed,
      // img2img keeps (1 − 0.75 × denoising) of the init image: a visible tint even at 1.0.
      init: init && { image: init, weight: Math.min(1, Math.max(0, 1 - 0.75 * denoising)) },
    });
  };

  const pnginfo = context.options['enable_pnginfo'] !== false;
  // img2img samples only the last denoising_strength share of the schedule (img2img_fix_steps off).
  const stepsPerBatch = isImg2img ? Math.trunc(Math.min(denoising, 0.999) * steps) + 1 : steps;
  const rendered: RgbImage[] = [];
  const pngs: Buffer[] = [];
  const infotexts: string[] = [];
  job.setJobCount(nIter);
  for (let n = 0; n < nIter; n += 1) {
    if (!job.startBatch(n, nIter)) break;
    const firstIndex = n * batchSize;
    job.setPreviewRenderer(async (completed) => encodePng(picture(firstIndex, completed), null));
    const done = await job.sample(stepsPerBatch);
    job.setPreviewRenderer(null);
    for (let i = 0; i < batchSize; i += 1) {
      const image = picture(firstIndex + i, done / stepsPerBatch);
      const text = infotext(firstIndex + i);
      rendered.push(image);
      infotexts.push(text);
      pngs.push(await encodePng(image, pnginfo ? text : null));
    }
    job.nextJob();
  }

  // Processed() reads infotexts[0]: a job interrupted before its first batch fails like the webui's.
  if (pngs.length === 0) throw pythonException('IndexError', 'list index out of range');

  let indexOfFirstImage = 0;
  const wantsGrid = context.options['return_grid'] !== false && values['save_images'] === true;
  const gridOnlyIfMultiple = context.options['grid_only_if_multiple'] !== false;
  if (wantsGrid && !(rendered.length < 2 && gridOnlyIfMultiple) && rendered.length > 0) {
    const text = infotext(0);
    pngs.unshift(await encodePng(composeGrid(rendered), pnginfo ? text : null));
    infotexts.unshift(text);
    indexOfFirstImage = 1;
  }

  const allPrompts = Array.from({ length: total }, () => prompt);
  const allNegativePrompts = Array.from({ length: total }, () => negativePrompt);
  const restoreFaces = values['restore_faces'] === true;
  const info: Record<string, unknown> = {
    prompt,
    all_prompts: allPrompts,
    negative_prompt: negativePrompt,
    all_negative_prompts: allNegativePrompts,
    seed,
    all_seeds: allSeeds,
    subseed,
    all_subseeds: allSubseeds,
    subseed_strength: subseedStrength,
    width,
    height,
    sampler_name: input.samplerName,
    cfg_scale: cfgScale,
    steps,
    batch_size: batchSize,
    restore_faces: restoreFaces,
    face_restoration_model: restoreFaces ? context.options['face_restoration_model'] : null,
    sd_model_name: checkpoint.nameForExtra,
    sd_model_hash: checkpoint.hash,
    sd_vae_name: null,
    sd_vae_hash: null,
    seed_resize_from_w: values['seed_resize_from_w'],
    seed_resize_from_h: values['seed_resize_from_h'],
    denoising_strength: denoising,
    extra_generation_params: extraParams,
    index_of_first_image: indexOfFirstImage,
    infotexts,
    styles: values['styles'] ?? [],
    job_timestamp: job.jobTimestamp,
    clip_skip: clipSkip,
    is_using_inpainting_conditioning: false,
    version: WEBUI_VERSION,
  };
  return { images: pngs, info };
}
