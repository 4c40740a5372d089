import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createComfyBackend, type ComfyBackend } from '../../src/backends/comfyui/backend.js';
import type { RenderEvent, RenderRequest } from '../../src/backends/types.js';
import { ComicError } from '../../src/errors.js';
import { loadTemplateRegistry, type TemplateRegistry } from '../../src/templates/index.js';
import { startComfyEmulator, type ComfyEmulator } from '../fakes/comfyui/index.js';
import { FAST, recorder, serverOf, tempDir } from './helpers.js';

let registry: TemplateRegistry;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  registry = await loadTemplateRegistry({ dirs: [] });
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(emulatorOptions: Parameters<typeof startComfyEmulator>[0][]) {
  const emulators = await Promise.all(emulatorOptions.map((o) => startComfyEmulator({ stepMs: 2, ...o })));
  cleanups.push(() => Promise.all(emulators.map((e) => e.close())).then(() => undefined));
  const events = recorder<RenderEvent>();
  const backend = createComfyBackend({
    servers: emulators.map((e, i) => serverOf(e, `gpu${i}`)),
    pool: { timeouts: FAST, downAfterFailures: 2 },
    onEvent: events.onEvent,
  });
  cleanups.push(() => backend.close());
  const out = await tempDir();
  cleanups.push(out.remove);
  return { emulators, backend, events, out: out.path };
}

async function sheet(dir: string): Promise<{ file: string; sha256: string }> {
  const file = join(dir, 'mara-sheet.png');
  await sharp({ create: { width: 64, height: 64, channels: 3, background: '#c33' } }).png().toFile(file);
  return { file, sha256: createHash('sha256').update(await readFile(file)).digest('hex') };
}

function panelRequest(out: string, jobId: string, reference: { file: string; sha256: string }, seed: number): RenderRequest {
  return {
    jobId,
    key: `key-${jobId}-${seed}`,
    template: registry.get('panel-ref'),
    params: { positive: 'Mara climbs the stairs', seed, width: 512, height: 512, steps: 2 },
    inputs: [{ param: 'reference', ...reference }],
    shot: { title: jobId, summary: 'Mara climbs the stairs', subjects: ['mara'], camera: null, pose: null, dialogue: null },
    outputPath: join(out, 'panels', `${jobId.replace(':', '-')}.png`),
  };
}

describe('the ComfyUI backend', () => {
  let backend: ComfyBackend;

  it('renders a template on the server that has its models, with the reference uploaded once', async () => {
    // gpu0 lacks the CLIP vision model that panel-ref needs: the preflight routes every job to gpu1.
    const env = await setup([{ models: { clip_vision: [] } }, {}]);
    backend = env.backend;
    await backend.ready(AbortSignal.timeout(10_000));
    // Each server's VRAM is read as it joins: the "before" of the batch.
    await env.events.seen((e) => e.type === 'vram' && e.server === 'gpu0');
    await env.events.seen((e) => e.type === 'vram' && e.server === 'gpu1');
    const reference = await sheet(env.out);
    const seen = recorder<RenderEvent>();
    const results = await Promise.all(
      [1, 2, 3].map((i) => backend.render(panelRequest(env.out, `panel:1-${i}`, reference, i), { signal: new AbortController().signal, onEvent: seen.onEvent })),
    );
    expect(results.map((r) => [r.backend, r.server])).toEqual([
      ['comfyui', 'gpu1'],
      ['comfyui', 'gpu1'],
      ['comfyui', 'gpu1'],
    ]);
    for (const result of results) {
      const meta = await sharp(result.outputPath).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['png', 512, 512]);
    }
    expect((await readdir(join(env.out, 'panels'))).sort()).toEqual(['panel-1-1.png', 'panel-1-2.png', 'panel-1-3.png']);
    expect(env.emulators[1]!.log.filter((l) => l.path === '/api/upload/image')).toHaveLength(1);
    expect(env.emulators[0]!.log.filter((l) => l.method === 'POST')).toEqual([]);
    const types = new Set(seen.events.filter((e) => 'jobId' in e && e.jobId === 'panel:1-1').map((e) => e.type));
    expect(types).toEqual(new Set(['queued', 'started', 'node', 'progress']));
    expect(seen.events).toContainEqual(expect.objectContaining({ type: 'node', jobId: 'panel:1-2', title: 'Sampler', classType: 'KSampler' }));
  });

  it('no server with the models: SERVER_MISSING_CAPABILITY, naming each server and what it lacks', async () => {
    const env = await setup([{ models: { clip_vision: [] } }]);
    backend = env.backend;
    await backend.ready(AbortSignal.timeout(10_000));
    const error = await backend
      .render(panelRequest(env.out, 'panel:2-1', await sheet(env.out), 1), { signal: new AbortController().signal, onEvent: () => undefined })
      .then(
        () => null,
        (e: unknown) => e as ComicError,
      );
    expect(error?.code).toBe('SERVER_MISSING_CAPABILITY');
    expect(error?.message).toContain(`"gpu0" (${env.emulators[0]!.url})`);
    expect(error?.message).toMatch(/clip/i);
    expect(env.emulators[0]!.log.filter((l) => l.method === 'POST')).toEqual([]);
  });

  it('a hostile output name fails the job with SERVER_PROTOCOL and writes nothing', async () => {
    const env = await setup([{}]);
    backend = env.backend;
    await backend.ready(AbortSignal.timeout(10_000));
    const reference = await sheet(env.out);
    env.emulators[0]!.faults.hostileFilenames = 'traversal';
    const error = await backend
      .render(panelRequest(env.out, 'panel:3-1', reference, 1), { signal: new AbortController().signal, onEvent: () => undefined })
      .then(
        () => null,
        (e: unknown) => e as ComicError,
      );
    expect(error?.code).toBe('SERVER_PROTOCOL');
    expect(error?.message).toContain('"../../x.png"');
    expect(await readdir(env.out)).toEqual(['mara-sheet.png']);
  });

  it('ready() rejects with NO_BACKEND when no server answers (the fallback then takes over)', async () => {
    const env = await setup([{}]);
    backend = env.backend;
    await env.emulators[0]!.kill();
    const error = await backend.ready(AbortSignal.timeout(10_000)).then(
      () => null,
      (e: unknown) => e as ComicError,
    );
    expect(error?.code).toBe('NO_BACKEND');
    expect(env.events.events).toContainEqual(expect.objectContaining({ type: 'server', server: 'gpu0', state: 'down' }));
  });
});

export type { ComfyEmulator };
