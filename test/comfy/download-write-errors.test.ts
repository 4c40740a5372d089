/**
 * A download we cannot write (a read-only staging folder, a full disk, a folder where the file
 * goes) is our problem, not the server's: it fails at once as FOLDER_NOT_WRITABLE (DISK_FULL for
 * a full disk) naming the path, with one GET /view and one render, instead of being taken for a
 * broken connection, retried 3×3 times and reported as SERVER_PROTOCOL. A connection that really
 * breaks mid-body is still retried as before.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DOWNLOAD_ATTEMPTS, downloadFile } from '../../src/comfy/downloads.js';
import { ComfyPool, type PoolEvent, type PoolJob } from '../../src/comfy/pool.js';
import { Routes } from '../../src/comfy/routes.js';
import { Transport } from '../../src/comfy/transport.js';
import { ComicError } from '../../src/errors.js';
import { startComfyEmulator, type ComfyEmulator } from '../fakes/comfyui/index.js';
import { makeReadOnly } from '../run/read-only.js';
import { FAST, serverOf, slowWorkflow, tempDir } from './helpers.js';
import { rejection } from '../support/rejection.js';

/** When set, the next atomic stream write fails with this error once a first chunk arrived (a disk that fills up mid-file). */
const inject: { error: ((temp: string) => Error) | null } = { error: null };

vi.mock('../../src/util/fs.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/util/fs.js')>();
  return {
    ...real,
    writeStreamAtomic: async (path: string, source: AsyncIterable<Uint8Array>) => {
      const make = inject.error;
      if (make === null) return real.writeStreamAtomic(path, source);
      for await (const chunk of source) {
        void chunk;
        throw make(`${path}.123.deadbeef.tmp`);
      }
    },
  };
});

let emulator: ComfyEmulator;
let dir: { path: string; remove: () => Promise<void> };
const closers: (() => Promise<void>)[] = [];

beforeEach(async () => {
  emulator = await startComfyEmulator({ stepMs: 2 });
  dir = await tempDir();
  inject.error = null;
});

afterEach(async () => {
  inject.error = null;
  await Promise.all(closers.splice(0).map((close) => close()));
  await emulator.close();
  await dir.remove();
});

function poolOf(): ComfyPool {
  const pool = new ComfyPool([serverOf(emulator, 'a')], { retryBaseMs: 20, downAfterFailures: 2, probeBaseMs: 100, timeouts: { ...FAST } });
  closers.push(() => pool.close());
  return pool;
}

/** Renders `slowWorkflow` and downloads its first output to `path`. */
function downloadTo(id: string, seed: number, path: string): PoolJob<string> {
  return {
    id,
    prepare: () => slowWorkflow({ steps: 1, seed }),
    collect: async (done, signal) => {
      await done.client.download(done.result.outputs[0]!, path, signal);
      return path;
    },
  };
}

const executions = (): number => [...emulator.prompts.values()].reduce((n, p) => n + p.executions, 0);
const viewRequests = (): number => emulator.log.filter((l) => l.path.startsWith('/api/view')).length;

/** Runs the job on a started pool: its error, the retry events, and how long it took. */
async function failedRun(job: PoolJob<string>): Promise<{ error: ComicError; retries: PoolEvent[]; ms: number }> {
  const pool = poolOf();
  await pool.start(AbortSignal.timeout(10_000));
  const events: PoolEvent[] = [];
  const started = Date.now();
  const error = await rejection(pool.run(job, { signal: new AbortController().signal, onEvent: (e) => events.push(e) }));
  return { error, retries: events.filter((e) => e.type === 'retry'), ms: Date.now() - started };
}

/** What every local write failure must look like: ours, at once, one download, one render. */
function expectLocalFailure(outcome: { error: ComicError; retries: PoolEvent[]; ms: number }, code: 'FOLDER_NOT_WRITABLE' | 'DISK_FULL'): void {
  expect(outcome.error.code).toBe(code);
  expect(outcome.error.message).not.toMatch(/broke off|attempts|downloads;/);
  expect(outcome.error.hint).toContain('not a server problem');
  expect(viewRequests()).toBe(1);
  expect(executions()).toBe(1);
  expect(outcome.retries).toEqual([]);
  expect(outcome.ms).toBeLessThan(5_000);
}

describe('a download we cannot write fails at once, as ours, naming the path', () => {
  it('a read-only staging folder: FOLDER_NOT_WRITABLE with the path, one GET /view, one render, no retry', async (ctx) => {
    const staging = join(dir.path, 'cache', 'staging');
    await mkdir(staging, { recursive: true });
    const readOnly = makeReadOnly(staging);
    if (readOnly.skip !== null) ctx.skip(readOnly.skip);
    try {
      const target = join(staging, 'panel.png');
      const outcome = await failedRun(downloadTo('panel:1', 11, target));
      expectLocalFailure(outcome, 'FOLDER_NOT_WRITABLE');
      expect(outcome.error.message).toMatch(new RegExp(`^the download of "[^"]+" could not be written to ${escape(target)}: the folder ${escape(staging)} is not writable \\((EACCES|EPERM|EROFS) on ${escape(target)}\\.\\d+\\.[0-9a-f]+\\.tmp\\)$`));
      expect(await readdir(staging)).toEqual([]);
    } finally {
      readOnly.restore();
    }
  });

  it('a folder where the file goes (EISDIR), whoever we run as', async () => {
    const target = join(dir.path, 'staging', 'panel.png');
    await mkdir(target, { recursive: true });
    const outcome = await failedRun(downloadTo('panel:2', 12, target));
    expectLocalFailure(outcome, 'FOLDER_NOT_WRITABLE');
    expect(outcome.error.message).toContain(`could not be written to ${target}: the folder ${join(dir.path, 'staging')} is not writable (EISDIR on `);
    expect(await readdir(join(dir.path, 'staging'))).toEqual(['panel.png']); // the temp file is gone
  });

  it('a file where the folder goes (ENOTDIR)', async () => {
    await writeFile(join(dir.path, 'staging'), 'not a folder');
    const target = join(dir.path, 'staging', 'panel.png');
    const outcome = await failedRun(downloadTo('panel:3', 13, target));
    expectLocalFailure(outcome, 'FOLDER_NOT_WRITABLE');
    expect(outcome.error.message).toContain(`could not be written to ${target}`);
    expect(outcome.error.message).toMatch(/\((ENOTDIR|EEXIST) on /);
  });

  it('a full disk mid-file: DISK_FULL naming the path and the folder', async () => {
    const target = join(dir.path, 'staging', 'panel.png');
    inject.error = (temp) => Object.assign(new Error(`ENOSPC: no space left on device, write`), { code: 'ENOSPC', errno: -28, syscall: 'write', path: temp });
    const outcome = await failedRun(downloadTo('panel:4', 14, target));
    expectLocalFailure(outcome, 'DISK_FULL');
    expect(outcome.error.message).toMatch(
      new RegExp(`^the download of "[^"]+" could not be written to ${escape(target)}: no space left in ${escape(join(dir.path, 'staging'))} \\(ENOSPC on ${escape(target)}\\.123\\.deadbeef\\.tmp\\)$`),
    );
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('a connection that breaks mid-body is still the server\'s, and retried', () => {
  let server: Server;
  let requests = 0;

  beforeEach(async () => {
    requests = 0;
    server = createServer((req, res) => {
      requests++;
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': '4096' });
      res.write(Buffer.alloc(512, 7));
      setTimeout(() => res.socket?.destroy(), 20);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it(`is tried ${DOWNLOAD_ATTEMPTS} times, then SERVER_PROTOCOL "broke off" (not taken for a local write error)`, async () => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const routes = new Routes(new Transport({ url, name: 'a', maxConcurrent: 1, headers: {}, auth: { kind: 'none' } }, 5_000));
    const target = join(dir.path, 'staging', 'panel.png');
    const error = await rejection(downloadFile(routes, { filename: 'x.png', subfolder: '', type: 'output' }, target, new AbortController().signal));
    expect(error.code).toBe('SERVER_PROTOCOL');
    expect(error.message).toContain('the download of "x.png" broke off');
    expect(error.message).toContain(`(${DOWNLOAD_ATTEMPTS} attempts)`);
    expect(requests).toBe(DOWNLOAD_ATTEMPTS);
    expect(await readdir(join(dir.path, 'staging'))).toEqual([]);
  });
});
