/**
 * The job queue on its own, with runs the test controls: order, positions, content-key
 * conflicts, per-owner visibility and counts, cancellation of queued and running jobs.
 */
import { describe, expect, it } from 'vitest';
import { ComicError } from '../../src/errors.js';
import type { EventBus, RunSummary } from '../../src/progress/events.js';
import { JobQueue, type JobSpec } from '../../src/serve/jobs.js';
import type { ServeMessage } from '../../src/serve/messages.js';

const OK: RunSummary = { ok: true, exitCode: 0, total: 1, done: 1, cached: 0, failed: 0, skipped: 0, cancelled: 0, notRun: 0, warnings: 0, ms: 1, fallback: false, fellBack: null, next: null };

/** A run that waits until the test releases it, and sees its signal. */
function controlled() {
  let release!: (summary: RunSummary) => void;
  let fail!: (error: unknown) => void;
  let started = false;
  let signal: AbortSignal | null = null;
  let bus: EventBus | null = null;
  const run = (b: EventBus, s: AbortSignal) =>
    new Promise<RunSummary>((resolve, reject) => {
      started = true;
      signal = s;
      bus = b;
      release = resolve;
      fail = reject;
      s.addEventListener('abort', () => reject(s.reason), { once: true });
    });
  return {
    run,
    get started() {
      return started;
    },
    get signal() {
      return signal;
    },
    get bus() {
      return bus!;
    },
    release: (summary: RunSummary = OK) => release(summary),
    fail: (error: unknown) => fail(error),
  };
}

function spec(id: string, run: JobSpec['run'], options: { owner?: string; keys?: string[] } = {}): JobSpec {
  return {
    id,
    kind: 'panel',
    owner: options.owner ?? 'key 1',
    dir: `/tmp/jobs/${id}`,
    keys: new Set(options.keys ?? [id]),
    expected: [],
    isOutput: (image) => image === 'panel:1-1',
    run,
  };
}

function queueWith(concurrency: number) {
  const queue = new JobQueue({ concurrency, urlOf: (job, path) => `/api/files/${job.id}/${path.split('/').pop()}` });
  const messages: ServeMessage[] = [];
  queue.on((m) => messages.push(m));
  return { queue, messages };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('the job queue', () => {
  it('runs jobs in order up to its concurrency, and tells each waiting job its position', async () => {
    const { queue, messages } = queueWith(1);
    const [a, b, c] = [controlled(), controlled(), controlled()];
    queue.submit(spec('a', a.run));
    queue.submit(spec('b', b.run));
    queue.submit(spec('c', c.run));
    expect([a.started, b.started, c.started]).toEqual([true, false, false]);
    expect(queue.get('c', 'key 1')).toMatchObject({ state: 'queued', position: 2 });
    a.release();
    await tick();
    expect([b.started, c.started]).toEqual([true, false]);
    expect(queue.get('a', 'key 1')).toMatchObject({ state: 'completed', position: null });
    expect(queue.get('c', 'key 1')).toMatchObject({ state: 'queued', position: 1 });
    expect(messages.filter((m) => m.type === 'queued' && m.job === 'c').map((m) => (m as { position: number }).position)).toEqual([2, 1]);
    b.release();
    await tick();
    c.release();
    await queue.settled('c', 'key 1');
    expect(queue.stats).toEqual({ queued: 0, running: 0, kept: 3 });
  });

  it('never runs two jobs that share a content key at once; others overtake the waiting one', async () => {
    const { queue } = queueWith(3);
    const [a, b, c] = [controlled(), controlled(), controlled()];
    queue.submit(spec('a', a.run, { keys: ['sheet', 'p1'] }));
    queue.submit(spec('b', b.run, { keys: ['sheet', 'p2'] }));
    queue.submit(spec('c', c.run, { keys: ['p3'] }));
    expect([a.started, b.started, c.started]).toEqual([true, false, true]);
    a.release();
    await tick();
    expect(b.started).toBe(true);
    b.release();
    c.release();
  });

  it('collects the outputs from the run events and reports completion with their URLs', async () => {
    const { queue, messages } = queueWith(1);
    const a = controlled();
    queue.submit(spec('a', a.run));
    a.bus.emit({ type: 'run-started', scripts: ['x'], jobs: 2, backend: 'draft' });
    a.bus.emit({ type: 'job-progress', job: 'panel:1-1', server: 'gpu', value: 3, max: 8 });
    a.bus.emit({ type: 'job-preview', job: 'panel:1-1', mime: 'image/jpeg', bytes: new Uint8Array([0xff, 0xd8, 0xff]) });
    expect(messages.at(-1)).toEqual({ type: 'preview', job: 'a', image: 'panel:1-1', mime: 'image/jpeg', data: '/9j/' });
    a.bus.emit({ type: 'job-done', job: 'character:ada', backend: 'draft', server: null, ms: 1, output: '/tmp/jobs/a/characters/ada.png' });
    a.bus.emit({ type: 'job-done', job: 'panel:1-1', backend: 'comfyui', server: 'gpu', ms: 1, output: '/tmp/jobs/a/panels/1-1.png' });
    expect(queue.get('a', 'key 1')!.progress).toMatchObject({ done: 2, total: 2, image: 'panel:1-1', step: { value: 3, max: 8 } });
    a.release();
    const view = await queue.settled('a', 'key 1');
    expect(view!.outputs).toEqual([{ image: 'panel:1-1', url: '/api/files/a/1-1.png', backend: 'comfyui', server: 'gpu', cached: false }]);
    expect(messages.at(-1)).toEqual({ type: 'completed', job: 'a', outputs: view!.outputs });
  });

  it('shows a job only to its owner, and counts unfinished jobs per owner', async () => {
    const { queue } = queueWith(1);
    const [a, b] = [controlled(), controlled()];
    queue.submit(spec('a', a.run, { owner: 'key 1' }));
    queue.submit(spec('b', b.run, { owner: 'key 1' }));
    expect(queue.get('a', 'key 2')).toBeNull();
    expect(queue.cancel('a', 'key 2')).toBeNull();
    expect(queue.dirOf('a', 'key 2')).toBeNull();
    expect([queue.pendingFor('key 1'), queue.pendingFor('key 2')]).toEqual([2, 0]);
    a.release();
    await tick();
    expect(queue.pendingFor('key 1')).toBe(1);
    b.release();
  });

  it('cancels a queued job at once and a running one by aborting its run', async () => {
    const { queue, messages } = queueWith(1);
    const [a, b] = [controlled(), controlled()];
    queue.submit(spec('a', a.run));
    queue.submit(spec('b', b.run));
    expect(queue.cancel('b', 'key 1')).toMatchObject({ state: 'cancelled' });
    expect(queue.cancel('a', 'key 1')).toMatchObject({ state: 'processing' });
    expect(a.signal!.aborted).toBe(true);
    expect(await queue.settled('a', 'key 1')).toMatchObject({ state: 'cancelled', error: null });
    expect(b.started).toBe(false);
    expect(messages.filter((m) => m.type === 'cancelled').map((m) => m.job)).toEqual(['b', 'a']);
  });

  it('a failed run fails the job with the first failure; a thrown ComicError keeps its code', async () => {
    const { queue } = queueWith(2);
    const [a, b] = [controlled(), controlled()];
    queue.submit(spec('a', a.run));
    queue.submit(spec('b', b.run));
    a.bus.emit({ type: 'job-failed', job: 'panel:1-1', error: { code: 'JOB_FAILED', message: 'node 3 (KSampler) failed' } });
    a.release({ ...OK, ok: false, exitCode: 1, failed: 1 });
    b.fail(new ComicError('NO_BACKEND', 'no backend is available'));
    expect(await queue.settled('a', 'key 1')).toMatchObject({ state: 'failed', error: { code: 'JOB_FAILED', message: 'node 3 (KSampler) failed' } });
    expect(await queue.settled('b', 'key 1')).toMatchObject({ state: 'failed', error: { code: 'NO_BACKEND' } });
  });

  it('forgets the oldest finished jobs beyond what it keeps', async () => {
    const queue = new JobQueue({ concurrency: 1, keepFinished: 2, urlOf: () => '' });
    for (const id of ['a', 'b', 'c']) {
      queue.submit(spec(id, async () => OK));
      await queue.settled(id, 'key 1');
    }
    expect([queue.get('a', 'key 1'), queue.get('b', 'key 1')?.state, queue.get('c', 'key 1')?.state]).toEqual([null, 'completed', 'completed']);
  });

  it('close() cancels what waits, aborts what runs, and refuses new jobs', async () => {
    const { queue } = queueWith(1);
    const [a, b] = [controlled(), controlled()];
    queue.submit(spec('a', a.run));
    queue.submit(spec('b', b.run));
    await queue.close();
    expect([queue.get('a', 'key 1')?.state, queue.get('b', 'key 1')?.state]).toEqual(['cancelled', 'cancelled']);
    expect(() => queue.submit(spec('c', async () => OK))).toThrow(/shutting down/);
  });
});
