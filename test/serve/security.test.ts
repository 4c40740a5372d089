/**
 * `comic serve` security and limits over real HTTP and WebSocket on 127.0.0.1: API keys on
 * every route and the WebSocket, rate limits and the per-key job cap (429 + Retry-After),
 * body limits (413), path traversal on /api/files (never a file outside), refusing to
 * expose a server without keys, and no credential in any answer or log line.
 */
import { request as httpRequest } from 'node:http';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { startServe } from '../../src/serve/server.js';
import { startComfyEmulator, type ComfyEmulator } from '../fakes/comfyui/index.js';
import { startSdApiEmulator } from '../fakes/sdapi/index.js';
import { api, KEY, OTHER_KEY, startTestServer, WsClient, type TestServer } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(options: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const t = await startTestServer(options);
  cleanups.push(() => t.close());
  return t;
}

/** A GET with the path sent exactly as written (fetch would normalise `..`). */
function rawGet(base: string, path: string, key = KEY): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path, method: 'GET', headers: { authorization: `Bearer ${key}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('API keys', () => {
  it('every route answers 401 without a valid key, and never echoes what was sent', async () => {
    const t = await serve();
    const routes: [string, string][] = [
      ['GET', '/api/health'],
      ['GET', '/api/templates'],
      ['GET', '/api/jobs/x'],
      ['DELETE', '/api/jobs/x'],
      ['GET', '/api/files/x/panels/1-1.png'],
      ['POST', '/api/comic/generate-panel'],
      ['POST', '/api/comic/generate'],
      ['GET', '/api/nothing-here'],
    ];
    for (const [method, path] of routes) {
      const variants: Record<string, string>[] = [{}, { authorization: 'Bearer wrong-key-abc123' }, { authorization: `Basic ${KEY}` }];
      for (const headers of variants) {
        const answer = await api(t.url, path, { method, key: null, headers, ...(method === 'POST' ? { json: { scene: 'x' } } : {}) });
        expect(answer.status, `${method} ${path} ${JSON.stringify(headers)}`).toBe(401);
        expect(answer.json().error.code).toBe('UNAUTHORIZED');
        expect(answer.text()).not.toContain('wrong-key-abc123');
      }
    }
    // ?token= is for the WebSocket only.
    expect((await api(t.url, `/api/health?token=${KEY}`, { key: null })).status).toBe(401);
    expect((await api(t.url, '/api/health', { key: OTHER_KEY })).status).toBe(200);
  });

  it('the WebSocket handshake needs a key too: a Bearer header or ?token=', async () => {
    const t = await serve();
    await expect(WsClient.open(t.url)).rejects.toThrow('refused: 401');
    await expect(WsClient.open(t.url, { token: 'not-a-key' })).rejects.toThrow('refused: 401');
    const byQuery = await WsClient.open(t.url, { token: KEY, job: '*' });
    expect(await byQuery.waitFor((m) => m.type === 'subscribed')).toEqual({ type: 'subscribed', job: '*' });
    const byHeader = await WsClient.open(t.url, { headers: { authorization: `Bearer ${OTHER_KEY}` } });
    await Promise.all([byQuery.close(), byHeader.close()]);
    // A refused client that keeps its connection open is cut off by the server (the shutdown in afterEach does not wait for it).
    const { port } = new URL(t.url);
    const refused = await new Promise<{ status: number; closed: Promise<void> }>((resolve, reject) => {
      const req = httpRequest({
        host: '127.0.0.1',
        port,
        path: '/api/ws',
        headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' },
      });
      req.on('response', (res) => resolve({ status: res.statusCode ?? 0, closed: new Promise((done) => res.socket.once('close', () => done())) }));
      req.on('error', reject);
      req.end();
    });
    expect(refused.status).toBe(401);
    await refused.closed;
  });

  it('refuses to listen beyond loopback without a key; on loopback it warns, and answers localhost only', async () => {
    const config = await loadConfig({ cwd: process.cwd(), env: {}, flags: { backend: 'draft', host: '0.0.0.0', port: 0 } });
    await expect(startServe({ config, cwd: process.cwd(), script: null, logStream: process.stderr })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringMatching(/refusing to listen on 0\.0\.0\.0 without an API key/),
    });

    const t = await serve({ keys: [] });
    expect(t.log()).toMatch(/warn: NO API KEY IS CONFIGURED/);
    expect((await api(t.url, '/api/health', { key: null })).status).toBe(200);
    // A page elsewhere, or a DNS name rebound to 127.0.0.1, gets nothing.
    expect((await api(t.url, '/api/health', { key: null, headers: { origin: 'https://evil.example' } })).status).toBe(401);
    const { port } = new URL(t.url);
    const rebound = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/api/health', headers: { host: `evil.example:${port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(rebound).toBe(401);
  });
});

describe('limits', () => {
  it('429 with Retry-After past the per-key rate; other keys are not affected', async () => {
    const t = await serve({ limits: { requestsPerMinute: 3 } });
    for (let i = 0; i < 3; i++) expect((await api(t.url, '/api/health')).status).toBe(200);
    const limited = await api(t.url, '/api/health');
    expect(limited.status).toBe(429);
    expect(limited.json().error.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await api(t.url, '/api/health', { key: OTHER_KEY })).status).toBe(200);
  });

  it('caps unfinished jobs per key (429 + Retry-After); cancelling frees a place', async () => {
    const sd = await startSdApiEmulator({ stepMs: 200 });
    cleanups.push(() => sd.close());
    const t = await serve({ flags: { backend: 'sdapi', fallback: sd.url }, limits: { pendingJobsPerKey: 2 }, concurrency: 1 });
    const submit = (key = KEY) => api(t.url, '/api/comic/generate-panel', { key, json: { scene: `slow ${Math.random()}`, template: 'panel-sd15', size: { width: 256, height: 256 } } });
    const a = (await submit()).json().job;
    const b = (await submit()).json().job;
    const refused = await submit();
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(refused.json().error.message).toMatch(/2 jobs queued or running; at most 2/);
    expect((await submit(OTHER_KEY)).status).toBe(202);

    const ws = await WsClient.open(t.url, { token: KEY, job: '*' });
    expect((await api(t.url, `/api/jobs/${b.id}`, { method: 'DELETE' })).json().job.state).toBe('cancelled');
    const cancelling = await api(t.url, `/api/jobs/${a.id}`, { method: 'DELETE' });
    expect(cancelling.status).toBe(202);
    await ws.waitFor((m) => m.type === 'cancelled' && m.job === a.id, 'the running job cancelled');
    expect((await api(t.url, `/api/jobs/${a.id}`)).json().job.state).toBe('cancelled');
    expect((await submit()).status).toBe(202);
    await ws.close();
  });

  it('413 for bodies over the limits', async () => {
    const t = await serve({ limits: { panelBodyBytes: 1024, scriptBodyBytes: 2048 } });
    const panel = await api(t.url, '/api/comic/generate-panel', { json: { scene: 'x'.repeat(2000) } });
    expect(panel.status).toBe(413);
    expect(panel.json().error.code).toBe('REQUEST_TOO_LARGE');
    const script = await api(t.url, '/api/comic/generate', { body: `# ${'x'.repeat(4000)}\n`, contentType: 'application/yaml' });
    expect(script.status).toBe(413);
    expect(script.json().error.code).toBe('REQUEST_TOO_LARGE');
  });
});

describe('GET /api/files', () => {
  it('serves a job\'s own files and nothing outside its folder', async () => {
    const t = await serve();
    const secret = 'TOP-SECRET-CONTENT-9f8e7d';
    await writeFile(join(t.dir, 'secret.txt'), secret);
    await mkdir(join(t.dir, 'out', 'serve', 'other'), { recursive: true });
    await writeFile(join(t.dir, 'out', 'serve', 'other', 'secret.txt'), secret);
    const { job } = (await api(t.url, '/api/comic/generate-panel?wait=true', { json: { scene: 'x' } })).json();
    const base = `/api/files/${job.id}`;
    expect((await rawGet(t.url, `${base}/panels/1-1.png`)).status).toBe(200);

    const attempts = [
      `${base}/../../../secret.txt`,
      `${base}/..%2f..%2f..%2fsecret.txt`,
      `${base}/%2e%2e/%2e%2e/%2e%2e/secret.txt`,
      `${base}/%2e%2e%2f%2e%2e%2fother%2fsecret.txt`,
      `${base}/..%5c..%5c..%5csecret.txt`,
      `${base}/%2fetc%2fpasswd`,
      `${base}//etc/passwd`,
      `${base}/panels/..%00/1-1.png`,
      `${base}/.comic/run.jsonl`,
      `${base}/panels`,
      `${base}/`,
      `/api/files/other/secret.txt`,
      `/api/files/..%2f..%2fsecret.txt`,
      `/api/files/%2e%2e/secret.txt`,
    ];
    for (const path of attempts) {
      const answer = await rawGet(t.url, path);
      expect([400, 404], path).toContain(answer.status);
      expect(answer.body, path).not.toContain(secret);
      expect(answer.body, path).not.toMatch(/root:/);
    }
  });
});

describe('credentials stay in the process', () => {
  it('neither API keys nor server credentials appear in answers, WebSocket messages or the log', async () => {
    const comfy: ComfyEmulator = await startComfyEmulator({ token: 'the-right-token' });
    cleanups.push(() => comfy.close());
    const serverSecret = 'server-secret-5a4b3c2d';
    const t = await serve({
      flags: { backend: 'comfyui', fallback: false },
      configYaml: `servers:\n  - url: ${comfy.url}\n    name: gpu\n    auth: { query: { name: token, value: "${serverSecret}" } }\n`,
    });
    const ws = await WsClient.open(t.url, { token: KEY, job: '*' });
    const answer = await api(t.url, '/api/comic/generate-panel?wait=true', { json: { scene: 'x' } });
    expect(answer.json().job.state).toBe('failed');
    expect(answer.json().error.code).toMatch(/SERVER_AUTH|NO_BACKEND/);
    await ws.waitFor((m) => m.type === 'failed');
    // Texts that would echo a credential back (a client sending one, a server quoting one) are masked.
    const echoes = [
      await api(t.url, `/api/jobs/${serverSecret}`),
      await api(t.url, '/api/comic/generate-panel', { json: { scene: 'x', template: `${OTHER_KEY}x` } }),
    ];
    expect(echoes.map((e) => e.status)).toEqual([404, 400]);
    expect(echoes[0]!.json().error.message).toBe('no job ***');
    const seen = [answer.text(), ...echoes.map((e) => e.text()), JSON.stringify(ws.messages), (await api(t.url, '/api/health')).text(), t.log()].join('\n');
    for (const secret of [serverSecret, KEY, OTHER_KEY]) expect(seen).not.toContain(secret);
    expect(t.log()).toContain('GET /api/ws: WebSocket opened (key 1)');
    await ws.close();
  });
});
