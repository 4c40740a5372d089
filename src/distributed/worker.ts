/**
 * A GPU box's side of distributed rendering: a BullMQ worker that takes render jobs, checks
 * it has the coordinator's exact template, fetches the inputs from the shared store,
 * renders through its own backend (its own server pool and fallback), puts the image in
 * the store under the content key and reports progress over pub/sub.
 *
 * A key already in the store is never rendered again. A worker that dies mid-job stops
 * renewing the job's lock, and BullMQ's stall detection gives the job to another worker.
 */
import { sha256 as sha256Of } from '../util/hash.js';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Backend, RenderEvent, RenderInput, SentPrompt } from '../backends/types.js';
import { ComicError, isComicError, type ErrorCode } from '../errors.js';
import type { Template, TemplateRegistry } from '../templates/index.js';
import { writeFileAtomic } from '../util/fs.js';
import { isNoSpace, isRefusedWrite } from '../util/fs-errors.js';
import { createMask, maskDeep, type Mask } from '../util/redact.js';
import { BULLMQ_PREFIX, encodeFailure, encodeMessage, isWorkerBackend, names, QueuedRender, WIRE_VERSION, type ResultMeta, type WorkerBackend } from './protocol.js';
import { openSession, type QueueSession } from './session.js';
import { getResult, putResult } from './store.js';
import { redactTarget, type QueueTarget } from './target.js';

export interface RenderWorkerOptions {
  readonly target: QueueTarget;
  /** Renders the jobs: the worker's own ComfyUI pool (with its fallback), SD API or draft backend. */
  readonly backend: Backend;
  /** The worker's templates; a job's template must match by id, version and digest. */
  readonly templates: TemplateRegistry;
  /** Names the worker in events, results and `comic queue status` (default host-pid). */
  readonly name?: string;
  /** Jobs taken at once (default 1). */
  readonly concurrency?: number;
  /** A job whose worker stops renewing its lock for this long goes to another worker (default 30 s). */
  readonly lockMs?: number;
  /** How often workers look for such stalled jobs (default 30 s). */
  readonly stalledIntervalMs?: number;
  /** How often to see whether the backend is back after it went down (default 5 s). */
  readonly recheckMs?: number;
  readonly storeTtlSeconds?: number;
  readonly log?: (entry: WorkerLogEntry) => void;
}

/** What the worker reports for its log (the CLI prints these). */
export type WorkerLogEntry =
  | { readonly type: 'ready'; readonly worker: string; readonly queue: string; readonly store: string; readonly concurrency: number }
  | { readonly type: 'taken'; readonly jobId: string; readonly key: string; readonly attempt: number }
  | { readonly type: 'reused'; readonly jobId: string; readonly key: string }
  | { readonly type: 'rendered'; readonly jobId: string; readonly key: string; readonly backend: WorkerBackend; readonly server: string | null; readonly ms: number }
  | { readonly type: 'failed'; readonly jobId: string; readonly key: string; readonly code: ErrorCode; readonly message: string; readonly retried: boolean }
  /** `reason`: why, and until when, as a sentence ("…; taking no jobs until it is back"). */
  | { readonly type: 'paused'; readonly reason: string }
  | { readonly type: 'resumed'; readonly reason: string }
  | { readonly type: 'event'; readonly event: RenderEvent }
  | { readonly type: 'error'; readonly message: string };

/**
 * Failures another worker may not have: its servers are down or lack a model, its
 * template differs. They go back to the queue; the rest fail the job at once.
 */
const RETRYABLE = new Set<ErrorCode>([
  'NO_BACKEND',
  'SERVER_UNREACHABLE',
  'SERVER_ERROR',
  'SERVER_MISSING_CAPABILITY',
  'JOB_LOST',
  'JOB_TIMEOUT',
  'QUEUE_UNREACHABLE',
  'TEMPLATE_MISMATCH',
]);
/** This worker's own backend is down: stop taking jobs until it is back. */
const BACKEND_DOWN = new Set<ErrorCode>(['NO_BACKEND', 'SERVER_UNREACHABLE']);
/**
 * This worker's own folder cannot take what it renders (read-only, disk full): a problem of
 * this box, not of the coordinator's folders, so the job goes back to the queue for another
 * worker and this one waits until it can write again.
 */
const OWN_DISK = new Set<ErrorCode>(['FOLDER_NOT_WRITABLE', 'DISK_FULL']);
/** What a paused worker writes to see that its folder takes files again: a render's worth, or near. */
const PROBE_BYTES = 1 << 20;

const DEFAULT_LOCK_MS = 30_000;
/** How long the prompts sent for a key are remembered (a stalled job is taken over within minutes). */
const PROMPTS_TTL_SECONDS = 24 * 3600;
const DEFAULT_RECHECK_MS = 5000;

export class RenderWorker {
  readonly name: string;
  readonly #options: RenderWorkerOptions;
  readonly #session: QueueSession;
  readonly #subscriber: Redis;
  /** Aborted by kill(): renders stop, nothing more is written. */
  readonly #dead = new AbortController();
  #worker: Worker | null = null;
  #workDir: string | null = null;
  #recovering: Promise<void> | null = null;
  #closing: Promise<void> | null = null;
  /**
   * What leaves this worker (log entries, failures and events written to Redis, which the
   * coordinator prints and reports) is masked first: the credentials of this box's own
   * configuration (its servers' tokens, which the coordinator does not know to mask) and
   * of the queue URL, and control characters of server text.
   */
  readonly #mask: Mask;

  constructor(options: RenderWorkerOptions) {
    this.#options = options;
    this.#mask = createMask(options.target.secrets);
    this.name = options.name ?? `${hostname()}-${process.pid}`;
    this.#session = openSession(options.target, `comic-worker:${this.name}`, {
      ...(options.storeTtlSeconds !== undefined && { storeTtlSeconds: options.storeTtlSeconds }),
    });
    this.#subscriber = this.#session.connections.open('cancel');
    this.#subscriber.on('message', (_channel: string, key: string) => {
      this.#worker?.cancelJob(key, 'cancelled by its coordinator');
    });
  }

  get store(): string {
    return this.#session.store.description;
  }

  /**
   * Connects, waits for its backend, then takes jobs until close() or kill(). Rejects with
   * QUEUE_UNREACHABLE when Redis does not answer, or with the backend's error (NO_BACKEND).
   */
  async start(signal: AbortSignal): Promise<void> {
    const { target, backend } = this.#options;
    await this.#session.ping(signal);
    await backend.ready(signal);
    this.#workDir = await mkdtemp(join(tmpdir(), 'comic-worker-'));
    await this.#subscriber.subscribe(names.cancel(target.queue));
    const concurrency = this.#options.concurrency ?? 1;
    const lockMs = this.#options.lockMs ?? DEFAULT_LOCK_MS;
    this.#worker = new Worker(target.queue, (job: Job, _token?: string, jobSignal?: AbortSignal) => this.#process(job, jobSignal), {
      connection: this.#session.connections.open('worker'),
      prefix: BULLMQ_PREFIX,
      name: this.name,
      concurrency,
      lockDuration: lockMs,
      stalledInterval: this.#options.stalledIntervalMs ?? lockMs,
      // A job is given to another worker after a crash; only one that keeps killing workers fails.
      maxStalledCount: 2,
      autorun: false,
    });
    this.#worker.on('error', (error) => this.#log({ type: 'error', message: redactTarget(target, error.message) }));
    void this.#worker.run().catch((error: unknown) => this.#log({ type: 'error', message: redactTarget(target, String(error)) }));
    await this.#worker.waitUntilReady();
    this.#log({ type: 'ready', worker: this.name, queue: target.display, store: this.store, concurrency });
  }

  /** Stops taking jobs, lets the ones in hand finish, disconnects. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#worker?.close();
      await this.#session.close();
      await this.#removeWorkDir();
    })();
    return this.#closing;
  }

  /**
   * Stops at once, as a crash would: connections are dropped first, so no job is marked
   * done or failed, then renders are aborted. BullMQ's stall detection gives the jobs in
   * hand to other workers. (Ctrl-C twice on `comic worker`.)
   */
  async kill(): Promise<void> {
    this.#session.kill();
    this.#dead.abort(new ComicError('CANCELLED', `worker ${this.name} was stopped`));
    this.#closing ??= (async () => {
      await this.#worker?.close(true).catch(() => undefined);
      await this.#removeWorkDir();
    })();
    await this.#closing;
  }

  async #process(job: Job, jobSignal: AbortSignal | undefined): Promise<ResultMeta> {
    const key = job.id ?? '';
    const parsed = QueuedRender.safeParse(job.data);
    if (!parsed.success) {
      throw new UnrecoverableError(
        encodeFailure(new ComicError('INTERNAL', `job ${key} on ${this.#options.target.display} is not a comic render of wire version ${WIRE_VERSION}`, {
          hint: 'run the same comic version on the coordinator and every worker',
        })),
      );
    }
    const request = parsed.data;
    this.#log({ type: 'taken', jobId: request.jobId, key, attempt: job.attemptsMade + 1 });
    try {
      return await this.#render(key, request, AbortSignal.any([...(jobSignal ? [jobSignal] : []), this.#dead.signal]));
    } catch (error) {
      if (this.#dead.signal.aborted) throw error; // nobody will read it: the connection is gone
      let failure = this.#masked(jobSignal?.aborted ? new ComicError('CANCELLED', `${request.jobId} was cancelled by its coordinator`) : (this.#ownWriteFailure(error) ?? asComicError(error)));
      const ownDisk = OWN_DISK.has(failure.code);
      if (ownDisk) {
        failure = new ComicError('SERVER_ERROR', `worker ${this.name} cannot write what it renders: ${failure.message}`, {
          hint: `free some space or fix the permissions of ${this.#workDir} on ${this.name}; the other workers take its jobs meanwhile`,
        });
      }
      const retried = RETRYABLE.has(failure.code) && job.attemptsMade + 1 < (job.opts.attempts ?? 1);
      this.#log({ type: 'failed', jobId: request.jobId, key, code: failure.code, message: failure.message, retried });
      if (BACKEND_DOWN.has(failure.code)) {
        this.#pauseUntil(
          { paused: `this worker's backend is down (${failure.message}); taking no jobs until it is back`, resumed: 'the backend is back; taking jobs again' },
          (stop) => this.#options.backend.ready(stop),
        );
      } else if (ownDisk) {
        this.#pauseUntil(
          { paused: `${failure.message}; taking no jobs until its folder takes files again`, resumed: 'its folder takes files again; taking jobs again' },
          () => this.#probeWorkDir(),
        );
      }
      throw RETRYABLE.has(failure.code) ? new Error(encodeFailure(failure)) : new UnrecoverableError(encodeFailure(failure));
    }
  }

  async #render(key: string, request: QueuedRender, signal: AbortSignal): Promise<ResultMeta> {
    const { store, redis } = this.#session;
    const { target, backend } = this.#options;
    const [done, cancelled] = await Promise.all([getResult(store, key), redis.exists(names.cancelMark(target.queue, key))]);
    if (done) {
      this.#log({ type: 'reused', jobId: request.jobId, key });
      return done.meta;
    }
    if (cancelled === 1) {
      throw new ComicError('CANCELLED', `${request.jobId} was cancelled by its coordinator`);
    }
    const template = this.#template(request);
    const inputs = await this.#fetchInputs(request);
    const outputPath = join(this.#workDir!, 'out', `${key}.png`);
    const publish = (raw: RenderEvent) => {
      // Previews are bytes, not text: everything else (server reasons, retry reasons) is masked.
      const event = raw.type === 'preview' ? raw : maskDeep(raw, this.#mask);
      if (event.type === 'server') this.#log({ type: 'event', event });
      redis.publish(names.events(target.queue), encodeMessage(key, this.name, backend.name, event)).catch(() => undefined);
    };
    // A worker that died mid-job may have left its prompt running on a server this one shares: taken over, not sent twice.
    const promptsKey = names.prompts(target.queue, key);
    const prior = (await redis.lrange(promptsKey, 0, -1)).flatMap(parseSentPrompt);
    const result = await backend.render(
      { jobId: request.jobId, key, template, params: request.params, inputs, shot: request.shot, outputPath, prior },
      {
        signal,
        onEvent: publish,
        onSubmit: async (sent) => {
          await redis.multi().rpush(promptsKey, JSON.stringify(sent)).expire(promptsKey, PROMPTS_TTL_SECONDS).exec();
        },
      },
    );
    signal.throwIfAborted();
    if (!isWorkerBackend(result.backend)) throw new ComicError('INTERNAL', `worker ${this.name} rendered with "${result.backend}", which cannot render images`);
    const meta: ResultMeta = {
      v: WIRE_VERSION,
      key,
      backend: result.backend,
      server: result.server,
      worker: this.name,
      dropped: [...result.dropped],
      timings: { ...result.timings },
      store: store.description,
    };
    await putResult(store, await readFile(outputPath), meta);
    await rm(outputPath, { force: true });
    this.#log({ type: 'rendered', jobId: request.jobId, key, backend: meta.backend, server: meta.server, ms: result.timings.runMs });
    return meta;
  }

  /** The coordinator's template, exactly: same id, version and digest. */
  #template(request: QueuedRender): Template {
    const { id, version, digest } = request.template;
    let template: Template;
    try {
      template = this.#options.templates.resolve({ id, range: version });
    } catch (error) {
      throw new ComicError('TEMPLATE_MISMATCH', `worker ${this.name} has no template ${id}@${version}: ${error instanceof Error ? error.message : String(error)}`, {
        hint: 'install the same templates on every worker as on the coordinator (--templates DIR, or the `templates` dirs of comic.config.yaml)',
      });
    }
    if (template.version !== version || template.digest !== digest) {
      throw new ComicError(
        'TEMPLATE_MISMATCH',
        `worker ${this.name}'s template ${id}@${template.version} (${template.dir}) differs from the coordinator's ${id}@${version}: digest ${template.digest.slice(0, 12)} here, ${digest.slice(0, 12)} there`,
        { hint: `copy the coordinator's ${id} template folder to this worker, or run the same comic version on both` },
      );
    }
    return template;
  }

  /** Inputs from the store into the work folder, checked against their hash, fetched once per worker. */
  async #fetchInputs(request: QueuedRender): Promise<RenderInput[]> {
    const inputs: RenderInput[] = [];
    for (const { param, sha256, ext } of request.inputs) {
      const file = join(this.#workDir!, 'inputs', `${sha256}${ext}`);
      const local = await readFile(file).catch(() => null);
      if (local === null) {
        const bytes = await this.#session.store.get('input', sha256);
        if (bytes === null) {
          throw new ComicError('JOB_LOST', `${request.jobId}'s input "${param}" (${sha256.slice(0, 12)}) is not in ${this.store}`, {
            hint: 'the coordinator uploads inputs to its store: give it and every worker the same store (?store=DIR / --store DIR)',
          });
        }
        if (sha256Of(bytes) !== sha256) {
          throw new ComicError('JOB_LOST', `${request.jobId}'s input "${param}" in ${this.store} does not match its hash ${sha256.slice(0, 12)}`);
        }
        await mkdir(join(this.#workDir!, 'inputs'), { recursive: true });
        await writeFileAtomic(file, bytes);
      }
      inputs.push({ param, file, sha256 });
    }
    return inputs;
  }

  /** While this worker's servers are down, or its folder takes no files, it takes no jobs; other workers get them. */
  #pauseUntil(said: { readonly paused: string; readonly resumed: string }, back: (stop: AbortSignal) => Promise<void>): void {
    const worker = this.#worker;
    if (!worker || this.#recovering) return;
    this.#recovering = (async () => {
      this.#log({ type: 'paused', reason: said.paused });
      await worker.pause(true);
      const stop = this.#dead.signal;
      while (!stop.aborted && !this.#closing) {
        await new Promise((resolve) => setTimeout(resolve, this.#options.recheckMs ?? DEFAULT_RECHECK_MS).unref());
        try {
          await back(stop);
          break;
        } catch {
          // still down
        }
      }
      if (!stop.aborted && !this.#closing) {
        worker.resume();
        this.#log({ type: 'resumed', reason: said.resumed });
      }
    })().finally(() => {
      this.#recovering = null;
    });
  }

  /** A write into the work folder that the folder refused (the ComfyUI backend says so itself; a raw one is said here). */
  #ownWriteFailure(error: unknown): ComicError | null {
    if (!isRefusedWrite(error)) return null;
    if (this.#workDir === null || !resolve(error.path).startsWith(resolve(this.#workDir) + sep)) return null;
    const full = isNoSpace(error.code);
    return new ComicError(full ? 'DISK_FULL' : 'FOLDER_NOT_WRITABLE', `${full ? 'no space left' : 'not writable'} (${error.code} on ${error.path})`);
  }

  /** Rejects while the work folder cannot take a file of about a render's size. */
  async #probeWorkDir(): Promise<void> {
    const probe = join(this.#workDir!, 'out', `.write-check.${process.pid}`);
    try {
      await mkdir(join(this.#workDir!, 'out'), { recursive: true });
      await writeFile(probe, Buffer.alloc(PROBE_BYTES));
    } finally {
      await rm(probe, { force: true });
    }
  }

  async #removeWorkDir(): Promise<void> {
    if (this.#workDir) await rm(this.#workDir, { recursive: true, force: true });
  }

  #log(entry: WorkerLogEntry): void {
    this.#options.log?.(entry.type === 'event' && entry.event.type === 'preview' ? entry : maskDeep(entry, this.#mask));
  }

  /** A failure as it may leave the worker: message and hint masked. */
  #masked(error: ComicError): ComicError {
    const message = this.#mask(error.message);
    const hint = error.hint === undefined ? undefined : this.#mask(error.hint);
    if (message === error.message && hint === error.hint) return error;
    return new ComicError(error.code, message, { ...(hint !== undefined && { hint }), cause: error });
  }
}

function parseSentPrompt(text: string): SentPrompt[] {
  try {
    const value = JSON.parse(text) as Partial<SentPrompt>;
    return typeof value.server === 'string' && typeof value.promptId === 'string' ? [{ server: value.server, promptId: value.promptId }] : [];
  } catch {
    return [];
  }
}

function asComicError(error: unknown): ComicError {
  if (isComicError(error)) return error;
  if (error instanceof Error && error.name === 'AbortError') return new ComicError('CANCELLED', 'the render was cancelled');
  return new ComicError('INTERNAL', error instanceof Error ? error.message : String(error));
}
