/**
 * Every HTTP route beyond what the traces show: both prefixes, 404/405, crashes as 500s,
 * /view's annotations and re-encodings, uploads, history paging, the jobs API and catalogue
 * model lists from the configured models.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODELS, MODEL_FOLDERS, startComfyEmulator, type ComfyEmulator } from '../fakes/comfyui/index.js';
import { getJson, http, queuePrompt, slowWorkflow, upload, WsRecorder, type JsonObject } from './helpers.js';

let emu: ComfyEmulator;
let ws: WsRecorder;
let saved: { filename: string; subfolder: string; type: string };
let promptId: string;

beforeAll(async () => {
  emu = await startComfyEmulator({
    stepMs: 1,
    models: { checkpoints: ['b.safetensors', 'a.safetensors'], embeddings: ['easynegative.safetensors'], mystery: ['x.bin'] },
  });
  ws = await WsRecorder.open(emu.url);
  const answer = await queuePrompt(emu, { prompt: slowWorkflow({ steps: 1, prefix: 'routes/sub/r' }), client_id: ws.sid });
  promptId = answer.prompt_id;
  await ws.done(promptId);
  const executed = ws.json().find((m) => m.type === 'executed')?.data.output as { images: Array<typeof saved> };
  saved = executed.images[0] as typeof saved;
});

afterAll(async () => {
  await ws.close();
  await emu.close();
});

describe('routing', () => {
  it('serves every GET route with and without /api', async () => {
    for (const path of ['/system_stats', '/object_info/KSampler', '/models', '/models/checkpoints', '/embeddings', '/extensions', '/features', '/prompt', '/queue', '/history', `/history/${promptId}`]) {
      const plain = await http(emu.url, 'GET', path);
      const prefixed = await http(emu.url, 'GET', `/api${path}`);
      expect([plain.status, prefixed.status], path).toEqual([200, 200]);
      expect(prefixed.json, path).toEqual(plain.json);
    }
  });

  it('answers unknown routes 404 and wrong methods 405 (aiohttp text bodies); /jobs only exists under /api', async () => {
    expect(await http(emu.url, 'GET', '/nope')).toMatchObject({ status: 404, text: '404: Not Found', contentType: 'text/plain; charset=utf-8' });
    expect(await http(emu.url, 'GET', '/interrupt')).toMatchObject({ status: 405, text: '405: Method Not Allowed' });
    expect((await http(emu.url, 'GET', '/jobs')).status).toBe(404);
    expect((await http(emu.url, 'GET', '/api/jobs')).status).toBe(200);
    expect(await http(emu.url, 'GET', '/ws')).toMatchObject({ status: 400 });
  });

  it('answers malformed JSON bodies with the text/plain 500, except /interrupt which ignores the body', async () => {
    for (const path of ['/prompt', '/queue', '/history', '/free']) {
      expect(await http(emu.url, 'POST', path, '{oops'), path).toMatchObject({ status: 500, contentType: 'text/plain; charset=utf-8', text: '500 Internal Server Error\n\nServer got itself in trouble' });
    }
    expect(await http(emu.url, 'POST', '/interrupt', '{oops')).toMatchObject({ status: 200, contentType: 'application/octet-stream', text: '' });
    expect(await http(emu.url, 'POST', '/interrupt', [1])).toMatchObject({ status: 200, text: '' });
    expect((await http(emu.url, 'POST', '/prompt', { prompt: {}, number: 'abc' })).status).toBe(500);
    expect(((await http(emu.url, 'POST', '/prompt', [1, 2])).json as { error: { type: string } }).error.type).toBe('no_prompt');
  });

  it('refuses a foreign Origin on a loopback host with an empty 403, as the origin-only middleware does', async () => {
    expect(await http(emu.url, 'GET', '/queue', undefined, { origin: 'http://evil.example' })).toMatchObject({ status: 403, text: '' });
    expect((await http(emu.url, 'GET', '/queue', undefined, { origin: emu.url })).status).toBe(200);
  });
});

describe('catalogue and models', () => {
  it('lists the configured models in both COMBO encodings, sorted, and the folders', async () => {
    const info = await getJson<Record<string, { input: { required: Record<string, unknown[]> } }>>(emu, '/object_info');
    expect(info.CheckpointLoaderSimple?.input.required.ckpt_name?.[0]).toEqual(['a.safetensors', 'b.safetensors']);
    expect(info.UpscaleModelLoader?.input.required.model_name?.[1]).toMatchObject({ options: DEFAULT_MODELS.upscale_models });
    expect(info.VAELoader?.input.required.vae_name?.[0]).toEqual([...(DEFAULT_MODELS.vae ?? [])].sort().concat('pixel_space'));
    expect(info.CLIPVisionLoader?.input.required.clip_name?.[0]).toEqual([...(DEFAULT_MODELS.clip_vision ?? [])].sort());
    expect(await getJson(emu, '/models/checkpoints')).toEqual(['a.safetensors', 'b.safetensors']);
    expect(await getJson(emu, '/models/controlnet')).toEqual([]);
    expect(await getJson(emu, '/models')).toEqual([...MODEL_FOLDERS, 'mystery']);
    expect(await http(emu.url, 'GET', '/models/nope')).toMatchObject({ status: 404, text: '' });
    expect(await getJson(emu, '/embeddings')).toEqual(['easynegative']);
    expect(await getJson(emu, '/object_info/NoSuchNode')).toEqual({});
  });
});

describe('/view', () => {
  const viewPath = (query: string) => `/view?${query}`;

  it('streams the saved PNG with its name, and resolves "[output]" annotations', async () => {
    const direct = await http(emu.url, 'GET', viewPath(`filename=${saved.filename}&subfolder=${saved.subfolder}&type=output`));
    expect(direct.status).toBe(200);
    expect(direct.contentType).toBe('image/png');
    const annotated = await http(emu.url, 'GET', viewPath(`filename=${encodeURIComponent(`${saved.filename} [output]`)}&subfolder=${saved.subfolder}&type=temp`));
    expect(annotated.bytes).toEqual(direct.bytes);
    expect(saved.subfolder).toBe('routes/sub');
  });

  it('rejects traversal (400), bad types (400) and subfolder escapes (403); 404 when missing', async () => {
    expect((await http(emu.url, 'GET', viewPath('filename=/etc/passwd'))).status).toBe(400);
    expect((await http(emu.url, 'GET', viewPath('filename=a..b.png'))).status).toBe(400);
    expect((await http(emu.url, 'GET', viewPath(`filename=${saved.filename}&type=models`))).status).toBe(400);
    expect((await http(emu.url, 'GET', viewPath(`filename=${saved.filename}&subfolder=../..`))).status).toBe(403);
    expect((await http(emu.url, 'GET', viewPath(`filename=${saved.filename}&subfolder=/tmp`))).status).toBe(403);
    expect((await http(emu.url, 'GET', viewPath(`filename=${saved.filename}`))).status).toBe(404);
    expect((await http(emu.url, 'GET', '/view')).status).toBe(404);
  });

  it('re-encodes for preview=jpeg;q and preview=webp, and extracts channels', async () => {
    const base = `filename=${saved.filename}&subfolder=${saved.subfolder}`;
    const jpeg = await http(emu.url, 'GET', viewPath(`${base}&preview=${encodeURIComponent('jpeg;50')}`));
    expect(jpeg.contentType).toBe('image/jpeg');
    expect((await sharp(jpeg.bytes).metadata()).format).toBe('jpeg');
    const webp = await http(emu.url, 'GET', viewPath(`${base}&preview=webp`));
    expect([webp.contentType, (await sharp(webp.bytes).metadata()).format]).toEqual(['image/webp', 'webp']);
    const forced = await http(emu.url, 'GET', viewPath(`${base}&preview=jpeg&channel=rgba`));
    expect(forced.contentType).toBe('image/webp');
    const rgb = await http(emu.url, 'GET', viewPath(`${base}&channel=rgb`));
    expect((await sharp(rgb.bytes).metadata()).channels).toBe(3);
    const alpha = await sharp((await http(emu.url, 'GET', viewPath(`${base}&channel=a`))).bytes).stats();
    expect(alpha.channels[3]?.mean).toBe(255);
  });
});

describe('/upload/image', () => {
  const send = (fields: Record<string, string | [Blob, string]>) => upload(emu, fields);
  const blob = (text: string) => new Blob([Buffer.from(text)], { type: 'image/png' });

  it('crashes on an unknown type (500), needs multipart (400), and keeps uploads in their folders', async () => {
    expect((await send({ image: [blob('x'), 'x.png'], type: 'models' })).status).toBe(500);
    expect((await http(emu.url, 'POST', '/upload/image', { image: 'x' })).status).toBe(400);
    expect((await send({ image: [blob('x'), '../escape.png'] })).status).toBe(400);
    expect((await send({ image: [blob('sub'), 'nested.png'], subfolder: 'a/b' })).json).toEqual({ name: 'nested.png', subfolder: 'a/b', type: 'input' });
    const info = await getJson<{ LoadImage: { input: { required: { image: unknown[] } } } }>(emu, '/object_info/LoadImage');
    expect(info.LoadImage.input.required.image[0]).not.toContain('nested.png');
    const inOutput = await send({ image: [blob('out'), 'made.png'], type: 'output' });
    expect(inOutput.json).toEqual({ name: 'made.png', subfolder: '', type: 'output' });
    expect((await http(emu.url, 'GET', '/view?filename=made.png&type=output')).text).toBe('out');
    expect((await http(emu.url, 'GET', '/view?filename=nested.png&type=input&subfolder=a/b')).text).toBe('sub');
  });

  it('renames on a content clash: "name (1).ext", "name (2).ext"', async () => {
    expect((await send({ image: [blob('one'), 'clash.png'] })).json).toMatchObject({ name: 'clash.png' });
    expect((await send({ image: [blob('two'), 'clash.png'] })).json).toMatchObject({ name: 'clash (1).png' });
    expect((await send({ image: [blob('three'), 'clash.png'] })).json).toMatchObject({ name: 'clash (2).png' });
    expect((await send({ image: [blob('two'), 'clash.png'] })).json).toMatchObject({ name: 'clash (1).png' });
  });
});

describe('history and jobs', () => {
  it('pages history with max_items and offset; bad integers are 500s; POST clear empties it', async () => {
    const local = await startComfyEmulator({ stepMs: 1 });
    try {
      const socket = await WsRecorder.open(local.url);
      const ids: string[] = [];
      for (let seed = 0; seed < 4; seed += 1) {
        const { prompt_id } = await queuePrompt(local, { prompt: slowWorkflow({ steps: 1, seed }), client_id: socket.sid });
        await socket.done(prompt_id);
        ids.push(prompt_id);
      }
      expect(Object.keys(await getJson(local, '/history'))).toEqual(ids);
      expect(Object.keys(await getJson(local, '/history?max_items=2'))).toEqual(ids.slice(2));
      expect(Object.keys(await getJson(local, '/history?offset=1&max_items=2'))).toEqual(ids.slice(1, 3));
      expect(Object.keys(await getJson(local, '/history?offset=3'))).toEqual(ids.slice(3));
      expect((await http(local.url, 'GET', '/history?max_items=x')).status).toBe(500);

      const jobs = await getJson<{ jobs: JsonObject[]; pagination: JsonObject }>(local, '/api/jobs?limit=2&offset=1&sort_order=asc');
      expect(jobs.jobs.map((j) => j.id)).toEqual(ids.slice(1, 3));
      expect(jobs.pagination).toEqual({ offset: 1, limit: 2, total: 4, has_more: true });
      expect((await getJson<{ jobs: unknown[] }>(local, '/api/jobs?status=pending,in_progress')).jobs).toEqual([]);
      expect((await getJson<{ jobs: unknown[] }>(local, '/api/jobs?sort_by=execution_duration')).jobs).toHaveLength(4);
      for (const bad of ['status=done', 'sort_by=name', 'sort_order=up', 'limit=0', 'limit=x', 'offset=x']) {
        const answer = await http(local.url, 'GET', `/api/jobs?${bad}`);
        expect(answer.status, bad).toBe(400);
        expect(typeof (answer.json as { error: unknown }).error, bad).toBe('string');
      }
      // 0.28 clamps a negative offset and folds the case of status/sort words (0.8: both 400s).
      expect((await getJson<{ pagination: JsonObject }>(local, '/api/jobs?offset=-1&limit=1')).pagination).toMatchObject({ offset: 0, limit: 1 });
      expect((await getJson<{ jobs: unknown[] }>(local, '/api/jobs?status=COMPLETED&sort_order=ASC')).jobs).toHaveLength(4);
      expect(await http(local.url, 'GET', '/api/jobs/unknown')).toMatchObject({ status: 404, json: { error: 'Job not found' } });

      await http(local.url, 'POST', '/history', { clear: true });
      expect(await getJson(local, '/history')).toEqual({});
      await socket.close();
    } finally {
      await local.close();
    }
  });

  it.each(['0.8', '0.28'] as const)('describes pending and running jobs without workflow details (profile %s)', async (profile) => {
    const local = await startComfyEmulator({ stepMs: 5, profile });
    try {
      const socket = await WsRecorder.open(local.url);
      const running = await queuePrompt(local, { prompt: slowWorkflow({ steps: 100, seed: 1 }), client_id: socket.sid });
      await socket.waitFor((m) => m.kind === 'json' && m.type === 'progress');
      const pending = await queuePrompt(local, { prompt: slowWorkflow({ steps: 1, seed: 2 }), client_id: socket.sid, extra_data: { extra_pnginfo: { workflow: { id: 'wf-1' } } } });
      expect(await getJson(local, `/api/jobs/${running.prompt_id}`)).toMatchObject({ id: running.prompt_id, status: 'in_progress', outputs_count: 0 });
      const job = await getJson(local, `/api/jobs/${pending.prompt_id}`);
      expect(job).toMatchObject({ status: 'pending', workflow_id: 'wf-1', priority: pending.number });
      expect(job).not.toHaveProperty('workflow');
      expect((await getJson<{ jobs: JsonObject[] }>(local, '/api/jobs?workflow_id=wf-1')).jobs.map((j) => j.id)).toEqual([pending.prompt_id]);
      await http(local.url, 'POST', '/queue', { clear: true });
      await http(local.url, 'POST', '/interrupt');
      await socket.done(running.prompt_id);
      // An interrupted run: "failed" on 0.8.0, "cancelled" on 0.28.0.
      expect(await getJson(local, `/api/jobs/${running.prompt_id}`)).toMatchObject({ status: profile === '0.8' ? 'failed' : 'cancelled' });
      await socket.close();
    } finally {
      await local.close();
    }
  });
});
