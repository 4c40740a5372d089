/**
 * The pieces that need no Redis: queue URLs (TLS, credentials never shown, store and queue
 * parameters), the wire format between coordinator and workers, the shared-folder store and
 * the worker's log lines.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ComicError } from '../../src/errors.js';
import { Doorbells } from '../../src/distributed/doorbell.js';
import { FolderStore } from '../../src/distributed/folder-store.js';
import { decodeFailure, decodeMessage, encodeFailure, encodeMessage, WIRE_VERSION, type ResultMeta } from '../../src/distributed/protocol.js';
import { getResult, hasResult, putResult } from '../../src/distributed/store.js';
import { parseQueueUrl, queueUrlFrom, redisOptions } from '../../src/distributed/target.js';
import { workerLogLine } from '../../src/distributed/worker-log.js';
import { sha256 } from '../../src/util/hash.js';

describe('queue URLs', () => {
  it('reads host, port, database, TLS, queue name and store; prints no password', () => {
    const target = parseQueueUrl('rediss://render:p%40ss w0rd@redis.studio.lan:6380/3?queue=lighthouse&store=shared/comic', '/work');
    expect(target).toMatchObject({ host: 'redis.studio.lan', port: 6380, db: 3, tls: true, username: 'render', queue: 'lighthouse', storeDir: '/work/shared/comic' });
    expect(target.password?.reveal()).toBe('p@ss w0rd');
    expect(target.display).toBe('rediss://render:***@redis.studio.lan:6380/3 (queue lighthouse)');
    expect(`${JSON.stringify(target)} ${inspect(target)}`).not.toContain('p@ss');
    expect(redisOptions(target, 'x')).toMatchObject({ host: 'redis.studio.lan', port: 6380, db: 3, username: 'render', password: 'p@ss w0rd', tls: { servername: 'redis.studio.lan' } });
  });

  it('has defaults: port 6379, database 0, queue "comic", results in Redis, no TLS', () => {
    expect(parseQueueUrl('redis://:only-a-password@10.0.0.5')).toMatchObject({
      port: 6379,
      db: 0,
      queue: 'comic',
      storeDir: null,
      tls: false,
      username: null,
      display: 'redis://:***@10.0.0.5:6379/0',
    });
  });

  it('refuses what it cannot use, without echoing the URL', () => {
    const cases: [string, RegExp][] = [
      ['http://h:1/0', /must use redis:\/\/ or rediss:\/\//],
      ['redis://h/abc', /database number/],
      ['redis://h/0?queue=a b', /queue name "a b"/],
      ['redis://:secret@h/0?password=x', /unknown parameter "password"/],
      ['not a url :secret', /not a valid URL/],
    ];
    for (const [url, message] of cases) {
      const error = (() => {
        try {
          parseQueueUrl(url);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(ComicError);
      expect(error).toMatchObject({ code: 'USAGE', message: expect.stringMatching(message) });
      expect((error as Error).message).not.toContain('secret');
    }
  });

  it('takes COMIC_REDIS_URL when the flag has no value', () => {
    const env = { COMIC_REDIS_URL: 'redis://q:6379/1' };
    expect(queueUrlFrom('redis://flag/0', env)).toBe('redis://flag/0');
    expect(queueUrlFrom(true, env)).toBe('redis://q:6379/1');
    expect(queueUrlFrom(undefined, env)).toBe('redis://q:6379/1');
    expect(queueUrlFrom(true, {})).toBeNull();
  });
});

describe('the wire format', () => {
  const key = sha256('k');

  it('carries a worker event with its preview bytes and names the server after the worker', () => {
    const bytes = new Uint8Array([1, 2, 3, 250]);
    const text = encodeMessage(key, 'gpu-a', 'comfyui', { type: 'preview', jobId: 'panel:1-1', server: '127.0.0.1:8188', mime: 'image/jpeg', bytes });
    expect(decodeMessage(text)).toEqual({
      key,
      backend: 'comfyui',
      event: { type: 'preview', jobId: 'panel:1-1', server: 'gpu-a/127.0.0.1:8188', mime: 'image/jpeg', bytes },
    });
    const local = decodeMessage(encodeMessage(key, 'gpu-b', 'draft', { type: 'started', jobId: 'panel:1-1', server: 'local' }));
    expect(local?.event).toEqual({ type: 'started', jobId: 'panel:1-1', server: 'gpu-b' });
  });

  it('ignores messages that are not ours or of another version', () => {
    expect(decodeMessage('hello')).toBeNull();
    expect(decodeMessage(JSON.stringify({ v: WIRE_VERSION + 1, key, worker: 'w', backend: 'draft', event: { type: 'started', jobId: 'j', server: 's' } }))).toBeNull();
    expect(decodeMessage(JSON.stringify({ v: WIRE_VERSION, key, worker: 'w', backend: 'draft', event: { type: 'exploded' } }))).toBeNull();
  });

  it('brings a worker\'s ComicError back whole; BullMQ\'s own reasons become JOB_LOST', () => {
    const original = new ComicError('JOB_FAILED', 'node 3 (KSampler) failed', { hint: 'check the model' });
    expect(decodeFailure(encodeFailure(original), 'w')).toMatchObject({ code: 'JOB_FAILED', message: 'node 3 (KSampler) failed', hint: 'check the model' });
    expect(decodeFailure('job stalled more than allowable limit', 'queue comic')).toMatchObject({
      code: 'JOB_LOST',
      message: 'the job failed on queue comic: job stalled more than allowable limit',
    });
    expect(decodeFailure(JSON.stringify({ code: 'NOT_A_CODE', message: 'x' }), 'w').code).toBe('JOB_LOST');
  });
});

describe('the shared-folder store', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'comic-store-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps results by content key, readable by another store on the same folder, with no temp files left', async () => {
    const key = sha256('panel');
    const meta: ResultMeta = { v: WIRE_VERSION, key, backend: 'comfyui', server: '127.0.0.1:8188', worker: 'gpu-a', dropped: [], timings: { queuedMs: 1, runMs: 2 }, store: `folder ${dir}` };
    const writer = new FolderStore(dir);
    expect(await hasResult(writer, key)).toBe(false);
    await putResult(writer, Buffer.from('png bytes'), meta);
    const reader = new FolderStore(dir);
    expect(await getResult(reader, key)).toEqual({ png: Buffer.from('png bytes'), meta });
    expect(await readdir(join(dir, 'result', key.slice(0, 2)))).toEqual([key]);
    expect(await readdir(join(dir, 'meta', key.slice(0, 2)))).toEqual([key]);
  });

  it('a result whose record is missing or unreadable does not exist', async () => {
    const store = new FolderStore(dir);
    const key = sha256('half');
    await store.put('result', key, Buffer.from('png'));
    expect(await getResult(store, key)).toBeNull();
    await store.put('meta', key, Buffer.from('{ not json'));
    expect(await getResult(store, key)).toBeNull();
  });

  it('refuses names that are not content hashes', async () => {
    const store = new FolderStore(dir);
    await expect(store.put('input', '../../etc/passwd', Buffer.from('x'))).rejects.toMatchObject({ code: 'INTERNAL' });
  });
});

describe('worker log lines', () => {
  const at = new Date(2026, 0, 2, 3, 4, 5).getTime();
  const key = 'ab'.repeat(32);
  it('say what happened to which job, with the time and a short key', () => {
    expect(workerLogLine({ type: 'rendered', jobId: 'panel:1-2', key, backend: 'comfyui', server: '127.0.0.1:8188', ms: 3200 }, at)).toBe(
      `03:04:05 done    panel:1-2 ${'ab'.repeat(6)} on comfyui 127.0.0.1:8188 in 3.2s`,
    );
    expect(workerLogLine({ type: 'failed', jobId: 'panel:1-2', key, code: 'NO_BACKEND', message: 'no server answers', retried: true }, at)).toBe(
      `03:04:05 fail    panel:1-2 ${'ab'.repeat(6)}: no server answers (NO_BACKEND); back to the queue for another try`,
    );
    // A pause says its own reason: a backend down, a full disk, or (printed by `comic worker`) a fallback taking over.
    expect(workerLogLine({ type: 'paused', reason: 'gpu is down (refused); rendering on sdapi instead' }, at)).toMatch(/ pause {3}gpu is down \(refused\); rendering on sdapi instead$/);
    expect(workerLogLine({ type: 'event', event: { type: 'progress', jobId: 'j', server: 's', node: '3', value: 1, max: 2 } }, at)).toBeNull();
  });
});

describe('doorbells', () => {
  it('keep a ring that lands between reading the state and waiting (no lost wake-up)', async () => {
    const doorbells = new Doorbells();
    const bell = doorbells.watch('k');
    const never = new AbortController().signal;
    bell.reset();
    doorbells.ring('k'); // the job finished while its state was being read
    await bell.wait(60_000, never); // resolves at once instead of after the poll interval
    bell.reset();
    const waiting = bell.wait(60_000, never);
    doorbells.ring('other');
    doorbells.ring('k');
    await waiting;
    bell.dispose();
    bell.reset();
    doorbells.ring('k');
    const controller = new AbortController();
    const disposed = bell.wait(60_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(disposed).rejects.toThrow('stop');
  });
});
