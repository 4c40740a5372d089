/**
 * `comic serve` end to end on the emulators, over real HTTP and WebSocket on 127.0.0.1:
 * a panel rendered by the ComfyUI emulator with live progress; the SD API fallback when
 * ComfyUI is stopped; cancellation interrupting the remote prompt; ten concurrent requests,
 * after which the emulator's VRAM and the server's heap are back to where they were.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import sharp from 'sharp';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BASELINE_BYTES, startComfyEmulator, type ComfyEmulator } from '../fakes/comfyui/index.js';
import { startSdApiEmulator, type SdApiEmulator } from '../fakes/sdapi/index.js';
import { api, KEY, lifecycle, startTestServer, WsClient, type TestServer } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function emulators(options: { comfyStepMs?: number } = {}): Promise<{ comfy: ComfyEmulator; sd: SdApiEmulator }> {
  const [comfy, sd] = await Promise.all([startComfyEmulator({ stepMs: options.comfyStepMs ?? 5 }), startSdApiEmulator({ stepMs: 2 })]);
  cleanups.push(() => Promise.all([comfy.close(), sd.close()]).then(() => undefined));
  return { comfy, sd };
}

async function serveOn(comfy: ComfyEmulator, sd: SdApiEmulator, extraConfig = ''): Promise<TestServer> {
  const t = await startTestServer({
    flags: { backend: 'comfyui', fallback: sd.url },
    configYaml: `servers:\n  - url: ${comfy.url}\n    name: gpu\n    maxConcurrent: 4\ntimeouts: { connect: 2s }\n${extraConfig}`,
  });
  cleanups.push(() => t.close());
  return t;
}

/** A quick SD 1.5 panel: few steps, small. */
const panel = (scene: string) => ({
  scene,
  characters: [{ name: 'Mara', description: 'young lighthouse keeper, red raincoat' }],
  camera: 'low angle',
  template: 'panel-sd15',
  params: { steps: 6, hires_steps: 2, upscale: 1 },
  size: { width: 320, height: 448 },
});

describe('comic serve on the emulators', () => {
  it('renders a panel on ComfyUI; the WebSocket sees queued → processing with steps → completed', async () => {
    const { comfy, sd } = await emulators();
    const t = await serveOn(comfy, sd);
    const ws = await WsClient.open(t.url, { token: KEY, job: '*' });
    await ws.waitFor((m) => m.type === 'subscribed');
    const { job } = (await api(t.url, '/api/comic/generate-panel', { json: panel('Mara climbs the spiral stairs, lantern in hand') })).json();
    const completed = await ws.waitFor((m) => m.type === 'completed' && m.job === job.id, 'completed');

    expect(lifecycle(ws.messages, job.id)).toEqual(['queued', 'processing', 'queued', 'processing', 'completed']);
    // serve asks ComfyUI for previews unless configured otherwise: they arrive before the image.
    const previews = ws.messages.filter((m) => m.job === job.id && m.type === 'preview');
    expect(previews.length).toBeGreaterThan(0);
    expect(ws.messages.indexOf(previews.at(-1))).toBeLessThan(ws.messages.indexOf(completed));
    const steps = ws.messages.filter((m) => m.job === job.id && m.type === 'processing' && m.progress.step).map((m) => m.progress);
    expect(steps).toContainEqual(expect.objectContaining({ image: 'panel:1-1', server: 'gpu', node: 'Sampler', step: { value: 6, max: 6 } }));
    expect(completed.outputs).toEqual([expect.objectContaining({ image: 'panel:1-1', backend: 'comfyui', server: 'gpu', cached: false })]);

    const image = await api(t.url, completed.outputs[0].url);
    expect(image.headers.get('content-type')).toBe('image/png');
    const meta = await sharp(image.body).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 320, 448]);
    // The prompt ComfyUI got was built from the scene, the character and the camera.
    const prompt = JSON.stringify([...comfy.prompts.values()].at(-1)!.prompt);
    expect(prompt).toMatch(/Mara climbs the spiral stairs.*Mara: young lighthouse keeper, red raincoat.*camera: low angle/);
    expect((await api(t.url, '/api/health')).json()).toMatchObject({ status: 'ok', servers: [{ name: 'gpu', state: 'up' }], fallback: { active: false } });
    await ws.close();
  });

  it('with ComfyUI stopped, the same request completes on the SD API fallback, and the events and log say so', async () => {
    const { comfy, sd } = await emulators();
    await comfy.close();
    const t = await serveOn(comfy, sd);
    const ws = await WsClient.open(t.url, { token: KEY, job: '*' });
    await ws.waitFor((m) => m.type === 'subscribed');
    const answer = await api(t.url, '/api/comic/generate-panel?wait=true', { json: panel('Mara climbs the spiral stairs, lantern in hand') });
    expect(answer.status).toBe(200);
    const { job } = answer.json();
    expect(job.outputs).toEqual([expect.objectContaining({ image: 'panel:1-1', backend: 'sdapi', cached: false })]);
    expect(await ws.waitFor((m) => m.type === 'fallback')).toMatchObject({ from: 'comfyui', to: 'sdapi', reason: expect.stringMatching(/no ComfyUI server is available/) });
    await ws.waitFor((m) => m.type === 'completed' && m.job === job.id);
    expect(sd.requests).toHaveLength(1);
    expect(t.log()).toMatch(/falling back from comfyui to sdapi: no ComfyUI server is available/);
    expect(t.log()).toMatch(/completed: panel:1-1 via sdapi/);
    expect((await api(t.url, '/api/health')).json()).toMatchObject({ status: 'degraded', fallback: { configured: true, active: true } });
    const meta = await sharp((await api(t.url, job.outputs[0].url)).body).metadata();
    expect([meta.width, meta.height]).toEqual([320, 448]);
    await ws.close();
  });

  it('DELETE interrupts the running prompt on ComfyUI', async () => {
    const { comfy, sd } = await emulators({ comfyStepMs: 200 });
    const t = await serveOn(comfy, sd);
    const ws = await WsClient.open(t.url, { token: KEY, job: '*' });
    const { job } = (await api(t.url, '/api/comic/generate-panel', { json: { ...panel('a long render'), params: { steps: 50, hires_steps: 2 } } })).json();
    await ws.waitFor((m) => m.job === job.id && m.type === 'processing' && m.progress.step !== null, 'a sampler step');
    expect((await api(t.url, `/api/jobs/${job.id}`, { method: 'DELETE' })).status).toBe(202);
    await ws.waitFor((m) => m.job === job.id && m.type === 'cancelled', 'cancelled');
    // ComfyUI 0.28 (the emulator's default) has a cancel route per prompt; older servers get /interrupt.
    expect(comfy.log.some((entry) => entry.method === 'POST' && /\/api\/jobs\/[^/]+\/cancel$|\/interrupt$/.test(entry.path))).toBe(true);
    expect(comfy.prompts.size).toBeGreaterThan(0);
    expect([...comfy.prompts.values()].every((p) => p.executions <= 1)).toBe(true);
    expect((await api(t.url, `/api/jobs/${job.id}`)).json().job).toMatchObject({ state: 'cancelled', outputs: [] });
    await ws.close();
  });

  it('10 concurrent requests all complete; the emulator\'s VRAM and the server\'s heap return to baseline', async () => {
    const { comfy, sd } = await emulators();
    // Free the models after every job, so an idle GPU holds nothing.
    const t = await serveOn(comfy, sd, 'freeMemory: { every: 1 }\n');
    const gc = exposeGc();
    // Warm up: modules, JIT, the connections to the emulator.
    expect((await api(t.url, '/api/comic/generate-panel?wait=true', { json: panel('warm up') })).status).toBe(200);
    const heapBefore = settledHeap(gc);

    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => api(t.url, '/api/comic/generate-panel?wait=true', { json: panel(`crowd scene number ${i}`) })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    const outputs = answers.map((a) => a.json().job.outputs[0]);
    expect(outputs.every((o) => o.backend === 'comfyui' && !o.cached)).toBe(true);
    expect(new Set(outputs.map((o) => o.url)).size).toBe(10);

    await vi.waitFor(() => expect(comfy.vram().used).toBe(BASELINE_BYTES), { timeout: 10_000, interval: 50 });
    expect(t.server.stats()).toMatchObject({ queued: 0, running: 0, sockets: 0 });
    const heapAfter = settledHeap(gc);
    // Loose: ten finished jobs are kept (a few KB each); a leak of the renders would be MBs.
    expect(heapAfter - heapBefore).toBeLessThan(16 * 1024 * 1024);
  });
});

/** `gc()`, exposed at run time (vitest does not start workers with --expose-gc). */
function exposeGc(): () => void {
  const global = globalThis as { gc?: () => void };
  if (global.gc) return global.gc;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function settledHeap(gc: () => void): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}
