/**
 * The emulated webui's one GPU: a global generation lock (a second request waits), the
 * global `shared.state` that /progress reports, interrupt/skip, and the timed sampling loop.
 * Field names and the progress arithmetic follow modules/shared_state.py and
 * modules/api/api.py (progressapi) of webui 1.10.
 */
import type { SdFaults } from './faults.js';

/** Thrown into waiting and running jobs when the emulator dies or shuts down. */
export class EmulatorStopped extends Error {
  constructor(reason: string) {
    super(`SD API emulator stopped: ${reason}`);
  }
}

/** What GET /sdapi/v1/progress puts in `state` (State.dict()). */
export interface SdStateDict {
  skipped: boolean;
  interrupted: boolean;
  stopping_generation: boolean;
  job: string;
  job_count: number;
  job_timestamp: string;
  job_no: number;
  sampling_step: number;
  sampling_steps: number;
}

export interface ProgressBody {
  progress: number;
  eta_relative: number;
  state: SdStateDict;
  current_image: string | null;
  textinfo: string | null;
  current_task: string | null;
}

export interface LivePreviewSettings {
  readonly enabled: boolean;
  /** Steps between preview refreshes (show_progress_every_n_steps); -1 = only at the end of a batch. */
  readonly everyNSteps: number;
}

export type PreviewRenderer = (completed: number) => Promise<Buffer>;

/** A running job's handle on the shared state. */
export interface RunningJob {
  /** state.job_count: the number of batches (n_iter). */
  setJobCount(count: number): void;
  readonly interrupted: boolean;
  /** state.job_timestamp of this job ("%Y%m%d%H%M%S"), as info.job_timestamp reports it. */
  readonly jobTimestamp: string;
  /** Starts batch `index`; false when the job was interrupted and must stop (no images for it). */
  startBatch(index: number, count: number): boolean;
  /** Runs the sampling steps; resolves with how many completed (fewer after interrupt or skip). */
  sample(steps: number): Promise<number>;
  /** state.nextjob(): the batch is done. */
  nextJob(): void;
  /** Renders the live preview (the latent decoded so far, `completed` 0..1) when /progress asks for one. */
  setPreviewRenderer(render: PreviewRenderer | null): void;
}

/** FIFO mutual exclusion; waiters can be failed all at once when the server goes away. */
class GenerationLock {
  private held = false;
  private readonly waiting: { resolve: () => void; reject: (error: Error) => void }[] = [];

  acquire(): Promise<void> {
    if (!this.held) {
      this.held = true;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next.resolve();
    else this.held = false;
  }

  failWaiting(error: Error): void {
    for (const waiter of this.waiting.splice(0)) waiter.reject(error);
  }
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. Zero still yields to I/O. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (elapsed: boolean): void => {
      signal.removeEventListener('abort', onAbort);
      resolve(elapsed);
    };
    const onAbort = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      if (immediate !== undefined) clearImmediate(immediate);
      done(false);
    };
    let timer: NodeJS.Timeout | undefined;
    let immediate: NodeJS.Immediate | undefined;
    if (ms > 0) timer = setTimeout(() => done(true), ms);
    else immediate = setImmediate(() => done(true));
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** "%Y%m%d%H%M%S" in local time, as datetime.now().strftime gives it. */
function jobTimestamp(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return (
    `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}` +
    `${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`
  );
}

export class SdEngine {
  private readonly lock = new GenerationLock();
  private readonly state: SdStateDict = {
    skipped: false,
    interrupted: false,
    stopping_generation: false,
    job: '',
    job_count: 0,
    job_timestamp: '0',
    job_no: 0,
    sampling_step: 0,
    sampling_steps: 0,
  };
  private timeStart = 0;
  private currentTask: string | null = null;
  private currentImage: string | null = null;
  private currentImageStep = 0;
  private previewRenderer: PreviewRenderer | null = null;
  /** Wakes the sleeping sampling step early (interrupt, skip, stop). */
  private stepWake = new AbortController();
  private stopped: EmulatorStopped | null = null;
  private killed = false;

  constructor(
    private readonly faults: SdFaults,
    /** Called when `faults.killAtStep` is reached: the emulator must die now. */
    private readonly onKillPoint: () => void,
  ) {}

  /** Runs `body` holding the generation lock, between state.begin() and state.end(). */
  async run<T>(taskId: string, jobName: string, body: (job: RunningJob) => Promise<T>): Promise<T> {
    if (this.stopped) throw this.stopped;
    await this.lock.acquire();
    try {
      if (this.stopped) throw this.stopped;
      this.begin(jobName);
      this.currentTask = taskId;
      const result = await body(this.handle());
      // finish_task only runs on success: after a failure the webui keeps reporting the task.
      this.currentTask = null;
      return result;
    } finally {
      this.end();
      this.lock.release();
    }
  }

  interrupt(): void {
    this.state.interrupted = true;
    this.wakeStep();
  }

  skip(): void {
    this.state.skipped = true;
    this.wakeStep();
  }

  /** Graceful shutdown: the running job returns what it has; waiting ones are dropped. */
  shutDown(): void {
    this.stopped ??= new EmulatorStopped('closed');
    this.lock.failWaiting(this.stopped);
    this.state.interrupted = true;
    this.wakeStep();
  }

  /** Death: every job, running or waiting, fails at once. */
  kill(): void {
    this.killed = true;
    this.stopped = new EmulatorStopped('killed');
    this.lock.failWaiting(this.stopped);
    this.wakeStep();
  }

  async progress(skipCurrentImage: boolean, previews: LivePreviewSettings): Promise<ProgressBody> {
    const state = { ...this.state };
    if (state.job_count === 0) {
      return { progress: 0, eta_relative: 0, state, current_image: null, textinfo: null, current_task: null };
    }
    let progress = 0.01;
    if (state.job_count > 0) progress += state.job_no / state.job_count;
    // job_count is -1 between state.begin() and the first batch: the webui divides by it anyway.
    if (state.sampling_steps > 0) progress += ((1 / state.job_count) * state.sampling_step) / state.sampling_steps;
    const elapsed = (Date.now() - this.timeStart) / 1000;
    const etaRelative = elapsed / progress - elapsed;
    await this.refreshPreview(previews);
    return {
      progress: Math.min(progress, 1),
      eta_relative: etaRelative,
      state,
      current_image: skipCurrentImage ? null : this.currentImage,
      textinfo: null,
      current_task: this.currentTask,
    };
  }

  /** state.set_current_image(): a new preview once enough steps passed since the last one. */
  private async refreshPreview(previews: LivePreviewSettings): Promise<void> {
    const render = this.previewRenderer;
    if (!previews.enabled || previews.everyNSteps === -1 || render === null) return;
    if (this.state.sampling_step - this.currentImageStep < previews.everyNSteps) return;
    const step = this.state.sampling_step;
    const steps = this.state.sampling_steps;
    const png = await render(steps > 0 ? Math.min(1, (step + 1) / steps) : 0);
    this.currentImage = png.toString('base64');
    this.currentImageStep = step;
  }

  private begin(jobName: string): void {
    const now = new Date();
    Object.assign(this.state, {
      sampling_step: 0,
      job_count: -1,
      job_no: 0,
      job_timestamp: jobTimestamp(now),
      skipped: false,
      interrupted: false,
      stopping_generation: false,
      job: jobName,
    });
    this.timeStart = now.getTime();
    this.currentImage = null;
    this.currentImageStep = 0;
    this.previewRenderer = null;
  }

  private end(): void {
    this.state.job = '';
    this.state.job_count = 0;
    this.previewRenderer = null;
  }

  private wakeStep(): void {
    this.stepWake.abort();
    this.stepWake = new AbortController();
  }

  private handle(): RunningJob {
    const state = this.state;
    // Arrow functions keep `this` bound to the engine inside the handle's methods.
    const sample = async (steps: number): Promise<number> => {
      state.sampling_steps = steps;
      state.sampling_step = 0;
      let done = 0;
      while (done < steps) {
        if (state.interrupted || state.skipped) break;
        const elapsed = await sleep(this.faults.stepMs, this.stepWake.signal);
        if (this.killed && this.stopped) throw this.stopped;
        if (!elapsed) continue; // woken early: the loop head decides whether to stop
        // The k-diffusion callback reports the 0-based index of the step just finished.
        state.sampling_step = done;
        done += 1;
        if (this.faults.killAtStep === done) {
          this.onKillPoint();
          throw this.stopped ?? new EmulatorStopped('killed');
        }
      }
      return done;
    };
    return {
      setJobCount: (count) => {
        state.job_count = count;
      },
      get interrupted() {
        return state.interrupted;
      },
      get jobTimestamp() {
        return state.job_timestamp;
      },
      startBatch: (index, count) => {
        if (state.skipped) state.skipped = false;
        if (state.interrupted) return false;
        if (count > 1) state.job = `Batch ${index + 1} out of ${count}`;
        return true;
      },
      sample,
      nextJob: () => {
        state.job_no += 1;
        state.sampling_step = 0;
        this.currentImageStep = 0;
      },
      setPreviewRenderer: (render) => {
        this.previewRenderer = render;
      },
    };
  }
}
