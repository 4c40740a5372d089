import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ComfyClient } from '../../src/comfy/client.js';
import type { ServerAuth, ServerOptions } from '../../src/comfy/types.js';
import { Secret } from '../../src/config/secret.js';
import type { ServerConfig, Timeouts as ConfigTimeouts } from '../../src/config/types.js';
import { ComicError } from '../../src/errors.js';
import { startComfyEmulator, type ComfyEmulator } from '../fakes/comfyui/index.js';
import { FAST, serverOf, slowWorkflow } from './helpers.js';

const TOKEN = 'tok-3f9a1c0e77';
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function emulatorWith(options: Parameters<typeof startComfyEmulator>[0]): Promise<ComfyEmulator> {
  const emulator = await startComfyEmulator({ stepMs: 2, ...options });
  cleanups.push(() => emulator.close());
  return emulator;
}

function client(server: ServerOptions): ComfyClient {
  const c = new ComfyClient(server, { timeouts: FAST, downAfterFailures: 1 });
  cleanups.push(() => c.close());
  return c;
}

async function connectError(c: ComfyClient): Promise<ComicError> {
  const error = await c.connect(AbortSignal.timeout(10_000)).then(
    () => new Error('connected'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ComicError);
  return error as ComicError;
}

/** A loopback HTTP server that records what it is sent. */
interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

async function recordingServer(handler: (path: string, headers: IncomingHttpHeaders) => Answer) {
  const seen: { path: string; headers: IncomingHttpHeaders }[] = [];
  const server: Server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', headers: req.headers });
    const answer = handler(req.url ?? '', req.headers);
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body ?? '');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe('auth on HTTP and on the WebSocket handshake', () => {
  const cases: { name: string; emulator: Parameters<typeof startComfyEmulator>[0]; auth: ServerAuth }[] = [
    { name: 'bearer', emulator: { token: TOKEN }, auth: { kind: 'bearer', token: { reveal: () => TOKEN } } },
    { name: 'query token', emulator: { token: TOKEN }, auth: { kind: 'query', name: 'token', value: TOKEN } },
    { name: 'basic', emulator: { basicAuth: { user: 'ink', password: TOKEN } }, auth: { kind: 'basic', user: 'ink', password: TOKEN } },
  ];
  for (const c of cases) {
    it(`${c.name}: the whole run works, socket included`, async () => {
      const emulator = await emulatorWith(c.emulator);
      const comfy = client(serverOf(emulator, 'secure', { auth: c.auth }));
      await comfy.connect(AbortSignal.timeout(10_000));
      const handle = comfy.submit(slowWorkflow(), { signal: new AbortController().signal });
      await handle.result;
      expect(emulator.log.some((l) => l.path.startsWith('/api/ws') && l.status === 101)).toBe(true);
      expect(emulator.log.every((l) => l.status !== 401)).toBe(true);
    });
  }

  it('takes a server exactly as the configuration resolves it (Secret values, header auth)', async () => {
    const emulator = await emulatorWith({ token: TOKEN });
    const configured: ServerConfig = {
      url: emulator.url,
      name: 'from-config',
      maxConcurrent: 2,
      headers: { authorization: new Secret(`Bearer ${TOKEN}`) },
      auth: { kind: 'none' },
    };
    const timeouts: ConfigTimeouts = { connect: 5_000, queue: 60_000, start: 60_000, nodeSilence: 60_000, reconnect: 5_000, request: 10_000, download: 10_000, render: 60_000 };
    const comfy = new ComfyClient(configured, { timeouts });
    cleanups.push(() => comfy.close());
    await comfy.connect(AbortSignal.timeout(10_000));
    await comfy.submit(slowWorkflow(), { signal: new AbortController().signal }).result;
    expect(emulator.log.some((l) => l.path.startsWith('/api/ws') && l.status === 101)).toBe(true);
  });

  it('without credentials: SERVER_AUTH, with no secret in the message', async () => {
    const emulator = await emulatorWith({ token: TOKEN });
    const error = await connectError(client(serverOf(emulator, 'secure')));
    expect(error.code).toBe('SERVER_AUTH');
    expect(error.message).toBe(`server "secure" (${emulator.url}) refused GET /api/system_stats with HTTP 401`);
  });

  it('a wrong token is refused and never echoed, whatever the auth kind', async () => {
    const emulator = await emulatorWith({ token: TOKEN });
    for (const auth of [
      { kind: 'bearer', token: 'wrong-secret-1' },
      { kind: 'query', name: 'token', value: 'wrong-secret-1' },
    ] as const) {
      const error = await connectError(client(serverOf(emulator, 'secure', { auth, headers: { 'x-api-key': 'wrong-secret-1' } })));
      expect(error.code).toBe('SERVER_AUTH');
      expect(`${error.message} ${error.hint ?? ''}`).not.toContain('wrong-secret-1');
    }
  });
});

describe('redirects', () => {
  it('never sends credentials to another origin', async () => {
    const elsewhere = await recordingServer(() => ({ status: 200, headers: { 'content-type': 'application/json' }, body: '{}' }));
    const redirector = await recordingServer((path) => ({ status: 307, headers: { location: `${elsewhere.url}${path}` } }));
    const comfy = client({ url: redirector.url, name: 'proxied', maxConcurrent: 2, headers: { 'x-team': 'ink' }, auth: { kind: 'bearer', token: TOKEN } });
    const error = await connectError(comfy);
    expect(error.code).toBe('SERVER_AUTH');
    expect(error.message).toBe(`server "proxied" (${redirector.url}) redirected GET /api/system_stats to another origin (${elsewhere.url}); our credentials are not sent there`);
    expect(elsewhere.seen).toEqual([]);
    expect(redirector.seen[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('follows a redirect within the same origin, credentials included', async () => {
    const stats = JSON.stringify({ system: { comfyui_version: '0.8.0' }, devices: [{ name: 'cpu', type: 'cpu', vram_total: 10, vram_free: 4 }] });
    const proxy = await recordingServer((path): Answer =>
      path.startsWith('/moved/') ? { status: 200, headers: { 'content-type': 'application/json' }, body: stats } : { status: 302, headers: { location: `/moved${path}` } },
    );
    const comfy = client({ url: proxy.url, name: 'moved', maxConcurrent: 2, headers: {}, auth: { kind: 'bearer', token: TOKEN } });
    expect(await comfy.vram(AbortSignal.timeout(5_000))).toEqual({ server: 'moved', used: 6, total: 10 });
    expect(proxy.seen.map((s) => [s.path, s.headers.authorization])).toEqual([
      ['/api/system_stats', `Bearer ${TOKEN}`],
      ['/moved/api/system_stats', `Bearer ${TOKEN}`],
    ]);
  });

  it('a proxy answering with an HTML page is a protocol error naming the route', async () => {
    const proxy = await recordingServer(() => ({ status: 200, headers: { 'content-type': 'text/html' }, body: '<html>login</html>' }));
    const comfy = client({ url: `${proxy.url}/comfy`, name: 'html', maxConcurrent: 2, headers: {}, auth: { kind: 'none' } });
    const error = await comfy.vram(AbortSignal.timeout(5_000)).then(
      () => null,
      (e: unknown) => e as ComicError,
    );
    expect(error?.code).toBe('SERVER_PROTOCOL');
    expect(error?.message).toBe(`server "html" (${proxy.url}/comfy) answered GET /api/system_stats with malformed JSON (text/html): "<html>login</html>"`);
    expect(proxy.seen[0]?.path).toBe('/comfy/api/system_stats');
  });
});
