/**
 * Conformance, profile 0.28 (the default): every scenario recorded from a real ComfyUI 0.28.0
 * (test/fixtures/comfyui/traces/0.28, one describe per trace file) replayed against the emulator
 * with the trace's own workflows, held to the same message order and shapes, HTTP status codes,
 * content types, headers and JSON (run-specific ids and timestamps normalised) as the 0.8 replay
 * in conformance.test.ts. Where 0.28 differs from 0.8, the test also starts a 0.8 emulator and
 * checks that it still gives the old answer, so a profile leaking into the other fails here.
 */
import { describe, expect, it } from 'vitest';
import type { ComfyEmulator, ComfyEmulatorOptions } from '../fakes/comfyui/index.js';
import { expectHttp, expectSameShapes, labels, withoutNumber, type HttpRecord, type TraceMessage } from './conformance-helpers.js';
import { emulatorHarness, getJson, http, loadTrace, queuePrompt, slowWorkflow, upload, WsRecorder, type JsonObject } from './helpers.js';
import { collapseTicks, maskTracebacks, normalize, receivedSteps, shapeOf, text, traceSteps, without } from './trace-steps.js';

const harness = emulatorHarness({ stepMs: 5 });
const emulator = (options: ComfyEmulatorOptions = {}): Promise<ComfyEmulator> => harness.start(options);
const socket = (emu: ComfyEmulator, options: Parameters<typeof WsRecorder.open>[1] = {}): Promise<WsRecorder> => harness.connect(emu, options);
const trace28 = <T = JsonObject>(name: string): T => loadTrace<T>(`0.28/${name}`);

type Recorded = HttpRecord & { headers?: Record<string, string>; magic?: string };
type Request = { prompt: JsonObject; client_id?: string };

/** Status, content type, and the headers the trace shows that the client may rely on. */
function expectRecorded(actual: Awaited<ReturnType<typeof http>>, recorded: Recorded, what: string): void {
  expect(actual.status, what).toBe(recorded.status);
  expect(actual.contentType, what).toBe(recorded.contentType);
  for (const name of ['x-content-type-options', 'content-disposition']) {
    expect(actual.headers[name], `${what}: ${name}`).toBe(recorded.headers?.[name]);
  }
}

/** The queue number (priority) depends on what ran before on each server. */
const withoutPriority = (value: unknown): unknown => JSON.parse(JSON.stringify(value ?? null), (k, v: unknown) => (k === 'priority' ? '<n>' : v));
/** Saved file names count up with what ran before. */
const withoutCounters = (lines: string[]): string[] => lines.map((l) => l.replace(/"filename":"[^"]*"/g, '"filename":"<f>"'));

const traceClient = (ws: readonly TraceMessage[]): string => String((ws[0]?.data as JsonObject).sid);

/** The first, uncached run of the traces' graph: EmptyImage then cached in later runs. */
async function warmUp(emu: ComfyEmulator): Promise<void> {
  const ws = await WsRecorder.open(emu.url);
  const { prompt_id } = await queuePrompt(emu, { prompt: slowWorkflow({ steps: 1, seed: 999, prefix: 'warmup' }), client_id: ws.sid });
  await ws.done(prompt_id);
  await ws.close();
}

describe('emulator profile', () => {
  it('is 0.28 unless asked otherwise, and refuses an unknown one', async () => {
    expect((await emulator()).profile).toBe('0.28');
    expect((await emulator({ profile: '0.8' })).profile).toBe('0.8');
    await expect(emulator({ profile: '0.9' as never })).rejects.toThrow(/unknown ComfyUI emulator profile "0.9"/);
    await expect(emulator({ profile: '0.8', assets: true })).rejects.toThrow(/no asset system/);
  });
});

describe('0.28 GET_routes', () => {
  const trace = trace28<Record<string, Recorded & { json_keys?: string[] }>>('GET_routes.json');

  it('fixed routes answer exactly as the real server; 0.8 keeps its own /features', async () => {
    const emu = await emulator({ models: { checkpoints: [] } }); // the trace server had no models
    for (const route of ['/features', '/embeddings', '/extensions', '/prompt', '/queue', '/object_info/NoSuchNode', '/models/checkpoints', '/node_replacements']) {
      const answer = await http(emu.url, 'GET', route);
      const recorded = trace[route] as Recorded;
      expectRecorded(answer, recorded, route);
      expect(answer.json, route).toEqual(recorded.json);
    }
    for (const route of ['/models/nope', '/no/such/route']) {
      const answer = await http(emu.url, 'GET', route);
      expect(answer.status, route).toBe(trace[route]?.status);
      expect(answer.text, route).toBe(trace[route]?.text);
    }
    const old = await emulator({ profile: '0.8' });
    expect(await getJson(old, '/features')).toEqual(loadTrace('GET_features.json'));
    expect((await http(old.url, 'GET', '/node_replacements')).status).toBe(404);
  });

  it('/system_stats: 0.28.0 with its new fields (a simulated CUDA device instead of the trace CPU)', async () => {
    const emu = await emulator();
    const stats = await getJson<{ system: JsonObject; devices: JsonObject[] }>(emu, '/system_stats');
    const recorded = (trace['/system_stats'] as Recorded).json as { system: JsonObject; devices: JsonObject[] };
    expect(Object.keys(stats.system)).toEqual(Object.keys(recorded.system));
    expect(shapeOf({ ...stats.system, argv: [] })).toEqual(shapeOf({ ...recorded.system, argv: [] }));
    expect(stats.system.comfyui_version).toBe('0.28.0');
    expect(stats.system.comfy_package_versions).toEqual(recorded.system.comfy_package_versions);
    expect(Object.keys(stats.devices[0] ?? {})).toEqual(Object.keys(recorded.devices[0] ?? {}));
    const old = await getJson<{ system: JsonObject }>(await emulator({ profile: '0.8' }), '/system_stats');
    expect(old.system.comfyui_version).toBe('0.8.0');
    expect(old.system).not.toHaveProperty('comfy_package_versions');
  });

  it('/object_info/<class> and the whole catalogue are 0.28.0s (new fields, outputs on output nodes)', async () => {
    const emu = await emulator();
    for (const route of ['/object_info/SlowProgress', '/object_info/FailingNode', '/object_info/EmptyImage', '/object_info/SaveImage']) {
      expect(await getJson(emu, route), route).toEqual(trace[route]?.json);
    }
    const ours = await getJson<Record<string, JsonObject>>(emu, '/object_info');
    const full = trace28<Record<string, JsonObject>>('GET_object_info_full.json');
    expect(Object.keys(ours)).toEqual(Object.keys(full));
    expect(Object.keys(ours)).toHaveLength(580);
    for (const field of ['is_input_list', 'has_intermediate_output', 'search_aliases']) expect(ours.KSampler, field).toHaveProperty(field);
    // The raw text keeps the seed maximum exact (JSON.parse would round it).
    expect((await http(emu.url, 'GET', '/object_info')).text).toContain('18446744073709551615');
    const old = await getJson<Record<string, JsonObject>>(await emulator({ profile: '0.8' }), '/object_info');
    expect(old.SaveImage?.output).toEqual([]);
    expect(old.KSampler).not.toHaveProperty('search_aliases');
  });
});

describe('0.28 b_run_legacy_client', () => {
  it('same messages, history, jobs and /view answers (with nosniff)', async () => {
    const trace = trace28<{ request: Request; post: { json: JsonObject }; ws: TraceMessage[]; queue_after: HttpRecord; history: HttpRecord; history_all: HttpRecord; view: Recorded; view_missing: Recorded; view_traversal: Recorded; jobs: HttpRecord; job: HttpRecord }>(
      'b_run_legacy_client.json',
    );
    const emu = await emulator();
    const ws = await socket(emu);
    const post = await http(emu.url, 'POST', '/prompt', { prompt: trace.request.prompt, client_id: ws.sid });
    expect(post.status).toBe(200);
    const promptId = (post.json as { prompt_id: string }).prompt_id;
    expect(post.json).toEqual({ ...trace.post.json, prompt_id: promptId });
    await ws.done(promptId);
    expect(text(receivedSteps(ws.messages))).toEqual(text(traceSteps(trace.ws)));
    expectSameShapes(trace.ws, ws.messages);

    const theirs = labels([[String(trace.post.json.prompt_id), '<prompt>'], [traceClient(trace.ws), '<client>']]);
    const ours = labels([[promptId, '<prompt>'], [ws.sid, '<client>']]);
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
      expect(normalize(answer.json, ours), path).toEqual(normalize(record.json, theirs));
    }
    const view = await http(emu.url, 'GET', '/view?filename=r28_b_00001_.png&subfolder=&type=output');
    expectRecorded(view, trace.view, 'view');
    expect(view.bytes.subarray(0, 8).toString('hex')).toBe(trace.view.magic);
    expectRecorded(await http(emu.url, 'GET', '/view?filename=nope.png&type=output'), trace.view_missing, 'view_missing');
    expect((await http(emu.url, 'GET', '/view?filename=../r28_b_00001_.png&type=output')).status).toBe(trace.view_traversal.status);
  });
});

describe('0.28 b_run_legacy_preview', () => {
  it('type-1 JPEG previews, each right after its progress', async () => {
    const trace = trace28<{ request: Request; ws: TraceMessage[] }>('b_run_legacy_preview.json');
    const emu = await emulator();
    await warmUp(emu); // the trace server had run EmptyImage before
    const ws = await socket(emu);
    const { prompt_id } = await queuePrompt(emu, { prompt: trace.request.prompt, client_id: ws.sid });
    await ws.done(prompt_id);
    expect(text(receivedSteps(ws.messages))).toEqual(text(traceSteps(trace.ws)));
    expectSameShapes(trace.ws, ws.messages);
    const frames = ws.messages.filter((m) => m.kind === 'binary');
    expect(frames).toHaveLength(trace.ws.filter((m) => m.binary === true).length);
    for (const f of frames) if (f.kind === 'binary') expect([f.eventType, f.imageFormat]).toEqual([1, 1]);
  });
});

describe('0.28 b_run_feature_flags_preview', () => {
  it('the 0.28 flags are answered; type-4 previews; /history/{id} is {} while running; /api/jobs during and after', async () => {
    const trace = trace28<{ request: Request; ws: TraceMessage[]; during: Record<string, HttpRecord>; after: Record<string, HttpRecord> }>('b_run_feature_flags_preview.json');
    const emu = await emulator({ stepMs: 30 });
    await warmUp(emu);
    const ws = await socket(emu, { featureFlags: { supports_preview_metadata: true } });
    const { prompt_id } = await queuePrompt(emu, { prompt: trace.request.prompt, client_id: ws.sid });
    await ws.waitFor((m) => m.kind === 'json' && m.type === 'progress');
    const traceId = String((trace.ws.find((m) => m.type === 'execution_start')?.data as JsonObject).prompt_id);
    const theirs = labels([[traceId, '<p>'], [traceClient(trace.ws), '<c>']]);
    const ours = labels([[prompt_id, '<p>'], [ws.sid, '<c>']]);
    for (const [name, record] of Object.entries(trace.during)) {
      const path = (record as Recorded & { path: string }).path.replace(traceId, prompt_id);
      const answer = await http(emu.url, 'GET', path);
      expectHttp(answer, record);
      if (path.startsWith('/history/') || path.startsWith('/api/jobs/')) expect(normalize(withoutPriority(withoutNumber(answer.json)), ours), name).toEqual(normalize(withoutPriority(withoutNumber(record.json)), theirs));
    }
    await ws.done(prompt_id);
    expect(ws.json()[1]).toEqual({ type: 'feature_flags', data: trace.ws[1]?.data });
    expect(text(receivedSteps(ws.messages))).toEqual(text(traceSteps(trace.ws)));
    expectSameShapes(trace.ws, ws.messages);
    const frames = ws.messages.filter((m) => m.kind === 'binary');
    expect(frames.map((f) => (f.kind === 'binary' ? f.eventType : 0))).toEqual(trace.ws.filter((m) => m.binary === true).map(() => 4));
    for (const [name, record] of Object.entries(trace.after)) {
      const path = (record as Recorded & { path: string }).path.replace(traceId, prompt_id);
      const answer = await http(emu.url, 'GET', path);
      expectHttp(answer, record);
      if (path.includes(prompt_id)) expect(normalize(withoutPriority(withoutNumber(answer.json)), ours), name).toEqual(normalize(withoutPriority(withoutNumber(record.json)), theirs));
    }
  });
});

describe('0.28 c_invalid_prompts', () => {
  type Case = { request: unknown; response: HttpRecord; response_0_8_0?: HttpRecord };
  const trace = trace28<Record<string, Case>>('c_invalid_prompts.json');
  /** Not modelled: 0.28.0's dependency-cycle check (the emulator still answers as 0.8.0 there). */
  const NOT_MODELLED = new Set(['new_dependency_cycle', 'new_self_loop', 'runtime_exception']);

  /** 0.28.0's validate_inputs recursion has one more frame per level; the frames' text is masked anyway. */
  const oneFrame = (value: unknown): unknown =>
    JSON.parse(JSON.stringify(maskTracebacks(value)), (k, v: unknown) => (k === 'traceback' && Array.isArray(v) ? ['<traceback>'] : v));

  it('every rejected prompt gets the real status, content type and error JSON (missing_node_type, 500s before validation)', async () => {
    const emu = await emulator();
    await upload(emu, {}); // nothing: keeps the input folder as the trace server's was
    for (const [name, c] of Object.entries(trace)) {
      if (NOT_MODELLED.has(name)) continue;
      const body = typeof c.request === 'string' ? c.request : c.request;
      const answer = await http(emu.url, 'POST', '/prompt', body);
      expect(answer.status, name).toBe(c.response.status);
      expect(answer.contentType, name).toBe(c.response.contentType);
      if (c.response.status === 200) {
        expect(shapeOf(answer.json), name).toEqual(shapeOf(c.response.json));
      } else if (c.response.json === undefined || c.response.json === null) expect(answer.text, name).toBe(c.response.text);
      else expect(oneFrame(answer.json), name).toEqual(oneFrame(c.response.json));
    }
  });

  it('0.8 still answers the old way where 0.28 changed it', async () => {
    const old = await emulator({ profile: '0.8' });
    for (const name of ['unknown_class_type', 'missing_class_type']) {
      const c = trace[name] as Case;
      const answer = await http(old.url, 'POST', '/prompt', c.request);
      expect(answer.json, name).toEqual(c.response_0_8_0?.json);
      expect((answer.json as { error: { type: string } }).error.type).toBe('invalid_prompt');
    }
    expect((await http(old.url, 'POST', '/prompt', (trace.new_prompt_node_not_object as Case).request)).status).not.toBe(500);
  });
});

describe('0.28 x_prompt_id', () => {
  const trace = trace28<Record<string, { sent_prompt_id: unknown; response: Recorded } & Recorded>>('x_prompt_id.json');

  it('only a canonical lowercase UUID is taken; null mints one; a reused UUID is accepted again, also while pending', async () => {
    const emu = await emulator({ stepMs: 20 });
    const ws = await socket(emu);
    for (const [name, c] of Object.entries(trace)) {
      if (c.sent_prompt_id === undefined || name === 'reused_after_finish') continue;
      const answer = await http(emu.url, 'POST', '/prompt', { prompt: slowWorkflow({ steps: 1, seed: 5 }), client_id: ws.sid, prompt_id: c.sent_prompt_id });
      expectHttp(answer, c.response);
      if (c.response.status === 400) expect(answer.json, name).toEqual(c.response.json);
      else if (typeof c.sent_prompt_id === 'string') expect((answer.json as JsonObject).prompt_id, name).toBe(c.sent_prompt_id);
      else expect((answer.json as JsonObject).prompt_id, name).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      if (c.response.status === 200) await ws.done(String((answer.json as JsonObject).prompt_id));
    }
    const reused = String(trace.valid_lowercase_uuid?.sent_prompt_id);
    const from = ws.messages.length;
    const again = await queuePrompt(emu, { prompt: slowWorkflow({ steps: 1, seed: 6 }), client_id: ws.sid, prompt_id: reused });
    await ws.waitFor((m) => m.kind === 'json' && m.type === 'executing' && m.data.node === null && m.data.prompt_id === reused, from);
    const history = await getJson<Record<string, { prompt: unknown[] }>>(emu, `/history/${reused}`);
    expect(history[reused]?.prompt[0]).toBe(again.number);
    expect(shapeOf(history)).toEqual(shapeOf(trace.history_after_reuse?.json));

    const slow = await queuePrompt(emu, { prompt: slowWorkflow({ steps: 10, seed: 7 }), client_id: ws.sid });
    const dup = '110b4c5f-ab83-46f5-9a82-7fa5068cec41';
    await queuePrompt(emu, { prompt: slowWorkflow({ steps: 1, seed: 8 }), client_id: ws.sid, prompt_id: dup });
    await queuePrompt(emu, { prompt: slowWorkflow({ steps: 1, seed: 8 }), client_id: ws.sid, prompt_id: dup });
    const queue = await getJson<{ queue_pending: unknown[][] }>(emu, '/queue');
    expect(queue.queue_pending.map((i) => i[1])).toEqual([dup, dup]);
    expect(shapeOf(queue)).toEqual(shapeOf(trace.queue_with_dups?.json));
    await ws.done(slow.prompt_id);
    const job = await getJson(emu, `/api/jobs/${dup}`);
    await ws.done(dup);
    expect(job).toHaveProperty('id', dup);
    expect(Object.keys(await getJson(emu, `/api/jobs/${dup}`)).sort()).toEqual(Object.keys(trace.jobs_dup?.json as JsonObject).sort());

    // 0.8.0 took any string.
    const old = await emulator({ profile: '0.8' });
    expect((await queuePrompt(old, { prompt: slowWorkflow({ steps: 1 }), prompt_id: 'my-job-1' })).prompt_id).toBe('my-job-1');
  });
});

describe('0.28 j_jobs_cancel', () => {
  const trace = trace28<Record<string, Recorded> & { ids: Record<string, string>; ws: TraceMessage[] }>('j_jobs_cancel.json');

  it('list filters and errors, single and batch cancel, cancelled and failed end states', async () => {
    const emu = await emulator({ stepMs: 20 });
    await warmUp(emu);
    const ws = await socket(emu);
    const post = (seed: number, steps = 30) => queuePrompt(emu, { prompt: slowWorkflow({ steps, seed, prefix: `r28_j${seed}` }), client_id: ws.sid });
    const a = await post(1);
    const b = await post(2);
    const c = await post(3);
    const d = await post(4);
    await ws.waitFor((m) => m.kind === 'json' && m.type === 'progress' && m.data.prompt_id === a.prompt_id);
    const theirs = labels(Object.entries(trace.ids).map(([k, v]) => [v, `<${k}>`]));
    const ours = labels([[a.prompt_id, '<A>'], [b.prompt_id, '<B>'], [c.prompt_id, '<C>'], [d.prompt_id, '<D>']]);
    const same = async (name: string, path: string, method = 'GET', body?: unknown) => {
      const recorded = trace[name] as Recorded;
      const answer = await http(emu.url, method, path, body);
      expectHttp(answer, recorded);
      return answer;
    };
    const ids = (json: unknown): string[] => ((json as { jobs: JsonObject[] }).jobs ?? []).map((j) => String(j.id));
    expect(ids((await same('jobs_pending', '/api/jobs?status=pending')).json)).toEqual([d.prompt_id, c.prompt_id, b.prompt_id]);
    expect(ids((await same('jobs_pending_inprogress', '/api/jobs?status=pending,in_progress&sort_order=asc')).json)).toEqual([a.prompt_id, b.prompt_id, c.prompt_id, d.prompt_id]);
    expect(ids((await same('jobs_status_uppercase', '/api/jobs?status=PENDING')).json)).toEqual([d.prompt_id, c.prompt_id, b.prompt_id]);
    expect(normalize(withoutPriority((await same('job_A_running', `/api/jobs/${a.prompt_id}`)).json), ours)).toEqual(normalize(withoutPriority(trace.job_A_running?.json), theirs));
    expect(normalize(withoutPriority((await same('job_B_pending', `/api/jobs/${b.prompt_id}`)).json), ours)).toEqual(normalize(withoutPriority(trace.job_B_pending?.json), theirs));
    for (const [name, path] of [
      ['jobs_bad_status', '/api/jobs?status=running'],
      ['jobs_status_cancelled', '/api/jobs?status=cancelled'],
      ['jobs_bad_sort_by', '/api/jobs?sort_by=name'],
      ['jobs_limit_zero', '/api/jobs?limit=0'],
      ['jobs_limit_text', '/api/jobs?limit=abc'],
      ['jobs_offset_text', '/api/jobs?offset=x'],
      ['job_unknown_uuid', '/api/jobs/2f5602c0-536f-448a-9386-26665912353d'],
      ['job_not_a_uuid', '/api/jobs/not-a-uuid'],
      ['cancel_unknown', '/api/jobs/61a78b74-5906-44d2-ac75-e2f5fbb39353/cancel'],
      ['cancel_not_a_uuid', '/api/jobs/not-a-uuid/cancel'],
    ] as const) {
      const answer = await same(name, path, name.startsWith('cancel') ? 'POST' : 'GET');
      expect(answer.json, name).toEqual(trace[name]?.json);
    }
    expect(((await same('jobs_offset_negative', '/api/jobs?offset=-1&limit=1')).json as { pagination: JsonObject }).pagination).toMatchObject({
      offset: (trace.jobs_offset_negative?.json as { pagination: JsonObject }).pagination.offset,
      limit: 1,
    });
    expect(((await same('jobs_sort_order_upper', '/api/jobs?sort_order=ASC&limit=1')).json as { jobs: unknown[] }).jobs).toHaveLength(1);

    expect((await same('cancel_B_pending', `/api/jobs/${b.prompt_id}/cancel`, 'POST')).json).toEqual({ cancelled: true });
    expect((await getJson<{ queue_pending: unknown[][] }>(emu, '/queue')).queue_pending.map((i) => i[1]).sort()).toEqual([c.prompt_id, d.prompt_id].sort());
    expect((await same('job_B_after_cancel', `/api/jobs/${b.prompt_id}`)).json).toEqual({ error: 'Job not found' });
    expect((await same('cancel_batch_with_invalid', '/api/jobs/cancel', 'POST', { job_ids: ['nope', 7] })).json).toEqual(trace.cancel_batch_with_invalid?.json);
    expect((await same('cancel_batch_not_list', '/api/jobs/cancel', 'POST', { job_ids: c.prompt_id })).json).toEqual(trace.cancel_batch_not_list?.json);
    expect((await same('cancel_batch_bad_json', '/api/jobs/cancel', 'POST', '{not json')).json).toEqual(trace.cancel_batch_bad_json?.json);
    expect((await same('cancel_batch_C', '/api/jobs/cancel', 'POST', { job_ids: [c.prompt_id] })).json).toEqual({ cancelled: true });
    expect((await same('cancel_A_running', `/api/jobs/${a.prompt_id}/cancel`, 'POST')).json).toEqual({ cancelled: true });
    await ws.done(a.prompt_id);
    expect((await same('cancel_A_again', `/api/jobs/${a.prompt_id}/cancel`, 'POST')).json).toEqual({ cancelled: false });
    const jobA = (await same('job_A_after', `/api/jobs/${a.prompt_id}`)).json as JsonObject;
    expect(jobA.status).toBe('cancelled');
    expect(Object.keys(jobA).sort()).toEqual(Object.keys(trace.job_A_after?.json as JsonObject).sort());
    expect(ids((await same('jobs_cancelled', '/api/jobs?status=cancelled')).json)).toEqual([a.prompt_id]);
    await ws.done(d.prompt_id);

    // A plain /interrupt ends as cancelled too; a FailingNode run is failed.
    const e = await post(5);
    await ws.waitFor((m) => m.kind === 'json' && m.type === 'progress' && m.data.prompt_id === e.prompt_id);
    expectHttp(await http(emu.url, 'POST', '/interrupt'), trace.interrupt_E as Recorded);
    await ws.done(e.prompt_id);
    expect(((await same('job_E_after_interrupt', `/api/jobs/${e.prompt_id}`)).json as JsonObject).status).toBe('cancelled');
    const failing = slowWorkflow({ steps: 1, seed: 6 });
    failing['4'] = { class_type: 'FailingNode', inputs: { image: ['2', 0], message: 'boom' } };
    failing['3'] = { class_type: 'SaveImage', inputs: { images: ['4', 0], filename_prefix: 'r28_f' } };
    const f = await queuePrompt(emu, { prompt: failing, client_id: ws.sid });
    await ws.done(f.prompt_id);
    const jobF = (await same('job_F_failed', `/api/jobs/${f.prompt_id}`)).json as JsonObject;
    expect(jobF.status).toBe('failed');
    expect(Object.keys(jobF).sort()).toEqual(Object.keys(trace.job_F_failed?.json as JsonObject).sort());

    // 0.8.0: no cancel routes, interrupted means failed, the cancelled word is unknown.
    const old = await emulator({ profile: '0.8' });
    expect((await http(old.url, 'POST', `/api/jobs/${a.prompt_id}/cancel`)).status).toBe(404);
    expect((await http(old.url, 'POST', '/api/jobs/cancel', { job_ids: [] })).status).toBe(405);
    expect((await http(old.url, 'GET', '/api/jobs?status=cancelled')).status).toBe(400);
  });
});

describe('0.28 view', () => {
  const trace = trace28<Record<string, Recorded & { path: string }>>('view.json');

  it('every /view variant: content types, nosniff, HTML as an attachment; 0.8 has neither', async () => {
    const emu = await emulator();
    const ws = await socket(emu);
    const { prompt_id } = await queuePrompt(emu, { prompt: slowWorkflow({ steps: 1, prefix: 'r28_b' }), client_id: ws.sid });
    await ws.done(prompt_id);
    const bytes = async (colour: string): Promise<Blob> => {
      const sharp = (await import('sharp')).default;
      return new Blob([await sharp({ create: { width: 8, height: 8, channels: 4, background: colour } }).png().toBuffer()], { type: 'image/png' });
    };
    await upload(emu, { image: [await bytes('#ff0000'), 'client_upload.png'] });
    await upload(emu, { image: [await bytes('#00ff00'), 'sub_upload.png'], subfolder: 'clienttests' });
    await upload(emu, { image: [new Blob(['<script>alert(1)</script>']), 'r28_page.html'], type: 'output' });
    await upload(emu, { image: [new Blob(['hello']), 'r28_note.txt'], type: 'output' });
    await upload(emu, { image: [new Blob(['{"a":1}']), 'r28_data.json'], type: 'output' });
    for (const [name, recorded] of Object.entries(trace)) {
      if (name === 'head') continue;
      const answer = await http(emu.url, 'GET', recorded.path);
      expectRecorded(answer, recorded, name);
      // The container's signature (a JPEG's first marker segment differs by encoder).
      if (recorded.magic !== undefined) expect(answer.bytes.subarray(0, 3).toString('hex'), name).toBe(recorded.magic.slice(0, 6));
    }
    const head = await fetch(`${emu.url}/view?filename=r28_b_00001_.png&type=output`, { method: 'HEAD' });
    expect([head.status, head.headers.get('content-type')]).toEqual([trace.head?.status, trace.head?.contentType]);

    const old = await emulator({ profile: '0.8' });
    await upload(old, { image: [new Blob(['<p>x</p>']), 'page.html'], type: 'output' });
    const oldHtml = await http(old.url, 'GET', '/view?filename=page.html&type=output');
    expect(oldHtml.headers['x-content-type-options']).toBeUndefined();
    expect(oldHtml.headers['content-disposition']).toBe('filename="page.html"');
  });
});

describe('0.28 h_cached_rerun', () => {
  it('fully cached re-runs: executed with the old file, then the node progress_state; PreviewImage reruns', async () => {
    const trace = trace28<{ ws: TraceMessage[]; ws_legacy: TraceMessage[]; history_rerun: HttpRecord; ids: Record<string, string>; job_rerun: HttpRecord }>('h_cached_rerun.json');
    const emu = await emulator();
    const first = { prompt: (trace28<{ request: Request }>('b_run_feature_flags_preview.json')).request.prompt };
    {
      const warm = await socket(emu);
      const { prompt_id } = await queuePrompt(emu, { ...first, client_id: warm.sid });
      await warm.done(prompt_id);
    }
    const ws = await socket(emu, { featureFlags: { supports_preview_metadata: true } });
    const graph = first.prompt as Record<string, JsonObject>;
    const preview = { ...graph, '3': { class_type: 'PreviewImage', inputs: { images: ['2', 0] } } };
    const changed = { ...graph, '3': { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: 'r28_b2_changed' } } };
    const ids: string[] = [];
    for (const prompt of [graph, changed, preview, preview]) {
      const { prompt_id } = await queuePrompt(emu, { prompt, client_id: ws.sid });
      await ws.done(prompt_id);
      ids.push(prompt_id);
    }
    expect(text(receivedSteps(ws.messages))).toEqual(text(traceSteps(trace.ws)));
    expectSameShapes(trace.ws, ws.messages);
    const rerun = await getJson(emu, `/history/${ids[0]}`);
    const client = traceClient(trace.ws);
    expect(normalize(withoutNumber(rerun), labels([[ids[0], '<p>'], [ws.sid, '<c>']]))).toEqual(
      normalize(withoutNumber(trace.history_rerun.json), labels([[trace.ids.identical_rerun, '<p>'], [client, '<c>']])),
    );
    const legacy = await socket(emu);
    const { prompt_id } = await queuePrompt(emu, { prompt: graph, client_id: legacy.sid });
    await legacy.done(prompt_id);
    expect(text(receivedSteps(legacy.messages))).toEqual(text(traceSteps(trace.ws_legacy)));
  });
});

describe('0.28 e_interrupt', () => {
  it('idle interrupts (no body, bad JSON) are 200s; a non-matching id is ignored; a global one ends the run', async () => {
    const trace = trace28<Record<string, Recorded> & { ws: TraceMessage[] }>('e_interrupt.json');
    const emu = await emulator({ stepMs: 20 });
    expectHttp(await http(emu.url, 'POST', '/interrupt'), trace.interrupt_idle_no_body as Recorded);
    expectHttp(await http(emu.url, 'POST', '/interrupt', '{bad'), trace.interrupt_idle_bad_json as Recorded);
    const ws = await socket(emu);
    const { prompt_id } = await queuePrompt(emu, { prompt: slowWorkflow({ steps: 40, seed: 1, prefix: 'r28_e' }), client_id: ws.sid });
    await ws.waitFor((m) => m.kind === 'json' && m.type === 'progress');
    expectHttp(await http(emu.url, 'POST', '/interrupt', { prompt_id: '0e0b2f5e-0000-4000-8000-000000000000' }), trace.interrupt_other_prompt_id as Recorded);
    await ws.waitFor((m) => m.kind === 'json' && m.type === 'progress' && (m.data.value as number) >= 2);
    expectHttp(await http(emu.url, 'POST', '/interrupt'), trace.interrupt_global as Recorded);
    await ws.done(prompt_id);
    // The trace socket was recorded from the POST on (no greeting).
    expect(text(collapseTicks(without(receivedSteps(ws.messages.slice(1)), 'progress_state')))).toEqual(text(collapseTicks(without(traceSteps(trace.ws), 'progress_state'))));
    const traceId = String((trace.ws.find((m) => m.type === 'execution_start')?.data as JsonObject).prompt_id);
    const history = await getJson(emu, `/history/${prompt_id}`);
    const mask = (v: unknown, id: string, client: string) => normalize(withoutNumber(v), labels([[id, '<p>'], [client, '<c>']])) as JsonObject;
    const ours = (mask(history, prompt_id, ws.sid)['<p>'] as JsonObject).status;
    const theirs = (mask(trace.history_G?.json, traceId, traceClient(trace.ws))['<p>'] as JsonObject).status;
    expect(ours).toEqual(theirs);
  });
});

describe('0.28 f_queue_delete_clear', () => {
  it('delete, deleting the running prompt (nothing), clear, interrupt, /history delete, /free', async () => {
    const trace = trace28<Record<string, Recorded> & { ws: TraceMessage[] }>('f_queue_delete_clear.json');
    const emu = await emulator({ stepMs: 40 });
    await warmUp(emu);
    const ws = await socket(emu);
    const post = (steps: number, seed: number) => queuePrompt(emu, { prompt: slowWorkflow({ steps, seed, prefix: `r28_f${seed}` }), client_id: ws.sid });
    const a = await post(30, 11);
    const b = await post(3, 12);
    const c = await post(3, 13);
    await ws.waitFor((m) => m.kind === 'json' && m.type === 'progress');
    const queue = await getJson<{ queue_running: unknown[][]; queue_pending: unknown[][] }>(emu, '/queue');
    expect(shapeOf(queue)).toEqual(shapeOf(trace.queue_full?.json));
    expectHttp(await http(emu.url, 'POST', '/queue', { delete: [b.prompt_id] }), trace.delete_B as Recorded);
    expectHttp(await http(emu.url, 'POST', '/queue', { delete: [a.prompt_id] }), trace.delete_running_A as Recorded);
    expect((await getJson<{ queue_running: unknown[][]; queue_pending: unknown[][] }>(emu, '/queue')).queue_running.map((i) => i[1])).toEqual([a.prompt_id]);
    expectHttp(await http(emu.url, 'POST', '/queue', { clear: true }), trace.clear as Recorded);
    expect((await getJson<{ queue_pending: unknown[] }>(emu, '/queue')).queue_pending).toEqual([]);
    expectHttp(await http(emu.url, 'POST', '/interrupt'), trace.interrupt as Recorded);
    await ws.done(a.prompt_id);
    expect(await getJson(emu, `/history/${b.prompt_id}`)).toEqual(trace.history_B?.json);
    expect(await getJson(emu, `/history/${c.prompt_id}`)).toEqual({});
    expectHttp(await http(emu.url, 'POST', '/history', { delete: [a.prompt_id] }), trace.history_delete as Recorded);
    expect(await getJson(emu, `/history/${a.prompt_id}`)).toEqual(trace.history_A_after_delete?.json);
    expectHttp(await http(emu.url, 'POST', '/free', { unload_models: true }), trace.free as Recorded);
    const ours = receivedSteps(ws.messages);
    const theirs = traceSteps(trace.ws);
    expect(text(collapseTicks(without(ours, 'status', 'progress_state')))).toEqual(text(collapseTicks(without(theirs, 'status', 'progress_state'))));
  });
});

describe('0.28 i_reconnect', () => {
  it('a reconnect mid-run resumes with a bare executing; a socket without clientId is named; shared ids as in 0.8', async () => {
    const trace = trace28<{ first_socket: TraceMessage[]; reconnected_socket: TraceMessage[]; no_client_id_socket: TraceMessage[] }>('i_reconnect.json');
    const emu = await emulator({ stepMs: 15 });
    await warmUp(emu);
    const clientId = crypto.randomUUID();
    const before = await socket(emu, { clientId });
    const { prompt_id } = await queuePrompt(emu, { prompt: slowWorkflow({ steps: 25, seed: 51, prefix: 'r28_i' }), client_id: clientId });
    await before.waitFor((m) => m.kind === 'json' && m.type === 'progress' && m.data.value === 2);
    await before.close();
    const strip = (steps: ReturnType<typeof receivedSteps>) => withoutCounters(text(collapseTicks(without(steps, 'progress_state', 'status'))));
    expect(strip(receivedSteps(before.messages))).toEqual(strip(traceSteps(trace.first_socket)));
    const after = await socket(emu, { clientId });
    await after.done(prompt_id);
    expect(strip(receivedSteps(after.messages))).toEqual(strip(traceSteps(trace.reconnected_socket)));
    expect(after.json()[1]).toEqual({ type: 'executing', data: { node: '2' } });
    const anonymous = await socket(emu, { clientId: null });
    expect(shapeOf(anonymous.json()[0]?.data)).toEqual(shapeOf(trace.no_client_id_socket[0]?.data));
  });
});

describe('0.28 d_upload_image', () => {
  it('upload answers in every form, /upload/mask, LoadImage after upload', async () => {
    const trace = trace28<Record<string, Recorded>>('d_upload_image.json');
    const emu = await emulator();
    const sharp = (await import('sharp')).default;
    const png = async (colour: string): Promise<Blob> => new Blob([await sharp({ create: { width: 8, height: 8, channels: 3, background: colour } }).png().toBuffer()], { type: 'image/png' });
    const first = await png('#ff0000');
    for (const [name, fields] of [
      ['first_upload', { image: [first, 'client_upload.png'] }],
      ['same_name_same_content_again', { image: [first, 'client_upload.png'] }],
      ['same_name_different_content', { image: [await png('#00ff00'), 'client_upload.png'] }],
      ['overwrite_true', { image: [await png('#0000ff'), 'client_upload.png'], overwrite: 'true' }],
      ['with_subfolder', { image: [await png('#000001'), 'sub_upload.png'], subfolder: 'clienttests' }],
      ['type_temp', { image: [await png('#000002'), 'temp_upload.png'], type: 'temp' }],
      ['type_output', { image: [await png('#000003'), 'out_upload.png'], type: 'output' }],
      ['traversal_subfolder', { image: [await png('#000004'), 'evil.png'], subfolder: '../../etc' }],
      ['missing_image_field', { type: 'input' }],
    ] as Array<[string, Record<string, string | [Blob, string]>]>) {
      const recorded = trace[name];
      if (recorded === undefined) continue;
      const answer = await upload(emu, fields);
      expectHttp(answer, recorded);
      if (recorded.json !== undefined && recorded.json !== null) expect(answer.json, name).toEqual(recorded.json);
    }
  });
});

describe('0.28 k_subgraph_ids', () => {
  it('node ids shaped like flattened subgraph ids ("10:1") run and report under those ids', async () => {
    const trace = trace28<{ post: HttpRecord; ws: TraceMessage[]; history: HttpRecord }>('k_subgraph_ids.json');
    const entry = Object.values(trace.history.json as Record<string, { prompt: [number, string, JsonObject] }>)[0];
    const emu = await emulator();
    await warmUp(emu);
    const ws = await socket(emu);
    const { prompt_id } = await queuePrompt(emu, { prompt: entry?.prompt[2] ?? {}, client_id: ws.sid });
    await ws.done(prompt_id);
    // The trace socket was recorded from the POST on (no greeting).
    expect(text(collapseTicks(receivedSteps(ws.messages.slice(1))))).toEqual(text(collapseTicks(traceSteps(trace.ws))));
    expectSameShapes(trace.ws, ws.messages.slice(1));
  });
});

describe('0.28 x_no_client_id', () => {
  it('a prompt without client_id: an unrelated socket sees status, progress_state, progress and previews only', async () => {
    const trace = trace28<{ post: HttpRecord; observer_ws: TraceMessage[] }>('x_no_client_id.json');
    const emu = await emulator({ stepMs: 20 });
    const observer = await socket(emu);
    await queuePrompt(emu, { prompt: slowWorkflow({ steps: 2, seed: 81, preview: true }) });
    await observer.waitFor((m) => m.kind === 'json' && m.type === 'status' && (m.data.status as { exec_info: { queue_remaining: number } }).exec_info.queue_remaining === 0, 1);
    expect(text(receivedSteps(observer.messages))).toEqual(text(traceSteps(trace.observer_ws)));
  });
});

describe('0.28 z_assets_enabled', () => {
  it('with assets on: features say so, and uploads are followed by assets.seed.* broadcasts no older client knows', async () => {
    const trace = trace28<Record<string, Recorded> & { ws: TraceMessage[] }>('z_assets_enabled.json');
    const emu = await emulator({ assets: true });
    expect(await getJson(emu, '/features')).toEqual(trace.features?.json);
    const ws = await socket(emu, { featureFlags: { supports_preview_metadata: true } });
    expect(ws.json()[1]).toEqual({ type: 'feature_flags', data: trace.ws[1]?.data });
    const answer = await upload(emu, { image: [new Blob([Buffer.from('x')], { type: 'image/png' }), 'asset_upload.png'] });
    expect(answer.json).toEqual(trace.upload?.json);
    await ws.waitFor((m) => m.kind === 'json' && m.type === 'assets.seed.completed');
    const seeded = ws.json().filter((m) => m.type.startsWith('assets.'));
    const recorded = trace.ws.filter((m) => String(m.type).startsWith('assets.'));
    expect(seeded.map((m) => m.type)).toEqual(recorded.map((m) => m.type));
    expect(seeded.map((m) => shapeOf(m.data))).toEqual(recorded.map((m) => shapeOf(m.data)));
    // Without the flag, nothing of the kind.
    const plain = await emulator();
    const quiet = await socket(plain);
    await upload(plain, { image: [new Blob([Buffer.from('y')], { type: 'image/png' }), 'plain.png'] });
    await new Promise((r) => setTimeout(r, 50));
    expect(quiet.json().filter((m) => m.type.startsWith('assets.'))).toEqual([]);
  });
});
