/**
 * What an emulated AUTOMATIC1111 webui "has installed": samplers, schedulers, checkpoints,
 * scripts and the default options. Lists follow webui v1.10 (modules/sd_samplers_kdiffusion.py,
 * sd_samplers_timesteps.py, sd_samplers_lcm.py, sd_schedulers.py), written out by hand.
 */
import { sha256 } from '../../../src/util/hash.js';

export const WEBUI_VERSION = 'v1.10.1';

export interface SamplerInfo {
  readonly name: string;
  readonly aliases: readonly string[];
  /** `SamplerItem.options` is `Dict[str, str]`, so pydantic turns Python's True into "True". */
  readonly options: Readonly<Record<string, string>>;
}

const T = 'True';

/** In list order; the first one is the default for requests without (or with an unknown) sampler_name. */
export const SAMPLERS: readonly SamplerInfo[] = [
  { name: 'DPM++ 2M', aliases: ['k_dpmpp_2m'], options: { scheduler: 'karras' } },
  { name: 'DPM++ SDE', aliases: ['k_dpmpp_sde'], options: { scheduler: 'karras', second_order: T, brownian_noise: T } },
  { name: 'DPM++ 2M SDE', aliases: ['k_dpmpp_2m_sde'], options: { scheduler: 'exponential', brownian_noise: T } },
  {
    name: 'DPM++ 2M SDE Heun',
    aliases: ['k_dpmpp_2m_sde_heun'],
    options: { scheduler: 'exponential', brownian_noise: T, solver_type: 'heun' },
  },
  { name: 'DPM++ 2S a', aliases: ['k_dpmpp_2s_a'], options: { scheduler: 'karras', uses_ensd: T, second_order: T } },
  {
    name: 'DPM++ 3M SDE',
    aliases: ['k_dpmpp_3m_sde'],
    options: { scheduler: 'exponential', discard_next_to_last_sigma: T, brownian_noise: T },
  },
  { name: 'Euler a', aliases: ['k_euler_a', 'k_euler_ancestral'], options: { uses_ensd: T } },
  { name: 'Euler', aliases: ['k_euler'], options: {} },
  { name: 'LMS', aliases: ['k_lms'], options: {} },
  { name: 'Heun', aliases: ['k_heun'], options: { second_order: T } },
  { name: 'DPM2', aliases: ['k_dpm_2'], options: { scheduler: 'karras', discard_next_to_last_sigma: T, second_order: T } },
  {
    name: 'DPM2 a',
    aliases: ['k_dpm_2_a'],
    options: { scheduler: 'karras', discard_next_to_last_sigma: T, uses_ensd: T, second_order: T },
  },
  { name: 'DPM fast', aliases: ['k_dpm_fast'], options: { uses_ensd: T } },
  { name: 'DPM adaptive', aliases: ['k_dpm_ad'], options: { uses_ensd: T } },
  { name: 'Restart', aliases: ['restart'], options: { scheduler: 'karras', second_order: T } },
  { name: 'DDIM', aliases: ['ddim'], options: {} },
  { name: 'DDIM CFG++', aliases: ['ddim_cfgpp'], options: {} },
  { name: 'PLMS', aliases: ['plms'], options: {} },
  { name: 'UniPC', aliases: ['unipc'], options: {} },
  { name: 'LCM', aliases: ['k_lcm'], options: {} },
];

export interface SchedulerInfo {
  readonly name: string;
  readonly label: string;
  readonly aliases: readonly string[] | null;
  readonly default_rho: number;
  readonly need_inner_model: boolean;
}

/** The first one ("Automatic") means "whatever the sampler prefers". */
export const SCHEDULERS: readonly SchedulerInfo[] = [
  { name: 'automatic', label: 'Automatic', aliases: null, default_rho: -1, need_inner_model: false },
  { name: 'uniform', label: 'Uniform', aliases: null, default_rho: -1, need_inner_model: true },
  { name: 'karras', label: 'Karras', aliases: null, default_rho: 7, need_inner_model: false },
  { name: 'exponential', label: 'Exponential', aliases: null, default_rho: -1, need_inner_model: false },
  { name: 'polyexponential', label: 'Polyexponential', aliases: null, default_rho: 1, need_inner_model: false },
  { name: 'sgm_uniform', label: 'SGM Uniform', aliases: ['SGMUniform'], default_rho: -1, need_inner_model: true },
  { name: 'kl_optimal', label: 'KL Optimal', aliases: null, default_rho: -1, need_inner_model: false },
  { name: 'align_your_steps', label: 'Align Your Steps', aliases: null, default_rho: -1, need_inner_model: false },
  { name: 'simple', label: 'Simple', aliases: null, default_rho: -1, need_inner_model: true },
  { name: 'normal', label: 'Normal', aliases: null, default_rho: -1, need_inner_model: true },
  { name: 'ddim', label: 'DDIM', aliases: null, default_rho: -1, need_inner_model: true },
  { name: 'beta', label: 'Beta', aliases: null, default_rho: -1, need_inner_model: true },
];

const schedulerByNameOrLabel = new Map<string, SchedulerInfo>(
  SCHEDULERS.flatMap((s) => [[s.name, s] as const, [s.label, s] as const]),
);
const samplerByName = new Map(SAMPLERS.map((s) => [s.name, s] as const));

function first<T>(list: readonly T[]): T {
  const item = list[0];
  if (item === undefined) throw new Error('catalogue list is empty');
  return item;
}

/**
 * The webui's own sampler/scheduler resolution (1.9+): a trailing scheduler name or label
 * ("DPM++ 2M Karras") is split off, an unknown sampler silently becomes the default one,
 * and a scheduler equal to the sampler's preferred one is reported as "Automatic".
 * Returns the sampler name and the scheduler label, as the webui does.
 */
export function resolveSamplerAndScheduler(
  samplerName: string | null,
  schedulerName: string | null,
): { sampler: SamplerInfo; schedulerLabel: string } {
  let found = (schedulerName === null ? undefined : schedulerByNameOrLabel.get(schedulerName)) ?? first(SCHEDULERS);
  let name = samplerName || first(SAMPLERS).name;
  for (const scheduler of SCHEDULERS) {
    for (const option of [scheduler.label, scheduler.name, ...(scheduler.aliases ?? [])]) {
      if (name.endsWith(` ${option}`)) {
        found = scheduler;
        name = name.slice(0, -(option.length + 1));
        break;
      }
    }
  }
  const sampler = samplerByName.get(name) ?? first(SAMPLERS);
  if (sampler.options['scheduler'] === found.name) found = first(SCHEDULERS);
  return { sampler, schedulerLabel: found.label };
}

/**
 * The scheduler that actually shapes the sigmas, or null when the sampler's own default
 * applies. Mirrors KDiffusionSampler.get_sigmas: "Automatic" means the sampler's preferred
 * scheduler; an unknown name falls back to the default sigmas.
 */
export function effectiveScheduler(sampler: SamplerInfo, requested: string | null): SchedulerInfo | null {
  const wanted = !requested || requested === 'Automatic' ? sampler.options['scheduler'] : requested;
  if (wanted === undefined) return null;
  const scheduler = schedulerByNameOrLabel.get(wanted);
  return scheduler === undefined || scheduler.name === 'automatic' ? null : scheduler;
}

export interface Checkpoint {
  /** `name.safetensors [shorthash]`: what the webui shows and stores in sd_model_checkpoint. */
  readonly title: string;
  readonly model_name: string;
  /** The 10-character "shorthash" (first characters of sha256). */
  readonly hash: string;
  readonly sha256: string;
  readonly filename: string;
  readonly config: null;
  /** Basename without extension: what info.sd_model_name and the infotext's "Model:" say. */
  readonly nameForExtra: string;
  /** Every string the webui accepts for this checkpoint (its checkpoint_aliases). */
  readonly aliases: readonly string[];
}

export const MODELS_DIR = '/stable-diffusion-webui/models/Stable-diffusion';

/** A checkpoint as the webui describes a file in models/Stable-diffusion (hash faked from the name). */
export function checkpointFromFile(file: string): Checkpoint {
  const withoutExt = file.replace(/\.[^./]+$/, '');
  const modelName = withoutExt.replace(/[/\\]/g, '_');
  const nameForExtra = withoutExt.split(/[/\\]/).pop() ?? withoutExt;
  const fullHash = sha256(`sdapi-emulator checkpoint ${file}`);
  const short = fullHash.slice(0, 10);
  const title = `${file} [${short}]`;
  return {
    title,
    model_name: modelName,
    hash: short,
    sha256: fullHash,
    filename: `${MODELS_DIR}/${file}`,
    config: null,
    nameForExtra,
    aliases: [short, modelName, title, file, nameForExtra, fullHash, `${modelName} [${short}]`],
  };
}

export const DEFAULT_MODELS: readonly string[] = ['sd_xl_base_1.0.safetensors', 'v1-5-pruned-emaonly.safetensors'];

export class CheckpointList {
  readonly all: readonly Checkpoint[];

  constructor(files: readonly string[]) {
    if (files.length === 0) throw new Error('the SD API emulator needs at least one checkpoint file name');
    this.all = files.map(checkpointFromFile);
  }

  get default(): Checkpoint {
    return first(this.all);
  }

  find(alias: string): Checkpoint | undefined {
    return this.all.find((c) => c.aliases.includes(alias));
  }
}

/**
 * Scripts a stock install has. Selectable ones are accepted and then ignored (the emulator
 * runs none); names outside these lists give the webui's 422.
 */
export const SELECTABLE_SCRIPTS = {
  txt2img: ['prompt matrix', 'prompts from file or textbox', 'x/y/z plot'],
  img2img: [
    'prompt matrix',
    'prompts from file or textbox',
    'x/y/z plot',
    'img2img alternative test',
    'loopback',
    'outpainting mk2',
    "poor man's outpainting",
    'sd upscale',
  ],
} as const;

export const ALWAYSON_SCRIPTS = {
  txt2img: ['extra options', 'hypertile', 'refiner', 'sampler', 'seed'],
  img2img: ['extra options', 'hypertile', 'refiner', 'sampler', 'seed', 'soft inpainting'],
} as const;

/** A representative slice of GET /sdapi/v1/options on a stock install (the real one has ~400 keys). */
export function defaultOptions(checkpoint: Checkpoint): Record<string, unknown> {
  return {
    samples_save: true,
    samples_format: 'png',
    grid_save: true,
    grid_format: 'png',
    return_grid: true,
    grid_only_if_multiple: true,
    n_rows: -1,
    enable_pnginfo: true,
    outdir_samples: '',
    outdir_txt2img_samples: 'outputs/txt2img-images',
    outdir_img2img_samples: 'outputs/img2img-images',
    sd_model_checkpoint: checkpoint.title,
    sd_checkpoint_hash: checkpoint.sha256,
    sd_checkpoints_limit: 1,
    sd_vae: 'Automatic',
    CLIP_stop_at_last_layers: 1,
    eta_noise_seed_delta: 0,
    randn_source: 'GPU',
    face_restoration: false,
    face_restoration_model: 'CodeFormer',
    tiling: false,
    img2img_fix_steps: false,
    img2img_background_color: '#ffffff',
    live_previews_enable: true,
    show_progress_every_n_steps: 10,
    add_model_hash_to_info: true,
    add_model_name_to_info: true,
    add_version_to_infotext: true,
    api_enable_requests: true,
    api_forbid_local_requests: true,
    api_useragent: '',
    hide_samplers: [],
  };
}
