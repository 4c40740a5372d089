/**
 * The `comic serve` command: flags reach the server, it serves until told to stop and then
 * shuts down cleanly; an unsafe or invalid command line ends with exit code 2.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryIO } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { runServe } from '../../src/cli/commands/serve.js';
import type { RunningServer } from '../../src/serve/server.js';
import { api, KEY, WsClient } from './helpers.js';

let dir: string;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('comic serve', () => {
  it('listens where the flags say, serves until stopped, then closes its sockets', async () => {
    dir = await mkdtemp(join(tmpdir(), 'comic-serve-cli-'));
    const mem = memoryIO({ cwd: dir, env: { COMIC_API_KEYS: KEY } });
    const stop = new AbortController();
    let server!: RunningServer;
    let listening!: () => void;
    const started = new Promise<void>((resolve) => (listening = resolve));
    const finished = runServe({ port: 0, backend: 'draft', out: 'out', cache: 'cache', rateLimit: 50 }, { io: mem.io, setExitCode: () => undefined }, stop.signal, (s) => {
      server = s;
      listening();
    });
    await started;
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await api(server.url, '/api/health')).json()).toMatchObject({ backend: 'draft' });
    expect((await api(server.url, '/api/health')).headers.get('x-ratelimit-limit')).toBe('50');
    const ws = await WsClient.open(server.url, { token: KEY });
    const closed = new Promise<number>((resolve) => ws.socket.once('close', (code) => resolve(code)));

    stop.abort();
    await finished;
    expect(await closed).toBe(1001);
    await expect(fetch(`${server.url}/api/health`)).rejects.toThrow();
    expect(mem.stderr()).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+ \(1 API key; backend draft\)[\s\S]*shutting down[\s\S]*stopped/);
    expect(mem.stderr()).not.toContain(KEY);
  });

  it('refuses --host 0.0.0.0 without an API key, and a bad --port, with exit code 2', async () => {
    const unsafe = memoryIO({ env: {} });
    expect(await main(['node', 'comic', 'serve', '--backend', 'draft', '--host', '0.0.0.0', '--port', '0'], unsafe.io)).toBe(2);
    expect(unsafe.stderr()).toMatch(/refusing to listen on 0\.0\.0\.0 without an API key: .* \(CONFIG_INVALID\)\n  hint: set serve\.apiKeys/);

    const badPort = memoryIO({ env: {} });
    expect(await main(['node', 'comic', 'serve', '--port', 'eighty'], badPort.io)).toBe(2);
  });
});
