/**
 * The coordinator's side of distributed rendering: a Backend whose renders happen on the
 * workers of a BullMQ queue. `generate()` runs as usual (cache, manifest, DAG, composition);
 * each image it does not have is looked up in the shared store, else queued under its
 * content key (so two coordinators, or a restarted one, never queue one image twice) and
 * waited for. The workers' progress comes back over pub/sub as RenderEvents.
 *
 * Waiting reads the truth from Redis (the store, then the job's state) whenever a queue
 * event arrives, and every `pollMs` in case one was missed while a connection was down.
 */
import { extname } from 'node:path';
import { readFile } from 'node:fs/promises';
import { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Backend, BackendName, RenderEvent, RenderInput, RenderOptions, RenderRequest, RenderResult } from '../backends/types.js';
import { ComicError, isComicError } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { BULLMQ_PREFIX, decodeFailure, decodeMessage, names, serverLabel, WIRE_VERSION, type QueuedRender } from './protocol.js';
import { JOB_ATTEMPTS, JOB_BACKOFF_MS, KEEP_COMPLETED_SECONDS, KEEP_FAILED_SECONDS, openSession, type QueueSession } from './session.js';
import { Doorbells } from './doorbell.js';
import { getResult, type StoredResult } from './store.js';
import { parseQueueUrl, QUEUE_URL_ENV, queueUrlFrom, withStore, type QueueTarget } from './target.js';

export interface QueueBackendOptions {
  readonly target: QueueTarget;
  /** How often a waiting render re-reads its job, in case a queue event was missed (default 15 s). */
  readonly pollMs?: number;
  /** Renders of one key tried across workers before it fails (default 3). */
  readonly attempts?: number;
  /** Shown in `comic queue status` next to the connections. */
  readonly name?: string;
}

/** The factory the CLI calls for `--queue URL`; `store` overrides the URL's `?store=`. */
export function createQueueBackend(options: { url: string; cwd?: string; store?: string | null; pollMs?: number; attempts?: number }): QueueBackend {
  const target = withStore(parseQueueUrl(options.url, options.cwd), options.store ?? null, options.cwd);
  return new QueueBackend({ target, ...(options.pollMs !== undefined && { pollMs: options.pollMs }), ...(options.attempts !== undefined && { attempts: options.attempts }) });
}

/**
 * For `comic generate --queue [url]`: the queue backend, or null when the flag is absent.
 * `--queue` without a URL takes COMIC_REDIS_URL; USAGE when neither gives one.
 */
export function queueBackendFromFlag(flag: string | boolean | undefined, io: { readonly env: NodeJS.ProcessEnv; readonly cwd: string }): QueueBackend | null {
  if (flag === undefined || flag === false) return null;
  const url = queueUrlFrom(flag, io.env);
  if (url === null) throw new ComicError('USAGE', `--queue needs a URL (redis://host:6379/0), or ${QUEUE_URL_ENV} in the environment`);
  return createQueueBackend({ url, cwd: io.cwd });
}

/**
 * Queue events come from a Redis stream that BullMQ resumes after a reconnect, so the poll
 * is only a backstop (a trimmed stream after a long outage); with hundreds of renders
 * waiting, a fast poll would cost more than the renders' own traffic.
 */
const DEFAULT_POLL_MS = 15_000;
/** A job that vanishes (`comic queue drain`, a crashed cancel) is queued again this often, then fails. */
const MAX_REQUEUES = 3;
const CANCEL_MARK_SECONDS = 600;
const PENDING = new Set(['waiting', 'delayed', 'prioritized', 'waiting-children', 'paused', 'wait']);

type Inspection =
  | { readonly kind: 'done'; readonly result: StoredResult }
  | { readonly kind: 'pending' }
  | { readonly kind: 'failed'; readonly error: ComicError }
  /** Gone from the queue without a result: drained, cleaned, or its result expired. */
  | { readonly kind: 'lost'; readonly why: string };

export class QueueBackend implements Backend {
  readonly target: QueueTarget;
  readonly #session: QueueSession;
  readonly #subscriber: Redis;
  #events: QueueEvents | null = null;
  readonly #pollMs: number;
  readonly #attempts: number;
  readonly #label: string;
  /** Rung per content key when its job finishes, fails or is removed. */
  readonly #doorbells = new Doorbells();
  /** Per content key: where a worker's progress on it goes. */
  readonly #listeners = new Map<string, Set<(event: RenderEvent, backend: BackendName) => void>>();
  /** Input hashes known to be in the store. */
  readonly #uploaded = new Set<string>();
  /** Aborted by close(): waits end, queued jobs stay for the next coordinator. */
  readonly #closed = new AbortController();
  #started: Promise<void> | null = null;
  #name: BackendName = 'comfyui';
  #noWorkers: 'unknown' | 'warned' | 'seen' = 'unknown';

  constructor(options: QueueBackendOptions) {
    this.target = options.target;
    this.#pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    this.#attempts = options.attempts ?? JOB_ATTEMPTS;
    this.#label = `queue ${this.target.queue}`;
    this.#session = openSession(this.target, options.name ?? 'comic-coordinator');
    this.#subscriber = this.#session.connections.open('sub');
    this.#subscriber.on('message', (_channel: string, text: string) => this.#onWorkerMessage(text));
  }

  /**
   * The backend the workers render with, as last reported by one (for the progress view);
   * "comfyui", the workers' default, until a worker has spoken.
   */
  get name(): BackendName {
    return this.#name;
  }

  /** Where results are read from, for messages. */
  get store(): string {
    return this.#session.store.description;
  }

  ready(signal: AbortSignal): Promise<void> {
    return this.#start(signal);
  }

  async render(request: RenderRequest, options: RenderOptions): Promise<RenderResult> {
    const began = Date.now();
    const { signal, onEvent } = options;
    await this.#start(signal);
    const stop = AbortSignal.any([signal, this.#closed.signal]);
    const { key } = request;

    const stored = await getResult(this.#session.store, key);
    if (stored) return this.#deliver(request, stored, { queuedMs: 0, runMs: 0 });

    const unlisten = this.#listen(key, (event, backend) => {
      this.#name = backend;
      onEvent(event);
    });
    const bell = this.#doorbells.watch(key);
    try {
      await this.#uploadInputs(request.inputs, stop);
      await this.#enqueue(request, onEvent);
      let requeued = 0;
      for (;;) {
        stop.throwIfAborted();
        bell.reset();
        const seen = await this.#inspect(key);
        switch (seen.kind) {
          case 'done': {
            const { runMs } = seen.result.meta.timings;
            return this.#deliver(request, seen.result, { queuedMs: Math.max(0, Date.now() - began - runMs), runMs });
          }
          case 'failed':
            if (seen.error.code === 'JOB_LOST' && ++requeued <= MAX_REQUEUES) {
              // Its inputs were lost from the store (Redis restarted without persistence): we still have them.
              await this.#uploadInputs(request.inputs, stop, { recheck: true });
              await this.#retry(key);
              break;
            }
            if (seen.error.code !== 'CANCELLED') throw seen.error;
            // Another coordinator cancelled a job this one still needs.
            await this.#retry(key);
            break;
          case 'lost':
            if (++requeued > MAX_REQUEUES) {
              throw new ComicError('JOB_LOST', `${request.jobId} left ${this.#label} at ${this.target.display} ${MAX_REQUEUES} times without a result (${seen.why})`, {
                hint: 'something keeps removing it (`comic queue drain`?), or the workers store results elsewhere: give them the same --store',
              });
            }
            // A queue that lost the job (a Redis restart) may have lost its inputs too.
            await this.#uploadInputs(request.inputs, stop, { recheck: true });
            await this.#enqueue(request, onEvent);
            break;
          case 'pending':
            await bell.wait(this.#pollMs, stop);
        }
      }
    } catch (error) {
      throw await this.#settleAbort(error, key, signal);
    } finally {
      bell.dispose();
      unlisten();
    }
  }

  async close(): Promise<void> {
    this.#closed.abort(new ComicError('CANCELLED', `the connection to ${this.#label} was closed`));
    await this.#events?.close().catch(() => undefined);
    await this.#session.close();
  }

  #start(signal: AbortSignal): Promise<void> {
    this.#started ??= (async () => {
      const { redis, queue } = this.#session;
      await this.#session.ping(signal);
      await this.#subscriber.subscribe(names.events(this.target.queue));
      // Events are read from the stream's current end, named explicitly: with "$" the ones
      // written before the first blocking read would be lost.
      const [last] = await redis.xrevrange(queue.toKey('events'), '+', '-', 'COUNT', 1);
      const events = new QueueEvents(this.target.queue, {
        connection: this.#session.connections.open('events'),
        prefix: BULLMQ_PREFIX,
        lastEventId: last?.[0] ?? '0-0',
      });
      events.on('error', () => undefined);
      for (const event of ['completed', 'failed', 'removed'] as const) {
        events.on(event, ({ jobId }: { jobId: string }) => this.#doorbells.ring(jobId));
      }
      this.#events = events;
      await events.waitUntilReady();
    })();
    // A failed start (Redis down) is tried again by the next caller, not remembered.
    this.#started.catch(() => (this.#started = null));
    return this.#started;
  }

  /** `recheck`: the store may have lost what we uploaded before, so ask it again. */
  async #uploadInputs(inputs: readonly RenderInput[], signal: AbortSignal, { recheck = false } = {}): Promise<void> {
    for (const input of inputs) {
      signal.throwIfAborted();
      if (this.#uploaded.has(input.sha256) && !recheck) continue;
      if (!(await this.#session.store.has('input', input.sha256))) await this.#session.store.put('input', input.sha256, await readFile(input.file));
      this.#uploaded.add(input.sha256);
    }
  }

  /** Adds the job under its key; a job already there (another coordinator's, an earlier run's) is joined instead. */
  async #enqueue(request: RenderRequest, onEvent: (event: RenderEvent) => void): Promise<void> {
    const { key } = request;
    const data: QueuedRender = {
      v: WIRE_VERSION,
      jobId: request.jobId,
      template: { id: request.template.id, version: request.template.version, digest: request.template.digest },
      params: { ...request.params },
      inputs: request.inputs.map((input) => ({ param: input.param, sha256: input.sha256, ext: extname(input.file).toLowerCase() })),
      shot: { ...request.shot, subjects: [...request.shot.subjects] },
    };
    const { redis, queue } = this.#session;
    await redis.del(names.cancelMark(this.target.queue, key));
    const job = await queue.add(request.jobId, data, {
      jobId: key,
      attempts: this.#attempts,
      backoff: { type: 'fixed', delay: JOB_BACKOFF_MS },
      removeOnComplete: { age: KEEP_COMPLETED_SECONDS },
      removeOnFail: { age: KEEP_FAILED_SECONDS },
    });
    const state = await job.getState();
    // An earlier run's failure is not this run's verdict: try again.
    if (state === 'failed') await this.#retry(key);
    if (PENDING.has(state)) onEvent({ type: 'queued', jobId: request.jobId, server: this.#label, position: await queue.getWaitingCount() });
    await this.#warnWithoutWorkers(onEvent);
  }

  /** Puts a failed job back in the queue (a cancel mark left by another coordinator goes too). */
  async #retry(key: string): Promise<void> {
    await this.#session.redis.del(names.cancelMark(this.target.queue, key));
    const job = await this.#session.queue.getJob(key);
    await job?.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true }).catch(() => undefined);
  }

  async #inspect(key: string): Promise<Inspection> {
    const { store, queue } = this.#session;
    const stored = await getResult(store, key);
    if (stored) return { kind: 'done', result: stored };
    const job = await queue.getJob(key);
    if (!job) return { kind: 'lost', why: 'the job was removed from the queue' };
    const state = await job.getState();
    if (state === 'failed') return { kind: 'failed', error: decodeFailure(job.failedReason, `a worker of ${this.#label}`) };
    if (state !== 'completed') return { kind: 'pending' };
    // Completed: the result may have landed between our two reads.
    const late = await getResult(store, key);
    if (late) return { kind: 'done', result: late };
    const where = (job.returnvalue as { store?: unknown } | null)?.store;
    if (typeof where === 'string' && where !== store.description) {
      return {
        kind: 'failed',
        error: new ComicError('JOB_LOST', `a worker put ${job.name}'s image in ${where}, but this coordinator reads ${store.description}`, {
          hint: 'give the workers and the coordinator the same store: ?store=DIR in the queue URL, or --store DIR on every worker',
        }),
      };
    }
    await job.remove().catch(() => undefined);
    return { kind: 'lost', why: 'it finished, but its result has expired or was removed from the store' };
  }

  #listen(key: string, listener: (event: RenderEvent, backend: BackendName) => void): () => void {
    const listeners = this.#listeners.get(key) ?? new Set();
    this.#listeners.set(key, listeners);
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0) this.#listeners.delete(key);
    };
  }

  #onWorkerMessage(text: string): void {
    const message = decodeMessage(text);
    if (!message) return;
    const listeners = this.#listeners.get(message.key);
    if (!listeners) return;
    for (const listener of listeners) {
      if (this.#noWorkers === 'warned') listener({ type: 'server', server: this.#label, state: 'up', reason: 'a worker took a job' }, message.backend);
      this.#noWorkers = 'seen';
      listener(message.event, message.backend);
    }
  }

  /** Says once, in the progress view, that nobody is taking jobs yet. */
  async #warnWithoutWorkers(onEvent: (event: RenderEvent) => void): Promise<void> {
    if (this.#noWorkers !== 'unknown') return;
    this.#noWorkers = (await this.#session.queue.getWorkersCount()) === 0 ? 'warned' : 'seen';
    if (this.#noWorkers === 'warned') {
      onEvent({
        type: 'server',
        server: this.#label,
        state: 'down',
        reason: `no worker is connected to ${this.#label} at ${this.target.display}; start \`comic worker --queue …\` on a GPU box`,
      });
    }
  }

  async #deliver(request: RenderRequest, stored: StoredResult, timings: RenderResult['timings']): Promise<RenderResult> {
    await writeFileAtomic(request.outputPath, stored.png);
    const { meta } = stored;
    return {
      jobId: request.jobId,
      backend: meta.backend,
      server: serverLabel(meta.worker, meta.server),
      outputPath: request.outputPath,
      dropped: meta.dropped,
      timings,
    };
  }

  /**
   * A render cut short by the caller's signal takes its job with it: removed while it
   * waits, cancelled on its worker when it runs. After close() the job stays queued, so a
   * restarted coordinator finds it. Other errors pass through, Redis ones explained.
   */
  async #settleAbort(error: unknown, key: string, signal: AbortSignal): Promise<unknown> {
    if (signal.aborted) {
      await this.#cancelRemote(key).catch(() => undefined);
      return isComicError(signal.reason) ? signal.reason : new ComicError('CANCELLED', 'the render was cancelled');
    }
    if (this.#closed.signal.aborted) return this.#closed.signal.reason;
    return this.#session.connections.explain(error);
  }

  async #cancelRemote(key: string): Promise<void> {
    const { queue, redis } = this.#session;
    const job = await queue.getJob(key);
    if (!job) return;
    const state = await job.getState();
    if (PENDING.has(state)) {
      try {
        await job.remove();
        return;
      } catch {
        // Taken by a worker meanwhile: cancel it there.
      }
    } else if (state !== 'active') {
      return;
    }
    await redis.set(names.cancelMark(this.target.queue, key), '1', 'EX', CANCEL_MARK_SECONDS);
    await redis.publish(names.cancel(this.target.queue), key);
  }
}
