/**
 * A `comic worker` killed with SIGKILL mid-job, as a crashed GPU box's worker would be: the
 * prompt it sent keeps running on ComfyUI. The worker that takes the stalled job over adopts
 * that prompt (the prompts sent for a key are kept in Redis) instead of rendering it again.
 * Coordinator, workers and emulator are all processes of their own.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_AVAILABLE, startRedis, type RedisInstance } from '../distributed/helpers.js';
import { killEmulators, runComic, startEmulator, writeExample } from '../support/process.js';

let dir: string;
let redis: RedisInstance | null = null;
const children: ReturnType<typeof runComic>[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'comic-worker-kill-'));
});
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await killEmulators();
  await redis?.stop();
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe.skipIf(!REDIS_AVAILABLE)('a worker killed mid-job', { timeout: 120_000 }, () => {
  it('the next worker adopts its prompt on the shared ComfyUI: every image runs there exactly once', async () => {
    redis = await startRedis();
    const comfy = await startEmulator('comfyui', ['--step-ms', '60']);
    const script = join(dir, 'comic.yaml');
    await writeExample(script);
    const worker = (name: string) =>
      runComic(['worker', '--queue', redis!.url, '--server', comfy.url, '--no-fallback', '--concurrency', '1', '--name', name, '--stall-timeout', '2s']);
    const a = worker('gpu-a');
    children.push(a);
    const coordinator = runComic(['generate', script, '--queue', redis.url, '--json', '--out', join(dir, 'out'), '--cache', join(dir, 'cache')]);
    children.push(coordinator);
    // Killed once its prompt is running on ComfyUI.
    for (;;) {
      const queue = (await (await fetch(`${comfy.url}/queue`)).json()) as { queue_running: unknown[] };
      if (queue.queue_running.length > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    a.kill('SIGKILL');
    const b = worker('gpu-b');
    children.push(b);
    const run = await coordinator;
    expect(run.exitCode, String(run.stderr)).toBe(0);
    const report = JSON.parse(await readFile(join(dir, 'out', 'report.json'), 'utf8')) as { jobs: { kind: string }[] };
    const images = report.jobs.filter((j) => ['character', 'background', 'panel'].includes(j.kind)).length;
    const history = (await (await fetch(`${comfy.url}/history`)).json()) as Record<string, unknown>;
    expect(Object.keys(history)).toHaveLength(images);
  });
});
