/**
 * Conformance, profile 0.8: every scenario recorded from a real ComfyUI 0.8.0 (test/fixtures/comfyui/traces)
 * is replayed against the emulator with the trace's own workflows, and the answers are held to
 * the trace: the same WebSocket message types in the same order with the same node/progress/
 * cached/file facts and the same field names and value types, and the same HTTP status codes,
 * content types and JSON (run-specific ids and timestamps normalised, traceback text masked).
 *
 * Where the number of sampler ticks depends on timing (a run interrupted or edited mid-way),
 * runs of ticks are collapsed into one step; where the trace interleaves `status` broadcasts
 * from other HTTP calls with ticks, statuses are compared as their own sequence.
 */
import { describe, expect, it } from 'vitest';
import type { ComfyEmulator, ComfyEmulatorOptions } from '../fakes/comfyui/index.js';
import { expectHttp, expectSameShapes, labels, warmUp, withoutNumber, type HttpRecord, type TraceMessage } from './conformance-helpers.js';
import { emulatorHarness, getJson, http, loadTrace, queuePrompt, slowWorkflow, upload, WsRecorder, type JsonObject, type Received } from './helpers.js';
import { collapseTicks, maskTracebacks, normalize, receivedSteps, shapeOf, text, traceSteps, without } from './trace-steps.js';

const harness = emulatorHarness({ stepMs: 5, profile: '0.8' });
const emulator = (options: ComfyEmulatorOptions = {}): Promise<ComfyEmulator> => harness.start(options);
const socket = (emu: ComfyEmulator, options: Parameters<typeof WsRecorder.open>[1] = {}): Promise<WsRecorder> => harness.connect(emu, options);

describe('GET_* routes', () => {
  it('answer exactly as the real server for the fixed routes', async () => {
    const emu = await emulator();
    for (const [route, file] of [
      ['/embeddings', 'GET_embeddings.json'],
      ['/extensions', 'GET_extensions.json'],
      ['/features', 'GET_features.json'],
      ['/history', 'GET_history.json'],
      ['/models', 'GET_models.json'],
      ['/prompt', 'GET_prompt.json'],
      ['/queue', 'GET_queue.json'],
      ['/object_info/EmptyImage', 'GET_object_info_EmptyImage.json'],
    ] as const) {
      const answer = await http(emu.url, 'GET', route);
      expect(answer.status, route).toBe(200);
      expect(answer.contentType, route).toBe('application/json; charset=utf-8');
      expect(answer.json, route).toEqual(loadTrace(file));
    }
  });

  it('/system_stats has the real fields and types (a CUDA device instead of the trace CPU, so index is a number)', async () => {
    const emu = await emulator();
    const stats = await getJson(emu, '/system_stats');
    const trace = loadTrace<{ devices: JsonObject[] }>('GET_system_stats.json');
    const expected = shapeOf(trace) as { devices: Array<Record<string, unknown>> };
    (expected.devices[0] as Record<string, unknown>).index = 'number';
    expect(shapeOf(stats)).toEqual(expected);
    expect((stats.system as JsonObject).comfyui_version).toBe('0.8.0');
  });

  it('/object_info is the real catalogue, with only model and input-file lists changed', async () => {
    const emu = await emulator();
    const ours = await getJson<Record<string, JsonObject>>(emu, '/object_info');
    const trace = loadTrace<Record<string, JsonObject>>('GET_object_info_full.json');
    expect(Object.keys(ours)).toEqual(Object.keys(trace));
    const listsOnly = (def: JsonObject): unknown =>
      JSON.parse(JSON.stringify(def), (_k, v: unknown) =>
        Array.isArray(v) && v.every((x) => typeof x === 'string') && v.some((x) => /\.(safetensors|pth|png)$/.test(x as string)) ? [] : v,
      );
    for (const [name, def] of Object.entries(trace)) {
      if (['VAELoader', 'LoadImage', 'LoadImageMask'].includes(name)) continue;
      expect(listsOnly(ours[name] as JsonObject), name).toEqual(listsOnly(def));
    }
    const selected = loadTrace<Record<string, JsonObject>>('GET_object_info_selected.json');
    for (const name of Object.keys(selected)) expect(ours[name], name).toBeDefined();
    expect(ours.SlowProgress).toEqual(trace.SlowProgress);
    expect(ours.FailingNode).toEqual(trace.FailingNode);
  });
});

describe('b_run_*: one run, legacy client and previews', () => {
  it('b_run_legacy_client: same messages, history, jobs and /view answers', async () => {
    const trace = loadTrace<{
      request: { prompt: JsonObject };
      post: { json: JsonObject };
      ws: TraceMessage[];
      queue_after: HttpRecord;
      history: HttpRecord;
      history_all: HttpRecord;
      view: HttpRecord & { magic: string };
      view_missing: HttpRecord;
      view_traversal: HttpRecord;
      jobs: HttpRecord;
      job: HttpRecord;
    }>('b_run_legacy_client.json');
    const emu = await emulator();
    const ws = await socket(emu);
    const post = await http(emu.url, 'POST', '/prompt', { prompt: trace.request.prompt, client_id: ws.sid });
    expect(post.status).toBe(200);
    expect(post.json).toEqual({ ...trace.post.json, prompt_id: (post.json as JsonObject).prompt_id });
    const promptId = (post.json as { prompt_id: string }).prompt_id;
    await ws.done(promptId);

    expect(text(receivedSteps(ws.messages))).toEqual(text(traceSteps(trace.ws)));
    expectSameShapes(trace.ws, ws.messages);

    const ids = (tracePrompt: string, traceClient: string) =>
      [labels([[tracePrompt, '<prompt>'], [traceClient, '<client>']]), labels([[promptId, '<prompt>'], [ws.sid, '<client>']])] as const;
    const [traceLabels, ourLabels] = ids(String(trace.post.json.prompt_id), String((trace.ws[0]?.data as JsonObject).sid));

    const queue = await http(emu.url, 'GET', '/queue');
    expectHttp(queue, trace.queue_after);
    expect(queue.json).toEqual(trace.queue_after.json);
    for (const [path, record] of [
      [`/history/${promptId}`, trace.history],
      ['/history?max_items=5', trace.history_all],
      ['/api/jobs?limit=3', trace.jobs],
      [`/api/jobs/${promptId}`, trace.job],
    ] as const) {
      const answer = await http(emu.url, 'GET', path);
      expectHttp(answer, record);
      expect(normalize(answer.json, ourLabels), path).toEqual(normalize(record.json, traceLabels));
    }

    const view = await http(emu.url, 'GET', '/view?filename=trace_b_00001_.png&type=output&subfolder=');
    expectHttp(view, trace.view);
    expect(view.bytes.subarray(0, 8).toString('hex')).toBe(trace.view.magic);
    expectHttp(await http(emu.url, 'GET', '/view?filename=nope.png&type=output'), trace.view_missing);
    const traversal = await http(emu.url, 'GET', '/view?filename=../trace_b_00001_.png&type=output');
    expect(traversal.status).toBe(trace.view_traversal.status);
    expect(traversal.text).toBe(trace.view_traversal.text);
  });

  it('b_run_legacy_preview: type-1 JPEG previews, each right after its progress', async () => {
    const trace = loadTrace<{ ws: TraceMessage[] }>('b_run_legacy_preview.json');
    const emu = await emulator();
    const ws = await socket(emu);
    const { prompt_id } = await queuePrompt(emu, { prompt: slowWorkflow({ steps: 3, preview: true, prefix: 'trace_b3' }), client_id: ws.sid });
    await ws.done(prompt_id);
    expect(text(receivedSteps(ws.messages))).toEqual(text(traceSteps(trace.ws)));
    expectSameShapes(trace.ws, ws.messages);
    const previews = ws.messages.filter((m) => m.kind === 'binary');
    expect(previews).toHaveLength(3);
    for (const p of previews) {
      if (p.kind !== 'binary') continue;
      expect(p.bytes.readUInt32BE(0)).toBe(1);
      expect(p.bytes.readUInt32BE(4)).toBe(1);
      expect(p.image.subarray(0, 4).toString('hex')).toBe('ffd8ffe0');
    }
  });

  it('b_run_feature_flags_preview: flags negotiated, type-4 previews with metadata before their progress', async () => {
    const trace = loadTrace<{ ws: TraceMessage[] }>('b_run_feature_flags_preview.json');
    const emu = await emulator();
    const ws = await socket(emu, { featureFlags: { supports_preview_metadata: true } });
    const { prompt_id } = await queuePrompt(emu, { prompt: slowWorkflow({ steps: 3, preview: true, prefix: 'trace_b2' }), client_id: ws.sid });
    await ws.done(prompt_id);
    expect(text(receivedSteps(ws.messages))).toEqual(text(traceSteps(trace.ws)));
    expectSameShapes(trace.ws, ws.messages);
    expect(ws.json()[1]).toEqual({ type: 'feature_flags', data: trace.ws[1]?.data });
    const traceFrames = trace.ws.filter((m) => m.binary === true);
    const frames = ws.messages.filter((m) => m.kind === 'binary');
    expect(frames).toHaveLength(traceFrames.length);
    frames.forEach((frame, i) => {
      if (frame.kind !== 'binary') return;
      const recorded = traceFrames[i] as JsonObject;
      expect(frame.eventType).toBe(4);
      expect(frame.bytes.readUInt32BE(4)).toBe(recorded.metadataLength);
      expect(normalize(frame.metadata, labels([[prompt_id, '<p>']]))).toEqual(
        normalize(recorded.metadata, labels([[String((recorded.metadata as JsonObject).prompt_id), '<p>']])),
      );
      expect(frame.image.subarray(0, 4).toString('hex')).toBe(recorded.imageMagic);
    });
  });
});

describe('c_invalid_prompts: validation answers', () => {
  type Case = { request: unknown; response: HttpRecord };
  const trace = loadTrace<Record<string, Case & { ws?: TraceMessage[]; history?: HttpRecord }>>('c_invalid_prompts.json');

  it('every rejected prompt gets the real status, content type and error JSON', async () => {
    const emu = await emulator();
    for (const [name, c] of Object.entries(trace)) {
      if (name === 'runtime_exception') continue;
      const body = name === 'invalid_json_body' ? (c.request as string) : c.request;
      const answer = await http(emu.url, 'POST', '/prompt', body);
      expect(answer.status, name).toBe(c.response.status);
      expect(answer.contentType, name).toBe(c.response.contentType);
      if (c.response.status === 200) {
        expect(shapeOf(answer.json), name).toEqual(shapeOf(c.response.json));
        expect((answer.json as JsonObject).node_errors, name).toEqual({});
      } else if (c.response.json === null) expect(answer.text, name).toBe(c.response.text);
      else expect(maskTracebacks(answer.json), name).toEqual(maskTracebacks(c.response.json));
    }
  });

  it('a string that parses as an int is coerced before it is queued', async () => {
    const emu = await emulator();
    const { prompt_id } = await queuePrompt(emu, trace.coercible_string_int?.request as JsonObject);
    const record = emu.prompts.get(prompt_id);
    expect((record?.prompt as Record<string, { inputs: JsonObject }>)['1']?.inputs.width).toBe(64);
  });

  it('runtime_exception: execution_error over the socket and an error entry in history', async () => {
    const runtime = trace.runtime_exception as Case & { ws: TraceMessage[]; history: HttpRecord };
    const emu = await emulator();
    const ws = await socket(emu);
    // The trace socket also saw the statuses of the accepted prompt posted just before.
    const literal = await queuePrompt(emu, { ...(trace.link_input_given_literal?.request as JsonObject), client_id: ws.sid });
    await ws.done(literal.prompt_id);
    const from = ws.messages.length;
    const { prompt_id } = await queuePrompt(emu, { ...(runtime.request as JsonObject), client_id: ws.sid });
    await ws.done(prompt_id);
    const ours = [ws.messages[0] as Received, ...ws.messages.slice(1, from).filter((m) => m.kind === 'json' && m.type === 'status'), ...ws.messages.slice(from)];
    expect(text(receivedSteps(ours))).toEqual(text(traceSteps(runtime.ws)));
    expectSameShapes(runtime.ws, ours);

    const history = await http(emu.url, 'GET', `/history/${prompt_id}`);
    const traceId = String((runtime.response.json as JsonObject).prompt_id);
    const mask = (v: unknown, id: string, client: string): unknown => {
      const n = normalize(maskTracebacks(withoutNumber(v)), labels([[id, '<p>'], [client, '<c>']])) as JsonObject;
      const error = ((n['<p>'] as JsonObject).status as { messages: Array<[string, JsonObject]> }).messages[2]?.[1];
      if (error !== undefined) {
        error.current_inputs = shapeOf(error.current_inputs);
        error.current_outputs = [...(error.current_outputs as string[])].sort();
      }
      return n;
    };
    expect(mask(history.json, prompt_id, ws.sid)).toEqual(mask(runtime.history.json, traceId, String((runtime.ws[0]?.data as JsonObject).sid)));
  });
});

describe('d_upload_image: uploads, LoadImage and /view re-encodings', () => {
  it('matches every upload answer, the LoadImage list, the run and the views', async () => {
    const trace = loadTrace<Record<string, HttpRecord> & { loadimage_options_after_upload: unknown; loadimage_ws: TraceMessage[] }>('d_upload_image.json');
    const emu = await emulator();
    const png = (seed: number): Blob => new Blob([Buffer.from(`${seed}`.repeat(4))], { type: 'image/png' });
    const realPng = async (colour: string): Promise<Blob> => {
      const sharp = (await import('sharp')).default;
      const bytes = await sharp({ create: { width: 8, height: 8, channels: 3, background: colour } }).png().toBuffer();
      return new Blob([bytes], { type: 'image/png' });
    };
    const first = await realPng('#ff0000');
    const steps: Array<[string, Record<string, string | [Blob, string]>]> = [
      ['first_upload', { image: [first, 'client_upload.png'] }],
      ['same_name_same_content_again', { image: [first, 'client_upload.png'] }],
      ['same_name_different_content', { image: [await realPng('#00ff00'), 'client_upload.png'] }],
      ['overwrite_true', { image: [await realPng('#0000ff'), 'client_upload.png'], overwrite: 'true' }],
      ['with_subfolder', { image: [png(1), 'sub_upload.png'], subfolder: 'clienttests' }],
      ['type_temp', { image: [png(2), 'temp_upload.png'], type: 'temp' }],
      ['type_output', { image: [png(3), 'out_upload.png'], type: 'output' }],
      ['traversal_subfolder', { image: [png(4), 'evil.png'], subfolder: '../../etc' }],
      ['missing_image_field', { type: 'input' }],
    ];
    for (const [name, fields] of steps) {
      const answer = await upload(emu, fields);
      const recorded = trace[name] as HttpRecord;
      expectHttp(answer, recorded);
      if (recorded.json !== null) expect(answer.json, name).toEqual(recorded.json);
      else expect(answer.text, name).toBe('');
    }
    const info = await getJson<{ LoadImage: { input: { required: { image: unknown } } } }>(emu, '/object_info/LoadImage');
    expect(info.LoadImage.input.required.image).toEqual(trace.loadimage_options_after_upload);

    const ws = await socket(emu);
    const { prompt_id } = await queuePrompt(emu, {
      prompt: {
        '1': { class_type: 'LoadImage', inputs: { image: 'client_upload.png' } },
        '2': { class_type: 'ImageInvert', inputs: { image: ['1', 0] } },
        '3': { class_type: 'PreviewImage', inputs: { images: ['2', 0] } },
      },
      client_id: ws.sid,
    });
    await ws.done(prompt_id);
    // This trace was recorded without progress_state.
    expect(text(without(receivedSteps(ws.messages), 'progress_state'))).toEqual(text(traceSteps(trace.loadimage_ws as unknown as TraceMessage[])));
    const executed = ws.json().find((m) => m.type === 'executed')?.data.output as { images: Array<{ filename: string }> };
    const preview = executed.images[0]?.filename ?? '';
    const views: Array<[string, string]> = [
      ['view_preview_temp', `/view?filename=${encodeURIComponent(preview)}&type=temp`],
      ['view_input', '/view?filename=client_upload.png&type=input'],
      ['view_input_preview_webp', '/view?filename=client_upload.png&type=input&preview=webp'],
      ['view_input_channel_a', '/view?filename=client_upload.png&type=input&channel=a'],
    ];
    for (const [name, path] of views) {
      const answer = await http(emu.url, 'GET', path);
      expectHttp(answer, trace[name] as HttpRecord);
      expect(answer.bytes.length, name).toBeGreaterThan(0);
    }
  });
});

describe('e_interrupt', () => {
  it('a non-matching prompt_id is ignored, the matching one interrupts; idle interrupts are harmless', async () => {
    const trace = loadTrace<Record<string, HttpRecord> & { ws: TraceMessage[]; history: JsonObject }>('e_interrupt.json');
    const emu = await emulator({ stepMs: 20 });
    const ws = await socket(emu);
    const { prompt_id } = await queuePrompt(emu, { prompt: slowWorkflow({ steps: 40, seed: 1, prefix: 'trace_e' }), client_id: ws.sid });
    const progressAt = (value: number) => ws.waitFor((m) => m.kind === 'json' && m.type === 'progress' && (m.data.value as number) >= value);
    await progressAt(1);
    expectHttp(await http(emu.url, 'POST', '/interrupt', { prompt_id: 'some-other-prompt' }), trace.interrupt_other_prompt_id as HttpRecord);
    await progressAt(3);
    const queue = await http(emu.url, 'GET', '/queue');
    const traceId = String((trace.ws[3]?.data as JsonObject).prompt_id);
    const traceClient = String((trace.ws[0]?.data as JsonObject).sid);
    const ours = labels([[prompt_id, '<p>'], [ws.sid, '<c>']]);
    const theirs = labels([[traceId, '<p>'], [traceClient, '<c>']]);
    expect(normalize(withoutNumber(queue.json), ours)).toEqual(normalize(withoutNumber((trace.queue_during as HttpRecord).json), theirs));

    expectHttp(await http(emu.url, 'POST', '/interrupt', { prompt_id }), trace.interrupt as HttpRecord);
    await ws.done(prompt_id);
    expect(text(collapseTicks(receivedSteps(ws.messages)))).toEqual(text(collapseTicks(traceSteps(trace.ws))));
    expectSameShapes(trace.ws, ws.messages);
    const history = await getJson(emu, `/history/${prompt_id}`);
    expect(normalize(withoutNumber(history), ours)).toEqual(normalize(withoutNumber({ [traceId]: trace.history[traceId] }), theirs));

    expectHttp(await http(emu.url, 'POST', '/interrupt'), trace.interrupt_idle_nobody as HttpRecord);
    const next = await queuePrompt(emu, { prompt: slowWorkflow({ steps: 2, seed: 2 }), client_id: ws.sid });
    await ws.done(next.prompt_id);
    expect(ws.json().some((m) => m.type === 'execution_success' && m.data.prompt_id === next.prompt_id)).toBe(true);
  });
});

describe('f_queue_delete_clear', () => {
  it('pending order, delete, deleting the running prompt, clear and front', async () => {
    const trace = loadTrace<Record<string, HttpRecord> & { ws: TraceMessage[]; queue_full: { queue_pending: unknown[][] }; posts: Record<string, JsonObject> }>(
      'f_queue_delete_clear.json',
    );
    const emu = await emulator({ stepMs: 60 });
    await warmUp(emu);
    const ws = await socket(emu);
    const post = (steps: number, seed: number, prefix: string, extra: JsonObject = {}) =>
      queuePrompt(emu, { prompt: slowWorkflow({ steps, seed, prefix }), client_id: ws.sid, ...extra });
    const a = await post(30, 11, 'trace_fA');
    await ws.waitFor((m) => m.kind === 'json' && m.type === 'executing' && m.data.node === '2');
    const b = await post(3, 12, 'trace_fB');
    const c = await post(3, 13, 'trace_fC');
    const d = await post(3, 14, 'trace_fD', { front: true });
    expect(d.number).toBeLessThan(0);
    expect(d.number).toBe(-(c.number + 1));

    expect((await http(emu.url, 'GET', '/prompt')).json).toEqual((trace.prompt_get as HttpRecord).json);
    const queue = await getJson<{ queue_running: unknown[][]; queue_pending: unknown[][] }>(emu, '/queue');
    expect(queue.queue_running.map((i) => i[1])).toEqual([a.prompt_id]);
    // Heap order, not run order, exactly as in the trace: [-25 (D), 24 (C), 23 (B)].
    expect(queue.queue_pending.map((i) => i[1])).toEqual([d.prompt_id, c.prompt_id, b.prompt_id]);
    expect(queue.queue_pending[0]).toHaveLength(5);
    expect(shapeOf(queue.queue_pending[0])).toEqual(shapeOf(trace.queue_full.queue_pending[0]));
    const jobs = await getJson<{ jobs: JsonObject[] }>(emu, '/api/jobs');
    expect(jobs.jobs.filter((j) => j.status !== 'completed').map((j) => [j.id, j.status]).sort()).toEqual(
      [[a.prompt_id, 'in_progress'], [b.prompt_id, 'pending'], [c.prompt_id, 'pending'], [d.prompt_id, 'pending']].sort(),
    );
    expect(shapeOf(jobs.jobs.find((j) => j.id === b.prompt_id))).toEqual(shapeOf(((trace.jobs_during as HttpRecord).json as { jobs: unknown[] }).jobs[2]));

    const tick = (from: number) => ws.waitFor((m) => m.kind === 'json' && m.type === 'progress', from);
    await tick(ws.messages.length);
    expectHttp(await http(emu.url, 'POST', '/queue', { delete: [b.prompt_id] }), trace.delete_B as HttpRecord);
    expect((await getJson<{ queue_pending: unknown[][] }>(emu, '/queue')).queue_pending.map((i) => i[1])).toEqual([d.prompt_id, c.prompt_id]);
    expectHttp(await http(emu.url, 'POST', '/queue', { delete: [a.prompt_id] }), trace.delete_running_A as HttpRecord);
    expect((await getJson<{ queue_running: unknown[][] }>(emu, '/queue')).queue_running.map((i) => i[1])).toEqual([a.prompt_id]);
    await tick(ws.messages.length);
    expectHttp(await http(emu.url, 'POST', '/queue', { clear: true }), trace.clear as HttpRecord);
    const afterClear = await getJson<{ queue_running: unknown[][]; queue_pending: unknown[] }>(emu, '/queue');
    expect([afterClear.queue_running.map((i) => i[1]), afterClear.queue_pending]).toEqual([[a.prompt_id], []]);
    await tick(ws.messages.length);
    expectHttp(await http(emu.url, 'POST', '/interrupt'), trace.interrupt as HttpRecord);
    await ws.done(a.prompt_id);

    const ours = receivedSteps(ws.messages);
    const theirs = traceSteps(trace.ws);
    expect(text(collapseTicks(without(ours, 'status')))).toEqual(text(collapseTicks(without(theirs, 'status'))));
    expect(text(ours.filter((s) => s.type === 'status'))).toEqual(text(theirs.filter((s) => s.type === 'status')));
    expect(await getJson(emu, `/history/${b.prompt_id}`)).toEqual(trace.history_deleted_B);
  });
});

describe('g_two_prompts', () => {
  it('status and queue_remaining between two queued prompts', async () => {
    const trace = loadTrace<{ ws: TraceMessage[] }>('g_two_prompts.json');
    const emu = await emulator({ stepMs: 20 });
    await warmUp(emu);
    const ws = await socket(emu);
    const a = await queuePrompt(emu, { prompt: slowWorkflow({ steps: 4, seed: 21, prefix: 'trace_gA' }), client_id: ws.sid });
    const b = await queuePrompt(emu, { prompt: slowWorkflow({ steps: 4, seed: 22, prefix: 'trace_gB' }), client_id: ws.sid });
    await ws.done(a.prompt_id);
    await ws.done(b.prompt_id);
    const ours = receivedSteps(ws.messages);
    const theirs = traceSteps(trace.ws);
    expect(text(without(ours, 'status'))).toEqual(text(without(theirs, 'status')));
    expect(text(ours.filter((s) => s.type === 'status'))).toEqual(text(theirs.filter((s) => s.type === 'status')));
    // Each prompt's end (status, executing null) comes right before the next one's start.
    const types = ws.json().map((m) => m.type);
    const secondStart = types.lastIndexOf('execution_start');
    expect(types.slice(secondStart - 3, secondStart)).toEqual(['status', 'executing', 'status']);
  });
});

describe('h_cached_rerun', () => {
  it('identical prompts are served from the cache with the old file names', async () => {
    const trace = loadTrace<{ ws: TraceMessage[]; history_rerun: Record<string, JsonObject>; ids: Record<string, string> }>('h_cached_rerun.json');
    const emu = await emulator();
    await warmUp(emu);
    const ws = await socket(emu);
    const ids: string[] = [];
    for (const options of [
      { steps: 3, seed: 31, prefix: 'trace_h' },
      { steps: 3, seed: 31, prefix: 'trace_h' },
      { steps: 3, seed: 31, prefix: 'trace_h_changed' },
      { steps: 3, seed: 31, output: 'PreviewImage' as const },
      { steps: 3, seed: 31, output: 'PreviewImage' as const },
    ]) {
      const { prompt_id } = await queuePrompt(emu, { prompt: slowWorkflow(options), client_id: ws.sid });
      await ws.done(prompt_id);
      ids.push(prompt_id);
    }
    expect(text(receivedSteps(ws.messages))).toEqual(text(traceSteps(trace.ws)));
    expectSameShapes(trace.ws, ws.messages);
    const rerun = await getJson(emu, `/history/${ids[1]}`);
    const client = String((trace.ws[0]?.data as JsonObject).sid);
    expect(normalize(withoutNumber(rerun), labels([[ids[1], '<p>'], [ws.sid, '<c>']]))).toEqual(
      normalize(withoutNumber(trace.history_rerun), labels([[trace.ids.identical_rerun, '<p>'], [client, '<c>']])),
    );
  });
});

describe('i_reconnect', () => {
  const trace = loadTrace<{
    i1_no_client_id_first_msg: TraceMessage;
    i2: { original_socket: TraceMessage[]; late_joiner_same_client_id: TraceMessage[]; observer_other_client_id: TraceMessage[] };
    i3: { before_disconnect: TraceMessage[]; after_reconnect: TraceMessage[] };
    i4: { observer_with_id: TraceMessage[]; observer_without_id: TraceMessage[] };
  }>('i_reconnect.json');

  it('i1: without clientId the server names the socket (32 hex digits) in the first status', async () => {
    const emu = await emulator();
    const ws = await socket(emu, { clientId: null });
    const first = ws.json()[0];
    expect(first?.type).toBe(trace.i1_no_client_id_first_msg.type);
    expect(shapeOf(first?.data)).toEqual(shapeOf(trace.i1_no_client_id_first_msg.data));
    expect(ws.sid).toMatch(/^[0-9a-f]{32}$/);
  });

  it('i2: a second socket with the same clientId steals delivery, and goes deaf when the first one closes', async () => {
    const emu = await emulator({ stepMs: 20 });
    await warmUp(emu);
    const original = await socket(emu);
    const observer = await socket(emu);
    const { prompt_id } = await queuePrompt(emu, { prompt: slowWorkflow({ steps: 200, seed: 41, prefix: 'trace_i2' }), client_id: original.sid });
    await original.waitFor((m) => m.kind === 'json' && m.type === 'progress' && m.data.value === 5);
    const late = await socket(emu, { clientId: original.sid });
    await late.waitFor((m) => m.kind === 'json' && m.type === 'progress' && (m.data.value as number) >= 7);
    expect(text(collapseTicks(without(receivedSteps(late.messages), 'progress_state')).slice(0, 3))).toEqual(
      text(collapseTicks(traceSteps(trace.i2.late_joiner_same_client_id)).slice(0, 3)),
    );
    expect(late.json()[1]?.data).toEqual({ node: '2' });
    // From the late joiner's first tick on, the original socket (still open) hears nothing.
    const progressValues = (ws: WsRecorder) => ws.json().filter((m) => m.type === 'progress').map((m) => m.data.value as number);
    const firstLateTick = Math.min(...progressValues(late));
    expect(progressValues(original).filter((v) => v >= firstLateTick)).toEqual([]);

    await original.close();
    const deafFrom = late.messages.length;
    await http(emu.url, 'POST', '/interrupt', { prompt_id });
    await observer.waitFor((m) => m.kind === 'json' && m.type === 'status' && (m.data.status as { exec_info: { queue_remaining: number } }).exec_info.queue_remaining === 0);
    const heardAfterwards = late.messages.slice(deafFrom).filter((m) => m.kind !== 'closed');
    // Not even the final status broadcast reaches it: the registry no longer has it.
    expect(heardAfterwards).toEqual([]);
    expect(new Set(observer.json().map((m) => m.type))).toEqual(new Set(trace.i2.observer_other_client_id.map((m) => m.type)));
  });

  it('i3: reconnecting mid-run resumes with a bare executing, then the rest of the run', async () => {
    const emu = await emulator({ stepMs: 15 });
    await warmUp(emu);
    const clientId = crypto.randomUUID();
    const before = await socket(emu, { clientId });
    const { prompt_id } = await queuePrompt(emu, { prompt: slowWorkflow({ steps: 25, seed: 51, prefix: 'trace_i3' }), client_id: clientId });
    await before.waitFor((m) => m.kind === 'json' && m.type === 'progress' && m.data.value === 5);
    await before.close();
    expect(text(collapseTicks(without(receivedSteps(before.messages), 'progress_state')))).toEqual(text(collapseTicks(traceSteps(trace.i3.before_disconnect))));
    const after = await socket(emu, { clientId });
    await after.done(prompt_id);
    expect(text(collapseTicks(without(receivedSteps(after.messages), 'progress_state')))).toEqual(text(collapseTicks(traceSteps(trace.i3.after_reconnect))));
    expect(after.json()[1]).toEqual({ type: 'executing', data: { node: '2' } });
  });

  it('i4: a prompt without client_id: every socket gets status and progress only', async () => {
    const emu = await emulator({ stepMs: 20 });
    await warmUp(emu);
    const withId = await socket(emu);
    const withoutId = await socket(emu, { clientId: null });
    const { prompt_id } = await queuePrompt(emu, { prompt: slowWorkflow({ steps: 2, seed: 61, prefix: 'trace_i4' }) });
    const finished = (ws: WsRecorder) =>
      ws.waitFor((m) => m.kind === 'json' && m.type === 'status' && (m.data.status as { exec_info: { queue_remaining: number } }).exec_info.queue_remaining === 0, 1);
    await Promise.all([finished(withId), finished(withoutId)]);
    expect(text(without(receivedSteps(withId.messages), 'progress_state'))).toEqual(text(traceSteps(trace.i4.observer_with_id)));
    expect(text(without(receivedSteps(withoutId.messages), 'progress_state'))).toEqual(text(traceSteps(trace.i4.observer_without_id)));
    expect(withId.json().some((m) => m.data.prompt_id === prompt_id && m.type === 'progress')).toBe(true);
  });
});

describe('smoke_image_nodes', () => {
  it('core image nodes run in the real order (the preview first) with both outputs in history', async () => {
    const trace = loadTrace<{ request: JsonObject; ws: TraceMessage[]; history_status: JsonObject; outputs: JsonObject }>('smoke_image_nodes.json');
    const emu = await emulator();
    const ws = await socket(emu);
    const { prompt_id } = await queuePrompt(emu, { prompt: trace.request, client_id: ws.sid });
    await ws.done(prompt_id);
    expect(text(without(receivedSteps(ws.messages), 'progress_state'))).toEqual(text(traceSteps(trace.ws)));
    expectSameShapes(trace.ws, ws.messages);
    const history = await getJson<Record<string, { outputs: JsonObject; status: JsonObject }>>(emu, `/history/${prompt_id}`);
    const entry = history[prompt_id];
    expect(normalize(entry?.outputs, new Map())).toEqual(normalize(trace.outputs, new Map()));
    expect(normalize(entry?.status, labels([[prompt_id, '<p>']]))).toEqual(
      normalize(trace.history_status, labels([[String((trace.ws[3]?.data as JsonObject).prompt_id), '<p>']])),
    );
  });
});

describe('x_extras', () => {
  const trace = loadTrace<Record<string, HttpRecord> & {
    history_reused_id: Record<string, JsonObject>;
    extra_data_history_meta: JsonObject;
    no_client_id_observer_raw: TraceMessage[];
    interrupt_pending_target_result: Record<string, string>;
  }>('x_extras.json');

  it('literal for a link input passes validation; a type mismatch is a 400 with the real error', async () => {
    const emu = await emulator();
    const literal = await http(emu.url, 'POST', '/prompt', {
      prompt: {
        '1': { class_type: 'EmptyImage', inputs: { width: 64, height: 64, batch_size: 1, color: 16744448 } },
        '2': { class_type: 'SlowProgress', inputs: { image: 'not-a-link', steps: 1, delay: 0, send_preview: false, seed: 0 } },
        '3': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'trace' } },
      },
    });
    expectHttp(literal, trace.literal_for_link_input as HttpRecord);
    const mismatch = await http(emu.url, 'POST', '/prompt', {
      prompt: {
        '1': { class_type: 'LoadImage', inputs: { image: 'example.png' } },
        '2': { class_type: 'PreviewImage', inputs: { images: ['1', 1] } },
      },
    });
    expectHttp(mismatch, trace.type_mismatch_link as HttpRecord);
    expect(mismatch.json).toEqual((trace.type_mismatch_link as HttpRecord).json);
  });

  it('a caller-chosen prompt_id is used; reusing it overwrites the history entry in place', async () => {
    const emu = await emulator();
    await warmUp(emu);
    const ws = await socket(emu);
    const id = '2facabf9-894a-4658-af98-2de0692d7ba7';
    const body = { prompt: slowWorkflow({ steps: 1, seed: 52 }), client_id: ws.sid, prompt_id: id };
    const first = await queuePrompt(emu, body);
    expect(first.prompt_id).toBe(id);
    await ws.done(id);
    const second = await queuePrompt(emu, body);
    expect(second.prompt_id).toBe(id);
    await ws.waitFor((m) => m.kind === 'json' && m.type === 'executing' && m.data.node === null && m.data.prompt_id === id, ws.messages.findIndex((m) => m.kind === 'json' && m.type === 'execution_success') + 1);
    const history = await getJson<Record<string, { prompt: unknown[] }>>(emu, `/history/${id}`);
    expect(history[id]?.prompt[0]).toBe(second.number);
    expect(shapeOf(history)).toEqual(shapeOf(trace.history_reused_id));
    expect(emu.prompts.get(id)?.executions).toBe(2);

    const extra = await queuePrompt(emu, { prompt: slowWorkflow({ steps: 1, seed: 53 }), client_id: ws.sid, extra_data: { extra_pnginfo: { workflow: { note: 'x' } }, foo: 1 } });
    await ws.done(extra.prompt_id);
    const extraHistory = await getJson<Record<string, { prompt: [number, string, unknown, JsonObject] }>>(emu, `/history/${extra.prompt_id}`);
    const extraData = extraHistory[extra.prompt_id]?.prompt[3] ?? {};
    expect(Object.keys(extraData)).toEqual(Object.keys(trace.extra_data_history_meta));
    expect(normalize(extraData, labels([[ws.sid, '<c>']]))).toEqual(normalize(trace.extra_data_history_meta, labels([[String(trace.extra_data_history_meta.client_id), '<c>']])));

    expect(await http(emu.url, 'GET', '/api/queue')).toMatchObject({ status: 200, json: (trace.api_prefix_queue as HttpRecord).json });
    expect((await http(emu.url, 'GET', '/api/system_stats')).status).toBe(trace.api_prefix_system_stats_status);
    expect(Object.keys(await getJson(emu, '/history?max_items=2'))).toEqual([id, extra.prompt_id]);
    expectHttp(await http(emu.url, 'POST', '/history', { delete: [id] }), trace.history_delete as HttpRecord);
    expect(await getJson(emu, `/history/${id}`)).toEqual(trace.history_after_delete);
    const unknown = await http(emu.url, 'GET', '/history/does-not-exist');
    expectHttp(unknown, trace.history_unknown as HttpRecord);
    expect(unknown.json).toEqual({});
  });

  it('interrupting a pending prompt by id does nothing to either prompt', async () => {
    const emu = await emulator({ stepMs: 20 });
    const ws = await socket(emu);
    const a = await queuePrompt(emu, { prompt: slowWorkflow({ steps: 10, seed: 71 }), client_id: ws.sid });
    const b = await queuePrompt(emu, { prompt: slowWorkflow({ steps: 2, seed: 72 }), client_id: ws.sid });
    await ws.waitFor((m) => m.kind === 'json' && m.type === 'progress');
    expectHttp(await http(emu.url, 'POST', '/interrupt', { prompt_id: b.prompt_id }), trace.interrupt_pending_target as HttpRecord);
    await ws.done(b.prompt_id);
    const statusOf = async (id: string) => ((await getJson<Record<string, { status: { status_str: string } }>>(emu, `/history/${id}`))[id]?.status.status_str ?? '');
    expect({ A: await statusOf(a.prompt_id), B: await statusOf(b.prompt_id) }).toEqual(trace.interrupt_pending_target_result);
  });

  it('a prompt without client_id: observers see status, progress_state and progress only', async () => {
    const emu = await emulator({ stepMs: 20 });
    await warmUp(emu);
    const observer = await socket(emu);
    await queuePrompt(emu, { prompt: slowWorkflow({ steps: 2, seed: 81 }) });
    await observer.waitFor((m) => m.kind === 'json' && m.type === 'status' && (m.data.status as { exec_info: { queue_remaining: number } }).exec_info.queue_remaining === 0, 1);
    expect(text(receivedSteps(observer.messages))).toEqual(text(traceSteps(trace.no_client_id_observer_raw)));
    expectSameShapes(trace.no_client_id_observer_raw, observer.messages);
    expectHttp(await http(emu.url, 'POST', '/free', { unload_models: true, free_memory: true }), trace.free as HttpRecord);
  });
});
