/**
 * `comfyui.previews` end to end on the ComfyUI emulator: a config file sets it, createBackend
 * carries it into the pool, every prompt goes out with `extra_data.preview_method`, and the
 * sampler's previews come back as `preview` render events. `server` (the default) sends no
 * preview_method, so the server's own --preview-method decides (the emulator's: none).
 * `comic serve` asks for `auto` when nothing sets the key, but an explicit `server` wins.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend, RenderEvent } from '../../src/backends/types.js';
import { ComfyPool } from '../../src/comfy/index.js';
import { loadConfig, type ResolvedConfig } from '../../src/config/index.js';
import { EventBus } from '../../src/progress/events.js';
import { comfyPreviews, createBackend, type BackendDefaults } from '../../src/run/backends.js';
import { SERVE_BACKEND_DEFAULTS } from '../../src/serve/server.js';
import { loadTemplateRegistry, type TemplateRegistry } from '../../src/templates/index.js';
import { startComfyEmulator, type ComfyEmulator } from '../fakes/comfyui/index.js';
import { FAST, recorder, serverOf, slowWorkflow, tempDir } from './helpers.js';

let emulator: ComfyEmulator;
let registry: TemplateRegistry;
let work: { path: string; remove: () => Promise<void> };
let seed = 0;

beforeAll(async () => {
  emulator = await startComfyEmulator({ stepMs: 1 });
  registry = await loadTemplateRegistry({ dirs: [] });
  work = await tempDir();
});

afterAll(async () => {
  await emulator?.close();
  await work?.remove();
});

/** The configuration in a fresh project folder whose comic.config.yaml holds `file` (none when null). */
async function configWith(file: string | null): Promise<ResolvedConfig> {
  const project = join(work.path, `project-${++seed}`);
  await mkdir(project, { recursive: true });
  if (file !== null) await writeFile(join(project, 'comic.config.yaml'), file);
  const env = { HOME: work.path, COMIC_USER_CONFIG_DIR: join(work.path, 'user-settings') };
  return loadConfig({ cwd: project, env, flags: { servers: [emulator.url], fallback: false } });
}

/** What the emulator's history recorded as the prompt's extra_data. */
async function extraDataOf(promptId: string): Promise<Record<string, unknown>> {
  const history = (await (await fetch(`${emulator.url}/history/${promptId}`)).json()) as Record<string, { prompt: unknown[] }>;
  return history[promptId]!.prompt[3] as Record<string, unknown>;
}

/** One panel of the built-in `panel` template through createBackend: its events and the prompt's extra_data. */
async function renderPanel(config: ResolvedConfig, defaults?: BackendDefaults) {
  const backend: Backend = createBackend(config, new EventBus(), defaults);
  try {
    await backend.ready(AbortSignal.timeout(10_000));
    const events = recorder<RenderEvent>();
    const jobId = `panel:1-${++seed}`;
    let promptId = '';
    const result = await backend.render(
      {
        jobId,
        key: `previews-${seed}`,
        template: registry.get('panel'),
        // A seed of its own: the emulator's cache never answers instead of the sampler.
        params: { positive: 'Mara climbs the stairs', seed, width: 512, height: 512, steps: 4 },
        inputs: [],
        shot: { title: jobId, summary: 'Mara climbs the stairs', subjects: [], camera: null, pose: null, dialogue: null },
        outputPath: join(work.path, 'out', `${jobId.replace(':', '-')}.png`),
      },
      {
        signal: AbortSignal.timeout(30_000),
        onEvent: events.onEvent,
        onSubmit: async (sent) => void (promptId = sent.promptId),
      },
    );
    expect((await sharp(result.outputPath).metadata()).width).toBe(512);
    return { events: events.events, extraData: await extraDataOf(promptId) };
  } finally {
    await backend.close();
  }
}

const previewsOf = (events: readonly RenderEvent[]) => events.filter((e): e is Extract<RenderEvent, { type: 'preview' }> => e.type === 'preview');

describe('comfyui.previews', () => {
  it('auto: every prompt carries extra_data.preview_method and the sampler previews arrive', async () => {
    const config = await configWith('comfyui: { previews: auto }\n');
    expect(config.comfyui.previews).toBe('auto');
    const { events, extraData } = await renderPanel(config);
    expect(extraData.preview_method).toBe('auto');
    const previews = previewsOf(events);
    // One per sampler step, a JPEG each.
    expect(previews).toHaveLength(4);
    for (const preview of previews) {
      expect(preview.mime).toBe('image/jpeg');
      expect([...preview.bytes.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    }
    // Alongside the step progress, not instead of it.
    expect(events.filter((e) => e.type === 'progress').map((e) => e.type === 'progress' && e.value)).toEqual([1, 2, 3, 4]);
  });

  it('server (the default): no preview_method is sent, and the server sends no previews', async () => {
    const config = await configWith(null);
    expect(config.comfyui.previews).toBe('server');
    expect(config.sources['comfyui.previews']).toEqual({ kind: 'default' });
    const { events, extraData } = await renderPanel(config);
    expect(extraData).not.toHaveProperty('preview_method');
    expect(events.some((e) => e.type === 'progress')).toBe(true);
    expect(previewsOf(events)).toEqual([]);
  });

  it('none: sent as such (off even on a server started with --preview-method)', async () => {
    const { events, extraData } = await renderPanel(await configWith('comfyui: { previews: none }\n'));
    expect(extraData.preview_method).toBe('none');
    expect(previewsOf(events)).toEqual([]);
  });

  it('comic serve asks for auto when nothing sets the key, but an explicit server wins', async () => {
    const unset = await configWith(null);
    expect(comfyPreviews(unset, SERVE_BACKEND_DEFAULTS)).toBe('auto');
    const served = await renderPanel(unset, SERVE_BACKEND_DEFAULTS);
    expect(served.extraData.preview_method).toBe('auto');
    expect(previewsOf(served.events)).toHaveLength(4);

    const explicit = await configWith('comfyui: { previews: server }\n');
    expect(comfyPreviews(explicit, SERVE_BACKEND_DEFAULTS)).toBe('server');
    const left = await renderPanel(explicit, SERVE_BACKEND_DEFAULTS);
    expect(left.extraData).not.toHaveProperty('preview_method');
    expect(previewsOf(left.events)).toEqual([]);

    const taesd = await configWith('comfyui: { previews: taesd }\n');
    expect(comfyPreviews(taesd, SERVE_BACKEND_DEFAULTS)).toBe('taesd');
  });

  it('the pool alone takes a plain previewMethod option (the client knows nothing of config)', async () => {
    const pool = new ComfyPool([serverOf(emulator, 'gpu')], { timeouts: FAST, previewMethod: 'latent2rgb' });
    try {
      await pool.start(AbortSignal.timeout(10_000));
      const done = await pool.run(
        { id: 'slow', prepare: () => slowWorkflow({ steps: 2, seed: ++seed }), collect: async () => undefined },
        { signal: AbortSignal.timeout(30_000) },
      );
      expect((await extraDataOf(done.promptId)).preview_method).toBe('latent2rgb');
    } finally {
      await pool.close();
    }
  });

  it('is refused with the values it takes when misspelt', async () => {
    await expect(configWith('comfyui: { previews: taesdd }\n')).rejects.toThrow(/comfyui\.previews: invalid value "taesdd": expected one of "server", "auto", "latent2rgb", "taesd", "none"/);
  });
});
