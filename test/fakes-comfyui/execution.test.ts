/**
 * Execution behaviour beyond the traces: synthetic but deterministic pictures (size, batch,
 * seed, reference tint, PNG metadata), the node-output cache, simulated VRAM and /free,
 * sampler previews, SaveImageWebsocket, priorities, partial execution and run-time errors.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { readTextChunks } from '../fakes/sdapi/png-text.js';
import { BASELINE_BYTES, type ComfyEmulator, type ComfyEmulatorOptions } from '../fakes/comfyui/index.js';
import { emulatorHarness, eventually, getJson, http, queuePrompt, slowWorkflow, txt2imgWorkflow, upload, WsRecorder, type JsonObject } from './helpers.js';

const harness = emulatorHarness({ stepMs: 1 });

/** An emulator and a socket that negotiated feature flags (so previews are legacy type 1). */
async function emulator(options: ComfyEmulatorOptions = {}): Promise<{ emu: ComfyEmulator; ws: WsRecorder }> {
  const emu = await harness.start(options);
  return { emu, ws: await harness.connect(emu, { featureFlags: {} }) };
}

interface Run {
  promptId: string;
  images: Array<{ filename: string; subfolder: string; type: string }>;
  messages: Array<{ type: string; data: JsonObject }>;
  history: JsonObject;
}

/** Queues a prompt for this socket, waits for its end and returns its messages and history entry. */
async function run(emu: ComfyEmulator, ws: WsRecorder, prompt: JsonObject, extra: JsonObject = {}): Promise<Run> {
  const from = ws.messages.length;
  const { prompt_id } = await queuePrompt(emu, { prompt, client_id: ws.sid, ...extra });
  await ws.done(prompt_id);
  const messages = ws.since(from).flatMap((m) => (m.kind === 'json' && m.data.prompt_id === prompt_id ? [{ type: m.type, data: m.data }] : []));
  const history = (await getJson<Record<string, JsonObject>>(emu, `/history/${prompt_id}`))[prompt_id] ?? {};
  const outputs = (history.outputs ?? {}) as Record<string, { images?: Run['images'] }>;
  return { promptId: prompt_id, images: Object.values(outputs).flatMap((o) => o.images ?? []), messages, history };
}

async function view(emu: ComfyEmulator, image: { filename: string; subfolder: string; type: string }): Promise<Buffer> {
  const answer = await http(emu.url, 'GET', `/view?filename=${encodeURIComponent(image.filename)}&subfolder=${encodeURIComponent(image.subfolder)}&type=${image.type}`);
  expect(answer.status).toBe(200);
  return answer.bytes;
}

async function meanColour(png: Buffer): Promise<[number, number, number]> {
  const stats = await sharp(png).stats();
  return [stats.channels[0]?.mean ?? 0, stats.channels[1]?.mean ?? 0, stats.channels[2]?.mean ?? 0];
}

async function uploadSolid(emu: ComfyEmulator, name: string, colour: string, overwrite = false): Promise<string> {
  const bytes = await sharp({ create: { width: 32, height: 32, channels: 3, background: colour } }).png().toBuffer();
  const answer = await upload(emu, { image: [new Blob([bytes], { type: 'image/png' }), name], ...(overwrite ? { overwrite: 'true' } : {}) });
  return (answer.json as { name: string }).name;
}

/** img2img: the reference is encoded and sampled from, so it must tint the result. */
function img2imgWorkflow(reference: string, seed: number): JsonObject {
  const graph = txt2imgWorkflow({ text: 'a hero', seed });
  return {
    ...graph,
    '10': { class_type: 'LoadImage', inputs: { image: reference } },
    '11': { class_type: 'VAEEncode', inputs: { pixels: ['10', 0], vae: ['4', 2] } },
    '3': { ...(graph['3'] as JsonObject), inputs: { ...((graph['3'] as JsonObject).inputs as JsonObject), latent_image: ['11', 0], denoise: 0.6 } },
  };
}

describe('pictures', () => {
  it('are real PNGs of the requested size, identical for identical inputs, different for another seed', async () => {
    const a = await emulator();
    const b = await emulator();
    const prompt = txt2imgWorkflow({ text: 'panel 1, rooftop chase', seed: 424242, width: 96, height: 64 });
    const first = await run(a.emu, a.ws, prompt);
    const again = await run(b.emu, b.ws, prompt);
    const firstPng = await view(a.emu, first.images[0] as Run['images'][number]);
    expect(firstPng).toEqual(await view(b.emu, again.images[0] as Run['images'][number]));
    const meta = await sharp(firstPng).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 96, 64]);

    const otherSeed = await run(a.emu, a.ws, txt2imgWorkflow({ text: 'panel 1, rooftop chase', seed: 7, width: 96, height: 64 }));
    expect(await view(a.emu, otherSeed.images[0] as Run['images'][number])).not.toEqual(firstPng);
    const otherText = await run(a.emu, a.ws, txt2imgWorkflow({ text: 'panel 2', seed: 424242, width: 96, height: 64 }));
    expect(await view(a.emu, otherText.images[0] as Run['images'][number])).not.toEqual(firstPng);
  });

  it('honour batch_size, name files <prefix>_<counter>_.png under the prefix folders and carry the prompt', async () => {
    const { emu, ws } = await emulator();
    const result = await run(emu, ws, txt2imgWorkflow({ text: 'x', seed: 1, batch: 2, prefix: 'comic/p01_panel1' }), {
      extra_data: { extra_pnginfo: { workflow: { note: 'ui graph' } } },
    });
    expect(result.images).toEqual([
      { filename: 'p01_panel1_00001_.png', subfolder: 'comic', type: 'output' },
      { filename: 'p01_panel1_00002_.png', subfolder: 'comic', type: 'output' },
    ]);
    const [one, two] = await Promise.all(result.images.map((i) => view(emu, i)));
    expect(one).not.toEqual(two);
    const texts = readTextChunks(one as Buffer);
    expect(JSON.parse(texts.get('prompt') ?? '{}')).toMatchObject({ '9': { class_type: 'SaveImage' } });
    expect(JSON.parse(texts.get('workflow') ?? '{}')).toEqual({ note: 'ui graph' });
    const next = await run(emu, ws, txt2imgWorkflow({ text: 'y', seed: 1, prefix: 'comic/p01_panel1' }));
    expect(next.images[0]?.filename).toBe('p01_panel1_00003_.png');
  });

  it('sizes follow ImageScale, ImageScaleBy and an upscale model factor', async () => {
    const { emu, ws } = await emulator();
    const graph = {
      ...txt2imgWorkflow({ text: 'x', seed: 1, width: 64, height: 48 }),
      '12': { class_type: 'UpscaleModelLoader', inputs: { model_name: '4x-UltraSharp.pth' } },
      '13': { class_type: 'ImageUpscaleWithModel', inputs: { upscale_model: ['12', 0], image: ['8', 0] } },
      '14': { class_type: 'SaveImage', inputs: { images: ['13', 0], filename_prefix: 'up' } },
      '15': { class_type: 'ImageScaleBy', inputs: { image: ['13', 0], upscale_method: 'lanczos', scale_by: 0.5 } },
      '16': { class_type: 'PreviewImage', inputs: { images: ['15', 0] } },
      '17': { class_type: 'ImageScale', inputs: { image: ['8', 0], upscale_method: 'bilinear', width: 40, height: 0, crop: 'disabled' } },
      '18': { class_type: 'PreviewImage', inputs: { images: ['17', 0] } },
    };
    const result = await run(emu, ws, graph);
    const sizes = new Map<string, string>();
    for (const image of result.images) {
      const meta = await sharp(await view(emu, image)).metadata();
      sizes.set(image.filename.split('_')[0] === 'up' ? 'upscaled' : `${image.type}:${meta.width}x${meta.height}`, `${meta.width}x${meta.height}`);
    }
    expect(sizes.get('upscaled')).toBe('256x192');
    expect([...sizes.values()].sort()).toEqual(['128x96', '256x192', '40x30', '64x48'].sort());
  });

  it('a LoadImage reference visibly tints the result toward its colour', async () => {
    const { emu, ws } = await emulator();
    const red = await uploadSolid(emu, 'red.png', '#ff0000');
    const blue = await uploadSolid(emu, 'blue.png', '#0000ff');
    const withRed = await meanColour(await view(emu, (await run(emu, ws, img2imgWorkflow(red, 5))).images[0] as Run['images'][number]));
    const withBlue = await meanColour(await view(emu, (await run(emu, ws, img2imgWorkflow(blue, 5))).images[0] as Run['images'][number]));
    expect(withRed[0] - withBlue[0]).toBeGreaterThan(80);
    expect(withBlue[2] - withRed[2]).toBeGreaterThan(80);
  });
});

describe('cache', () => {
  it('an identical prompt is all cached and reports the old file; a new seed re-runs only what depends on it; free_memory empties it', async () => {
    const { emu, ws } = await emulator();
    const prompt = txt2imgWorkflow({ text: 'x', seed: 1 });
    const first = await run(emu, ws, prompt);
    expect(first.messages.find((m) => m.type === 'execution_cached')?.data.nodes).toEqual([]);

    const again = await run(emu, ws, prompt);
    expect(again.messages.find((m) => m.type === 'execution_cached')?.data.nodes).toEqual(['3', '4', '5', '6', '7', '8', '9']);
    expect(again.messages.filter((m) => m.type === 'executing' && m.data.node !== null)).toEqual([]);
    expect(again.messages.find((m) => m.type === 'executed')?.data.output).toEqual({ images: first.images });
    expect(again.images).toEqual(first.images);
    expect((await http(emu.url, 'GET', '/view?filename=panel_00002_.png&subfolder=comic')).status).toBe(404);

    const reseeded = await run(emu, ws, txt2imgWorkflow({ text: 'x', seed: 2 }));
    expect(reseeded.messages.find((m) => m.type === 'execution_cached')?.data.nodes).toEqual(['4', '5', '6', '7']);
    expect(reseeded.messages.filter((m) => m.type === 'executing' && m.data.node !== null).map((m) => m.data.node)).toEqual(['3', '8', '9']);

    await http(emu.url, 'POST', '/free', { free_memory: true });
    const fresh = await run(emu, ws, txt2imgWorkflow({ text: 'x', seed: 2 }));
    expect(fresh.messages.find((m) => m.type === 'execution_cached')?.data.nodes).toEqual([]);
    expect(fresh.images[0]?.filename).toBe('panel_00003_.png');
  });

  it("a replaced upload is not served from cache (LoadImage's IS_CHANGED is the file hash)", async () => {
    const { emu, ws } = await emulator();
    const name = await uploadSolid(emu, 'ref.png', '#ff0000');
    const prompt = img2imgWorkflow(name, 3);
    await run(emu, ws, prompt);
    expect((await run(emu, ws, prompt)).messages.find((m) => m.type === 'execution_cached')?.data.nodes).toContain('10');
    await uploadSolid(emu, 'ref.png', '#00ff00', true);
    const after = await run(emu, ws, prompt);
    expect(after.messages.find((m) => m.type === 'execution_cached')?.data.nodes).not.toContain('10');
  });
});

describe('VRAM', () => {
  const device = async (emu: ComfyEmulator) =>
    (await getJson<{ devices: Array<{ vram_total: number; vram_free: number }> }>(emu, '/system_stats')).devices[0] ?? { vram_total: 0, vram_free: 0 };

  it('loading a checkpoint takes memory, /free gives it back to the baseline', async () => {
    const { emu, ws } = await emulator();
    expect(emu.vram().used).toBe(BASELINE_BYTES);
    await run(emu, ws, txt2imgWorkflow({ text: 'x', seed: 1 }));
    const loaded = emu.vram().used;
    expect(loaded - BASELINE_BYTES).toBeGreaterThan(6e9);
    const stats = await device(emu);
    expect(stats.vram_total - stats.vram_free).toBe(loaded);
    expect(stats.vram_total).toBe(emu.vram().total);
    await http(emu.url, 'POST', '/free', { unload_models: true });
    await eventually(() => (emu.vram().used === BASELINE_BYTES ? true : undefined), 'VRAM back at baseline');
  });

  it('with leakVram, /free no longer gives the memory back', async () => {
    const { emu, ws } = await emulator();
    emu.faults.leakVram = true;
    await run(emu, ws, txt2imgWorkflow({ text: 'x', seed: 1 }));
    const loaded = emu.vram().used;
    await http(emu.url, 'POST', '/free', { unload_models: true, free_memory: true });
    await run(emu, ws, txt2imgWorkflow({ text: 'x', seed: 1 }));
    expect(emu.vram().used).toBeGreaterThan(loaded);
  });

  it('switching checkpoints evicts the old one; a model that cannot fit is an out-of-memory execution_error', async () => {
    const { emu, ws } = await emulator({ vramTotal: 8e9 });
    await run(emu, ws, txt2imgWorkflow({ text: 'x', seed: 1 }));
    const sd15 = await run(emu, ws, txt2imgWorkflow({ text: 'x', seed: 1, ckpt: 'v1-5-pruned-emaonly.safetensors' }));
    // SDXL (6.5 GB) and SD 1.5 (2.1 GB) do not both fit in 8 GB: SD 1.5 ran by evicting SDXL parts.
    expect(sd15.messages.some((m) => m.type === 'execution_success')).toBe(true);
    expect(emu.vram().used).toBeLessThanOrEqual(8e9);
    const flux = await run(emu, ws, txt2imgWorkflow({ text: 'x', seed: 1, ckpt: 'flux1-dev-fp8.safetensors' }));
    const error = flux.messages.find((m) => m.type === 'execution_error')?.data;
    expect(error?.exception_type).toBe('torch.OutOfMemoryError');
    expect(flux.history.status).toMatchObject({ status_str: 'error', completed: false });
  });
});

describe('previews and websocket images', () => {
  it('samplers send a preview per step only when extra_data.preview_method asks for one', async () => {
    const { emu, ws } = await emulator();
    const from = ws.messages.length;
    await run(emu, ws, txt2imgWorkflow({ text: 'x', seed: 1, steps: 4 }), { extra_data: { preview_method: 'auto' } });
    const frames = ws.since(from).filter((m) => m.kind === 'binary');
    expect(frames).toHaveLength(4);
    for (const frame of frames) {
      if (frame.kind !== 'binary') continue;
      expect([frame.eventType, frame.imageFormat]).toEqual([1, 1]);
      expect((await sharp(frame.image).metadata()).format).toBe('jpeg');
    }
    const quiet = ws.messages.length;
    await run(emu, ws, txt2imgWorkflow({ text: 'x', seed: 2, steps: 4 }), { extra_data: { preview_method: 'none' } });
    expect(ws.since(quiet).filter((m) => m.kind === 'binary')).toEqual([]);
  });

  it('SaveImageWebsocket sends PNGs as type-1 (format 2) or type-4 (image/png) frames', async () => {
    const { emu, ws } = await emulator();
    const graph = { ...txt2imgWorkflow({ text: 'x', seed: 1, batch: 2 }), '9': { class_type: 'SaveImageWebsocket', inputs: { images: ['8', 0] } } };
    await run(emu, ws, graph);
    const legacy = ws.messages.filter((m) => m.kind === 'binary');
    expect(legacy.map((m) => (m.kind === 'binary' ? [m.eventType, m.imageFormat] : []))).toEqual([[1, 2], [1, 2]]);
    const progress = ws.json().filter((m) => m.type === 'progress' && m.data.node === '9').map((m) => m.data.value);
    expect(progress).toEqual([0, 1]);

    const modern = await harness.connect(emu, { featureFlags: { supports_preview_metadata: true } });
    await run(emu, modern, { ...graph, '5': { class_type: 'EmptyLatentImage', inputs: { width: 64, height: 64, batch_size: 1 } } });
    const frames = modern.messages.filter((m) => m.kind === 'binary');
    expect(frames).toHaveLength(1);
    const frame = frames[0];
    if (frame?.kind !== 'binary') throw new Error('no frame');
    expect(frame.eventType).toBe(4);
    expect(frame.metadata).toMatchObject({ node_id: '9', image_type: 'image/png' });
    expect((await sharp(frame.image).metadata()).format).toBe('png');
  });
});

describe('queue order and partial runs', () => {
  it('an explicit number is a priority (lower first) and is echoed', async () => {
    const { emu, ws } = await emulator({ stepMs: 10 });
    const blocker = await queuePrompt(emu, { prompt: slowWorkflow({ steps: 20, seed: 1 }), client_id: ws.sid });
    await ws.waitFor((m) => m.kind === 'json' && m.type === 'progress');
    const late = await queuePrompt(emu, { prompt: slowWorkflow({ steps: 1, seed: 2 }), client_id: ws.sid, number: 100 });
    const early = await queuePrompt(emu, { prompt: slowWorkflow({ steps: 1, seed: 3 }), client_id: ws.sid, number: 3 });
    expect([late.number, early.number]).toEqual([100, 3]);
    await ws.done(late.prompt_id);
    const starts = ws.json().filter((m) => m.type === 'execution_start').map((m) => m.data.prompt_id);
    expect(starts).toEqual([blocker.prompt_id, early.prompt_id, late.prompt_id]);
  });

  it('partial_execution_targets runs only the chosen outputs; a non-output target means no outputs', async () => {
    const { emu, ws } = await emulator();
    const graph = { ...txt2imgWorkflow({ text: 'x', seed: 1 }), '10': { class_type: 'PreviewImage', inputs: { images: ['8', 0] } } };
    const result = await run(emu, ws, graph, { partial_execution_targets: ['10'] });
    expect(Object.keys(result.history.outputs as JsonObject)).toEqual(['10']);
    expect((result.history.prompt as unknown[])[4]).toEqual(['10']);
    const none = await http(emu.url, 'POST', '/prompt', { prompt: graph, partial_execution_targets: ['4'] });
    expect(none.status).toBe(400);
    expect((none.json as { error: { type: string } }).error.type).toBe('prompt_no_outputs');
  });

  it('a prompt with one broken output is queued with the good one, and node_errors on the 200', async () => {
    const { emu, ws } = await emulator();
    const graph = {
      ...txt2imgWorkflow({ text: 'x', seed: 1 }),
      '20': { class_type: 'EmptyImage', inputs: { width: 0, height: 8, batch_size: 1, color: 0 } },
      '21': { class_type: 'PreviewImage', inputs: { images: ['20', 0] } },
    };
    const answer = await queuePrompt(emu, { prompt: graph, client_id: ws.sid });
    expect(answer.node_errors).toMatchObject({ '20': { dependent_outputs: ['21'], class_type: 'EmptyImage' } });
    await ws.done(answer.prompt_id);
    const history = (await getJson<Record<string, { prompt: unknown[] }>>(emu, `/history/${answer.prompt_id}`))[answer.prompt_id];
    expect(history?.prompt[4]).toEqual(['9']);
  });
});

describe('validation details', () => {
  const errorsOf = async (emu: ComfyEmulator, prompt: JsonObject) => {
    const answer = await http(emu.url, 'POST', '/prompt', { prompt });
    expect(answer.status).toBe(400);
    return (answer.json as { node_errors: Record<string, { errors: JsonObject[] }> }).node_errors;
  };

  it('reports unknown models, long option lists without input_config, bad links and bad floats', async () => {
    const { emu } = await emulator({ models: { checkpoints: ['only.safetensors'] } });
    const graph = txt2imgWorkflow({ text: 'x', seed: 1 });
    const errors = await errorsOf(emu, {
      ...graph,
      '3': { ...(graph['3'] as JsonObject), inputs: { ...((graph['3'] as JsonObject).inputs as JsonObject), sampler_name: 'nope', cfg: 'abc', negative: ['7', 0, 1] } },
    });
    expect(errors['4']?.errors[0]).toMatchObject({
      type: 'value_not_in_list',
      details: "ckpt_name: 'sd_xl_base_1.0.safetensors' not in ['only.safetensors']",
      extra_info: { input_config: [['only.safetensors'], { tooltip: 'The name of the checkpoint (model) to load.' }] },
    });
    const sampler = errors['3']?.errors ?? [];
    expect(sampler.map((e) => e.type).sort()).toEqual(['bad_linked_input', 'invalid_input_type', 'value_not_in_list']);
    expect(sampler.find((e) => e.type === 'value_not_in_list')).toMatchObject({ extra_info: { input_config: null } });
    expect(sampler.find((e) => e.type === 'invalid_input_type')).toMatchObject({
      message: 'Failed to convert an input value to a FLOAT value',
      details: "cfg, abc, could not convert string to float: 'abc'",
    });
  });

  it('names every node of a dependency cycle', async () => {
    const { emu } = await emulator();
    const errors = await errorsOf(emu, {
      '1': { class_type: 'PreviewImage', inputs: { images: ['2', 0] } },
      '2': { class_type: 'ImageInvert', inputs: { image: ['3', 0] } },
      '3': { class_type: 'ImageInvert', inputs: { image: ['2', 0] } },
    });
    expect(Object.keys(errors).sort()).toEqual(['2', '3']);
    expect(errors['3']?.errors[0]).toMatchObject({ type: 'dependency_cycle', details: '2 (ImageInvert) -> 3 (ImageInvert) -> 2 (ImageInvert)' });
  });

  it('accepts __value__-wrapped widget values and both COMBO encodings', async () => {
    const { emu, ws } = await emulator();
    const graph = txt2imgWorkflow({ text: 'x', seed: 1 });
    const result = await run(emu, ws, {
      ...graph,
      '6': { class_type: 'CLIPTextEncode', inputs: { text: { __value__: 'wrapped' }, clip: ['4', 1] } },
      '12': { class_type: 'UpscaleModelLoader', inputs: { model_name: '4x-UltraSharp.pth' } },
      '13': { class_type: 'ImageUpscaleWithModel', inputs: { upscale_model: ['12', 0], image: ['8', 0] } },
      '14': { class_type: 'PreviewImage', inputs: { images: ['13', 0] } },
    });
    expect(((result.history.prompt as unknown[])[2] as Record<string, { inputs: JsonObject }>)['6']?.inputs.text).toBe('wrapped');
    const bad = await errorsOf(emu, { '12': { class_type: 'UpscaleModelLoader', inputs: { model_name: 'none.pth' } }, '13': { class_type: 'ImageUpscaleWithModel', inputs: { upscale_model: ['12', 0], image: ['8', 0] } }, '8': graph['8'] as JsonObject, '3': graph['3'] as JsonObject, '4': graph['4'] as JsonObject, '5': graph['5'] as JsonObject, '6': graph['6'] as JsonObject, '7': graph['7'] as JsonObject, '14': { class_type: 'PreviewImage', inputs: { images: ['13', 0] } } });
    expect(bad['12']?.errors[0]).toMatchObject({ type: 'value_not_in_list', extra_info: { input_config: ['COMBO', { multiselect: false, options: ['4x-UltraSharp.pth'] }] } });
  });
});

describe('run-time errors', () => {
  it('outputs finished before a failure stay in history; the failing node raises', async () => {
    const { emu, ws } = await emulator();
    const result = await run(emu, ws, {
      '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 0 } },
      '2': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } },
      '3': { class_type: 'FailingNode', inputs: { image: ['1', 0], message: 'nope' } },
      '4': { class_type: 'PreviewImage', inputs: { images: ['3', 0] } },
    });
    const error = result.messages.find((m) => m.type === 'execution_error')?.data;
    expect(error).toMatchObject({ node_id: '3', node_type: 'FailingNode', exception_message: 'nope\n', exception_type: 'RuntimeError' });
    expect(Object.keys(result.history.outputs as JsonObject)).toEqual(['2']);
  });

  it('a literal where a socket is expected fails at run time; a prefix leaving output/ fails in SaveImage', async () => {
    const { emu, ws } = await emulator();
    const literal = await run(emu, ws, {
      '1': { class_type: 'SlowProgress', inputs: { image: 'not-a-link', steps: 1 } },
      '2': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } },
    });
    expect(literal.messages.find((m) => m.type === 'execution_error')?.data).toMatchObject({ node_id: '1', exception_type: 'AttributeError' });
    const escape = await run(emu, ws, { ...txt2imgWorkflow({ text: 'x', seed: 1, prefix: '../../outside' }) });
    expect(escape.messages.find((m) => m.type === 'execution_error')?.data).toMatchObject({ node_id: '9', exception_type: 'Exception' });
  });

  it('records each accepted prompt with its client and how often it really ran', async () => {
    const { emu, ws } = await emulator();
    const first = await run(emu, ws, slowWorkflow({ steps: 1 }));
    await run(emu, ws, slowWorkflow({ steps: 1 }), { prompt_id: first.promptId });
    const anonymous = await queuePrompt(emu, { prompt: slowWorkflow({ steps: 1, seed: 5 }) });
    await eventually(() => (emu.prompts.get(anonymous.prompt_id)?.executions === 1 ? true : undefined), 'the anonymous prompt to run');
    expect(emu.prompts.get(first.promptId)).toMatchObject({ clientId: ws.sid, executions: 2 });
    expect(emu.prompts.get(anonymous.prompt_id)?.clientId).toBeNull();
    await http(emu.url, 'POST', '/prompt', { prompt: {} });
    expect(emu.prompts.size).toBe(2);
  });
});
