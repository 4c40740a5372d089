import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSdApiEmulator, type SdApiEmulator } from '../fakes/sdapi/index.js';
import { generate, get, networkFailure, post, progress, runningTask, waitFor } from './helpers.js';

let emu: SdApiEmulator;

beforeEach(async () => {
  emu = await startSdApiEmulator({ stepMs: 0 });
});
afterEach(async () => {
  await emu.close();
});

const small = { steps: 2, width: 64, height: 64 };

describe('httpError', () => {
  it('fails a route N times in the webui error shape, without running it, then clears itself', async () => {
    emu.faults.httpError.txt2img = { status: 503, times: 2 };
    for (let i = 0; i < 2; i += 1) {
      const reply = await post(emu, '/sdapi/v1/txt2img', small);
      expect(reply.status).toBe(503);
      expect(reply.json()).toEqual({ error: 'HTTPException', detail: 'Service Unavailable', body: '', errors: '503: Service Unavailable' });
    }
    expect(emu.events).toEqual([]);
    expect(emu.faults.httpError.txt2img).toBeUndefined();
    expect((await post(emu, '/sdapi/v1/txt2img', small)).status).toBe(200);
    expect(emu.requests).toHaveLength(3);
  });

  it('without times it stays until removed, and only hits its own route', async () => {
    emu.faults.httpError.progress = { status: 500 };
    expect((await get(emu, '/sdapi/v1/progress')).status).toBe(500);
    expect((await get(emu, '/sdapi/v1/progress')).status).toBe(500);
    expect((await get(emu, '/sdapi/v1/samplers')).status).toBe(200);
    delete emu.faults.httpError.progress;
    expect((await get(emu, '/sdapi/v1/progress')).status).toBe(200);
  });
});

describe('stall', () => {
  it('delays a route and then answers normally', async () => {
    emu.faults.stall['sd-models'] = 30;
    expect((await get(emu, '/sdapi/v1/sd-models')).status).toBe(200);
  });

  it('Infinity never answers while other routes do; closing drops the connection', async () => {
    emu.faults.stall.options = Infinity;
    let settled = false;
    const stalled = get(emu, '/sdapi/v1/options').finally(() => {
      settled = true;
    });
    for (let i = 0; i < 3; i += 1) expect((await get(emu, '/sdapi/v1/samplers')).status).toBe(200);
    expect(settled).toBe(false);
    const closing = emu.close();
    expect((await networkFailure(stalled)).code).not.toBe('UNKNOWN');
    await closing;
  });
});

describe('malformedJson', () => {
  it('answers 200 with a body no JSON parser accepts, after running the route', async () => {
    emu.faults.malformedJson.options = true;
    const reply = await post(emu, '/sdapi/v1/options', { CLIP_stop_at_last_layers: 2 });
    expect(reply.status).toBe(200);
    const sampled = await get(emu, '/sdapi/v1/options');
    expect(() => sampled.json()).toThrow(SyntaxError);
    emu.faults.malformedJson.options = false;
    expect((await get(emu, '/sdapi/v1/options')).json()).toMatchObject({ CLIP_stop_at_last_layers: 2 });
  });

  it('also garbles big generation answers', async () => {
    emu.faults.malformedJson.txt2img = true;
    const reply = await post(emu, '/sdapi/v1/txt2img', small);
    expect(reply.status).toBe(200);
    expect(() => reply.json()).toThrow(SyntaxError);
  });
});

describe('refuseConnections', () => {
  it('closes the port (ECONNREFUSED) and reopens it on the same URL', async () => {
    emu.faults.refuseConnections = true;
    expect(emu.faults.refuseConnections).toBe(true);
    expect((await networkFailure(fetch(`${emu.url}/sdapi/v1/samplers`))).code).toBe('ECONNREFUSED');
    emu.faults.refuseConnections = false;
    expect((await get(emu, '/sdapi/v1/samplers')).status).toBe(200);
  });
});

describe('stepMs', () => {
  it('is read at every step, so a running job speeds up when it drops', async () => {
    emu.faults.stepMs = 50;
    const job = generate(emu, 'txt2img', { ...small, steps: 10_000, force_task_id: 'slow' });
    await runningTask(emu, 'slow');
    emu.faults.stepMs = 0;
    expect((await job).images).toHaveLength(1);
  });
});

describe('dying mid-request', () => {
  it('kill() resets the running request, refuses new ones, and is idempotent', async () => {
    emu.faults.stepMs = 20;
    const job = networkFailure(generate(emu, 'txt2img', { ...small, steps: 1000, force_task_id: 'doomed' }));
    await runningTask(emu, 'doomed');
    const killing = emu.kill();
    expect(emu.kill()).toBe(killing);
    await killing;
    expect((await job).code).not.toBe('UNKNOWN');
    expect((await networkFailure(fetch(`${emu.url}/sdapi/v1/progress`))).code).toBe('ECONNREFUSED');
    await emu.close();
  });

  it('killAtStep dies when the running job reaches that step', async () => {
    emu.faults.killAtStep = 3;
    const job = generate(emu, 'txt2img', { ...small, steps: 10 });
    expect((await networkFailure(job)).code).not.toBe('UNKNOWN');
    expect((await networkFailure(fetch(`${emu.url}/sdapi/v1/progress`))).code).toBe('ECONNREFUSED');
  });

  it('waiting requests die with the running one', async () => {
    emu.faults.stepMs = 20;
    const first = networkFailure(generate(emu, 'txt2img', { ...small, steps: 1000, force_task_id: 'one' }));
    await runningTask(emu, 'one');
    const second = networkFailure(generate(emu, 'txt2img', { ...small, force_task_id: 'two' }));
    await waitFor(() => emu.events.some((event) => event.taskId === 'two'));
    await emu.kill();
    expect((await first).code).not.toBe('UNKNOWN');
    expect((await second).code).not.toBe('UNKNOWN');
    expect(emu.events.some((event) => event.taskId === 'two' && event.kind === 'started')).toBe(false);
  });
});

describe('close()', () => {
  it('lets the running job answer with what it has, drops waiting ones, and is idempotent', async () => {
    emu.faults.stepMs = 20;
    const first = generate(emu, 'txt2img', { ...small, steps: 1000, force_task_id: 'running' });
    await runningTask(emu, 'running');
    const second = networkFailure(generate(emu, 'txt2img', { ...small, force_task_id: 'waiting' }));
    await waitFor(() => emu.events.some((event) => event.taskId === 'waiting'));
    const closing = emu.close();
    expect(emu.close()).toBe(closing);
    const answered = await first;
    expect(answered.images).toHaveLength(1);
    expect((await second).code).not.toBe('UNKNOWN');
    await closing;
    await emu.close();
    expect((await networkFailure(progress(emu))).code).toBe('ECONNREFUSED');
  });
});
