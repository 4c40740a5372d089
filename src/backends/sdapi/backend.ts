/**
 * The Stable Diffusion API backend: the fallback when no ComfyUI server can be reached.
 * The API has no job queue and serialises generations globally, so we run one request at a
 * time per server and queue the rest here; progress comes from polling `/progress` while
 * our request is the one running.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { ComicError } from '../../errors.js';
import { SdApiClient, type SdApiClientOptions, type SdApiServer } from '../../sdapi/client.js';
import { writeFileAtomic } from '../../util/fs.js';
import { sleep } from '../../util/signals.js';
import type { Backend, RenderOptions, RenderRequest, RenderResult } from '../types.js';
import { mapToSdApi, referencePlan, type ServerCatalogue } from './mapping.js';

export interface SdApiBackendOptions {
  readonly server: SdApiServer;
  /** How often to ask for progress while a generation runs. */
  readonly progressEveryMs?: number;
  /** img2img strength when a template feeds a reference image and sets no `denoise`. */
  readonly defaultDenoise?: number;
  /** Byte caps and deadlines on the server's answers. */
  readonly client?: SdApiClientOptions;
  /**
   * Tries of one render whose answer does not come in time (JOB_TIMEOUT, `timeouts.render`):
   * the stuck one is interrupted (if it is ours) and the render sent again, with a `retry`
   * event, as the ComfyUI pool retries a timed-out prompt; then the job fails. Default 2.
   */
  readonly maxAttempts?: number;
  /** Wait before a retry (default 250 ms, the pool's backoff base). */
  readonly retryDelayMs?: number;
}

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47]);

export class SdApiBackend implements Backend {
  readonly name = 'sdapi' as const;
  readonly #client: SdApiClient;
  #catalogue: Promise<ServerCatalogue> | null = null;
  /** The tail of the one-at-a-time chain. */
  #turn: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: SdApiBackendOptions) {
    this.#client = new SdApiClient(options.server, options.client);
  }

  async ready(signal: AbortSignal): Promise<void> {
    await this.#load(signal);
  }

  render(request: RenderRequest, options: RenderOptions): Promise<RenderResult> {
    const queuedAt = Date.now();
    const run = this.#turn.then(() => this.#render(request, options, queuedAt));
    this.#turn = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    await this.#turn;
  }

  #load(signal: AbortSignal): Promise<ServerCatalogue> {
    this.#catalogue ??= (async () => {
      const [samplers, schedulers, models] = await Promise.all([
        this.#client.samplers(signal),
        this.#client.schedulers(signal),
        this.#client.sdModels(signal),
      ]);
      return { samplers, schedulers, models };
    })();
    // A failed probe must not poison later attempts (the server may come up).
    this.#catalogue.catch(() => (this.#catalogue = null));
    return this.#catalogue;
  }

  async #render(request: RenderRequest, options: RenderOptions, queuedAt: number): Promise<RenderResult> {
    const { signal, onEvent } = options;
    signal.throwIfAborted();
    const server = this.options.server.url;
    const catalogue = await this.#load(signal);
    const taskId = `comic-${randomUUID()}`;
    // Per image: the one img2img can start from, and every other one named in `dropped`.
    const plan = referencePlan(request.template, request.inputs);
    const reference = plan.init;
    const { mode, body, dropped } = mapToSdApi(request.template, request.params, reference !== null, catalogue, taskId);
    dropped.push(...plan.dropped);
    if (reference && mode === 'img2img') {
      body.init_images = [(await readFile(reference.file)).toString('base64')];
      // The template's mapping may set the strength; otherwise a `denoise` parameter, otherwise ours.
      body.denoising_strength ??= typeof request.params.denoise === 'number' ? request.params.denoise : (this.options.defaultDenoise ?? 0.75);
    }

    const startedAt = Date.now();
    onEvent({ type: 'started', jobId: request.jobId, server });
    const maxAttempts = Math.max(1, this.options.maxAttempts ?? 2);
    let images: readonly string[] = [];
    let first = 0;
    for (let attempt = 1; ; attempt++) {
      // Each try is its own task, so progress and an interrupt only ever concern this one.
      const task = attempt === 1 ? taskId : `comic-${randomUUID()}`;
      body.force_task_id = task;
      try {
        ({ images, first } = await this.#generate(request.jobId, mode, body, task, options));
        break;
      } catch (error) {
        if (!(error instanceof ComicError) || error.code !== 'JOB_TIMEOUT' || signal.aborted) throw error;
        // The server took the render and did not answer: stop it if it is ours, so the next try is not queued behind it.
        await this.#interruptIfOurs(task);
        if (attempt >= maxAttempts) {
          throw new ComicError('JOB_TIMEOUT', `${error.message}, ${attempt} time${attempt === 1 ? '' : 's'}; ${request.jobId} failed`, { hint: error.hint, cause: error });
        }
        onEvent({ type: 'retry', jobId: request.jobId, server, attempt: attempt + 1, reason: error.message });
        await sleep(this.options.retryDelayMs ?? 250, signal);
      }
    }
    const encoded = images[first];
    if (encoded === undefined) {
      throw new ComicError('JOB_FAILED', `Stable Diffusion API at ${server} returned no image for ${request.jobId}`);
    }
    let bytes = Buffer.from(encoded, 'base64');
    // samples_format may be jpg or webp; our outputs are always PNG.
    if (!bytes.subarray(0, 4).equals(PNG_MAGIC)) {
      try {
        bytes = await sharp(bytes).png().toBuffer();
      } catch {
        throw new ComicError('SERVER_PROTOCOL', `Stable Diffusion API at ${server} returned an image that cannot be decoded for ${request.jobId}`);
      }
    }
    await writeFileAtomic(request.outputPath, bytes);
    return {
      jobId: request.jobId,
      backend: 'sdapi',
      server,
      outputPath: request.outputPath,
      dropped,
      timings: { queuedMs: startedAt - queuedAt, runMs: Date.now() - startedAt },
    };
  }

  /** One generation request, with progress polled while it runs and an interrupt if the caller aborts. */
  async #generate(jobId: string, mode: 'txt2img' | 'img2img', body: Record<string, unknown>, taskId: string, options: RenderOptions): Promise<{ images: readonly string[]; first: number }> {
    const { signal } = options;
    const stopPolling = this.#pollProgress(jobId, taskId, options);
    const onAbort = () => void this.#interruptIfOurs(taskId);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const response = mode === 'img2img' ? await this.#client.img2img(body, signal) : await this.#client.txt2img(body, signal);
      return { images: response.images, first: response.info.index_of_first_image ?? 0 }; // a grid may come first
    } finally {
      stopPolling();
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Reports step progress while our task is the one running; returns the stop function. */
  #pollProgress(jobId: string, taskId: string, { signal, onEvent }: RenderOptions): () => void {
    const every = this.options.progressEveryMs ?? 1000;
    const poller = new AbortController();
    const stop = () => poller.abort();
    signal.addEventListener('abort', stop, { once: true });
    const tick = async () => {
      while (!poller.signal.aborted) {
        await new Promise((r) => setTimeout(r, every).unref());
        if (poller.signal.aborted) break;
        try {
          const p = await this.#client.progress(poller.signal);
          if (p.current_task === taskId && p.state.sampling_steps > 0) {
            onEvent({ type: 'progress', jobId, server: this.options.server.url, node: 'sdapi', value: p.state.sampling_step, max: p.state.sampling_steps });
          }
        } catch {
          // progress is a nicety; the generation request itself reports real failures
        }
      }
    };
    void tick();
    return () => {
      signal.removeEventListener('abort', stop);
      stop();
    };
  }

  /** Interrupt is global on this API: only send it while the running task is ours. */
  async #interruptIfOurs(taskId: string): Promise<void> {
    const quick = AbortSignal.timeout(5000);
    try {
      const p = await this.#client.progress(quick);
      if (p.current_task === taskId) await this.#client.interrupt(quick);
    } catch {
      // the server may already be gone; nothing of ours is left to stop then
    }
  }
}
