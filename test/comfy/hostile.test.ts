/**
 * A hostile (or just broken) ComfyUI: the emulator's hostile answers (faults.hostile) against
 * the client and the pool. Each must end with a clear error naming the server and the route,
 * in bounded time, having read a bounded number of bytes and written no file, and a download
 * that fails must never make the prompt render again. Bytes are measured on the emulator's
 * side (what it managed to hand to the kernel: a client that stops reading stops it).
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ComfyClient } from '../../src/comfy/client.js';
import { COLLECT_ATTEMPTS, ComfyPool, type PoolEvent, type PoolJob, type PoolOptions } from '../../src/comfy/pool.js';
import type { Limits, Timeouts } from '../../src/comfy/types.js';
import { startComfyEmulator, type ComfyEmulator } from '../fakes/comfyui/index.js';
import { FAST, serverOf, slowWorkflow, tempDir } from './helpers.js';
import { rejection } from '../support/rejection.js';

const MiB = 1024 * 1024;
let emulator: ComfyEmulator;
let dir: { path: string; remove: () => Promise<void> };
const closers: (() => Promise<void>)[] = [];

beforeEach(async () => {
  emulator = await startComfyEmulator({ stepMs: 2 });
  dir = await tempDir();
});

afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
  await emulator.close();
  await dir.remove();
});

async function connected(timeouts: Partial<Timeouts> = {}, limits: Partial<Limits> = {}): Promise<ComfyClient> {
  const client = new ComfyClient(serverOf(emulator, 'a'), { timeouts: { ...FAST, ...timeouts }, limits });
  closers.push(() => client.close());
  await client.connect(AbortSignal.timeout(10_000));
  return client;
}

function poolOf(options: PoolOptions = {}): ComfyPool {
  const pool = new ComfyPool([serverOf(emulator, 'a')], { retryBaseMs: 20, downAfterFailures: 2, probeBaseMs: 100, ...options, timeouts: { ...FAST, ...options.timeouts } });
  closers.push(() => pool.close());
  return pool;
}

/** Renders `slowWorkflow` and downloads its first output into the temp folder. */
function downloadJob(id: string, seed: number): PoolJob<string> {
  return {
    id,
    prepare: () => slowWorkflow({ steps: 1, seed }),
    collect: async (done, signal) => {
      const path = join(dir.path, `${id}.png`);
      await done.client.download(done.result.outputs[0]!, path, signal);
      return path;
    },
  };
}

const live = (): AbortSignal => new AbortController().signal;

/** Every file left in the temp folder (a failed download must leave none, temp files included). */
const leftFiles = async (): Promise<string[]> => (await readdir(dir.path, { recursive: true })).map(String);
const executions = (): number => [...emulator.prompts.values()].reduce((n, p) => n + p.executions, 0);
const viewRequests = (): string[] => emulator.log.filter((l) => l.path.startsWith('/api/view')).map((l) => `${l.status}`);

/** A finished prompt's first output, rendered while the emulator is still friendly. */
async function finishedOutput(client: ComfyClient, seed: number) {
  const result = await client.submit(slowWorkflow({ steps: 1, seed }), { signal: live() }).result;
  return result.outputs[0]!;
}

describe('a hostile /view', () => {
  it('an oversized file (no Content-Length) is cut off at limits.imageBytes: bounded bytes, no file', async () => {
    const client = await connected({}, { imageBytes: 1 * MiB });
    const output = await finishedOutput(client, 1);
    emulator.faults.hostile.push({ kind: 'oversized-view', bytes: 512 * MiB });
    const error = await rejection(client.download(output, join(dir.path, 'out.png'), live()));
    expect(error.code).toBe('SERVER_PROTOCOL');
    expect(error.message).toBe(`server "a" (${emulator.url}) answered GET /api/view with ${JSON.stringify(output.filename)}, a file larger than 1 MiB; it was not read further`);
    expect(error.hint).toContain('limits.imageBytes');
    expect(emulator.faults.hostileHits['oversized-view']).toBe(1); // a cap is final: not retried
    // Loopback socket buffers hold a few MiB at most; without the cap all 512 MiB come down.
    expect(emulator.faults.hostileBytesSent).toBeLessThan(32 * MiB);
    expect(await leftFiles()).toEqual([]);
  });

  it('an oversized file that declares its length is refused before its body is read', async () => {
    const client = await connected({}, { imageBytes: 1 * MiB });
    const output = await finishedOutput(client, 2);
    emulator.faults.hostile.push({ kind: 'oversized-view', bytes: 2048 * MiB, declared: true });
    const error = await rejection(client.download(output, join(dir.path, 'out.png'), live()));
    expect(error.code).toBe('SERVER_PROTOCOL');
    expect(error.message).toContain('larger than 1 MiB (it declared 2 GiB)');
    expect(emulator.faults.hostileBytesSent).toBeLessThan(32 * MiB);
    expect(await leftFiles()).toEqual([]);
  });

  it('a file dripped a byte at a time ends at timeouts.download, however lively the drip', async () => {
    const client = await connected({ download: 1_000 });
    const output = await finishedOutput(client, 3);
    emulator.faults.hostile.push({ kind: 'dripping-view', everyMs: 100 });
    const started = Date.now();
    const error = await rejection(client.download(output, join(dir.path, 'out.png'), live()));
    expect(error.code).toBe('SERVER_PROTOCOL');
    expect(error.message).toMatch(new RegExp(`^server "a" \\(${emulator.url.replace(/\./g, '\\.')}\\) did not deliver ${JSON.stringify(output.filename)} \\(GET /api/view\\) within 1 s \\(timeouts.download\\); \\d+ B had arrived$`));
    // Without a total deadline the drip (a byte per 100 ms, every one restarting a silence timer) never ends.
    expect(emulator.faults.hostileBytesSent).toBeLessThan(40);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await leftFiles()).toEqual([]);
  });

  it('a truncated PNG arrives as a clean answer; its header reads, only decoding it shows it is broken', async () => {
    const client = await connected();
    const output = await finishedOutput(client, 4);
    emulator.faults.hostile.push({ kind: 'truncated-png' });
    const target = join(dir.path, 'out.png');
    await client.download(output, target, live());
    // What the old check (metadata) accepted, and what a full decode refuses:
    expect((await sharp(target).metadata()).width).toBe(32);
    // (libvips' reason, or sharp's stand-in when a concurrent operation took it: src/util/image-check.ts)
    await expect(sharp(target).raw().toBuffer()).rejects.toThrow(/read error|failOn/);
  });
});

describe('the pool never renders a prompt again because its download failed', () => {
  it('a /view that never answers: downloaded again (retry lines), never rendered again; a clear SERVER_PROTOCOL error in bounded time', async () => {
    const pool = poolOf({ timeouts: { download: 1_000 } });
    await pool.start(AbortSignal.timeout(10_000));
    emulator.faults.hostile.push({ kind: 'silent-view' });
    const events: PoolEvent[] = [];
    const started = Date.now();
    const error = await rejection(pool.run(downloadJob('panel:1', 5), { signal: live(), onEvent: (e) => events.push(e) }));
    expect(error.code).toBe('SERVER_PROTOCOL');
    expect(error.message).toContain(`server "a" (${emulator.url}) did not deliver`);
    expect(error.message).toContain('within 1 s (timeouts.download)');
    expect(error.message).toMatch(/\(3 downloads; prompt [0-9a-f-]+ was rendered and is not rendered again\)$/);
    expect(executions()).toBe(1);
    expect(emulator.prompts.size).toBe(1);
    expect(emulator.faults.hostileHits['silent-view']).toBe(COLLECT_ATTEMPTS);
    const retries = events.filter((e) => e.type === 'retry');
    expect(retries).toHaveLength(COLLECT_ATTEMPTS - 1);
    for (const retry of retries) expect(retry).toMatchObject({ jobId: 'panel:1', server: 'a', reason: expect.stringMatching(/downloading the outputs of prompt [0-9a-f-]+ again \(it is not rendered again\)$/) });
    // Three download deadlines and two short backoffs, not a render each time.
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(await leftFiles()).toEqual([]);
  });

  it('a /view that hangs once: the download is tried again and the image arrives; renders = images = 1', async () => {
    const pool = poolOf({ timeouts: { download: 800 } });
    await pool.start(AbortSignal.timeout(10_000));
    emulator.faults.hostile.push({ kind: 'silent-view', times: 1 });
    const events: PoolEvent[] = [];
    const result = await pool.run(downloadJob('panel:4', 8), { signal: live(), onEvent: (e) => events.push(e) });
    expect((await sharp(result.value).raw().toBuffer()).length).toBeGreaterThan(0);
    expect(executions()).toBe(1);
    expect(emulator.prompts.size).toBe(1);
    expect(emulator.faults.hostileHits['silent-view']).toBe(1);
    expect(events.filter((e) => e.type === 'retry')).toHaveLength(1);
  });

  it('with a second server free, a /view that never answers still does not make the prompt render there', async () => {
    const other = await startComfyEmulator({ stepMs: 2 });
    closers.push(() => other.close());
    const pool = new ComfyPool([serverOf(emulator, 'a'), serverOf(other, 'b')], { retryBaseMs: 20, downAfterFailures: 2, probeBaseMs: 100, timeouts: { ...FAST, download: 600 } });
    closers.push(() => pool.close());
    await pool.start(AbortSignal.timeout(10_000));
    other.faults.hostile.push({ kind: 'silent-view' });
    emulator.faults.hostile.push({ kind: 'silent-view' });
    const error = await rejection(pool.run(downloadJob('panel:5', 9), { signal: live() }));
    expect(error.code).toBe('SERVER_PROTOCOL');
    const rendered = (e: ComfyEmulator) => [...e.prompts.values()].reduce((n, p) => n + p.executions, 0);
    // One render in all, on whichever server took it first; before, the pool sent it to the other one as well.
    expect(rendered(emulator) + rendered(other)).toBe(1);
  });

  it('a 5xx from /view is retried as a download, not as a render', async () => {
    const pool = poolOf();
    await pool.start(AbortSignal.timeout(10_000));
    emulator.faults.httpError.push({ route: 'GET /view', status: 503, times: 1 });
    const events: PoolEvent[] = [];
    const result = await pool.run(downloadJob('panel:2', 6), { signal: live(), onEvent: (e) => events.push(e) });
    expect((await sharp(result.value).metadata()).width).toBe(32);
    expect(viewRequests()).toEqual(['503', '200']);
    expect(executions()).toBe(1);
    expect(emulator.prompts.size).toBe(1);
    expect(events.filter((e) => e.type === 'retry')).toEqual([]);
  });
});

describe('a /history that never answers', () => {
  it('ends the attempt with JOB_TIMEOUT within timeouts.request of the prompt finishing; the retry (a visible line) reads it again, renders once', async () => {
    const pool = poolOf({ timeouts: { request: 500, poll: 100 }, maxAttempts: 2 });
    await pool.start(AbortSignal.timeout(10_000));
    emulator.faults.hostile.push({ kind: 'silent-history' });
    const events: PoolEvent[] = [];
    const started = Date.now();
    const error = await rejection(pool.run(downloadJob('panel:3', 7), { signal: live(), onEvent: (e) => events.push(e) }));
    expect(error.code).toBe('JOB_TIMEOUT');
    expect(error.message).toMatch(
      /^server "a" \(http:\/\/127\.0\.0\.1:\d+\) finished prompt [0-9a-f-]+ but its outcome could not be read within 0\.5 s \(timeouts\.request\): server "a" \(http:\/\/127\.0\.0\.1:\d+\) did not answer GET \/api\/history\/[0-9a-f-]+ in time$/,
    );
    const retries = events.filter((e) => e.type === 'retry');
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatchObject({ jobId: 'panel:3', server: 'a', reason: expect.stringContaining('could not be read') });
    // The retry adopted the same prompt: one prompt, rendered once (before, each retry rendered it again).
    expect(emulator.prompts.size).toBe(1);
    expect(executions()).toBe(1);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('a /history that hangs twice, then answers: the retry adopts the prompt and downloads it; renders = images = 1', async () => {
    const pool = poolOf({ timeouts: { request: 500, poll: 100 }, maxAttempts: 3 });
    await pool.start(AbortSignal.timeout(10_000));
    emulator.faults.hostile.push({ kind: 'silent-history', times: 2 });
    const events: PoolEvent[] = [];
    const result = await pool.run(downloadJob('panel:6', 10), { signal: live(), onEvent: (e) => events.push(e) });
    expect((await sharp(result.value).metadata()).width).toBe(32);
    expect(events.filter((e) => e.type === 'retry').length).toBeGreaterThanOrEqual(1);
    expect(emulator.prompts.size).toBe(1);
    expect(executions()).toBe(1);
  });

  it('an /api/jobs/{id} that never answers either: JOB_TIMEOUT in bounded time, one render', async () => {
    const pool = poolOf({ timeouts: { request: 400, poll: 100 }, maxAttempts: 2 });
    await pool.start(AbortSignal.timeout(10_000));
    emulator.faults.hostile.push({ kind: 'silent-jobs' }, { kind: 'silent-history' });
    const events: PoolEvent[] = [];
    const started = Date.now();
    const error = await rejection(pool.run(downloadJob('panel:7', 11), { signal: live(), onEvent: (e) => events.push(e) }));
    expect(error.code).toBe('JOB_TIMEOUT');
    expect(error.message).toContain(`server "a" (${emulator.url})`);
    expect(events.filter((e) => e.type === 'retry')).toHaveLength(1);
    expect(executions()).toBe(1);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});

describe('a huge /object_info', () => {
  it('is cut off at limits.jsonBytes: a clear error naming the route, bounded bytes read', async () => {
    const client = await connected({}, { jsonBytes: 2 * MiB });
    emulator.faults.hostile.push({ kind: 'huge-object-info', bytes: 600 * MiB });
    const error = await rejection(client.objectInfo(live()));
    expect(error.code).toBe('SERVER_PROTOCOL');
    expect(error.message).toBe(`server "a" (${emulator.url}) answered GET /api/object_info with an answer larger than 2 MiB; it was not read further`);
    expect(error.hint).toContain('limits.jsonBytes');
    // response.text() read all 600 MiB (1.36 GB of RSS in issue 16); the stream stops at the cap.
    expect(emulator.faults.hostileBytesSent).toBeLessThan(32 * MiB);
  });

  it('declared over the cap: refused before the body is read', async () => {
    const client = await connected({}, { jsonBytes: 2 * MiB });
    emulator.faults.hostile.push({ kind: 'huge-object-info', bytes: 600 * MiB, declared: true });
    const error = await rejection(client.objectInfo(live()));
    expect(error.message).toContain('larger than 2 MiB (it declared 600 MiB)');
    expect(emulator.faults.hostileBytesSent).toBeLessThan(32 * MiB);
  });

  it('under the cap, a big answer read in many chunks still parses', async () => {
    const client = await connected({}, { jsonBytes: 8 * MiB });
    emulator.faults.hostile.push({ kind: 'huge-object-info', bytes: 3 * MiB });
    const info = await client.objectInfo(live());
    expect(info['KSampler']).toBeDefined();
    expect(info['HostilePadding']).toBeDefined();
  });
});
