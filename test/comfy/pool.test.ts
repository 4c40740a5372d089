import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobEvent } from '../../src/comfy/job.js';
import { ComfyPool, type PoolEvent, type PoolJob, type PoolOptions } from '../../src/comfy/pool.js';
import type { ApiWorkflow } from '../../src/comfy/types.js';
import { ComicError } from '../../src/errors.js';
import { PROFILE_NAMES, startComfyEmulator, type ComfyEmulator, type ProfileName } from '../fakes/comfyui/index.js';
import { FAST, recorder, serverOf, slowWorkflow, tempDir } from './helpers.js';

/**
 * Every case runs on both emulator profiles (ComfyUI 0.8.0 and 0.28.0) except those marked
 * `latestOnly`, which test the pool's own scheduling (independent of the server version) and
 * run on 0.28 only to keep the suite fast.
 */
let profile: ProfileName = '0.28';
const emulators: ComfyEmulator[] = [];
const pools: ComfyPool[] = [];
const dirs: (() => Promise<void>)[] = [];

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
  await Promise.all(emulators.splice(0).map((e) => e.close()));
  await Promise.all(dirs.splice(0).map((remove) => remove()));
});

async function emulatorsOf(count: number, options: Parameters<typeof startComfyEmulator>[0] = {}): Promise<ComfyEmulator[]> {
  const started = await Promise.all(Array.from({ length: count }, () => startComfyEmulator({ stepMs: 5, profile, ...options })));
  emulators.push(...started);
  return started;
}

function poolOf(targets: ComfyEmulator[], options: PoolOptions = {}): ComfyPool {
  const pool = new ComfyPool(
    targets.map((e, i) => serverOf(e, `gpu${i}`)),
    { timeouts: FAST, retryBaseMs: 20, downAfterFailures: 2, probeBaseMs: 100, ...options },
  );
  pools.push(pool);
  return pool;
}

async function outDir(): Promise<string> {
  const dir = await tempDir();
  dirs.push(dir.remove);
  return dir.path;
}

/** A job rendering `workflow` and downloading its first output to `dir/<id>.png`. */
function downloadJob(id: string, workflow: ApiWorkflow | ((server: string) => ApiWorkflow), dir: string): PoolJob<string> {
  return {
    id,
    prepare: (target) => (typeof workflow === 'function' ? workflow(target.server.name) : workflow),
    collect: async (done, signal) => {
      const path = join(dir, `${id}.png`);
      await done.client.download(done.result.outputs[0]!, path, signal);
      return path;
    },
  };
}

function rejection(promise: Promise<unknown>): Promise<ComicError> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => {
      expect(e).toBeInstanceOf(ComicError);
      return e as ComicError;
    },
  );
}

/** Every prompt an emulator ran to completion, as (SaveImage prefix → count). */
function completedPrefixes(emulator: ComfyEmulator): Map<string, number> {
  const counts = new Map<string, number>();
  for (const record of emulator.prompts.values()) {
    if (record.executions === 0) continue;
    const prompt = record.prompt as ApiWorkflow;
    const prefix = String(prompt['3']?.inputs['filename_prefix']);
    counts.set(prefix, (counts.get(prefix) ?? 0) + record.executions);
  }
  return counts;
}

const live = (): AbortSignal => new AbortController().signal;

describe.each(PROFILE_NAMES)('ComfyPool (ComfyUI %s profile)', (name) => {
  const latestOnly = name === '0.28' ? it : it.skip;
  beforeEach(() => {
    profile = name;
  });

  it('a server that rejects a node class it lacks (0.28: missing_node_type) passes the job to one that has it', async () => {
    const [lacking, having] = await emulatorsOf(2);
    const pool = poolOf([lacking!, having!]);
    await pool.start(AbortSignal.timeout(10_000));
    await new Promise<void>((resolve) => {
      const stop = pool.on(() => pool.status().every((s) => s.state === 'up') && (stop(), resolve()));
      if (pool.status().every((s) => s.state === 'up')) resolve();
    });
    // After the pool read /object_info: only POST /prompt can tell.
    lacking!.removeNodes(['SlowProgress']);
    const dir = await outDir();
    const results = await Promise.all(Array.from({ length: 4 }, (_, i) => pool.run(downloadJob(`n${i}`, slowWorkflow({ seed: 300 + i, prefix: `n${i}` }), dir), { signal: live() })));
    expect(results.map((r) => r.server)).toEqual(['gpu1', 'gpu1', 'gpu1', 'gpu1']);
    expect(lacking!.log.filter((l) => l.method === 'POST' && l.path === '/api/prompt' && l.status === 400).length).toBeGreaterThan(0);
    expect([...lacking!.prompts.values()].filter((p) => p.executions > 0)).toEqual([]);
  });

  it('three servers, one killed mid-run: every job completes exactly once, outputs intact', async () => {
    const [a, b, c] = await emulatorsOf(3);
    const pool = poolOf([a!, b!, c!]);
    const events = recorder<PoolEvent>();
    pool.on(events.onEvent);
    await pool.start(AbortSignal.timeout(10_000));
    const dir = await outDir();
    const jobEvents = recorder<PoolEvent>();
    const runs = Array.from({ length: 12 }, (_, i) =>
      pool.run(downloadJob(`job${i}`, slowWorkflow({ steps: 15, seed: i, prefix: `job${i}` }), dir), { signal: live(), onEvent: jobEvents.onEvent }),
    );
    await jobEvents.seen((e) => e.type === 'job' && e.server === 'gpu1' && e.event.type === 'progress');
    await b!.kill();
    const results = await Promise.all(runs);

    expect(await events.seen((e) => e.type === 'server' && e.state === 'down')).toMatchObject({ server: 'gpu1' });
    const survivors = [completedPrefixes(a!), completedPrefixes(c!)];
    for (let i = 0; i < runs.length; i++) {
      const where = survivors.map((s) => s.get(`job${i}`) ?? 0);
      expect(where.reduce((x, y) => x + y, 0), `job${i} ran ${where.join('+')} times on the survivors`).toBeLessThanOrEqual(1);
      // Intact and ours: a PNG that decodes, carrying the very prompt of this job (SaveImage's tEXt chunk).
      const meta = await sharp(results[i]!.value).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['png', 32, 32]);
      const prompt = JSON.parse(meta.comments?.find((c) => c.keyword === 'prompt')?.text ?? '{}') as ApiWorkflow;
      expect(prompt['3']?.inputs['filename_prefix']).toBe(`job${i}`);
    }
    // Jobs that finished on the killed server before it died count there; none ran twice on the survivors.
    const moved = results.filter((r) => r.server !== 'gpu1');
    expect(moved.every((r) => (survivors[r.server === 'gpu0' ? 0 : 1]!.get(`job${results.indexOf(r)}`) ?? 0) === 1)).toBe(true);
    expect(results.some((r) => r.attempts > 1)).toBe(true);
  });

  latestOnly('keeps each server fed: maxConcurrent prompts in flight, the rest wait in our queue', async () => {
    const [a] = await emulatorsOf(1);
    const pool = poolOf([a!]);
    await pool.start(AbortSignal.timeout(10_000));
    const dir = await outDir();
    let peak = 0;
    const runs = Array.from({ length: 6 }, (_, i) =>
      pool.run(downloadJob(`j${i}`, slowWorkflow({ steps: 4, seed: 100 + i, prefix: `j${i}` }), dir), {
        signal: live(),
        onEvent: () => (peak = Math.max(peak, pool.status()[0]!.inFlight)),
      }),
    );
    await Promise.all(runs);
    expect(peak).toBe(2);
    expect(pool.status()[0]).toMatchObject({ state: 'up', inFlight: 0 });
  });

  it('capability routing: jobs go only where their model is; no server has it → an error before any submit', async () => {
    const [plain, rich] = await emulatorsOf(2, {});
    await plain!.close();
    emulators.splice(emulators.indexOf(plain!), 1);
    const [small] = await emulatorsOf(1, { models: { checkpoints: ['tiny.safetensors'] } });
    const pool = poolOf([small!, rich!]);
    await pool.start(AbortSignal.timeout(10_000));
    await new Promise<void>((resolve) => {
      const stop = pool.on(() => pool.status().every((s) => s.state === 'up') && (stop(), resolve()));
      if (pool.status().every((s) => s.state === 'up')) resolve();
    });
    const dir = await outDir();
    const withModel = (ckpt: string, i: number): ApiWorkflow => ({
      ...slowWorkflow({ seed: 200 + i, prefix: `m${i}` }),
      '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: ckpt }, _meta: { title: 'Model' } },
    });
    const results = await Promise.all(
      Array.from({ length: 4 }, (_, i) => pool.run(downloadJob(`m${i}`, withModel('sd_xl_base_1.0.safetensors', i), dir), { signal: live() })),
    );
    expect(results.map((r) => r.server)).toEqual(['gpu1', 'gpu1', 'gpu1', 'gpu1']);

    const posts = (): number => [small!, rich!].flatMap((e) => e.log).filter((l) => l.method === 'POST' && l.path === '/api/prompt').length;
    const before = posts();
    const error = await rejection(pool.run(downloadJob('nowhere', withModel('missing.safetensors', 9), dir), { signal: live() }));
    expect(error.code).toBe('SERVER_MISSING_CAPABILITY');
    expect(error.message).toContain(`no server can run job nowhere:\n  "gpu0" (${small!.url}): node 4 "Model" (CheckpointLoaderSimple): input "ckpt_name": model "missing.safetensors" is not available`);
    expect(posts()).toBe(before);
  });

  it('an invalid workflow fails at once, without trying other servers', async () => {
    const servers = await emulatorsOf(2);
    const pool = poolOf(servers);
    await pool.start(AbortSignal.timeout(10_000));
    const workflow = slowWorkflow();
    const broken = { ...workflow, '2': { ...workflow['2']!, inputs: { ...workflow['2']!.inputs, steps: -1 } } };
    const error = await rejection(pool.run(downloadJob('bad', broken, await outDir()), { signal: live() }));
    expect(error.code).toBe('WORKFLOW_INVALID');
    const posts = servers.flatMap((e) => e.log).filter((l) => l.method === 'POST' && l.path === '/api/prompt');
    expect(posts).toHaveLength(1);
  });

  latestOnly('a server that keeps failing is benched, its work runs elsewhere, and it rejoins after a probe', async () => {
    const [flaky, steady] = await emulatorsOf(2);
    flaky!.faults.httpError.push({ route: 'POST /prompt', status: 500 });
    const pool = poolOf([flaky!, steady!], { failuresBeforeDown: 2 });
    const events = recorder<PoolEvent>();
    pool.on(events.onEvent);
    await pool.start(AbortSignal.timeout(10_000));
    const dir = await outDir();
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => pool.run(downloadJob(`f${i}`, slowWorkflow({ seed: 300 + i, prefix: `f${i}` }), dir), { signal: live() })),
    );
    expect(results.every((r) => r.server === 'gpu1')).toBe(true);
    const down = await events.seen((e) => e.type === 'server' && e.server === 'gpu0' && e.state === 'down');
    expect(down).toMatchObject({ reason: expect.stringContaining('answered POST /api/prompt with HTTP 500') });
    // Healed: once a probe lets it back in, it takes work again.
    const mark = events.events.length;
    flaky!.faults.httpError.length = 0;
    if (pool.status()[0]!.state !== 'up') {
      await events.seen((e) => e.type === 'server' && e.server === 'gpu0' && e.state === 'up' && events.events.indexOf(e) >= mark);
    }
    const again = await Promise.all(
      Array.from({ length: 4 }, (_, i) => pool.run(downloadJob(`g${i}`, slowWorkflow({ seed: 350 + i, prefix: `g${i}` }), dir), { signal: live() })),
    );
    expect(again.some((r) => r.server === 'gpu0')).toBe(true);
  });

  it('abort mid-run: no prompt of ours is left on any server; another user\'s prompt is untouched', async () => {
    const servers = await emulatorsOf(3);
    const pool = poolOf(servers);
    await pool.start(AbortSignal.timeout(10_000));
    const foreign = await fetch(`${servers[0]!.url}/api/prompt`, {
      method: 'POST',
      body: JSON.stringify({ prompt: slowWorkflow({ steps: 2000, seed: 5, prefix: 'someone_else' }), client_id: 'another-user' }),
    }).then(async (r) => ((await r.json()) as { prompt_id: string }).prompt_id);
    const abort = new AbortController();
    const started = recorder<PoolEvent>();
    const runs = Array.from({ length: 9 }, (_, i) =>
      pool.run(downloadJob(`c${i}`, slowWorkflow({ steps: 2000, seed: 400 + i }), '/nonexistent'), { signal: abort.signal, onEvent: started.onEvent }),
    );
    await started.seen((e) => e.type === 'job' && e.event.type === 'progress');
    abort.abort();
    const errors = await Promise.all(runs.map((r) => rejection(r)));
    expect(errors.map((e) => e.code)).toEqual(Array(9).fill('CANCELLED'));
    for (const emulator of servers) {
      const queue = (await (await fetch(`${emulator.url}/api/queue`)).json()) as { queue_running: [number, string][]; queue_pending: [number, string][] };
      const ids = [...queue.queue_running, ...queue.queue_pending].map((q) => q[1]);
      expect(ids).toEqual(emulator === servers[0] ? [foreign] : []);
    }
  });

  latestOnly('10 concurrent submissions complete, and VRAM returns to its baseline with /free', async () => {
    const [a, b] = await emulatorsOf(2);
    const baseline = [a!.vram().used, b!.vram().used];
    const pool = poolOf([a!, b!], { freeMemory: { kind: 'between-scripts' } });
    const vram = recorder<PoolEvent>();
    pool.on(vram.onEvent);
    await pool.start(AbortSignal.timeout(10_000));
    const dir = await outDir();
    // Decoding a latent with the checkpoint's VAE puts that VAE on the (simulated) GPU.
    const withModel = (i: number): ApiWorkflow => ({
      '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: i % 2 === 0 ? 'sd_xl_base_1.0.safetensors' : 'v1-5-pruned-emaonly.safetensors' } },
      '5': { class_type: 'EmptyLatentImage', inputs: { width: 64, height: 64, batch_size: 1 } },
      '6': { class_type: 'VAEDecode', inputs: { samples: ['5', 0], vae: ['4', 2] } },
      '3': { class_type: 'SaveImage', inputs: { images: ['6', 0], filename_prefix: `v${i}` } },
    });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => pool.run(downloadJob(`v${i}`, withModel(i), dir), { signal: live() })));
    expect(results).toHaveLength(10);
    expect(a!.vram().used + b!.vram().used).toBeGreaterThan(baseline[0]! + baseline[1]!);
    const readings = await pool.endScript(AbortSignal.timeout(10_000));
    expect([a!.vram().used, b!.vram().used]).toEqual(baseline);
    expect(readings.map((r) => r.used)).toEqual(baseline);
    // Readings when each server joined, then the two after /free: the trend that shows a leak.
    expect(vram.events.filter((e) => e.type === 'vram').slice(-2).map((e) => (e.type === 'vram' ? e.used : -1))).toEqual(baseline);
  });

  latestOnly('freeMemory every-n-jobs: /free after every N jobs on a server, with a VRAM reading after it', async () => {
    const [a] = await emulatorsOf(1);
    const baseline = a!.vram().used;
    const pool = new ComfyPool([serverOf(a!, 'solo', { maxConcurrent: 1 })], { timeouts: FAST, freeMemory: { kind: 'every-n-jobs', every: 3 } });
    pools.push(pool);
    const events = recorder<PoolEvent>();
    pool.on(events.onEvent);
    await pool.start(AbortSignal.timeout(10_000));
    const joined = await events.seen((e) => e.type === 'vram');
    const dir = await outDir();
    const decode = (i: number): ApiWorkflow => ({
      '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sd_xl_base_1.0.safetensors' } },
      '5': { class_type: 'EmptyLatentImage', inputs: { width: 64, height: 64, batch_size: 1 } },
      '6': { class_type: 'VAEDecode', inputs: { samples: ['5', 0], vae: ['4', 2] } },
      '3': { class_type: 'SaveImage', inputs: { images: ['6', 0], filename_prefix: `e${i}` } },
    });
    await Promise.all([0, 1, 2].map((i) => pool.run(downloadJob(`e${i}`, decode(i), dir), { signal: live() })));
    const after = await events.seen((e) => e.type === 'vram' && e !== joined);
    expect(after).toEqual({ type: 'vram', server: 'solo', used: baseline, total: a!.vram().total });
    expect(a!.log.filter((l) => l.path === '/api/free')).toHaveLength(1);
  });

  latestOnly('when every server is down, pending work is rejected with NO_BACKEND', async () => {
    const servers = await emulatorsOf(2);
    const pool = poolOf(servers);
    await pool.start(AbortSignal.timeout(10_000));
    const runs = Array.from({ length: 8 }, (_, i) => pool.run(downloadJob(`n${i}`, slowWorkflow({ steps: 200, seed: 600 + i }), '/nonexistent'), { signal: live() }));
    const started = recorder<JobEvent>();
    void started;
    await Promise.all(servers.map((s) => s.kill()));
    const errors = await Promise.all(runs.map((r) => rejection(r)));
    expect(new Set(errors.map((e) => e.code))).toEqual(new Set(['NO_BACKEND']));
    expect(errors[0]!.message).toMatch(/^no ComfyUI server is available:\n {2}"gpu0" \(http:\/\/127\.0\.0\.1:\d+\): /);
    const late = await rejection(pool.run(downloadJob('late', slowWorkflow(), '/nonexistent'), { signal: live() }));
    expect(late.code).toBe('NO_BACKEND');
  });

  latestOnly('start() rejects with NO_BACKEND when no server answers', async () => {
    const [gone] = await emulatorsOf(1);
    await gone!.kill();
    const pool = poolOf([gone!]);
    const error = await rejection(pool.start(AbortSignal.timeout(10_000)));
    expect(error.code).toBe('NO_BACKEND');
    expect(error.message).toContain('did not answer GET /api/system_stats (ECONNREFUSED)');
  });
});
