/**
 * The routes the studio page needs, in process over real loopback sockets (draft backend):
 * the page and its assets (served without a key, with a Content-Security-Policy, the same
 * bytes whatever the keys), GET /api/cast and GET /api/jobs (a key required, per key),
 * cancelling another key's job (404, the job untouched), and the WebSocket key as a
 * subprotocol (accepted, answered with `comic` only, never logged).
 */
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STUDIO_CSP } from '../../src/serve/studio/routes.js';
import { keyProtocol } from '../../src/serve/ws-token.js';
import { api, KEY, OTHER_KEY, startTestServer, type TestServer } from './helpers.js';

const CAST = `
comic:
  title: Cast
  seed: 7
characters:
  mara: { name: Mara, description: young keeper in a red raincoat, sheet: false }
backgrounds:
  lamp-room: { prompt: lamp room with a brass lens }
pages:
  - panels:
      - { prompt: Mara, characters: [mara] }
`;

/** A key with characters that encodeURIComponent leaves alone but a subprotocol cannot hold. */
const ODD_KEY = "studio(key)!*'-5e1f";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ keys: [KEY, OTHER_KEY, ODD_KEY], castScript: CAST, flags: { backend: 'draft' }, concurrency: 1 });
});
afterAll(async () => {
  await t.close();
});

function openSocket(protocols: string[]): Promise<{ socket: WebSocket; protocol: string } | { refused: number }> {
  const socket = new WebSocket(`${t.url.replace(/^http/, 'ws')}/api/ws`, protocols);
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve({ socket, protocol: socket.protocol }));
    socket.once('unexpected-response', (request, response) => {
      request.destroy();
      resolve({ refused: response.statusCode ?? 0 });
    });
    socket.once('error', reject);
  });
}

describe('the studio page', () => {
  it('is served at / without a key, with a CSP that allows only its own script, and no inline script', async () => {
    const page = await api(t.url, '/', { key: null });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(STUDIO_CSP);
    expect(STUDIO_CSP).toContain("script-src 'self'");
    expect(STUDIO_CSP).not.toContain('unsafe-inline');
    const html = page.text();
    expect(html).toContain('<script src="/studio.js" defer></script>');
    // Every <script> has a src: nothing inline for the CSP to refuse; no event-handler attributes either.
    expect(html.match(/<script\b[^>]*>[\s\S]*?<\/script>/g)).toEqual(['<script src="/studio.js" defer></script>']);
    expect(html).not.toMatch(/\son[a-z]+=/);
    expect(html).not.toMatch(/https?:\/\//);
    for (const [path, type] of [['/studio.js', 'text/javascript; charset=utf-8'], ['/studio.css', 'text/css; charset=utf-8']] as const) {
      const asset = await api(t.url, path, { key: 'a wrong key' });
      expect(asset.status, path).toBe(200);
      expect(asset.headers.get('content-type')).toBe(type);
      expect(asset.text()).not.toMatch(/https?:\/\//);
    }
    // No key, no job, no path of this machine: the same bytes for everyone.
    const withKey = await api(t.url, '/', { key: KEY });
    expect(withKey.text()).toBe(html);
    for (const secret of [KEY, OTHER_KEY, ODD_KEY, t.dir]) expect(html).not.toContain(secret);
    expect(t.log()).toMatch(/GET \/ 200 \d+ms \(studio page, no key needed\)/);
  });

  it('keeps the other routes behind the key', async () => {
    expect((await api(t.url, '/studio.js/x', { key: null })).status).toBe(401);
    expect((await api(t.url, '/index.html', { key: null })).status).toBe(401);
  });

  it('without API keys, is only served to loopback names (no DNS rebinding)', async () => {
    const open = await startTestServer({ keys: [], flags: { backend: 'draft' } });
    try {
      expect((await api(open.url, '/', { key: null })).status).toBe(200);
      const { port } = new URL(open.url);
      const rebound = await new Promise<number>((resolve, reject) => {
        import('node:http').then(({ request }) => {
          const req = request({ host: '127.0.0.1', port, path: '/', headers: { host: `evil.example:${port}` } }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on('error', reject);
          req.end();
        }, reject);
      });
      expect(rebound).toBe(401);
    } finally {
      await open.close();
    }
  });
});

describe('GET /api/cast', () => {
  it('needs a key: none or a wrong one is 401', async () => {
    expect((await api(t.url, '/api/cast', { key: null })).status).toBe(401);
    const wrong = await api(t.url, '/api/cast', { key: 'not-a-key' });
    expect(wrong.status).toBe(401);
    expect(wrong.json().error.code).toBe('UNAUTHORIZED');
  });

  it("lists the script's characters and backgrounds and the panel templates with their size rules, without paths", async () => {
    const answer = await api(t.url, '/api/cast');
    expect(answer.status).toBe(200);
    const cast = answer.json();
    expect(cast.script).toBe('cast.yaml');
    expect(cast.characters).toEqual([{ id: 'mara', name: 'Mara', description: 'young keeper in a red raincoat', sheet: false }]);
    expect(cast.backgrounds).toEqual([{ id: 'lamp-room', prompt: 'lamp room with a brass lens' }]);
    const panel = cast.templates.find((template: { id: string }) => template.id === 'panel');
    expect(panel).toMatchObject({ size: { multiple: 64, min: 512, max: 2048 } });
    expect(cast.templates.map((template: { id: string }) => template.id)).not.toContain('character-sheet');
    expect(answer.text()).not.toContain(t.dir);
  });
});

describe('GET /api/jobs and cancelling', () => {
  it('needs a key, and lists only the jobs of the key that asks, newest first', async () => {
    expect((await api(t.url, '/api/jobs', { key: null })).status).toBe(401);
    expect((await api(t.url, '/api/jobs', { key: 'not-a-key' })).status).toBe(401);
    const first = (await api(t.url, '/api/comic/generate-panel?wait=true', { json: { scene: 'a lighthouse at dusk', seed: 1 } })).json().job;
    const second = (await api(t.url, '/api/comic/generate-panel?wait=true', { json: { scene: 'a gull on a rail', seed: 2 } })).json().job;
    const mine = (await api(t.url, '/api/jobs')).json().jobs.map((job: { id: string }) => job.id);
    expect(mine.indexOf(second.id)).toBeLessThan(mine.indexOf(first.id));
    expect(mine.indexOf(second.id)).toBeGreaterThanOrEqual(0);
    const theirs = (await api(t.url, '/api/jobs', { key: OTHER_KEY })).json().jobs.map((job: { id: string }) => job.id);
    expect(theirs).not.toContain(first.id);
    expect(theirs).not.toContain(second.id);
  });

  it("refuses to cancel another key's job (404, as if it did not exist) and leaves it alone; its owner can", async () => {
    // Concurrency 1: the last job waits behind three renders, long enough to be cancelled while queued.
    const ahead: { id: string }[] = [];
    for (const seed of [11, 12, 13]) ahead.push((await api(t.url, '/api/comic/generate-panel', { json: { scene: 'a storm over the sea', seed } })).json().job);
    const waiting = (await api(t.url, '/api/comic/generate-panel', { json: { scene: 'a boat in the storm', seed: 14 } })).json().job;
    expect(waiting.state).toBe('queued');
    const refused = await api(t.url, `/api/jobs/${waiting.id}`, { method: 'DELETE', key: OTHER_KEY });
    expect(refused.status).toBe(404);
    expect(refused.json().error.code).toBe('NOT_FOUND');
    expect((await api(t.url, `/api/jobs/${waiting.id}`, { method: 'DELETE', key: 'not-a-key' })).status).toBe(401);
    expect((await api(t.url, `/api/jobs/${waiting.id}`)).json().job.state).not.toBe('cancelled');
    const cancelled = await api(t.url, `/api/jobs/${waiting.id}`, { method: 'DELETE' });
    expect(cancelled.status).toBe(200);
    expect(cancelled.json().job.state).toBe('cancelled');
    const settled = async (id: string) => {
      for (;;) {
        const job = (await api(t.url, `/api/jobs/${id}`)).json().job;
        if (['completed', 'failed', 'cancelled'].includes(job.state)) return job.state;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    expect(await settled(waiting.id)).toBe('cancelled');
    for (const job of ahead) expect(await settled(job.id)).toBe('completed');
  });
});

describe('the WebSocket key as a subprotocol', () => {
  it('is accepted, answered with "comic" only, and neither the key nor its encoding is ever logged', async () => {
    for (const key of [KEY, ODD_KEY]) {
      const opened = await openSocket(['comic', keyProtocol(key)]);
      expect(opened, key).toHaveProperty('protocol', 'comic');
      if ('socket' in opened) opened.socket.close();
    }
    expect(keyProtocol(ODD_KEY)).toBe('comic-key.studio%28key%29%21%2A%27-5e1f');
    expect(await openSocket(['comic', keyProtocol('not-a-key')])).toEqual({ refused: 401 });
    expect(await openSocket(['comic'])).toEqual({ refused: 401 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const log = t.log();
    expect(log).toMatch(/WebSocket opened \(key 3\)/);
    for (const form of [KEY, ODD_KEY, encodeURIComponent(ODD_KEY), keyProtocol(ODD_KEY).slice('comic-key.'.length), 'not-a-key']) expect(log).not.toContain(form);
  });
});
