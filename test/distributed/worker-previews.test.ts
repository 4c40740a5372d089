/**
 * `comic worker` honours `comfyui.previews` from its own configuration: run as a process of
 * its own on the ComfyUI emulator with `comfyui: { previews: auto }` in its config file, its
 * prompts carry `extra_data.preview_method` and the sampler previews reach the coordinator
 * over the queue as `preview` events. Skipped when redis-server is missing.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RenderEvent } from '../../src/backends/types.js';
import { loadTemplateRegistry } from '../../src/templates/index.js';
import { sha256 } from '../../src/util/hash.js';
import { startComfyEmulator, type ComfyEmulator } from '../fakes/comfyui/index.js';
import { Cluster, EVENTUALLY, REDIS_AVAILABLE, startRedis, type RedisInstance } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');

describe.skipIf(!REDIS_AVAILABLE)('comic worker and comfyui.previews', () => {
  let redis: RedisInstance;
  let comfy: ComfyEmulator;
  let dir: string;
  beforeAll(async () => {
    [redis, comfy] = await Promise.all([startRedis(), startComfyEmulator({ stepMs: 5 })]);
    dir = await mkdtemp(join(tmpdir(), 'comic-worker-previews-'));
  });
  afterAll(async () => {
    await comfy?.close();
    await redis?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('sends preview_method from its config with every prompt, and the previews reach the coordinator', { timeout: 60_000 }, async () => {
    const config = join(dir, 'comic.config.yaml');
    await writeFile(config, 'comfyui: { previews: auto }\n');
    const url = `${redis.url.replace(/\/\d*$/, '')}/3`;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '-e', `import(${JSON.stringify(MAIN)}).then(async (m) => { process.exitCode = await m.main(['node', 'comic', ...process.argv.slice(1)]); })`,
        'worker', '--queue', url, '--config', config, '--server', comfy.url, '--no-fallback', '--name', 'gpu-box', '--concurrency', '1'],
      { cwd: ROOT, env: { ...process.env, COMIC_USER_CONFIG_DIR: join(dir, 'user-settings'), NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const cluster = new Cluster(redis, await loadTemplateRegistry({ dirs: [] }), url);
    try {
      await expect.poll(() => out, EVENTUALLY).toContain('worker gpu-box: taking jobs from');
      const events: RenderEvent[] = [];
      const result = await cluster.coordinator().render(
        {
          jobId: 'panel:1-1',
          key: sha256('worker previews panel'),
          template: cluster.templates.get('panel'),
          params: { positive: 'a gull on a post', negative: '', seed: 11, width: 512, height: 512, steps: 3 },
          inputs: [],
          shot: { title: 'Panel 1-1', summary: 'a gull on a post', subjects: [], camera: null, pose: null, dialogue: null },
          outputPath: join(dir, 'panel.png'),
        },
        { signal: AbortSignal.timeout(45_000), onEvent: (event) => void events.push(event) },
      );
      expect(result).toMatchObject({ backend: 'comfyui' });
      const history = (await (await fetch(`${comfy.url}/history`)).json()) as Record<string, { prompt: unknown[] }>;
      expect(Object.values(history).map((entry) => (entry.prompt[3] as Record<string, unknown>).preview_method)).toEqual(['auto']);
      const previews = events.filter((e) => e.type === 'preview');
      expect(previews.length).toBeGreaterThan(0);
      expect(previews[0]).toMatchObject({ mime: 'image/jpeg' });
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await cluster.close();
    }
  });
});
