/**
 * Every fault knob, and the emulator's ways of going away (drop sockets, refuse, kill, close).
 */
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { ComfyEmulator } from '../fakes/comfyui/index.js';
import { emulatorHarness, getJson, historyEntry, http, queuePrompt, slowWorkflow, WsRecorder, type JsonObject } from './helpers.js';

const harness = emulatorHarness();
const emulator = (stepMs = 1): Promise<ComfyEmulator> => harness.start({ stepMs });
const socket = (emu: ComfyEmulator, options: Parameters<typeof WsRecorder.open>[1] = {}): Promise<WsRecorder> => harness.connect(emu, options);

/** An emulator running a long prompt for a watching socket. */
async function busy(stepMs: number, steps: number): Promise<{ emu: ComfyEmulator; ws: WsRecorder; promptId: string }> {
  const emu = await emulator(stepMs);
  const ws = await socket(emu);
  const { prompt_id } = await queuePrompt(emu, { prompt: slowWorkflow({ steps }), client_id: ws.sid });
  return { emu, ws, promptId: prompt_id };
}

function networkErrorCode(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: string; errors?: Array<{ code?: string }> } }).cause;
  return cause?.code ?? cause?.errors?.[0]?.code;
}

describe('failNode', () => {
  it('fails a node by class_type or by node id with a RuntimeError execution_error', async () => {
    const emu = await emulator();
    const ws = await socket(emu);
    for (const target of ['SlowProgress', '3']) {
      emu.faults.failNode = target;
      const { prompt_id } = await queuePrompt(emu, { prompt: slowWorkflow({ steps: 1, seed: target.length }), client_id: ws.sid });
      await ws.done(prompt_id);
      const error = ws.json().find((m) => m.type === 'execution_error' && m.data.prompt_id === prompt_id)?.data;
      expect(error).toMatchObject({ node_id: target === '3' ? '3' : '2', exception_type: 'RuntimeError' });
    }
    emu.faults.failNode = null;
    const { prompt_id } = await queuePrompt(emu, { prompt: slowWorkflow({ steps: 1, seed: 9 }), client_id: ws.sid });
    await ws.done(prompt_id);
    expect(ws.json().some((m) => m.type === 'execution_success' && m.data.prompt_id === prompt_id)).toBe(true);
  });
});

describe('httpError', () => {
  it('fails matching requests with 500/503, N times or always, per method and pattern', async () => {
    const emu = await emulator();
    emu.faults.httpError.push({ route: 'POST /prompt', status: 503, times: 2 });
    emu.faults.httpError.push({ route: '/history*', status: 500 });
    emu.faults.httpError.push({ route: /^\/object_info\/K/, status: 503 });
    const body = { prompt: slowWorkflow({ steps: 1 }) };
    expect(await http(emu.url, 'POST', '/api/prompt', body)).toMatchObject({ status: 503, text: '503: Service Unavailable' });
    expect((await http(emu.url, 'POST', '/prompt', body)).status).toBe(503);
    expect((await http(emu.url, 'POST', '/prompt', body)).status).toBe(200);
    expect((await http(emu.url, 'GET', '/prompt')).status).toBe(200);
    expect(await http(emu.url, 'GET', '/history/x')).toMatchObject({ status: 500, text: '500 Internal Server Error\n\nServer got itself in trouble' });
    expect((await http(emu.url, 'GET', '/api/history')).status).toBe(500);
    expect((await http(emu.url, 'GET', '/object_info/KSampler')).status).toBe(503);
    expect((await http(emu.url, 'GET', '/object_info/VAEDecode')).status).toBe(200);
    expect(emu.log.filter((e) => e.status === 503).map((e) => e.path)).toEqual(['/api/prompt', '/prompt', '/object_info/KSampler']);
  });

  it('applies to the WebSocket upgrade as "/ws"', async () => {
    const emu = await emulator();
    emu.faults.httpError.push({ route: '/ws', status: 500, times: 1 });
    await expect(WsRecorder.open(emu.url)).rejects.toThrow('upgrade refused with 500');
    const ws = await socket(emu);
    expect(ws.json()[0]?.type).toBe('status');
  });
});

describe('stall', () => {
  it('delays matching answers, or holds them until the emulator goes away', async () => {
    const emu = await emulator();
    emu.faults.stall.push({ route: '/system_stats', delayMs: 30 });
    expect((await http(emu.url, 'GET', '/system_stats')).status).toBe(200);
    emu.faults.stall.push({ route: 'GET /queue', delayMs: 'forever' });
    const held = http(emu.url, 'GET', '/queue');
    let settled = false;
    void held.then(() => (settled = true), () => (settled = true));
    expect((await http(emu.url, 'GET', '/prompt')).status).toBe(200);
    expect(settled).toBe(false);
    await emu.close();
    await expect(held).rejects.toThrow();
  });
});

describe('malformedJson', () => {
  it('cuts JSON answers short on matching routes, keeping status and content type', async () => {
    const emu = await emulator();
    emu.faults.malformedJson.push('/queue');
    const broken = await http(emu.url, 'GET', '/api/queue');
    expect([broken.status, broken.contentType, broken.json]).toEqual([200, 'application/json; charset=utf-8', undefined]);
    expect(() => JSON.parse(broken.text)).toThrow();
    expect((await http(emu.url, 'GET', '/prompt')).json).toEqual({ exec_info: { queue_remaining: 0 } });
  });

  it('cuts WebSocket text frames on "/ws"', async () => {
    const emu = await emulator();
    emu.faults.malformedJson.push('/ws');
    const raw = new WebSocket(`${emu.url.replace('http', 'ws')}/ws?clientId=raw`);
    const first = await new Promise<string>((resolve, reject) => {
      raw.once('message', (data: Buffer) => resolve(data.toString('utf8')));
      raw.once('error', reject);
    });
    expect(() => JSON.parse(first)).toThrow();
    expect(first.startsWith('{"type": "status"')).toBe(true);
    await new Promise<void>((resolve) => {
      raw.once('close', () => resolve());
      raw.close();
    });
  });
});

describe('dropWsAfterMessages and dropSockets', () => {
  it('drops each socket without a close frame right after its Nth message', async () => {
    const emu = await emulator();
    emu.faults.dropWsAfterMessages = 3;
    const ws = await socket(emu);
    const { prompt_id } = await queuePrompt(emu, { prompt: slowWorkflow({ steps: 3 }), client_id: ws.sid });
    const closed = await ws.waitFor((m) => m.kind === 'closed');
    expect(closed).toEqual({ kind: 'closed', code: 1006 });
    expect(ws.messages.filter((m) => m.kind !== 'closed')).toHaveLength(3);
    emu.faults.dropWsAfterMessages = null;
    await historyEntry(emu, prompt_id);
  });

  it('dropSockets closes every socket abnormally; a reconnect mid-run resumes', async () => {
    const emu = await emulator(10);
    const a = await socket(emu);
    const b = await socket(emu);
    const { prompt_id } = await queuePrompt(emu, { prompt: slowWorkflow({ steps: 50 }), client_id: a.sid });
    await a.waitFor((m) => m.kind === 'json' && m.type === 'progress');
    emu.dropSockets();
    expect(await a.waitFor((m) => m.kind === 'closed')).toEqual({ kind: 'closed', code: 1006 });
    expect(await b.waitFor((m) => m.kind === 'closed')).toEqual({ kind: 'closed', code: 1006 });
    const again = await socket(emu, { clientId: a.sid });
    await again.done(prompt_id);
    expect(again.json()[1]).toEqual({ type: 'executing', data: { node: '2' } });
  });
});

describe('silentWs', () => {
  it('keeps sockets open but answers neither messages nor pings until switched off', async () => {
    const emu = await emulator(5);
    const ws = await socket(emu);
    const pong = (): Promise<void> => new Promise((resolve) => ws.socket.once('pong', () => resolve()));
    const answered = pong();
    ws.socket.ping();
    await answered;

    emu.faults.silentWs = true;
    let ponged = false;
    ws.socket.once('pong', () => (ponged = true));
    ws.socket.ping();
    const heardBefore = ws.messages.length;
    const { prompt_id } = await queuePrompt(emu, { prompt: slowWorkflow({ steps: 2 }), client_id: ws.sid });
    await historyEntry(emu, prompt_id);
    expect(ws.messages.length).toBe(heardBefore);
    expect([ponged, ws.closed]).toEqual([false, false]);

    emu.faults.silentWs = false;
    const again = pong();
    ws.socket.ping();
    await again;
  });
});

describe('hostileFilenames', () => {
  it.each([
    ['traversal', { filename: '../../x.png', subfolder: '' }, 400],
    ['absolute', { filename: '/abs/x.png', subfolder: '' }, 400],
    ['subfolder', { filename: 'h_00001_.png', subfolder: '../../escape' }, 403],
  ] as const)('%s names are reported in executed, history and jobs (and /view refuses them)', async (mode, reported, viewStatus) => {
    const emu = await emulator();
    const ws = await socket(emu);
    emu.faults.hostileFilenames = mode;
    const { prompt_id } = await queuePrompt(emu, { prompt: slowWorkflow({ steps: 1, prefix: 'h' }), client_id: ws.sid });
    await ws.done(prompt_id);
    const expected = { ...reported, type: 'output' };
    expect(ws.json().find((m) => m.type === 'executed')?.data.output).toEqual({ images: [expected] });
    const history = await getJson<Record<string, { outputs: JsonObject }>>(emu, `/history/${prompt_id}`);
    expect(history[prompt_id]?.outputs).toEqual({ '3': { images: [expected] } });
    expect((await getJson(emu, `/api/jobs/${prompt_id}`)).preview_output).toMatchObject(expected);
    const query = new URLSearchParams({ filename: expected.filename, subfolder: expected.subfolder, type: 'output' });
    expect((await http(emu.url, 'GET', `/view?${query}`)).status).toBe(viewStatus);
  });
});

describe('refuseConnections', () => {
  it('closes the port and every socket; the worker keeps going; reopening serves again', async () => {
    const { emu, ws, promptId: prompt_id } = await busy(5, 20);
    await emu.faults.setRefuseConnections(true);
    expect(emu.faults.refuseConnections).toBe(true);
    expect((await ws.waitFor((m) => m.kind === 'closed')).kind).toBe('closed');
    const refused = await http(emu.url, 'GET', '/prompt').catch((error: unknown) => error);
    expect(networkErrorCode(refused)).toBe('ECONNREFUSED');
    await emu.faults.setRefuseConnections(false);
    await historyEntry(emu, prompt_id);
  });
});

describe('kill and close', () => {
  it('kill dies mid-run: sockets drop, the port closes, the running prompt never reaches history', async () => {
    const { emu, ws, promptId: prompt_id } = await busy(5, 200);
    await ws.waitFor((m) => m.kind === 'json' && m.type === 'progress');
    await emu.kill();
    expect(await ws.waitFor((m) => m.kind === 'closed')).toEqual({ kind: 'closed', code: 1006 });
    expect(networkErrorCode(await http(emu.url, 'GET', '/prompt').catch((e: unknown) => e))).toBe('ECONNREFUSED');
    expect(emu.prompts.get(prompt_id)?.executions).toBe(1);
    await emu.close();
    await emu.close();
  });

  it('close is graceful (1001 to sockets), idempotent, and works mid-run', async () => {
    const { emu, ws } = await busy(5, 200);
    await ws.waitFor((m) => m.kind === 'json' && m.type === 'progress');
    await Promise.all([emu.close(), emu.close()]);
    expect(await ws.waitFor((m) => m.kind === 'closed')).toEqual({ kind: 'closed', code: 1001 });
  });

  it('reset clears every fault', async () => {
    const emu = await emulator();
    emu.faults.failNode = 'x';
    emu.faults.httpError.push({ route: '/prompt', status: 500 });
    emu.faults.hostileFilenames = 'absolute';
    emu.faults.leakVram = true;
    await emu.faults.setRefuseConnections(true);
    await emu.faults.reset();
    expect(emu.faults).toMatchObject({ failNode: null, httpError: [], hostileFilenames: null, leakVram: false, refuseConnections: false });
    expect((await http(emu.url, 'GET', '/prompt')).status).toBe(200);
  });
});
