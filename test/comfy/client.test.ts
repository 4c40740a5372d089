import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ComfyClient } from '../../src/comfy/client.js';
import type { JobEvent } from '../../src/comfy/job.js';
import type { Timeouts } from '../../src/comfy/types.js';
import { PROFILE_NAMES, startComfyEmulator, type ComfyEmulator, type ProfileName } from '../fakes/comfyui/index.js';
import { FAST, recorder, serverOf, slowWorkflow, tempDir } from './helpers.js';
import { rejection } from '../support/rejection.js';

/**
 * Every case runs against both emulator profiles (ComfyUI 0.8.0 and 0.28.0), except the ones
 * marked `latestOnly`: they test the client's own transport and file handling, which do not
 * depend on the server version, so they run on 0.28 only to keep the suite fast.
 */
let emulator: ComfyEmulator;
let profile: ProfileName;
const clients: ComfyClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await emulator.close();
});

async function connected(timeouts: Partial<Timeouts> = {}, target = emulator, options: { downAfterFailures?: number } = {}): Promise<ComfyClient> {
  const client = new ComfyClient(serverOf(target, 'a'), { timeouts: { ...FAST, ...timeouts }, ...options });
  clients.push(client);
  await client.connect(AbortSignal.timeout(10_000));
  return client;
}

const live = (): AbortSignal => new AbortController().signal;

/** Posts a prompt as another user would (another client_id), straight over HTTP. */
async function foreignPrompt(steps: number): Promise<string> {
  const response = await fetch(`${emulator.url}/api/prompt`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: slowWorkflow({ steps, seed: 999, prefix: 'someone_else' }), client_id: 'another-user' }),
  });
  return ((await response.json()) as { prompt_id: string }).prompt_id;
}

async function queueIds(): Promise<{ running: string[]; pending: string[] }> {
  const queue = (await (await fetch(`${emulator.url}/api/queue`)).json()) as { queue_running: [number, string][]; queue_pending: [number, string][] };
  return { running: queue.queue_running.map((q) => q[1]), pending: queue.queue_pending.map((q) => q[1]) };
}

describe.each(PROFILE_NAMES)('ComfyClient against the emulator (ComfyUI %s profile)', (name) => {
  const latestOnly = name === '0.28' ? it : it.skip;
  beforeEach(async () => {
    profile = name;
    emulator = await startComfyEmulator({ stepMs: 5, profile });
  });

  it('runs a prompt: typed events in order, outputs from history, a download that decodes', async () => {
    const client = await connected();
    const events: JobEvent[] = [];
    const handle = client.submit(slowWorkflow({ steps: 3 }), { signal: live(), onEvent: (e) => events.push(e) });
    const streamed: string[] = [];
    const iterate = (async () => {
      for await (const event of handle.events()) streamed.push(event.type);
    })();
    const result = await handle.result;
    await iterate;

    expect(events[0]).toEqual({ type: 'queued', position: 0 });
    expect(events[1]).toEqual({ type: 'started' });
    expect(events.filter((e) => e.type === 'node')).toEqual([
      { type: 'node', node: '1', title: 'Canvas', classType: 'EmptyImage' },
      { type: 'node', node: '2', title: 'Slow sampler', classType: 'SlowProgress' },
      { type: 'node', node: '3', title: 'Save panel', classType: 'SaveImage' },
    ]);
    expect(events.filter((e) => e.type === 'progress').map((e) => (e.type === 'progress' ? `${e.value}/${e.max}` : ''))).toEqual(['1/3', '2/3', '3/3']);
    const preview = events.find((e) => e.type === 'preview');
    expect(preview).toMatchObject({ type: 'preview', mime: 'image/jpeg' });
    expect(events.at(-1)).toEqual({ type: 'completed', outputs: result.outputs });
    expect(streamed.at(-1)).toBe('completed');

    expect(result.outputs).toEqual([{ node: '3', key: 'images', filename: 'comic_test_00001_.png', subfolder: '', type: 'output' }]);
    expect(emulator.prompts.get(handle.promptId)).toMatchObject({ clientId: client.clientId, executions: 1 });
    expect(handle.promptId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

    const out = await tempDir();
    try {
      const target = join(out.path, 'pages', 'panel-1.png');
      await client.download(result.outputs[0]!, target, live());
      const meta = await sharp(target).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['png', 32, 32]);
      expect(await readdir(join(out.path, 'pages'))).toEqual(['panel-1.png']);
    } finally {
      await out.remove();
    }
  });

  it('a fully cached re-run still yields its outputs (history, not executed events)', async () => {
    const client = await connected();
    const first = await client.submit(slowWorkflow({ seed: 7 }), { signal: live() }).result;
    const again = client.submit(slowWorkflow({ seed: 7 }), { signal: live() });
    const second = await again.result;
    expect(second.outputs).toEqual(first.outputs);
    expect(second.cachedNodes).toEqual(expect.arrayContaining(['1', '2', '3']));
  });

  it('shows validation errors as readable lines and queues nothing', async () => {
    const client = await connected();
    const workflow = slowWorkflow();
    const broken = { ...workflow, '2': { ...workflow['2']!, inputs: { image: ['1', 0], delay: 0, send_preview: false, seed: 0 } } };
    const error = await rejection(client.submit(broken, { signal: live() }).result);
    expect(error.code).toBe('WORKFLOW_INVALID');
    expect(error.message).toBe(`server "a" (${emulator.url}) rejected the workflow:\n  node 2 "Slow sampler" (SlowProgress): input "steps": Required input is missing`);
    expect(emulator.prompts.size).toBe(0);
  });

  it('a node that raises fails the job with the node, its title and the exception', async () => {
    const client = await connected();
    emulator.faults.failNode = 'SlowProgress';
    const error = await rejection(client.submit(slowWorkflow(), { signal: live() }).result);
    expect(error.code).toBe('JOB_FAILED');
    expect(error.message).toMatch(new RegExp(`^node 2 "Slow sampler" \\(SlowProgress\\) failed on server "a" \\(${emulator.url}\\): RuntimeError`));
  });

  it('a WebSocket dropped mid-job: the result is still collected, and the prompt ran once', async () => {
    const client = await connected();
    const seen = recorder<JobEvent>();
    const handle = client.submit(slowWorkflow({ steps: 20 }), { signal: live(), onEvent: seen.onEvent });
    await seen.seen((e) => e.type === 'progress');
    emulator.dropSockets();
    const result = await handle.result;
    expect(result.outputs).toHaveLength(1);
    expect(emulator.prompts.get(handle.promptId)?.executions).toBe(1);
  });

  it('a silent socket never hangs a job: the history poll collects it', async () => {
    const client = await connected();
    emulator.faults.malformedJson.push('/ws');
    const handle = client.submit(slowWorkflow({ steps: 2 }), { signal: live() });
    const result = await handle.result;
    expect(result.outputs).toHaveLength(1);
    expect(emulator.prompts.get(handle.promptId)?.executions).toBe(1);
  });

  it('reconnect: a prompt that finished while we were away is collected from history, not re-run', async () => {
    // No periodic poll in this test: only the reconciliation after the reconnect can find it.
    const client = await connected({ poll: 60_000 });
    const seen = recorder<JobEvent>();
    const handle = client.submit(slowWorkflow({ steps: 8, seed: 3 }), { signal: live(), onEvent: seen.onEvent });
    await seen.seen((e) => e.type === 'progress');
    emulator.faults.stall.push({ route: '/ws', delayMs: 400 });
    emulator.dropSockets();
    const result = await handle.result;
    expect(result.outputs).toHaveLength(1);
    expect(emulator.prompts.get(handle.promptId)?.executions).toBe(1);
    expect(emulator.log.filter((l) => l.path.startsWith('/api/ws') && l.status === 101)).toHaveLength(2);
    // Both versions have /api/jobs/{id}: the reconciliation asked it, then read the outputs from history.
    expect(emulator.log.some((l) => l.method === 'GET' && l.path === `/api/jobs/${handle.promptId}`)).toBe(true);
    expect(client.routes.jobRoutes.job).toBe('yes');
  });

  it('a server without /api/jobs: the reconnect falls back to /history and /queue, and cancelling to delete + interrupt', async () => {
    await emulator.close();
    emulator = await startComfyEmulator({ stepMs: 5, profile, jobsApi: false });
    const client = await connected({ poll: 60_000 });
    const seen = recorder<JobEvent>();
    const handle = client.submit(slowWorkflow({ steps: 8, seed: 33 }), { signal: live(), onEvent: seen.onEvent });
    await seen.seen((e) => e.type === 'progress');
    emulator.faults.stall.push({ route: '/ws', delayMs: 400 });
    emulator.dropSockets();
    const result = await handle.result;
    expect(result.outputs).toHaveLength(1);
    expect(emulator.prompts.get(handle.promptId)?.executions).toBe(1);
    expect(client.routes.jobRoutes.job).toBe('no');
    expect(emulator.log.filter((l) => l.path.startsWith('/api/jobs/'))).toHaveLength(1); // asked once, then remembered
    expect(emulator.log.some((l) => l.path === `/api/history/${handle.promptId}`)).toBe(true);

    const abort = new AbortController();
    const running = client.submit(slowWorkflow({ steps: 400, seed: 34 }), { signal: abort.signal, onEvent: seen.onEvent });
    await seen.seen((e) => e.type === 'progress' && seen.events.filter((x) => x.type === 'progress').length > 8);
    abort.abort();
    expect((await rejection(running.result)).code).toBe('CANCELLED');
    expect(await queueIds()).toEqual({ running: [], pending: [] });
    expect(emulator.log.some((l) => l.path === '/api/interrupt')).toBe(true);
  });

  it('a restart of comic: a prompt an earlier run sent is adopted (watched, not sent again) via /api/jobs/{id}', async () => {
    const promptId = crypto.randomUUID();
    const posted = await fetch(`${emulator.url}/api/prompt`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: slowWorkflow({ steps: 30, seed: 35 }), client_id: 'an-earlier-run', prompt_id: promptId }),
    });
    expect(posted.status).toBe(200);
    const client = await connected();
    const result = await client.submit(slowWorkflow({ steps: 30, seed: 35 }), { signal: live(), promptId, adopt: true }).result;
    expect(result.outputs).toHaveLength(1);
    expect(emulator.prompts.get(promptId)?.executions).toBe(1);
    expect(emulator.log.filter((l) => l.method === 'POST' && l.path === '/api/prompt')).toHaveLength(1);
    expect(emulator.log.some((l) => l.path === `/api/jobs/${promptId}`)).toBe(true);
  });

  it('an adopted prompt the server interrupted is sent again ("cancelled" on 0.28, "failed" on 0.8)', async () => {
    const promptId = crypto.randomUUID();
    const ws = await fetch(`${emulator.url}/api/prompt`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: slowWorkflow({ steps: 400, seed: 36 }), client_id: 'an-earlier-run', prompt_id: promptId }),
    });
    expect(ws.status).toBe(200);
    await vi.waitFor(async () => expect((await queueIds()).running).toEqual([promptId]), { timeout: 5_000 });
    await fetch(`${emulator.url}/api/interrupt`, { method: 'POST' });
    const word = profile === '0.28' ? 'cancelled' : 'failed';
    await vi.waitFor(async () => expect(((await (await fetch(`${emulator.url}/api/jobs/${promptId}`)).json()) as { status: string }).status).toBe(word), { timeout: 5_000 });
    const client = await connected();
    const result = await client.submit(slowWorkflow({ steps: 2, seed: 36 }), { signal: live(), promptId, adopt: true }).result;
    expect(result.outputs).toHaveLength(1);
    expect(emulator.prompts.get(promptId)?.executions).toBe(2);
  });

  it('a node class this server lacks is a missing capability (0.8: invalid_prompt, 0.28: missing_node_type), not an invalid workflow', async () => {
    const client = await connected();
    const workflow = { ...slowWorkflow(), '4': { class_type: 'SomePackNode', inputs: {}, _meta: { title: 'Ink pass' } } };
    const error = await rejection(client.submit(workflow, { signal: live() }).result);
    expect(error.code).toBe('SERVER_MISSING_CAPABILITY');
    expect(error.message).toBe(
      profile === '0.28'
        ? `server "a" (${emulator.url}) rejected the workflow:\n  node 4 "Ink pass" (SomePackNode): Node 'Ink pass' not found. The custom node may not be installed.`
        : `server "a" (${emulator.url}) rejected the workflow:\n  node 4 "Ink pass" (SomePackNode): Cannot execute because node SomePackNode does not exist.`,
    );
    // A node without class_type is the workflow's fault on either version.
    const corrupt = { ...slowWorkflow(), '4': { inputs: {} } } as unknown as ReturnType<typeof slowWorkflow>;
    expect((await rejection(client.submit(corrupt, { signal: live() }).result)).code).toBe('WORKFLOW_INVALID');
    expect(emulator.prompts.size).toBe(0);
  });

  it('message types it does not know (0.28 assets.seed.*, anything newer) are ignored mid-run', async () => {
    const client = await connected();
    const seen = recorder<JobEvent>();
    const handle = client.submit(slowWorkflow({ steps: 10, seed: 37 }), { signal: live(), onEvent: seen.onEvent });
    await seen.seen((e) => e.type === 'progress');
    emulator.broadcast('assets.seed.started', { roots: ['output'], phase: 'enrich' });
    emulator.broadcast('some_future_event', { prompt_id: handle.promptId, node: '2', value: 'x' });
    const result = await handle.result;
    expect(result.outputs).toHaveLength(1);
    expect(seen.events.filter((e) => e.type === 'failed')).toEqual([]);
    expect(client.state.kind).toBe('up');
  });

  it('tells the server version apart: /system_stats comfyui_version and /features', async () => {
    const client = await connected();
    expect(client.serverVersion).toBeNull();
    const info = await client.serverInfo(live());
    expect(info.version).toBe(profile === '0.28' ? '0.28.0' : '0.8.0');
    expect(client.serverVersion).toBe(info.version);
    expect(info.features.supports_preview_metadata).toBe(true);
    expect('node_replacements' in info.features).toBe(profile === '0.28');
  });

  it('reconnect: a prompt that vanished (server restarted) is resubmitted under the same prompt_id', async () => {
    const client = await connected({ reconnect: 60_000 }, emulator, { downAfterFailures: 1_000 });
    const seen = recorder<JobEvent>();
    const handle = client.submit(slowWorkflow({ steps: 200, seed: 4 }), { signal: live(), onEvent: seen.onEvent });
    await seen.seen((e) => e.type === 'progress');
    const port = emulator.port;
    await emulator.kill();
    await emulator.close();
    emulator = await startComfyEmulator({ port, stepMs: 1, profile });
    const result = await handle.result;
    expect(result.promptId).toBe(handle.promptId);
    expect(emulator.prompts.get(handle.promptId)?.executions).toBe(1);
  });

  it('abort mid-run: our running prompt is interrupted, our pending one deleted, another user\'s untouched', async () => {
    const client = await connected();
    const abort = new AbortController();
    const runningEvents = recorder<JobEvent>();
    const pendingEvents = recorder<JobEvent>();
    const running = client.submit(slowWorkflow({ steps: 400, seed: 10 }), { signal: abort.signal, onEvent: runningEvents.onEvent });
    await runningEvents.seen((e) => e.type === 'progress');
    const pending = client.submit(slowWorkflow({ steps: 400, seed: 11 }), { signal: abort.signal, onEvent: pendingEvents.onEvent });
    await pendingEvents.seen((e) => e.type === 'queued');
    const foreign = await foreignPrompt(400);
    abort.abort();
    expect((await rejection(running.result)).code).toBe('CANCELLED');
    expect((await rejection(pending.result)).code).toBe('CANCELLED');
    const queue = await queueIds();
    expect([...queue.running, ...queue.pending]).toEqual([foreign]);
    expect(emulator.prompts.get(pending.promptId)?.executions).toBe(0);
    // 0.28 has POST /api/jobs/{id}/cancel (one call, only our prompt); 0.8 gets delete + interrupt.
    if (profile === '0.28') {
      expect(emulator.log.filter((l) => l.method === 'POST' && l.path === `/api/jobs/${running.promptId}/cancel`)).not.toHaveLength(0);
      // Only ever our two prompts, and nothing through the old routes.
      expect(new Set(emulator.log.filter((l) => l.path.endsWith('/cancel')).map((l) => l.path))).toEqual(
        new Set([`/api/jobs/${running.promptId}/cancel`, `/api/jobs/${pending.promptId}/cancel`]),
      );
      expect(emulator.log.filter((l) => l.path === '/api/interrupt' || (l.path === '/api/queue' && l.method === 'POST'))).toEqual([]);
    } else {
      expect(emulator.log.filter((l) => l.path === '/api/interrupt')).not.toHaveLength(0);
      expect(emulator.log.filter((l) => l.path.endsWith('/cancel') && l.status === 200)).toHaveLength(0);
    }
  });

  it('a prompt stuck in the queue past its silence budget times out and is withdrawn', async () => {
    const foreign = await foreignPrompt(400);
    const client = await connected({ queue: 300 });
    const error = await rejection(client.submit(slowWorkflow({ seed: 12 }), { signal: live() }).result);
    expect(error.code).toBe('JOB_TIMEOUT');
    expect(error.message).toMatch(/gave no sign of life for \d+ s while waiting in the queue/);
    const queue = await queueIds();
    expect([...queue.running, ...queue.pending]).toEqual([foreign]);
  });

  latestOnly('hostile file names are refused and nothing is written anywhere', async () => {
    const client = await connected();
    const out = await tempDir();
    try {
      for (const mode of ['traversal', 'absolute', 'subfolder'] as const) {
        emulator.faults.hostileFilenames = mode;
        const result = await client.submit(slowWorkflow({ seed: mode.length }), { signal: live() }).result;
        const error = await rejection(client.download(result.outputs[0]!, join(out.path, 'out', 'p.png'), live()));
        expect(error.code).toBe('SERVER_PROTOCOL');
        expect(error.message).toContain(`server "a" (${emulator.url}) reported an output file we refuse to fetch`);
      }
      expect(await readdir(out.path)).toEqual([]);
      expect(emulator.log.some((l) => l.path.startsWith('/api/view'))).toBe(false);
    } finally {
      await out.remove();
    }
  });

  latestOnly('malformed JSON from the server is a clear SERVER_PROTOCOL error naming the server and route', async () => {
    const client = await connected();
    emulator.faults.malformedJson.push('/history*');
    const error = await rejection(client.submit(slowWorkflow(), { signal: live() }).result);
    expect(error.code).toBe('SERVER_PROTOCOL');
    expect(error.message).toMatch(new RegExp(`^server "a" \\(${emulator.url}\\) answered GET /api/history/[0-9a-f-]+ with malformed JSON`));
  });

  it('a POST whose answer is lost is not sent again: the server is asked whether it has our prompt_id', async () => {
    const client = await connected();
    emulator.faults.malformedJson.push('POST /prompt');
    const handle = client.submit(slowWorkflow({ seed: 21 }), { signal: live() });
    const result = await handle.result;
    expect(result.outputs).toHaveLength(1);
    expect(emulator.prompts.get(handle.promptId)?.executions).toBe(1);
    expect(emulator.log.filter((l) => l.method === 'POST' && l.path === '/api/prompt')).toHaveLength(1);
  });

  latestOnly('a POST that never answers fails as unreachable, and nothing was queued', async () => {
    const client = await connected({ request: 300 });
    emulator.faults.stall.push({ route: 'POST /prompt', delayMs: 'forever' });
    const error = await rejection(client.submit(slowWorkflow({ seed: 22 }), { signal: live() }).result);
    expect(error.code).toBe('SERVER_UNREACHABLE');
    expect(error.message).toBe(`server "a" (${emulator.url}) did not answer POST /api/prompt in time`);
    expect(emulator.prompts.size).toBe(0);
  });

  latestOnly('a server that accepts connections but never answers is unreachable after the connect budget', async () => {
    emulator.faults.stall.push({ route: '/system_stats', delayMs: 'forever' });
    const client = new ComfyClient(serverOf(emulator, 'a'), { timeouts: { ...FAST, connect: 300 }, downAfterFailures: 1 });
    clients.push(client);
    const error = await rejection(client.connect(AbortSignal.timeout(10_000)));
    expect(error.code).toBe('SERVER_UNREACHABLE');
    expect(error.message).toBe(`server "a" (${emulator.url}) did not answer GET /api/system_stats in time`);
  });

  latestOnly('uploads each content once per server, however many jobs use it', async () => {
    const client = await connected();
    const out = await tempDir();
    try {
      const file = join(out.path, 'sheet.png');
      await sharp({ create: { width: 8, height: 8, channels: 3, background: '#08f' } }).png().toFile(file);
      const input = { file, sha256: 'ab'.repeat(32) };
      const names = await Promise.all([client.upload(input, live()), client.upload(input, live()), client.upload(input, live())]);
      expect(new Set(names).size).toBe(1);
      expect(names[0]).toMatch(/^comic_abab.*\.png$/);
      expect(emulator.log.filter((l) => l.path === '/api/upload/image')).toHaveLength(1);
      const workflow = {
        '1': { class_type: 'LoadImage', inputs: { image: names[0] } },
        '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'uploaded' } },
      };
      const result = await client.submit(workflow, { signal: live() }).result;
      expect(result.outputs).toHaveLength(1);
    } finally {
      await out.remove();
    }
  });
});
