import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSdApiEmulator, type SdApiEmulator } from '../fakes/sdapi/index.js';
import { generate, png, post, progress, runningTask, solidPng, waitFor } from './helpers.js';

let emu: SdApiEmulator;

beforeEach(async () => {
  // Long steps keep a job running while the test looks at it; tests end jobs by interrupting
  // them or by setting stepMs to 0, never by waiting for time to pass.
  emu = await startSdApiEmulator({ stepMs: 20 });
});
afterEach(async () => {
  await emu.close();
});

const small = { width: 64, height: 64 };
const trace = (): string[] => emu.events.map((event) => `${event.kind}:${event.taskId}`);

describe('the global generation lock', () => {
  it('runs a second request only after the first has finished', async () => {
    const first = generate(emu, 'txt2img', { ...small, force_task_id: 'A', steps: 1000 });
    await runningTask(emu, 'A');
    const white = (await solidPng('#ffffff', 8, 8)).toString('base64');
    const second = generate(emu, 'img2img', { ...small, force_task_id: 'B', steps: 2, init_images: [white] });
    await waitFor(() => emu.events.some((event) => event.kind === 'received' && event.taskId === 'B'));
    // B is waiting: progress still reports A.
    expect((await progress(emu)).current_task).toBe('A');
    expect(trace()).toEqual(['received:A', 'started:A', 'received:B']);
    emu.faults.stepMs = 0;
    const [a, b] = await Promise.all([first, second]);
    expect(trace()).toEqual(['received:A', 'started:A', 'received:B', 'finished:A', 'started:B', 'finished:B']);
    expect(a.images).toHaveLength(1);
    expect(b.images).toHaveLength(1);
  });

  it('interrupting the running job does not touch the one waiting behind it', async () => {
    const alone = await (async () => {
      emu.faults.stepMs = 0;
      const result = await generate(emu, 'txt2img', { ...small, seed: 8, steps: 5 });
      emu.faults.stepMs = 20;
      return result;
    })();
    const first = generate(emu, 'txt2img', { ...small, force_task_id: 'A', steps: 1000 });
    await runningTask(emu, 'A');
    const second = generate(emu, 'txt2img', { ...small, force_task_id: 'B', seed: 8, steps: 5 });
    await waitFor(() => emu.events.some((event) => event.kind === 'received' && event.taskId === 'B'));
    expect((await post(emu, '/sdapi/v1/interrupt', {})).json()).toEqual({});
    const [, b] = await Promise.all([first, second]);
    expect(b.images[0]).toBe(alone.images[0]);
  });
});

describe('GET /sdapi/v1/progress while a job runs', () => {
  it('reports the running job: task, batches, steps, progress and ETA', async () => {
    const job = generate(emu, 'txt2img', { ...small, force_task_id: 'my-task', steps: 1000, n_iter: 2 });
    await runningTask(emu, 'my-task');
    const now = await waitFor(async () => {
      const p = await progress(emu);
      return p.state.sampling_step > 0 ? p : undefined;
    });
    expect(now.current_task).toBe('my-task');
    expect(now.state).toMatchObject({ job: 'Batch 1 out of 2', job_count: 2, job_no: 0, sampling_steps: 1000, interrupted: false });
    expect(now.state['job_timestamp']).toMatch(/^\d{14}$/);
    expect(now.progress).toBeGreaterThan(0);
    expect(now.progress).toBeLessThan(0.5);
    expect(now.eta_relative).toBeGreaterThan(0);
    await post(emu, '/sdapi/v1/interrupt', {});
    await job;
  });

  it('serves a live preview every 10 steps unless skip_current_image is set', async () => {
    const job = generate(emu, 'txt2img', { ...small, force_task_id: 'preview', steps: 1000 });
    const withImage = await waitFor(async () => {
      const p = await progress(emu);
      return p.current_image !== null ? p : undefined;
    });
    expect(withImage.state.sampling_step).toBeGreaterThanOrEqual(10);
    expect(await sharp(png(withImage.current_image ?? '')).metadata()).toMatchObject({ format: 'png', width: 64, height: 64 });
    expect((await progress(emu, '?skip_current_image=true')).current_image).toBeNull();
    await post(emu, '/sdapi/v1/interrupt', {});
    await job;
  });
});

describe('interrupt and skip', () => {
  it('interrupt ends the job early: the current batch comes back unfinished, later batches never run', async () => {
    const job = generate(emu, 'txt2img', { ...small, force_task_id: 'I', seed: 50, steps: 1000, batch_size: 2, n_iter: 3 });
    await runningTask(emu, 'I');
    await post(emu, '/sdapi/v1/interrupt', {});
    const { images, info } = await job;
    expect(images).toHaveLength(2);
    expect(info.infotexts).toHaveLength(2);
    expect(info.all_seeds).toEqual([50, 51, 52, 53, 54, 55]);
    const after = await progress(emu);
    expect(after.state).toMatchObject({ interrupted: true, job: '', job_count: 0 });
    expect(after.current_task).toBeNull();

    // The unfinished picture is still noisy: it differs from the finished one.
    emu.faults.stepMs = 0;
    const finished = await generate(emu, 'txt2img', { ...small, seed: 50, steps: 1000, batch_size: 2 });
    expect(finished.images[0]).not.toBe(images[0]);
    expect((await progress(emu)).state.interrupted).toBe(false);
  });

  it('skip ends the current batch only', async () => {
    const job = generate(emu, 'txt2img', { ...small, force_task_id: 'S', steps: 1000, n_iter: 2 });
    await runningTask(emu, 'S');
    expect((await post(emu, '/sdapi/v1/skip', {})).status).toBe(200);
    await waitFor(async () => (await progress(emu)).state.job_no === 1);
    emu.faults.stepMs = 0;
    const { images } = await job;
    expect(images).toHaveLength(2);
  });
});
