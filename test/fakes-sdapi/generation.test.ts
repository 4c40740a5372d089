import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSdApiEmulator, type SdApiEmulator } from '../fakes/sdapi/index.js';
import { readTextChunks } from '../fakes/sdapi/png-text.js';
import { generate, meanRgb, png, post, solidPng } from './helpers.js';

let emu: SdApiEmulator;

beforeEach(async () => {
  emu = await startSdApiEmulator({ stepMs: 0 });
});
afterEach(async () => {
  await emu.close();
});

const INFO_FIELDS = [
  'prompt', 'all_prompts', 'negative_prompt', 'all_negative_prompts', 'seed', 'all_seeds', 'subseed',
  'all_subseeds', 'subseed_strength', 'width', 'height', 'sampler_name', 'cfg_scale', 'steps', 'batch_size',
  'restore_faces', 'face_restoration_model', 'sd_model_name', 'sd_model_hash', 'sd_vae_name', 'sd_vae_hash',
  'seed_resize_from_w', 'seed_resize_from_h', 'denoising_strength', 'extra_generation_params',
  'index_of_first_image', 'infotexts', 'styles', 'job_timestamp', 'clip_skip', 'is_using_inpainting_conditioning',
  'version',
];

describe('POST /sdapi/v1/txt2img', () => {
  it('answers {images: [bare base64 PNG], parameters, info: JSON string} for an empty body', async () => {
    const reply = await post(emu, '/sdapi/v1/txt2img', { steps: 2 });
    expect(reply.status).toBe(200);
    const body = reply.json<{ images: string[]; parameters: Record<string, unknown>; info: unknown }>();
    expect(Object.keys(body)).toEqual(['images', 'parameters', 'info']);
    expect(typeof body.info).toBe('string');
    expect(body.images).toHaveLength(1);
    expect(body.images[0]).not.toMatch(/^data:/);
    const image = png(body.images[0] ?? '');
    expect(image.subarray(1, 4).toString('latin1')).toBe('PNG');
    const meta = await sharp(image).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 512, 512]);
  });

  it('info has every Processed.js field, written by json.dumps', async () => {
    const reply = await post(emu, '/sdapi/v1/txt2img', { prompt: 'café', steps: 3, seed: 42 });
    const infoText = reply.json<{ info: string }>().info;
    expect(infoText).toContain('"prompt": "caf\\u00e9", "all_prompts": ["caf\\u00e9"]');
    const info = JSON.parse(infoText) as Record<string, unknown>;
    expect(Object.keys(info)).toEqual(INFO_FIELDS);
    expect(info).toMatchObject({
      prompt: 'café',
      seed: 42,
      all_seeds: [42],
      width: 512,
      height: 512,
      // No sampler_name: the model's sampler_index default ("Euler") decides.
      sampler_name: 'Euler',
      cfg_scale: 7,
      steps: 3,
      batch_size: 1,
      sd_model_name: 'sd_xl_base_1.0',
      index_of_first_image: 0,
      clip_skip: 1,
      extra_generation_params: {},
    });
    expect(info['job_timestamp']).toMatch(/^\d{14}$/);
    expect(info['infotexts']).toEqual([
      `café\nSteps: 3, Sampler: Euler, CFG scale: 7.0, Seed: 42, Size: 512x512, Model hash: ${String(info['sd_model_hash'])}, Model: sd_xl_base_1.0, Version: v1.10.1`,
    ]);
  });

  it('echoes every request field with its default in parameters, seed still -1', async () => {
    const { parameters, info } = await generate(emu, 'txt2img', { prompt: 'x', steps: 2 });
    expect(parameters).toMatchObject({
      prompt: 'x',
      negative_prompt: '',
      seed: -1,
      steps: 2,
      cfg_scale: 7,
      width: 512,
      height: 512,
      batch_size: 1,
      n_iter: 1,
      sampler_name: null,
      scheduler: null,
      sampler_index: 'Euler',
      override_settings: null,
      send_images: true,
      save_images: false,
      force_task_id: null,
      alwayson_scripts: {},
      script_args: [],
      enable_hr: false,
      denoising_strength: 0.75,
    });
    // A random seed, reported.
    expect(info['seed']).toBeGreaterThanOrEqual(0);
    expect(info['seed']).toBeLessThan(4294967294);
    expect(info.all_seeds).toEqual([info['seed']]);
  });

  it('coerces loose values the way pydantic v1 does', async () => {
    const { parameters, info } = await generate(emu, 'txt2img', { steps: '2', seed: 9.7, prompt: 12, send_images: 'yes', width: 64, height: 64 });
    expect(parameters).toMatchObject({ steps: 2, seed: 9, prompt: '12', send_images: true });
    expect(info['seed']).toBe(9);
  });

  it('makes batch_size × n_iter images with consecutive seeds and one infotext each', async () => {
    const { images, info } = await generate(emu, 'txt2img', { steps: 1, seed: 100, batch_size: 2, n_iter: 2, width: 64, height: 64 });
    expect(images).toHaveLength(4);
    expect(info.all_seeds).toEqual([100, 101, 102, 103]);
    expect(info.infotexts).toHaveLength(4);
    expect(info.infotexts[3]).toContain('Seed: 103');
    expect(new Set(images).size).toBe(4);
  });

  it('puts a grid first when save_images asks for one, and says so in index_of_first_image', async () => {
    const { images, info } = await generate(emu, 'txt2img', { steps: 1, seed: 1, batch_size: 2, n_iter: 2, width: 64, height: 48, save_images: true });
    expect(images).toHaveLength(5);
    expect(info['index_of_first_image']).toBe(1);
    expect(info.infotexts).toHaveLength(5);
    const grid = await sharp(png(images[0] ?? '')).metadata();
    expect([grid.width, grid.height]).toEqual([128, 96]);
  });

  it('send_images: false answers no images', async () => {
    const { images, info } = await generate(emu, 'txt2img', { steps: 1, width: 64, height: 64, send_images: false });
    expect(images).toEqual([]);
    expect(info.infotexts).toHaveLength(1);
  });

  it('honours width and height, rounded down to a multiple of 8 as the VAE does', async () => {
    const { images, info } = await generate(emu, 'txt2img', { steps: 1, width: 200, height: 100 });
    expect(await sharp(png(images[0] ?? '')).metadata()).toMatchObject({ width: 200, height: 96 });
    expect([info['width'], info['height']]).toEqual([200, 100]);
    const odd = await generate(emu, 'txt2img', { steps: 1, width: 100, height: 300 });
    expect(await sharp(png(odd.images[0] ?? '')).metadata()).toMatchObject({ width: 96, height: 296 });
  });

  it('embeds the infotext in a "parameters" PNG text chunk', async () => {
    const { images, info } = await generate(emu, 'txt2img', { prompt: 'a lighthouse', negative_prompt: 'blur', steps: 1, seed: 3, width: 64, height: 64 });
    const texts = readTextChunks(png(images[0] ?? ''));
    expect(texts.get('parameters')).toBe(info.infotexts[0]);
    expect(info.infotexts[0]).toMatch(/^a lighthouse\nNegative prompt: blur\nSteps: 1, /);
    const unicode = await generate(emu, 'txt2img', { prompt: '灯台', steps: 1, width: 64, height: 64 });
    expect(readTextChunks(png(unicode.images[0] ?? '')).get('parameters')).toMatch(/^灯台\n/);
  });
});

describe('samplers, schedulers and models', () => {
  it('an unknown sampler silently falls back to the default, and info says what ran', async () => {
    const { info, parameters } = await generate(emu, 'txt2img', { sampler_name: 'Nonexistent', steps: 1, width: 64, height: 64 });
    expect(info['sampler_name']).toBe('DPM++ 2M');
    expect(info['extra_generation_params']).toEqual({ 'Schedule type': 'Karras' });
    expect(parameters['sampler_name']).toBe('Nonexistent');
  });

  it('splits a combined "sampler scheduler" name', async () => {
    const euler = await generate(emu, 'txt2img', { sampler_name: 'Euler a Exponential', steps: 1, width: 64, height: 64 });
    expect(euler.info['sampler_name']).toBe('Euler a');
    expect(euler.info['extra_generation_params']).toEqual({ 'Schedule type': 'Exponential' });
    const plain = await generate(emu, 'txt2img', { sampler_name: 'Euler', steps: 1, width: 64, height: 64 });
    expect(plain.info['extra_generation_params']).toEqual({});
    const explicit = await generate(emu, 'txt2img', { sampler_name: 'Euler', scheduler: 'karras', steps: 1, width: 64, height: 64 });
    expect(explicit.info['extra_generation_params']).toEqual({ 'Schedule type': 'Karras' });
    const unknown = await generate(emu, 'txt2img', { sampler_name: 'Euler', scheduler: 'wobbly', steps: 1, width: 64, height: 64 });
    expect(unknown.info['extra_generation_params']).toEqual({});
  });

  it('override_settings switches the checkpoint for one request; an unknown one is ignored', async () => {
    const other = await generate(emu, 'txt2img', {
      steps: 1, width: 64, height: 64, override_settings: { sd_model_checkpoint: 'v1-5-pruned-emaonly.safetensors' },
    });
    expect(other.info['sd_model_name']).toBe('v1-5-pruned-emaonly');
    const unknown = await generate(emu, 'txt2img', { steps: 1, width: 64, height: 64, override_settings: { sd_model_checkpoint: 'nope' } });
    expect(unknown.info['sd_model_name']).toBe('sd_xl_base_1.0');
  });

  it('override_settings_restore_afterwards: false keeps the switch', async () => {
    await generate(emu, 'txt2img', {
      steps: 1, width: 64, height: 64,
      override_settings: { sd_model_checkpoint: 'v1-5-pruned-emaonly', CLIP_stop_at_last_layers: 2 },
      override_settings_restore_afterwards: false,
    });
    const next = await generate(emu, 'txt2img', { steps: 1, width: 64, height: 64 });
    expect(next.info['sd_model_name']).toBe('v1-5-pruned-emaonly');
    expect(next.info['clip_skip']).toBe(2);
    expect(next.info.infotexts[0]).toContain('Clip skip: 2');
  });

  it('a selectable script it does not know is 422; so is an unknown always-on script', async () => {
    const script = await post(emu, '/sdapi/v1/txt2img', { script_name: 'My Script' });
    expect(script.status).toBe(422);
    expect(script.json()).toEqual({ error: 'HTTPException', detail: "Script 'My Script' not found", body: '', errors: "422: Script 'My Script' not found" });
    const alwayson = await post(emu, '/sdapi/v1/txt2img', { alwayson_scripts: { ControlNet: { args: [] } } });
    expect(alwayson.status).toBe(422);
    expect(alwayson.json()).toMatchObject({ detail: 'always on script ControlNet not found' });
    const known = await post(emu, '/sdapi/v1/txt2img', { steps: 1, width: 64, height: 64, script_name: 'X/Y/Z plot', alwayson_scripts: { Seed: { args: [] } } });
    expect(known.status).toBe(200);
  });
});

describe('POST /sdapi/v1/img2img', () => {
  it('without init_images is 404 "Init image not found" in the middleware shape', async () => {
    const reply = await post(emu, '/sdapi/v1/img2img', { prompt: 'x' });
    expect(reply.status).toBe(404);
    expect(reply.json()).toEqual({ error: 'HTTPException', detail: 'Init image not found', body: '', errors: '404: Init image not found' });
    expect(emu.events).toEqual([]);
  });

  it('an undecodable init image is 500 "Invalid encoded image"; an http URL cannot be fetched', async () => {
    const garbage = await post(emu, '/sdapi/v1/img2img', { init_images: ['bm90IGFuIGltYWdl'] });
    expect(garbage.status).toBe(500);
    expect(garbage.json()).toEqual({ error: 'HTTPException', detail: 'Invalid encoded image', body: '', errors: '500: Invalid encoded image' });
    const url = await post(emu, '/sdapi/v1/img2img', { init_images: ['http://127.0.0.1:1/x.png'] });
    expect([url.status, url.json()]).toMatchObject([500, { detail: 'Request to local resource not allowed' }]);
  });

  it('accepts bare base64 and data: URLs alike, and answers at the requested size', async () => {
    const red = (await solidPng('#ff0000', 100, 50)).toString('base64');
    const body = { steps: 4, seed: 5, width: 128, height: 96 };
    const bare = await generate(emu, 'img2img', { ...body, init_images: [red] });
    const dataUrl = await generate(emu, 'img2img', { ...body, init_images: [`data:image/png;base64,${red}`] });
    expect(dataUrl.images[0]).toBe(bare.images[0]);
    expect(await sharp(png(bare.images[0] ?? '')).metadata()).toMatchObject({ width: 128, height: 96 });
    expect(bare.info['denoising_strength']).toBe(0.75);
    expect(bare.info.infotexts[0]).toContain('Denoising strength: 0.75');
    expect(bare.parameters['init_images']).toBeNull();
  });

  it('include_init_images echoes the inputs in parameters', async () => {
    const red = (await solidPng('#ff0000')).toString('base64');
    const { parameters } = await generate(emu, 'img2img', { steps: 1, width: 64, height: 64, init_images: [red], include_init_images: true });
    expect(parameters['init_images']).toEqual([red]);
  });

  it('the init image visibly tints the result, more so at low denoising_strength', async () => {
    const body = { steps: 2, seed: 11, width: 96, height: 96, prompt: 'same' };
    const red = (await solidPng('#ff0000')).toString('base64');
    const blue = (await solidPng('#0000ff')).toString('base64');
    const [redR, , redB] = await meanRgb(png((await generate(emu, 'img2img', { ...body, init_images: [red] })).images[0] ?? ''));
    const [blueR, , blueB] = await meanRgb(png((await generate(emu, 'img2img', { ...body, init_images: [blue] })).images[0] ?? ''));
    expect(redR - blueR).toBeGreaterThan(40);
    expect(blueB - redB).toBeGreaterThan(40);
    const [faintR] = await meanRgb(png((await generate(emu, 'img2img', { ...body, init_images: [red], denoising_strength: 1 })).images[0] ?? ''));
    const [strongR] = await meanRgb(png((await generate(emu, 'img2img', { ...body, init_images: [red], denoising_strength: 0.2 })).images[0] ?? ''));
    expect(strongR).toBeGreaterThan(faintR);
  });

  it('resize_mode crops, fills or stretches the init image but the answer keeps the requested size', async () => {
    // Three vertical stripes: stretching keeps all three, cropping keeps the middle, filling letterboxes.
    const stripe = (background: string) => ({ input: { create: { width: 70, height: 50, channels: 3 as const, background } } });
    const wide = (
      await sharp({ create: { width: 210, height: 50, channels: 3, background: '#000000' } })
        .composite([{ ...stripe('#ff0000'), left: 0, top: 0 }, { ...stripe('#00ff00'), left: 70, top: 0 }, { ...stripe('#0000ff'), left: 140, top: 0 }])
        .png()
        .toBuffer()
    ).toString('base64');
    const results = [];
    for (const resizeMode of [0, 1, 2]) {
      const { images } = await generate(emu, 'img2img', { steps: 1, seed: 1, width: 64, height: 64, init_images: [wide], resize_mode: resizeMode });
      expect(await sharp(png(images[0] ?? '')).metadata()).toMatchObject({ width: 64, height: 64 });
      results.push(images[0]);
    }
    expect(new Set(results).size).toBe(3);
  });
});

describe('request validation (FastAPI 422)', () => {
  it('lists every wrongly typed field with loc, msg and type', async () => {
    const reply = await post(emu, '/sdapi/v1/txt2img', {
      steps: 'many',
      width: [512],
      cfg_scale: 'high',
      tiling: 'perhaps',
      styles: ['ok', {}],
      override_settings: 3,
    });
    expect(reply.status).toBe(422);
    expect(reply.json()).toEqual({
      detail: [
        { loc: ['body', 'styles', 1], msg: 'str type expected', type: 'type_error.str' },
        { loc: ['body', 'steps'], msg: 'value is not a valid integer', type: 'type_error.integer' },
        { loc: ['body', 'cfg_scale'], msg: 'value is not a valid float', type: 'type_error.float' },
        { loc: ['body', 'width'], msg: 'value is not a valid integer', type: 'type_error.integer' },
        { loc: ['body', 'tiling'], msg: 'value could not be parsed to a boolean', type: 'type_error.bool' },
        { loc: ['body', 'override_settings'], msg: 'value is not a valid dict', type: 'type_error.dict' },
      ],
    });
    expect(emu.events).toEqual([]);
  });

  it('rejects unparsable JSON, a missing body and a non-JSON content type', async () => {
    const broken = await fetch(`${emu.url}/sdapi/v1/txt2img`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"steps": ' });
    expect(broken.status).toBe(422);
    expect(await broken.json()).toEqual({
      detail: [{ loc: ['body', 10], msg: 'Expecting value: line 1 column 11 (char 10)', type: 'value_error.jsondecode' }],
    });
    const empty = await fetch(`${emu.url}/sdapi/v1/txt2img`, { method: 'POST' });
    expect(await empty.json()).toEqual({ detail: [{ loc: ['body'], msg: 'field required', type: 'value_error.missing' }] });
    const text = await fetch(`${emu.url}/sdapi/v1/txt2img`, { method: 'POST', body: '{}' });
    expect(text.status).toBe(422);
    expect(await text.json()).toEqual({ detail: [{ loc: ['body'], msg: 'value is not a valid dict', type: 'type_error.dict' }] });
  });

  it('records every generation request it receives, valid or not', async () => {
    await post(emu, '/sdapi/v1/txt2img', { steps: 'x' });
    await generate(emu, 'txt2img', { steps: 1, width: 64, height: 64 });
    expect(emu.requests).toEqual([
      { path: '/sdapi/v1/txt2img', body: { steps: 'x' } },
      { path: '/sdapi/v1/txt2img', body: { steps: 1, width: 64, height: 64 } },
    ]);
  });

  it('fails impossible jobs inside the lock with the webui exception shape', async () => {
    const huge = await post(emu, '/sdapi/v1/txt2img', { steps: 1, width: 8192, height: 8192 });
    expect(huge.status).toBe(500);
    expect(huge.json()).toMatchObject({ error: 'OutOfMemoryError', detail: '', body: '' });
    const none = await post(emu, '/sdapi/v1/txt2img', { steps: 1, width: 64, height: 64, n_iter: 0 });
    expect(none.json()).toMatchObject({ error: 'IndexError' });
  });
});
