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
import { openSession } from '../../src/distributed/session.js';
import { sha256 } from '../../src/util/hash.js';
import { Cluster, REDIS_AVAILABLE, startRedis, type RedisInstance } from './helpers.js';

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
    await expect.poll(() => jobState(request(6).key)).toBe('waiting');
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
    await expect.poll(() => jobState(request(7).key)).toBe('failed');
    expect(cluster.ledger.finished.get(request(7).key)).toBeUndefined();

    const again = await cluster.coordinator().render(request(7), options());
    expect(again.backend).toBe('draft');
    expect(cluster.ledger.finished.get(request(7).key)).toBe(1);
  });

  it("fails a job whose template differs on the worker with TEMPLATE_MISMATCH, naming both digests", async () => {
    await cluster.worker('gpu-a');
    const template = { ...templates.get('panel'), digest: 'f'.repeat(64) };
    const error = await cluster.coordinator().render(request(8, { template }), options()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ComicError);
    expect(error).toMatchObject({ code: 'TEMPLATE_MISMATCH' });
    expect((error as ComicError).message).toMatch(/worker gpu-a's template panel@\S+ .* differs .* digest [0-9a-f]{12} here, ffffffffffff there/);
  });

  it('says in the progress view when no worker is connected', async () => {
    const coordinator = cluster.coordinator();
    const events: RenderEvent[] = [];
    const controller = new AbortController();
    const pending = coordinator.render(request(9), options(events, controller.signal));
    await expect.poll(() => events.find((e) => e.type === 'server')).toMatchObject({ server: 'queue comic', state: 'down' });
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
