/**
 * The server's jobs: a FIFO queue in front of the one shared backend, each job's state,
 * progress and outputs, and cancellation. A job is one `generate()` run (a panel, or a whole
 * script) on its own event bus, so its events are its own even though every job renders on
 * the same servers.
 *
 * Two jobs that would write the same content key (the same panel asked for twice, or two
 * panels with the same character's sheet) never run at once: the second waits, then finds
 * the image in the cache. That saves the duplicate render and keeps two runs from staging
 * the same cache entry at the same time. Jobs with nothing in common overtake a waiting one.
 */
import { ComicError, isComicError } from '../errors.js';
import { EventBus, type RunEvent, type RunSummary } from '../progress/events.js';
import { ProgressTracker, type JobErrorInfo, type JobOutput, type JobProgress, type JobState, type ServeMessage } from './messages.js';

export type JobKind = 'panel' | 'comic';

export interface JobSpec {
  readonly id: string;
  readonly kind: JobKind;
  /** The caller's label: only that caller sees the job. */
  readonly owner: string;
  /** Its own folder under the output folder. */
  readonly dir: string;
  /** Content keys of what the job may put into the cache. */
  readonly keys: ReadonlySet<string>;
  /** The files a client will want (the panel; the pages), known before the run. */
  readonly expected: readonly string[];
  /** Which finished images (plan job ids) are the job's outputs. */
  readonly isOutput: (image: string) => boolean;
  /** Renders; resolves with the run's summary. */
  readonly run: (bus: EventBus, signal: AbortSignal) => Promise<RunSummary>;
}

/** A job as clients see it (GET /api/jobs/:id). */
export interface JobView {
  readonly id: string;
  readonly kind: JobKind;
  readonly state: JobState;
  /** In our queue: 1 is next. */
  readonly position: number | null;
  readonly progress: JobProgress;
  readonly outputs: readonly JobOutput[];
  readonly error: JobErrorInfo | null;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
}

export interface JobQueueOptions {
  /** Runs at once; the backend spreads their renders over the servers. */
  readonly concurrency: number;
  /** Finished jobs kept in memory (their files stay on disk); the oldest go first. */
  readonly keepFinished?: number;
  /** An output file's URL. */
  readonly urlOf: (job: JobSpec, path: string) => string;
}

interface Job {
  readonly spec: JobSpec;
  state: JobState;
  position: number | null;
  tracker: ProgressTracker;
  outputs: JobOutput[];
  error: JobErrorInfo | null;
  readonly createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  readonly controller: AbortController;
  readonly settled: Promise<void>;
  settle: () => void;
}

const FINISHED: ReadonlySet<JobState> = new Set(['completed', 'failed', 'cancelled']);

export class JobQueue {
  readonly #jobs = new Map<string, Job>();
  readonly #waiting: Job[] = [];
  readonly #running = new Map<Job, Promise<void>>();
  /** Content key → running jobs holding it. */
  readonly #busy = new Map<string, number>();
  readonly #finished: string[] = [];
  readonly #listeners = new Set<(message: ServeMessage) => void>();
  #closed = false;

  constructor(private readonly options: JobQueueOptions) {
    if (!(options.concurrency >= 1)) throw new ComicError('INTERNAL', `job concurrency must be at least 1, not ${options.concurrency}`);
  }

  /** Every message about every job; returns the unsubscribe function. */
  on(listener: (message: ServeMessage) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  submit(spec: JobSpec): JobView {
    if (this.#closed) throw new ComicError('CANCELLED', 'the server is shutting down');
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    const job: Job = {
      spec,
      state: 'queued',
      position: null,
      tracker: new ProgressTracker(spec.id),
      outputs: [],
      error: null,
      createdAt: new Date(),
      startedAt: null,
      finishedAt: null,
      controller: new AbortController(),
      settled,
      settle,
    };
    this.#jobs.set(spec.id, job);
    this.#waiting.push(job);
    // Every job is announced as queued, also one that starts at once: clients see one lifecycle.
    job.position = this.#waiting.length;
    this.#emit({ type: 'queued', job: spec.id, position: job.position, server: null });
    this.#pump();
    return view(job);
  }

  /** The job, if it exists and belongs to `owner`. */
  get(id: string, owner: string): JobView | null {
    const job = this.#owned(id, owner);
    return job ? view(job) : null;
  }

  /** The jobs of `owner` still remembered, newest first (GET /api/jobs). */
  list(owner: string): JobView[] {
    const owned = [...this.#jobs.values()].filter((job) => job.spec.owner === owner);
    return owned.reverse().map(view);
  }

  /** Resolves once the job is completed, failed or cancelled. */
  async settled(id: string, owner: string): Promise<JobView | null> {
    const job = this.#owned(id, owner);
    if (!job) return null;
    await job.settled;
    return view(job);
  }

  /** The job's folder, if it exists and belongs to `owner`. */
  dirOf(id: string, owner: string): string | null {
    return this.#owned(id, owner)?.spec.dir ?? null;
  }

  /**
   * Cancels a job: a queued one leaves the queue, a running one is aborted (its remote
   * prompts interrupted) and becomes `cancelled` when its run has stopped.
   */
  cancel(id: string, owner: string): JobView | null {
    const job = this.#owned(id, owner);
    if (!job) return null;
    if (job.state === 'queued') {
      this.#waiting.splice(this.#waiting.indexOf(job), 1);
      this.#finish(job, 'cancelled', null);
      this.#pump();
    } else if (job.state === 'processing') {
      job.controller.abort(new ComicError('CANCELLED', 'the job was cancelled by its client'));
    }
    return view(job);
  }

  /** Jobs of `owner` not finished yet: the per-key cap counts these. */
  pendingFor(owner: string): number {
    let count = 0;
    for (const job of this.#jobs.values()) if (job.spec.owner === owner && !FINISHED.has(job.state)) count++;
    return count;
  }

  get stats(): { readonly queued: number; readonly running: number; readonly kept: number } {
    return { queued: this.#waiting.length, running: this.#running.size, kept: this.#jobs.size };
  }

  /** Stops taking jobs, cancels the queued ones, aborts the running ones and waits for them. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#waiting.splice(0)) this.#finish(job, 'cancelled', null);
    for (const job of this.#running.keys()) job.controller.abort(new ComicError('CANCELLED', 'the server is shutting down'));
    await Promise.all(this.#running.values());
  }

  #owned(id: string, owner: string): Job | null {
    const job = this.#jobs.get(id);
    return job && job.spec.owner === owner ? job : null;
  }

  #pump(): void {
    for (let i = 0; i < this.#waiting.length && this.#running.size < this.options.concurrency; ) {
      const job = this.#waiting[i]!;
      if ([...job.spec.keys].some((key) => this.#busy.has(key))) {
        i++;
        continue;
      }
      this.#waiting.splice(i, 1);
      this.#start(job);
    }
    for (const [i, job] of this.#waiting.entries()) {
      if (job.position === i + 1) continue;
      job.position = i + 1;
      this.#emit({ type: 'queued', job: job.spec.id, position: job.position, server: null });
    }
  }

  #start(job: Job): void {
    job.state = 'processing';
    job.position = null;
    job.startedAt = new Date();
    for (const key of job.spec.keys) this.#busy.set(key, (this.#busy.get(key) ?? 0) + 1);
    this.#emit({ type: 'processing', job: job.spec.id, progress: job.tracker.progress });
    this.#running.set(job, this.#run(job));
  }

  async #run(job: Job): Promise<void> {
    const bus = new EventBus();
    let firstFailure: JobErrorInfo | null = null;
    const off = bus.on((event) => {
      if (event.type === 'job-failed') firstFailure ??= event.error;
      this.#collect(job, event);
      const message = job.tracker.next(event);
      if (message) this.#emit(message);
    });
    let state: JobState;
    let error: JobErrorInfo | null = null;
    try {
      const summary = await job.spec.run(bus, job.controller.signal);
      if (job.controller.signal.aborted) state = 'cancelled';
      else if (summary.ok) state = 'completed';
      else {
        state = 'failed';
        error = firstFailure ?? { code: 'JOB_FAILED', message: `${summary.failed} failed and ${summary.skipped} skipped of ${summary.total}` };
      }
    } catch (thrown) {
      if (job.controller.signal.aborted || (isComicError(thrown) && thrown.code === 'CANCELLED')) state = 'cancelled';
      else {
        state = 'failed';
        error = isComicError(thrown)
          ? { code: thrown.code, message: thrown.message }
          : { code: 'INTERNAL', message: thrown instanceof Error ? thrown.message : String(thrown) };
      }
    } finally {
      off();
      for (const key of job.spec.keys) {
        const count = this.#busy.get(key)! - 1;
        if (count === 0) this.#busy.delete(key);
        else this.#busy.set(key, count);
      }
      this.#running.delete(job);
    }
    this.#finish(job, state, error);
    if (!this.#closed) this.#pump();
  }

  #collect(job: Job, event: RunEvent): void {
    if (event.type !== 'job-done' && event.type !== 'job-cached') return;
    if (!job.spec.isOutput(event.job)) return;
    const rendered = event.type === 'job-done';
    job.outputs.push({
      image: event.job,
      url: this.options.urlOf(job.spec, event.output),
      backend: rendered ? event.backend : null,
      server: rendered ? event.server : null,
      cached: !rendered,
    });
  }

  #finish(job: Job, state: JobState, error: JobErrorInfo | null): void {
    job.state = state;
    job.position = null;
    job.error = error;
    job.finishedAt = new Date();
    const id = job.spec.id;
    if (state === 'completed') this.#emit({ type: 'completed', job: id, outputs: job.outputs });
    else if (state === 'failed') this.#emit({ type: 'failed', job: id, error: error! });
    else this.#emit({ type: 'cancelled', job: id });
    job.settle();
    this.#finished.push(id);
    const keep = this.options.keepFinished ?? 1000;
    while (this.#finished.length > keep) this.#jobs.delete(this.#finished.shift()!);
  }

  #emit(message: ServeMessage): void {
    for (const listener of this.#listeners) listener(message);
  }
}

function view(job: Job): JobView {
  return {
    id: job.spec.id,
    kind: job.spec.kind,
    state: job.state,
    position: job.position,
    progress: job.tracker.progress,
    outputs: job.outputs,
    error: job.error,
    createdAt: job.createdAt.toISOString(),
    startedAt: job.startedAt?.toISOString() ?? null,
    finishedAt: job.finishedAt?.toISOString() ?? null,
  };
}
