/**
 * The request fields of POST /sdapi/v1/txt2img and /img2img, with their pydantic types and
 * defaults. The webui generates these models from the processing classes' constructor
 * arguments (modules/api/models.py), so every field is optional; this table is written out
 * from webui v1.10's StableDiffusionProcessing{,Txt2Img,Img2Img} plus the API-only extras.
 */

/** The pydantic (v1) field types that occur in these models. */
export type FieldType = 'int' | 'float' | 'str' | 'bool' | 'list' | 'strList' | 'dict';

export interface FieldSpec {
  readonly type: FieldType;
  readonly default: unknown;
}

const f = (type: FieldType, def: unknown): FieldSpec => ({ type, default: def });

/** StableDiffusionProcessing's own init arguments (minus API_NOT_ALLOWED). */
const COMMON: Readonly<Record<string, FieldSpec>> = {
  prompt: f('str', ''),
  negative_prompt: f('str', ''),
  styles: f('strList', null),
  seed: f('int', -1),
  subseed: f('int', -1),
  subseed_strength: f('float', 0),
  seed_resize_from_h: f('int', -1),
  seed_resize_from_w: f('int', -1),
  sampler_name: f('str', null),
  scheduler: f('str', null),
  batch_size: f('int', 1),
  n_iter: f('int', 1),
  steps: f('int', 50),
  cfg_scale: f('float', 7.0),
  width: f('int', 512),
  height: f('int', 512),
  restore_faces: f('bool', null),
  tiling: f('bool', null),
  do_not_save_samples: f('bool', false),
  do_not_save_grid: f('bool', false),
  eta: f('float', null),
  s_min_uncond: f('float', null),
  s_churn: f('float', null),
  s_tmax: f('float', null),
  s_tmin: f('float', null),
  s_noise: f('float', null),
  override_settings: f('dict', null),
  override_settings_restore_afterwards: f('bool', true),
  refiner_checkpoint: f('str', null),
  refiner_switch_at: f('float', null),
  disable_extra_networks: f('bool', false),
  comments: f('dict', null),
};

/** Fields the API model adds on top of the processing class (models.py additional_fields). */
const API_EXTRAS: Readonly<Record<string, FieldSpec>> = {
  sampler_index: f('str', 'Euler'),
  script_name: f('str', null),
  script_args: f('list', []),
  send_images: f('bool', true),
  save_images: f('bool', false),
  alwayson_scripts: f('dict', {}),
  force_task_id: f('str', null),
  infotext: f('str', null),
};

export const TXT2IMG_FIELDS: Readonly<Record<string, FieldSpec>> = {
  ...COMMON,
  enable_hr: f('bool', false),
  denoising_strength: f('float', 0.75),
  firstphase_width: f('int', 0),
  firstphase_height: f('int', 0),
  hr_scale: f('float', 2.0),
  hr_upscaler: f('str', null),
  hr_second_pass_steps: f('int', 0),
  hr_resize_x: f('int', 0),
  hr_resize_y: f('int', 0),
  hr_checkpoint_name: f('str', null),
  hr_sampler_name: f('str', null),
  hr_scheduler: f('str', null),
  hr_prompt: f('str', ''),
  hr_negative_prompt: f('str', ''),
  firstpass_image: f('str', null),
  ...API_EXTRAS,
};

export const IMG2IMG_FIELDS: Readonly<Record<string, FieldSpec>> = {
  ...COMMON,
  init_images: f('list', null),
  resize_mode: f('int', 0),
  denoising_strength: f('float', 0.75),
  image_cfg_scale: f('float', null),
  mask: f('str', null),
  mask_blur_x: f('int', 4),
  mask_blur_y: f('int', 4),
  mask_blur: f('int', null),
  mask_round: f('bool', true),
  inpainting_fill: f('int', 0),
  inpaint_full_res: f('bool', true),
  inpaint_full_res_padding: f('int', 0),
  inpainting_mask_invert: f('int', 0),
  initial_noise_multiplier: f('float', null),
  latent_mask: f('str', null),
  include_init_images: f('bool', false),
  ...API_EXTRAS,
};
