/**
 * Auth as a reverse proxy or ComfyUI-Login adds it: bearer header or ?token= query, or HTTP
 * Basic; enforced on every route and on the WebSocket upgrade; the token never reaches the log.
 */
import { describe, expect, it } from 'vitest';
import type { ComfyEmulator, ComfyEmulatorOptions } from '../fakes/comfyui/index.js';
import { emulatorHarness, http, WsRecorder } from './helpers.js';

const harness = emulatorHarness();
const emulator = (options: ComfyEmulatorOptions): Promise<ComfyEmulator> => harness.start(options);

describe('token', () => {
  it('answers 401 without it on HTTP (both prefixes) and on the WebSocket upgrade', async () => {
    const emu = await emulator({ token: 's3cret' });
    for (const path of ['/system_stats', '/api/system_stats', '/object_info', '/view?filename=x.png']) {
      const answer = await http(emu.url, 'GET', path);
      expect(answer.status, path).toBe(401);
    }
    expect((await http(emu.url, 'POST', '/prompt', { prompt: {} })).status).toBe(401);
    expect((await http(emu.url, 'GET', '/prompt', undefined, { authorization: 'Bearer wrong' })).status).toBe(401);
    await expect(WsRecorder.open(emu.url)).rejects.toThrow('upgrade refused with 401');
    await expect(WsRecorder.open(emu.url, { headers: { authorization: 'Bearer nope' } })).rejects.toThrow('401');
  });

  it('accepts the bearer header or the token query, on HTTP and WebSocket, and keeps it out of the log', async () => {
    const emu = await emulator({ token: 's3cret' });
    const res = await fetch(`${emu.url}/prompt`);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    await res.arrayBuffer();
    expect((await http(emu.url, 'GET', '/prompt', undefined, { authorization: 'Bearer s3cret' })).status).toBe(200);
    expect((await http(emu.url, 'GET', '/api/prompt?token=s3cret')).status).toBe(200);
    const viaHeader = await WsRecorder.open(emu.url, { headers: { authorization: 'Bearer s3cret' } });
    const viaQuery = await WsRecorder.open(emu.url, { query: 'token=s3cret' });
    expect([viaHeader.json()[0]?.type, viaQuery.json()[0]?.type]).toEqual(['status', 'status']);
    await Promise.all([viaHeader.close(), viaQuery.close()]);
    expect(JSON.stringify(emu.log)).not.toContain('s3cret');
    expect(emu.log.some((e) => e.path === '/api/prompt?token=***' && e.status === 200)).toBe(true);
    expect(emu.log.filter((e) => e.status === 101)).toHaveLength(2);
  });
});

describe('basic auth', () => {
  it('challenges with Basic and accepts the right user and password on HTTP and WebSocket', async () => {
    const emu = await emulator({ basicAuth: { user: 'ann', password: 'pw' } });
    const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
    const res = await fetch(`${emu.url}/queue`);
    expect([res.status, res.headers.get('www-authenticate')]).toEqual([401, 'Basic realm="ComfyUI"']);
    await res.arrayBuffer();
    expect((await http(emu.url, 'GET', '/queue', undefined, basic('ann', 'wrong'))).status).toBe(401);
    expect((await http(emu.url, 'GET', '/queue', undefined, basic('ann', 'pw'))).status).toBe(200);
    await expect(WsRecorder.open(emu.url)).rejects.toThrow('401');
    const ws = await WsRecorder.open(emu.url, { headers: basic('ann', 'pw') });
    await ws.close();
  });
});
