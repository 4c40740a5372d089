/**
 * How a template's parameters become an A1111 request. Each template says, in its manifest's
 * `sdapi` section, which request field takes which parameter and which parameters the SD API
 * cannot honour. This module applies that mapping and translates the values that speak
 * ComfyUI's vocabulary (sampler "dpmpp_2m", scheduler "karras", a checkpoint file) into the
 * server's. Whatever cannot be honoured is returned as `dropped`, so the log says what the
 * fallback left out instead of silently losing it.
 */
import type { Template } from '../../templates/index.js';

/** ComfyUI sampler name → A1111 sampler name. */
const SAMPLERS: Readonly<Record<string, string>> = {
  euler: 'Euler',
  euler_ancestral: 'Euler a',
  heun: 'Heun',
  dpm_2: 'DPM2',
  dpm_2_ancestral: 'DPM2 a',
  lms: 'LMS',
  dpm_fast: 'DPM fast',
  dpm_adaptive: 'DPM adaptive',
  dpmpp_2s_ancestral: 'DPM++ 2S a',
  dpmpp_sde: 'DPM++ SDE',
  dpmpp_2m: 'DPM++ 2M',
  dpmpp_2m_sde: 'DPM++ 2M SDE',
  dpmpp_3m_sde: 'DPM++ 3M SDE',
  ddim: 'DDIM',
  uni_pc: 'UniPC',
  lcm: 'LCM',
};

/** ComfyUI scheduler → A1111 (1.9+) scheduler name. */
const SCHEDULERS: Readonly<Record<string, string>> = {
  normal: 'normal',
  karras: 'karras',
  exponential: 'exponential',
  sgm_uniform: 'sgm_uniform',
  simple: 'simple',
  ddim_uniform: 'ddim',
  beta: 'beta',
  kl_optimal: 'kl_optimal',
};

export interface ServerCatalogue {
  readonly samplers: readonly string[];
  /** Null on servers older than 1.9, which have no schedulers. */
  readonly schedulers: readonly string[] | null;
  readonly models: readonly { title: string; filename: string }[];
}

export interface MappedRequest {
  readonly mode: 'txt2img' | 'img2img';
  readonly body: Record<string, unknown>;
  /** Human-readable: "name (why)". */
  readonly dropped: string[];
}

export function mapToSdApi(
  template: Template,
  params: Readonly<Record<string, unknown>>,
  hasReference: boolean,
  server: ServerCatalogue,
  taskId: string,
): MappedRequest {
  const values: Record<string, unknown> = { ...template.defaults, ...params };
  const dropped: string[] = [];
  const used = new Set<string>();
  const body: Record<string, unknown> = { batch_size: 1, n_iter: 1, send_images: true, save_images: false, force_task_id: taskId };

  for (const [field, source] of Object.entries(template.sdapi.fields)) {
    let value: unknown;
    if (typeof source === 'string') {
      used.add(source);
      value = values[source];
      if (value === undefined) continue;
    } else {
      value = source.value;
    }
    const translated = translate(field, value, server);
    if ('drop' in translated) dropped.push(`${typeof source === 'string' ? source : field} (${translated.drop})`);
    else setPath(body, field, translated.value);
  }

  for (const [name, reason] of Object.entries(template.sdapi.unsupported)) {
    used.add(name);
    // Images are accounted for one by one by the backend (see referencePlan), with what each showed.
    if (template.params[name]?.type === 'image') continue;
    if (params[name] !== undefined) dropped.push(`${name} (${reason})`);
  }
  for (const name of Object.keys(params).sort()) {
    if (!used.has(name) && params[name] !== undefined) dropped.push(`${name} (not mapped to the SD API by template ${template.id})`);
  }
  const mode = template.sdapi.mode === 'img2img' && hasReference ? 'img2img' : 'txt2img';
  return { mode, body, dropped };
}

/** One reference image the job passes, as the backend gets it. */
export interface ReferenceInput {
  readonly param: string;
  /** What the image shows ("character mara"), when the scheduler says. */
  readonly what?: string;
}

export interface ReferencePlan<T extends ReferenceInput> {
  /** The image sent as img2img's init image, or null (txt2img). */
  readonly init: T | null;
  /** One line per image the SD API cannot use: which image, and why. */
  readonly dropped: string[];
}

/**
 * Which of the job's reference images the SD API can honour: img2img starts from one image
 * at most (the one the template maps to `init_images`, else the first); every other image
 * is listed by name and subject, so the report says what the fallback left out.
 */
export function referencePlan<T extends ReferenceInput>(template: Template, inputs: readonly T[]): ReferencePlan<T> {
  const dropped: string[] = [];
  const mapped = template.sdapi.fields.init_images;
  const initParam = template.sdapi.mode === 'img2img' && typeof mapped === 'string' ? mapped : null;
  const init = initParam === null ? null : (inputs.find((input) => input.param === initParam) ?? inputs[0] ?? null);
  for (const input of inputs) {
    if (input === init) continue;
    const name = input.what ? `${input.param} (${input.what})` : input.param;
    const reason = init !== null
      ? `img2img takes one init image; ${init.what ?? init.param} was used`
      : template.sdapi.unsupported[input.param] ?? `template ${template.id} renders from the prompt alone on the SD API`;
    dropped.push(`reference ${name}: ${reason}`);
  }
  return { init, dropped };
}

type Translated = { readonly value: unknown } | { readonly drop: string };

function translate(field: string, value: unknown, server: ServerCatalogue): Translated {
  if (field === 'sampler_name' && typeof value === 'string') {
    const name = SAMPLERS[value] ?? value;
    // Since 1.9 an unknown sampler silently becomes the default, so we check it ourselves.
    return server.samplers.includes(name) ? { value: name } : { drop: `${value} is not offered by this server` };
  }
  if (field === 'scheduler' && typeof value === 'string') {
    if (!server.schedulers) return { drop: 'this server has no schedulers (A1111 before 1.9)' };
    const name = SCHEDULERS[value] ?? value;
    return server.schedulers.includes(name) ? { value: name } : { drop: `${value} is not offered by this server` };
  }
  if (field === 'override_settings.sd_model_checkpoint' && typeof value === 'string') {
    const model = findModel(value, server.models);
    return model ? { value: model.title } : { drop: `${value} is not on this server; its current model is used` };
  }
  return { value };
}

function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    node = next && typeof next === 'object' ? (next as Record<string, unknown>) : (node[key] = {});
  }
  node[keys.at(-1)!] = value;
}

/** Matches a logical model name or file name against the server's list, ignoring case, folders and extension. */
export function findModel(wanted: string, models: ServerCatalogue['models']): { title: string } | null {
  const norm = (s: string) =>
    s
      .toLowerCase()
      .replace(/\s*\[[0-9a-f]+\]$/, '')
      .split(/[\\/]/)
      .pop()!
      .replace(/\.(safetensors|ckpt|pt|bin)$/, '');
  const target = norm(wanted);
  return models.find((m) => norm(m.filename) === target || norm(m.title) === target) ?? null;
}
