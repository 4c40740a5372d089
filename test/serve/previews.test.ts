/**
 * `comic serve` and `comfyui.previews`: with nothing set it asks ComfyUI for `auto` previews
 * (its studio page is for watching renders), so the built-in `panel` template's sampler
 * previews reach the WebSocket; an explicit `server` in the config leaves them to the server
 * (the emulator's default: none), and the log says which applies.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startComfyEmulator, type ComfyEmulator } from '../fakes/comfyui/index.js';
import { api, KEY, startTestServer, WsClient, type TestServer } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serveOn(configYaml?: string): Promise<{ comfy: ComfyEmulator; t: TestServer }> {
  const comfy = await startComfyEmulator({ stepMs: 2 });
  cleanups.push(() => comfy.close());
  const t = await startTestServer({ flags: { backend: 'comfyui', servers: [comfy.url], fallback: false }, ...(configYaml !== undefined && { configYaml }) });
  cleanups.push(() => t.close());
  return { comfy, t };
}

/** One panel of the built-in `panel` template; resolves with every message of its job once it completed. */
async function renderPanel(t: TestServer): Promise<any[]> {
  const ws = await WsClient.open(t.url, { token: KEY, job: '*' });
  try {
    await ws.waitFor((m) => m.type === 'subscribed');
    const { job } = (await api(t.url, '/api/comic/generate-panel', { json: { scene: 'Mara at the lamp', template: 'panel', params: { steps: 5 }, size: { width: 512, height: 512 } } })).json();
    await ws.waitFor((m) => m.type === 'completed' && m.job === job.id, 'completed');
    return ws.messages.filter((m) => m.job === job.id);
  } finally {
    await ws.close();
  }
}

/** extra_data of every prompt the emulator ran, from its history. */
async function extraData(comfy: ComfyEmulator): Promise<Record<string, unknown>[]> {
  const history = (await (await fetch(`${comfy.url}/history`)).json()) as Record<string, { prompt: unknown[] }>;
  return Object.values(history).map((entry) => entry.prompt[3] as Record<string, unknown>);
}

describe('comic serve asks ComfyUI for previews', () => {
  it('auto when nothing sets comfyui.previews: each sampler step sends a preview to the WebSocket', async () => {
    const { comfy, t } = await serveOn();
    expect(t.log()).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+ \(2 API keys; backend comfyui; ComfyUI previews auto\)/);
    const messages = await renderPanel(t);
    const previews = messages.filter((m) => m.type === 'preview');
    expect(previews).toHaveLength(5);
    expect(previews[0]).toMatchObject({ image: 'panel:1-1', mime: 'image/jpeg', data: expect.stringMatching(/^\/9j\//) });
    expect(await extraData(comfy)).toEqual([expect.objectContaining({ preview_method: 'auto' })]);
  });

  it('an explicit comfyui.previews: server sends no preview_method, and the emulator sends no previews', async () => {
    const { comfy, t } = await serveOn('comfyui: { previews: server }\n');
    expect(t.log()).toContain('; ComfyUI previews server)');
    const messages = await renderPanel(t);
    expect(messages.some((m) => m.type === 'processing')).toBe(true);
    expect(messages.filter((m) => m.type === 'preview')).toEqual([]);
    const sent = await extraData(comfy);
    expect(sent).toHaveLength(1);
    expect(sent[0]).not.toHaveProperty('preview_method');
  });
});
