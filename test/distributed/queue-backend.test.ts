/**
 * The coordinator's QueueBackend against real workers on a real redis-server: renders go
 * through the queue and come back as files; a key is queued once however often it is asked
 * for; results in the store are never rendered again; cancel and template mismatches.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RenderEvent, RenderRequest } from '../../src/backends/types.js';
import { ComicError } from '../../src/errors.js';
import { loadTemplateRegistry, type TemplateRegistry } from '../../src/templates/index.js';
import { WIRE_VERSION } from '../../src/distributed/protocol.js';
import { openSession } from '../../src/distributed/session.js';
import { sha256 } from '../../src/util/hash.js';
import { DraftBackend } from '../../src/backends/draft/backend.js';
import type { RenderOptions, RenderResult } from '../../src/backends/types.js';
import { Cluster, EVENTUALLY, REDIS_AVAILABLE, startRedis, type RedisInstance } from './helpers.js';

/** A draft backend whose servers can be switched off: renders fail with NO_BACKEND and ready() rejects. */
class FlakyBackend extends DraftBackend {
  down = false;
  override async ready(): Promise<void> {
    if (this.down) throw new ComicError('NO_BACKEND', 'no ComfyUI server answers (127.0.0.1:8188: connection refused)');
  }
  override async render(request: RenderRequest, options: RenderOptions): Promise<RenderResult> {
    if (this.down) throw new ComicError('NO_BACKEND', 'no ComfyUI server answers (127.0.0.1:8188: connection refused)');
    return super.render(request, options);
  }
}

let redis: RedisInstance;
let templates: TemplateRegistry;
let cluster: Cluster;
let dir: string;

beforeAll(async () => {
  if (!REDIS_AVAILABLE) return;
  redis = await startRedis();
  templates = await loadTemplateRegistry({ dirs: [] });
});
afterAll(async () => {
  await redis?.stop();
});
let db = 0;
beforeEach(async () => {
  // Each test gets its own database: no state leaks from one to the next.
  db = (db % 15) + 1;
  cluster = new Cluster(redis, templates, `redis://127.0.0.1:${redis.port}/${db}`);
  dir = await mkdtemp(join(tmpdir(), 'comic-queue-'));
});
afterEach(async () => {
  await cluster.close();
  await rm(dir, { recursive: true, force: true });
});

function request(n: number, extra: Partial<RenderRequest> = {}): RenderRequest {
  return {
    jobId: `panel:1-${n}`,
    key: sha256(`test panel ${n}`),
    template: templates.get('panel'),
    params: { positive: `panel ${n}`, negative: '', seed: n, width: 64, height: 48 },
    inputs: [],
    shot: { title: `Panel 1-${n}`, summary: `panel ${n}`, subjects: [], camera: null, pose: null, dialogue: null },
    outputPath: join(dir, `out-${n}.png`),
    ...extra,
  };
}

const options = (events: RenderEvent[] = [], signal = new AbortController().signal) => ({ signal, onEvent: (e: RenderEvent) => events.push(e) });

describe.skipIf(!REDIS_AVAILABLE)('the queue backend', () => {
  it('renders on a worker and writes the image where the request says, naming the worker', async () => {
    await cluster.worker('gpu-a');
    const coordinator = cluster.coordinator();
    await coordinator.ready(AbortSignal.timeout(5000));
    const events: RenderEvent[] = [];
    const result = await coordinator.render(request(1), options(events));
    expect(result).toMatchObject({ jobId: 'panel:1-1', backend: 'draft', server: 'gpu-a', dropped: [] });
    const image = await sharp(join(dir, 'out-1.png')).metadata();
    expect([image.width, image.height]).toEqual([64, 48]);
    expect(events).toContainEqual({ type: 'started', jobId: 'panel:1-1', server: 'gpu-a' });
    expect(cluster.logs.get('gpu-a')).toContainEqual(expect.objectContaining({ type: 'rendered', jobId: 'panel:1-1', backend: 'draft' }));
  });

  it('queues a key once however many renders ask for it, and never renders a stored key again', async () => {
    const { backend } = await cluster.worker('gpu-a');
    const held = backend.hold(() => true);
    const first = cluster.coordinator();
    const second = cluster.coordinator();
    const same = request(2);
    const renders = [
      first.render(same, options()),
      first.render({ ...same, outputPath: join(dir, 'copy.png') }, options()),
      second.render({ ...same, jobId: 'panel:9-9', outputPath: join(dir, 'other.png') }, options()),
    ];
    await held.started;
    held.release();
    await Promise.all(renders);
    expect(cluster.ledger.started.get(same.key)).toBe(1);
    const bytes = await readFile(join(dir, 'out-2.png'));
    expect(await readFile(join(dir, 'copy.png'))).toEqual(bytes);
    expect(await readFile(join(dir, 'other.png'))).toEqual(bytes);

    // A later run (a new coordinator) gets it from the store without queueing anything.
    const later = cluster.coordinator();
    const result = await later.render({ ...same, outputPath: join(dir, 'later.png') }, options());
    expect(result.server).toBe('gpu-a');
    expect(cluster.ledger.started.get(same.key)).toBe(1);
  });

  it('a worker given a job whose image is already in the store does not render it', async () => {
    await cluster.worker('gpu-a');
    await cluster.coordinator().render(request(12), options());
    // Another producer queues the same key again, without looking in the store first.
    const session = openSession(cluster.target, 'test-producer');
    try {
      await session.queue.remove(request(12).key);
      await session.queue.add('panel:1-12', { v: WIRE_VERSION, jobId: 'panel:1-12', template: { id: 'panel', version: templates.get('panel').version, digest: templates.get('panel').digest }, params: {}, inputs: [], shot: request(12).shot }, { jobId: request(12).key });
      await expect.poll(() => session.queue.getJobState(request(12).key), EVENTUALLY).toBe('completed');
    } finally {
      await session.close();
    }
    expect(cluster.logs.get('gpu-a')).toContainEqual(expect.objectContaining({ type: 'reused', jobId: 'panel:1-12' }));
    expect(cluster.ledger.started.get(request(12).key)).toBe(1);
  });

  it('uploads inputs once by hash and the worker renders with them', async () => {
    await cluster.worker('gpu-a');
    const coordinator = cluster.coordinator();
    const reference = join(dir, 'sheet.png');
    await sharp({ create: { width: 8, height: 8, channels: 3, background: '#c33' } }).png().toFile(reference);
    const hash = sha256(await readFile(reference));
    const withInput = (n: number) => request(n, { inputs: [{ param: 'reference', file: reference, sha256: hash }] });
    await Promise.all([coordinator.render(withInput(3), options()), coordinator.render(withInput(4), options())]);
    expect(await coordinator.render(withInput(5), options())).toMatchObject({ backend: 'draft' });
    expect(cluster.ledger.finished.size).toBe(3);
  });

  it('a cancelled render takes its waiting job off the queue', async () => {
    const coordinator = cluster.coordinator();
    const controller = new AbortController();
    const pending = coordinator.render(request(6), options([], controller.signal));
    await expect.poll(() => jobState(request(6).key), EVENTUALLY).toBe('waiting');
    controller.abort(new ComicError('CANCELLED', 'the run was cancelled'));
    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(await jobState(request(6).key)).toBe('unknown');
  });

  it('a cancelled render stops its worker mid-job, and a later run renders it', async () => {
    const { backend } = await cluster.worker('gpu-a');
    const held = backend.hold(() => true);
    const coordinator = cluster.coordinator();
    const controller = new AbortController();
    const pending = coordinator.render(request(7), options([], controller.signal));
    await held.started;
    controller.abort(new ComicError('CANCELLED', 'the run was cancelled'));
    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED' });
    await expect.poll(() => jobState(request(7).key), EVENTUALLY).toBe('failed');
    expect(cluster.ledger.finished.get(request(7).key)).toBeUndefined();

    const again = await cluster.coordinator().render(request(7), options());
    expect(again.backend).toBe('draft');
    expect(cluster.ledger.finished.get(request(7).key)).toBe(1);
  });

  it('a job cancelled by one coordinator is queued again for another that still needs it', async () => {
    const { backend } = await cluster.worker('gpu-a', { concurrency: 1 });
    const held = backend.hold(() => true);
    const controller = new AbortController();
    const leaving = cluster.coordinator().render(request(13), options([], controller.signal));
    const staying = cluster.coordinator().render({ ...request(13), outputPath: join(dir, 'staying.png') }, options());
    await held.started;
    controller.abort(new ComicError('CANCELLED', 'the run was cancelled'));
    await expect(leaving).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(await staying).toMatchObject({ server: 'gpu-a' });
    expect(cluster.ledger.started.get(request(13).key)).toBe(2);
    expect(cluster.ledger.finished.get(request(13).key)).toBe(1);
  });

  it("fails a job whose template differs on the worker with TEMPLATE_MISMATCH, naming both digests", async () => {
    await cluster.worker('gpu-a');
    const template = { ...templates.get('panel'), digest: 'f'.repeat(64) };
    const error = await cluster.coordinator().render(request(8, { template }), options()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ComicError);
    expect(error).toMatchObject({ code: 'TEMPLATE_MISMATCH' });
    expect((error as ComicError).message).toMatch(/worker gpu-a's template panel@\S+ .* differs .* digest [0-9a-f]{12} here, ffffffffffff there/);
  });

  it('with ?store=DIR the images travel through the shared folder, not Redis', async () => {
    const shared = join(dir, 'share');
    const target = { ...cluster.target, storeDir: shared };
    await cluster.worker('gpu-a', { target });
    const result = await cluster.coordinator({ target }).render(request(10), options());
    expect(result.backend).toBe('draft');
    const key = request(10).key;
    expect(await readFile(join(shared, 'result', key.slice(0, 2), key))).toEqual(await readFile(join(dir, 'out-10.png')));
    const session = openSession(cluster.target, 'test-probe');
    try {
      expect(await session.store.has('result', key)).toBe(false);
    } finally {
      await session.close();
    }
  });

  it('a worker storing results elsewhere than the coordinator reads them is named in a clear error', async () => {
    await cluster.worker('gpu-a', { target: { ...cluster.target, storeDir: join(dir, 'share') } });
    const error = await cluster.coordinator().render(request(11), options()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'JOB_LOST' });
    expect((error as ComicError).message).toMatch(/a worker put panel:1-11's image in folder .*share, but this coordinator reads Redis redis:\/\/127\.0\.0\.1:\d+\/\d+/);
    expect((error as ComicError).hint).toContain('same store');
  });

  it("a worker whose own servers are down gives the job back, another renders it, and it resumes when they are back", async () => {
    const flaky = new FlakyBackend();
    await cluster.worker('gpu-down', { backend: flaky, concurrency: 1, recheckMs: 50 });
    flaky.down = true;
    const pending = cluster.coordinator().render(request(21), options());
    const log = cluster.logs.get('gpu-down')!;
    await expect.poll(() => log.some((e) => e.type === 'paused'), EVENTUALLY).toBe(true);
    expect(log).toContainEqual(expect.objectContaining({ type: 'failed', jobId: 'panel:1-21', code: 'NO_BACKEND', retried: true }));
    expect(log.find((e) => e.type === 'paused')).toMatchObject({ reason: expect.stringMatching(/^this worker's backend is down \(.*\); taking no jobs until it is back$/) });
    await cluster.worker('gpu-up', { concurrency: 1 });
    expect(await pending).toMatchObject({ server: 'gpu-up' });
    expect(log.some((e) => e.type === 'resumed')).toBe(false);
    flaky.down = false;
    await expect.poll(() => log.some((e) => e.type === 'resumed'), EVENTUALLY).toBe(true);
    expect(cluster.ledger.twice()).toEqual([]);
  });

  const diskFull = (req: RenderRequest) => new ComicError('DISK_FULL', `the download of "panel_00001_.png" could not be written to ${req.outputPath}: no space left (ENOSPC)`);
  const rawRefusal = (req: RenderRequest) => Object.assign(new Error(`EACCES: permission denied, open '${req.outputPath}'`), { code: 'EACCES', syscall: 'open', path: req.outputPath });
  it.each([
    ['full (as the ComfyUI download says it)', diskFull, /no space left/],
    ['read-only (a raw EACCES in its work folder)', rawRefusal, /not writable \(EACCES on /],
  ])("a worker whose own disk is %s gives the job back as its own problem (not the coordinator's folder), and waits until it can write", async (_, failure, said) => {
    let full = true;
    const disk = new (class extends DraftBackend {
      override async render(req: RenderRequest, opts: RenderOptions): Promise<RenderResult> {
        if (full) throw failure(req);
        return super.render(req, opts);
      }
    })();
    // It looks again after a second: by then another worker has taken the job.
    await cluster.worker('gpu-full', { backend: disk, concurrency: 1, recheckMs: 1000 });
    const pending = cluster.coordinator().render(request(22), options());
    const log = cluster.logs.get('gpu-full')!;
    await expect.poll(() => log.some((e) => e.type === 'paused'), EVENTUALLY).toBe(true);
    // Retried elsewhere, under a code that does not stop the coordinator's run (DISK_FULL there means its own disk).
    expect(log).toContainEqual(expect.objectContaining({ type: 'failed', jobId: 'panel:1-22', code: 'SERVER_ERROR', retried: true, message: expect.stringMatching(/^worker gpu-full cannot write what it renders: /) }));
    expect(log.find((e) => e.type === 'failed')).toMatchObject({ message: expect.stringMatching(said) });
    expect(log.find((e) => e.type === 'paused')).toMatchObject({ reason: expect.stringMatching(/^worker gpu-full cannot write what it renders: .*; taking no jobs until its folder takes files again$/) });
    await cluster.worker('gpu-room', { concurrency: 1 });
    expect(await pending).toMatchObject({ server: 'gpu-room' });
    full = false;
    // Its folder takes files (the probe is written): it takes jobs again.
    await expect.poll(() => log.some((e) => e.type === 'resumed'), EVENTUALLY).toBe(true);
  });

  it('says in the progress view when no worker is connected', async () => {
    const coordinator = cluster.coordinator();
    const events: RenderEvent[] = [];
    const controller = new AbortController();
    const pending = coordinator.render(request(9), options(events, controller.signal));
    await expect.poll(() => events.find((e) => e.type === 'server'), EVENTUALLY).toMatchObject({ server: 'queue comic', state: 'down' });
    await cluster.worker('gpu-late');
    await pending;
    expect(events.filter((e) => e.type === 'server').map((e) => (e as { state: string }).state)).toEqual(['down', 'up']);
  });
});

/** The BullMQ state of a key's job, read on a connection of its own. */
async function jobState(key: string): Promise<string> {
  const session = openSession(cluster.target, 'test-probe');
  try {
    return await session.queue.getJobState(key);
  } finally {
    await session.close();
  }
}
