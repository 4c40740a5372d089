/**
 * Issue 16, "unbounded": an SD API render (the fallback's txt2img) that never answers must end
 * in bounded time (`timeouts.render`), with a clear JOB_TIMEOUT naming the server's URL and the
 * key; the stuck render is interrupted if it is ours and sent once more, shown as a retry
 * event; a second timeout fails the job. Renders are counted on the emulator: a render that
 * answers the second time makes exactly one image.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SdApiBackend } from '../../src/backends/sdapi/backend.js';
import type { RenderEvent, RenderRequest } from '../../src/backends/types.js';
import { SdApiClient } from '../../src/sdapi/client.js';
import { loadTemplateRegistry, type Template } from '../../src/templates/index.js';
import { sha256 } from '../../src/util/hash.js';
import { startSdApiEmulator, type SdApiEmulator } from '../fakes/sdapi/index.js';
import { rejection } from '../support/rejection.js';

let dir: string;
let emulator: SdApiEmulator;
let panel: Template;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'comic-sd-timeout-'));
  emulator = await startSdApiEmulator({ stepMs: 1 });
  panel = (await loadTemplateRegistry({ dirs: [] })).get('panel');
});
afterEach(async () => {
  await emulator.close();
  await rm(dir, { recursive: true, force: true });
});

function request(jobId: string): RenderRequest {
  return {
    jobId,
    key: sha256(jobId),
    template: panel,
    params: { positive: 'a lighthouse in a storm', negative: '', seed: 7, width: 64, height: 64, steps: 4 },
    inputs: [],
    shot: { title: jobId, summary: '', subjects: [], camera: null, pose: null, dialogue: null },
    outputPath: join(dir, `${jobId.replace(/:/g, '_')}.png`),
  };
}

const backend = (renderMs: number) => new SdApiBackend({ server: { url: emulator.url, auth: null }, progressEveryMs: 20, retryDelayMs: 10, client: { renderMs, requestMs: 2_000 } });
const finished = () => emulator.events.filter((e) => e.kind === 'finished').length;

describe('an SD API render that never answers', () => {
  it('the client gives up at renderMs with JOB_TIMEOUT, naming the server, the route and timeouts.render', async () => {
    const held: ServerResponse[] = [];
    const server: Server = createServer((_req, res) => void held.push(res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const started = Date.now();
      const error = await rejection(new SdApiClient({ url, auth: null }, { renderMs: 300, requestMs: 100 }).txt2img({}, new AbortController().signal));
      expect(error.code).toBe('JOB_TIMEOUT');
      expect(error.message).toBe(`Stable Diffusion API at ${url} did not answer POST /sdapi/v1/txt2img within 0.3 s (timeouts.render)`);
      expect(error.hint).toContain('timeouts.render');
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('the backend tries once more (a retry event), then fails the job clearly, in bounded time; nothing rendered, no file', async () => {
    const sd = backend(400);
    await sd.ready(AbortSignal.timeout(5_000));
    emulator.faults.stall.txt2img = Number.POSITIVE_INFINITY;
    const events: RenderEvent[] = [];
    const started = Date.now();
    const error = await rejection(sd.render(request('panel:1-1'), { signal: new AbortController().signal, onEvent: (e) => events.push(e) }));
    expect(error.code).toBe('JOB_TIMEOUT');
    expect(error.message).toBe(`Stable Diffusion API at ${emulator.url} did not answer POST /sdapi/v1/txt2img within 0.4 s (timeouts.render), 2 times; panel:1-1 failed`);
    const retries = events.filter((e) => e.type === 'retry');
    expect(retries).toEqual([{ type: 'retry', jobId: 'panel:1-1', server: emulator.url, attempt: 2, reason: expect.stringContaining('(timeouts.render)') }]);
    expect(emulator.requests).toHaveLength(2);
    expect(finished()).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    await expect(sharp(request('panel:1-1').outputPath).metadata()).rejects.toThrow();
  });

  it('a render that hangs once, then answers: one retry, one image; renders = images = 1', async () => {
    const sd = backend(400);
    await sd.ready(AbortSignal.timeout(5_000));
    emulator.faults.stall.txt2img = Number.POSITIVE_INFINITY;
    const events: RenderEvent[] = [];
    const rendering = sd.render(request('panel:1-2'), { signal: new AbortController().signal, onEvent: (e) => events.push(e) });
    // The first request is in (and held); the server recovers for the next one.
    await expect.poll(() => emulator.requests.length, { timeout: 5_000, interval: 10 }).toBe(1);
    delete emulator.faults.stall.txt2img;
    const result = await rendering;
    expect((await sharp(result.outputPath).metadata()).width).toBe(64);
    expect(events.filter((e) => e.type === 'retry')).toHaveLength(1);
    expect(finished()).toBe(1);
  });
});
