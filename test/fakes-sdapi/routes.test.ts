import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSdApiEmulator, type SdApiEmulator } from '../fakes/sdapi/index.js';
import { get, post, progress } from './helpers.js';

let emu: SdApiEmulator;

beforeEach(async () => {
  emu = await startSdApiEmulator({ models: ['animeMix.safetensors', 'sub/realistic_v2.ckpt'] });
});
afterEach(async () => {
  await emu.close();
});

describe('listing routes', () => {
  it('GET /sdapi/v1/sd-models lists the checkpoints with title "file [shorthash]"', async () => {
    const reply = await get(emu, '/sdapi/v1/sd-models');
    expect(reply.status).toBe(200);
    const models = reply.json<Record<string, unknown>[]>();
    expect(models).toHaveLength(2);
    for (const model of models) {
      expect(Object.keys(model).sort()).toEqual(['config', 'filename', 'hash', 'model_name', 'sha256', 'title']);
      expect(model['hash']).toMatch(/^[0-9a-f]{10}$/);
      expect(model['sha256']).toMatch(/^[0-9a-f]{64}$/);
      expect(String(model['sha256']).startsWith(String(model['hash']))).toBe(true);
      expect(model['config']).toBeNull();
    }
    expect(models[0]).toMatchObject({ model_name: 'animeMix', filename: expect.stringMatching(/\/animeMix\.safetensors$/) });
    expect(models[0]?.['title']).toBe(`animeMix.safetensors [${String(models[0]?.['hash'])}]`);
    expect(models[1]).toMatchObject({ model_name: 'sub_realistic_v2' });
  });

  it('GET /sdapi/v1/samplers lists {name, aliases, options} with the 1.10 default first', async () => {
    const samplers = (await get(emu, '/sdapi/v1/samplers')).json<{ name: string; aliases: string[]; options: Record<string, string> }[]>();
    expect(samplers[0]).toEqual({ name: 'DPM++ 2M', aliases: ['k_dpmpp_2m'], options: { scheduler: 'karras' } });
    const names = samplers.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['Euler a', 'Euler', 'DDIM', 'UniPC', 'DPM++ 2M SDE']));
    for (const sampler of samplers) {
      expect(Object.keys(sampler).sort()).toEqual(['aliases', 'name', 'options']);
      for (const value of Object.values(sampler.options)) expect(typeof value).toBe('string');
    }
  });

  it('GET /sdapi/v1/schedulers lists {name, label, aliases, default_rho, need_inner_model}', async () => {
    const schedulers = (await get(emu, '/sdapi/v1/schedulers')).json<Record<string, unknown>[]>();
    expect(schedulers[0]).toEqual({ name: 'automatic', label: 'Automatic', aliases: null, default_rho: -1, need_inner_model: false });
    expect(schedulers).toContainEqual({ name: 'karras', label: 'Karras', aliases: null, default_rho: 7, need_inner_model: false });
    expect(schedulers).toContainEqual(expect.objectContaining({ name: 'sgm_uniform', aliases: ['SGMUniform'] }));
  });

  it('GET /sdapi/v1/progress when idle: zero progress, empty job, no task', async () => {
    const idle = await progress(emu);
    expect(idle).toEqual({
      progress: 0,
      eta_relative: 0,
      state: {
        skipped: false,
        interrupted: false,
        stopping_generation: false,
        job: '',
        job_count: 0,
        job_timestamp: '0',
        job_no: 0,
        sampling_step: 0,
        sampling_steps: 0,
      },
      current_image: null,
      textinfo: null,
      current_task: null,
    });
  });

  it('a bad skip_current_image is a 422 on the query', async () => {
    const reply = await get(emu, '/sdapi/v1/progress?skip_current_image=perhaps');
    expect(reply.status).toBe(422);
    expect(reply.json()).toEqual({
      detail: [{ loc: ['query', 'skip_current_image'], msg: 'value could not be parsed to a boolean', type: 'type_error.bool' }],
    });
  });

  it('POST /sdapi/v1/interrupt answers {} and /skip answers null, even when idle', async () => {
    const interrupt = await post(emu, '/sdapi/v1/interrupt', {});
    expect([interrupt.status, interrupt.json()]).toEqual([200, {}]);
    const skip = await post(emu, '/sdapi/v1/skip', {});
    expect([skip.status, skip.json()]).toEqual([200, null]);
  });
});

describe('options', () => {
  it('GET /sdapi/v1/options names the loaded checkpoint by title', async () => {
    const options = (await get(emu, '/sdapi/v1/options')).json<Record<string, unknown>>();
    const [first] = (await get(emu, '/sdapi/v1/sd-models')).json<{ title: string; sha256: string }[]>();
    expect(options['sd_model_checkpoint']).toBe(first?.title);
    expect(options['sd_checkpoint_hash']).toBe(first?.sha256);
    expect(options).toMatchObject({ samples_format: 'png', CLIP_stop_at_last_layers: 1, live_previews_enable: true });
  });

  it('POST /sdapi/v1/options switches the model by any alias and stores its title; answers null', async () => {
    const reply = await post(emu, '/sdapi/v1/options', { sd_model_checkpoint: 'sub_realistic_v2', CLIP_stop_at_last_layers: 2 });
    expect([reply.status, reply.text]).toEqual([200, 'null']);
    const options = (await get(emu, '/sdapi/v1/options')).json<Record<string, unknown>>();
    expect(options['sd_model_checkpoint']).toMatch(/^sub\/realistic_v2\.ckpt \[[0-9a-f]{10}\]$/);
    expect(options['CLIP_stop_at_last_layers']).toBe(2);
  });

  it('an unknown checkpoint is a 500 RuntimeError and changes nothing', async () => {
    const before = (await get(emu, '/sdapi/v1/options')).json<Record<string, unknown>>();
    const reply = await post(emu, '/sdapi/v1/options', { sd_model_checkpoint: 'missing.safetensors', CLIP_stop_at_last_layers: 3 });
    expect(reply.status).toBe(500);
    expect(reply.json()).toEqual({ error: 'RuntimeError', detail: '', body: '', errors: "model 'missing.safetensors' not found" });
    expect((await get(emu, '/sdapi/v1/options')).json()).toEqual(before);
  });

  it('an unknown option key is a 500 KeyError', async () => {
    const reply = await post(emu, '/sdapi/v1/options', { no_such_option: 1 });
    expect(reply.status).toBe(500);
    expect(reply.json()).toEqual({ error: 'KeyError', detail: '', body: '', errors: "'no_such_option'" });
  });

  it('a non-object body is FastAPI 422', async () => {
    const reply = await post(emu, '/sdapi/v1/options', [1, 2]);
    expect(reply.status).toBe(422);
    expect(reply.json()).toEqual({ detail: [{ loc: ['body'], msg: 'value is not a valid dict', type: 'type_error.dict' }] });
  });
});

describe('HTTP framing', () => {
  it('unknown routes are FastAPI 404 and wrong methods 405, in the {detail} shape', async () => {
    const missing = await get(emu, '/sdapi/v1/nothing-here');
    expect([missing.status, missing.json()]).toEqual([404, { detail: 'Not Found' }]);
    const wrongMethod = await get(emu, '/sdapi/v1/txt2img');
    expect([wrongMethod.status, wrongMethod.json()]).toEqual([405, { detail: 'Method Not Allowed' }]);
  });

  it('answers JSON with uvicorn headers and gzips bodies of 1000 bytes or more', async () => {
    const response = await fetch(`${emu.url}/sdapi/v1/samplers`, { headers: { 'accept-encoding': 'gzip' } });
    expect(response.headers.get('server')).toBe('uvicorn');
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('content-encoding')).toBe('gzip');
    expect(Number(response.headers.get('x-process-time'))).toBeGreaterThanOrEqual(0);
    expect(Array.isArray(await response.json())).toBe(true);
    const small = await fetch(`${emu.url}/sdapi/v1/interrupt`, { method: 'POST', headers: { 'accept-encoding': 'gzip' } });
    expect(small.headers.get('content-encoding')).toBeNull();
    await small.text();
  });
});
