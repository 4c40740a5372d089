/**
 * One prompt on one server, from POST to a settled outcome. The WebSocket gives live
 * progress and the fast "done" signal (`executing` with node null, or an end event shortly
 * before it); `/history` is the truth, read on that signal and by a slow poll beside the
 * socket (which asks /api/jobs/{id} first where the server has it), so a silent socket never hangs a job. A prompt neither queued nor in history has vanished: it is resubmitted once
 * under the same prompt_id, then given up (JOB_LOST). Silence budgets are measured in
 * wall-clock time on every tick, so a suspended laptop cannot stretch them.
 */
import { ComicError, isComicError } from '../errors.js';
import { readOutcome } from './history.js';
import type { BinaryFrame, ComfyMessage } from './messages.js';
import type { Routes } from './routes.js';
import { cancelledError, deadline, sleep } from '../util/signals.js';
import type { ApiWorkflow, OutputFile, PromptTimings, Timeouts } from './types.js';

export type JobEvent =
  | { readonly type: 'queued'; readonly position: number }
  | { readonly type: 'started' }
  | { readonly type: 'cached'; readonly nodes: readonly string[] }
  | { readonly type: 'node'; readonly node: string; readonly title: string; readonly classType: string }
  | { readonly type: 'progress'; readonly node: string; readonly value: number; readonly max: number }
  | { readonly type: 'preview'; readonly mime: string; readonly bytes: Uint8Array }
  | { readonly type: 'completed'; readonly outputs: readonly OutputFile[] }
  | { readonly type: 'failed'; readonly error: ComicError }
  | { readonly type: 'interrupted' };

/**
 * The server ran the prompt (it said so: `executing null`, an end event, or /api/jobs) but
 * its outcome could not be read in time (a /history that does not answer): JOB_TIMEOUT,
 * retried by the pool as a read of the same prompt, never as a new render.
 */
export class OutcomeUnreadError extends ComicError {
  constructor(
    readonly promptId: string,
    message: string,
    options: { hint?: string; cause?: unknown } = {},
  ) {
    super('JOB_TIMEOUT', message, options);
  }
}

export interface JobResult {
  readonly promptId: string;
  readonly server: string;
  readonly outputs: readonly OutputFile[];
  readonly cachedNodes: readonly string[];
  readonly timings: PromptTimings;
}

/** What a job needs from its client. */
export interface JobHost {
  readonly routes: Routes;
  readonly clientId: string;
  readonly serverName: string;
  readonly timeouts: Timeouts;
  /** Aborts when the client closes. */
  readonly lifetime: AbortSignal;
  isSocketOpen(): boolean;
  /** Prompts ahead of this one on the server, as far as we know (its last status, our own earlier prompts). */
  promptsAhead(job: PromptJob): number;
  /** The socket may be deaf (the result came from the poll): reopen it. */
  suspectSocket(): void;
  /** We lost track of whether the server has this prompt: withdraw it when the server answers again. */
  orphan(promptId: string): void;
  /** Called once when the job settles. */
  release(job: PromptJob): void;
}

type Phase = 'submitting' | 'queued' | 'running' | 'finishing' | 'cancelling' | 'done';

const HISTORY_RETRIES = 5;
const HISTORY_RETRY_MS = 40;
const MAX_RESUBMITS = 1;
const MAX_POLL_ERRORS = 3;
const CANCEL_POLL_MS = 50;
const RUNNING_CANCEL_DELAY_MS = 20;
const END_MARKER_GRACE_MS = 25;

export class PromptJob {
  readonly result: Promise<JobResult>;
  #phase: Phase = 'submitting';
  #resolve!: (result: JobResult) => void;
  #reject!: (error: unknown) => void;
  readonly #listeners = new Set<(event: JobEvent) => void>();
  #submittedAt = Date.now();
  #lastActivity = Date.now();
  #lastSocketActivity = Date.now();
  #lastPoll = Date.now();
  #sawNode = false;
  #currentNode: string | null = null;
  #resubmits = 0;
  #pollErrors = 0;
  #polling = false;
  #position = Number.POSITIVE_INFINITY;
  #submission: Promise<void> = Promise.resolve();
  /** Socket messages that beat the POST answer (an idle server starts at once): replayed once it is in. */
  #early: ComfyMessage[] = [];
  #serverDoneCalled = false;
  /** When the server said the prompt is done (null: not yet): from then on its outcome must be read within `timeouts.request`. */
  #doneAt: number | null = null;

  constructor(
    private readonly host: JobHost,
    readonly promptId: string,
    readonly workflow: ApiWorkflow,
    private readonly extraData: Readonly<Record<string, unknown>> | undefined,
    /** Called once, as soon as the server is done with the prompt (before history is read): its slot is free. */
    private readonly onServerDone: (() => void) | undefined,
  ) {
    this.result = new Promise<JobResult>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // Callers always await `result`; this keeps an early failure from being reported as unhandled first.
    this.result.catch(() => undefined);
  }

  get phase(): Phase {
    return this.#phase;
  }

  get isRunning(): boolean {
    return this.#phase === 'running';
  }

  get isSettled(): boolean {
    return this.#phase === 'done';
  }

  subscribe(listener: (event: JobEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Sends the prompt. `signal` is the caller's: aborting it withdraws the prompt from the server.
   * `adopt`: an earlier run of ours sent this prompt id (and died): take it over where the
   * server still has it, queued, running or finished, and send it only if it is gone.
   */
  start(signal: AbortSignal, mode: 'submit' | 'adopt' = 'submit'): void {
    const onAbort = (): void => void this.cancel();
    if (signal.aborted) {
      this.#settleError(cancelledError(`prompt ${this.promptId}`), 'interrupted');
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    void this.result.finally(() => signal.removeEventListener('abort', onAbort)).catch(() => undefined);
    this.#submission = mode === 'adopt' ? this.#adopt() : this.#submit();
  }

  async #adopt(): Promise<void> {
    // A server that answers its socket but not our question (a /history that hangs) may well
    // still have the prompt: watch it (the poll finds out) rather than send it again.
    const found = await this.#priorState().catch(() => (this.host.isSocketOpen() ? ('kept' as const) : ('gone' as const)));
    if (this.#phase !== 'submitting') return;
    if (found === 'gone') return this.#submit(); // same id: a server that still knows it overwrites its history entry
    this.#accepted(this.host.promptsAhead(this));
    await this.poll();
  }

  /** What the server knows of this prompt: kept (queued, running, or finished well), or gone (unknown, failed, interrupted). */
  async #priorState(): Promise<'kept' | 'gone'> {
    const budget = deadline(this.host.lifetime, this.host.timeouts.cancel);
    try {
      // Where the server has /api/jobs/{id}, one small answer says it; a finished one is still read from history.
      const state = await this.host.routes.job(this.promptId, budget.signal);
      if (state === 'pending' || state === 'in_progress') return 'kept';
      if (state === null || state === 'failed' || state === 'cancelled') return 'gone';
      const entry = await this.host.routes.history(this.promptId, budget.signal);
      if (entry !== null) return readOutcome(entry, this.workflow, this.host.routes.label, this.#submittedAt).kind === 'success' ? 'kept' : 'gone';
      if (state !== undefined) return 'gone'; // completed by /api/jobs but without a history entry: not ours to trust
      const queue = await this.host.routes.queue(budget.signal);
      return queue.running.includes(this.promptId) || queue.pending.includes(this.promptId) ? 'kept' : 'gone';
    } finally {
      budget.dispose();
    }
  }

  async #submit(): Promise<void> {
    const signal = this.host.lifetime;
    try {
      // Counted before our POST: the prompts ahead of ours, whoever sent them.
      const ahead = this.host.promptsAhead(this);
      this.#submittedAt = Date.now();
      const { partial } = await this.host.routes.queuePrompt(
        { prompt: this.workflow, client_id: this.host.clientId, prompt_id: this.promptId, ...(this.extraData ? { extra_data: this.extraData } : {}) },
        signal,
      );
      if (partial !== null) {
        // The server queued only the outputs that validated: take it back, then fail.
        await this.#withdraw();
        this.#settleError(partial, 'failed');
        return;
      }
      this.#accepted(ahead);
    } catch (error) {
      if (this.#phase !== 'submitting') return;
      if (isComicError(error) && ['SERVER_UNREACHABLE', 'SERVER_ERROR', 'SERVER_PROTOCOL'].includes(error.code)) {
        // The POST may have landed before its answer was lost or garbled. We named the prompt,
        // so ask the server instead of guessing: resubmitting blindly could run it twice.
        const landed = await this.#isKnownToServer().catch(() => null);
        if (landed === true) {
          this.#accepted(this.host.promptsAhead(this));
          return;
        }
        if (landed === null) this.host.orphan(this.promptId);
      }
      this.#settleError(error, 'failed');
    }
  }

  /** The server has our prompt: watch it, and replay what the socket said while the POST was out. */
  #accepted(ahead: number): void {
    if (this.#phase !== 'submitting') return; // cancelled meanwhile; cancel() withdraws it
    this.#phase = 'queued';
    this.#position = ahead;
    this.#touch();
    this.#emit({ type: 'queued', position: ahead });
    const early = this.#early;
    this.#early = [];
    for (const message of early) this.onMessage(message);
  }

  async #isKnownToServer(): Promise<boolean> {
    const budget = deadline(this.host.lifetime, this.host.timeouts.cancel);
    try {
      const state = await this.host.routes.job(this.promptId, budget.signal);
      if (state !== undefined) return state !== null;
      if ((await this.host.routes.history(this.promptId, budget.signal)) !== null) return true;
      const queue = await this.host.routes.queue(budget.signal);
      return queue.running.includes(this.promptId) || queue.pending.includes(this.promptId);
    } finally {
      budget.dispose();
    }
  }

  /** A WebSocket message about this prompt (the client routes them by prompt_id). */
  onMessage(message: ComfyMessage): void {
    if (this.#phase === 'submitting') {
      this.#early.push(message);
      return;
    }
    if (this.#phase === 'done') return;
    this.#lastSocketActivity = Date.now();
    this.#touch();
    switch (message.type) {
      case 'execution_start':
        this.#markStarted();
        return;
      case 'execution_cached':
        this.#markStarted();
        if (message.nodes.length > 0) this.#emit({ type: 'cached', nodes: message.nodes });
        return;
      case 'executing':
        if (message.node === null) {
          void this.#finish();
          return;
        }
        this.#markStarted();
        this.#sawNode = true;
        this.#onNode(message.displayNode ?? message.node);
        return;
      case 'progress':
        this.#markStarted();
        this.#sawNode = true;
        this.#emit({ type: 'progress', node: message.node ?? this.#currentNode ?? '', value: message.value, max: message.max });
        return;
      case 'execution_success':
      case 'execution_interrupted':
        this.#finishSoon();
        return;
      case 'execution_error':
        // ExecutionBlocked is a mere notice: the prompt keeps running (§4.3).
        if (!message.blocked) this.#finishSoon();
        return;
      default:
        return;
    }
  }

  onPreview(frame: Extract<BinaryFrame, { kind: 'preview' }>): void {
    if (this.#phase !== 'queued' && this.#phase !== 'running') return; // a picture is only worth showing once we know the prompt is in
    this.#lastSocketActivity = Date.now();
    this.#touch();
    this.#markStarted();
    this.#emit({ type: 'preview', mime: frame.mime, bytes: frame.bytes });
  }

  /** The server's queue moved (a `status` broadcast): a waiting prompt is not stuck. */
  onQueueActivity(): void {
    if (this.#phase === 'queued') this.#touch();
  }

  /** Called on every client tick: silence budgets, and the slow history poll. */
  tick(now: number): void {
    if (this.#phase !== 'queued' && this.#phase !== 'running') return;
    const budget = this.#budget();
    if (now - this.#lastActivity > budget.ms) {
      void this.#timeout(budget.what, now - this.#lastActivity);
      return;
    }
    if (now - this.#lastPoll >= this.host.timeouts.poll) void this.poll();
  }

  /** Checks history (and the queue) now: after a reconnect, and on the slow timer. */
  async poll(): Promise<void> {
    if (this.#polling || (this.#phase !== 'queued' && this.#phase !== 'running')) return;
    this.#polling = true;
    this.#lastPoll = Date.now();
    const routes = this.host.routes;
    const signal = this.host.lifetime;
    try {
      // Where the server has /api/jobs/{id} (0.8.0 and later), it says in one small answer where
      // the prompt is; history is read only once it has finished, the queue only while it waits.
      const state = await routes.job(this.promptId, signal);
      if (this.#phase !== 'queued' && this.#phase !== 'running') return;
      if (state === 'in_progress') {
        this.#markStarted();
        this.#pollErrors = 0;
        return;
      }
      if (state === null) {
        if (!(await this.#settleFromHistory('poll'))) await this.#vanished();
        this.#pollErrors = 0;
        return;
      }
      if (state !== undefined && state !== 'pending') {
        // completed, failed, cancelled (or a word we do not know): history has the outcome.
        this.#doneAt ??= Date.now();
        await this.#settleFromHistory('poll');
        this.#pollErrors = 0;
        return;
      }
      if (state === undefined && ((await this.#settleFromHistory('poll')) || (this.#phase !== 'queued' && this.#phase !== 'running'))) return;
      const queue = await routes.queue(signal);
      if (this.#phase !== 'queued' && this.#phase !== 'running') return;
      if (queue.running.includes(this.promptId)) {
        this.#markStarted();
      } else {
        const position = queue.pending.indexOf(this.promptId);
        if (position >= 0) {
          if (position < this.#position) this.#touch();
          this.#position = position;
        } else if (!(await this.#settleFromHistory('poll'))) {
          // Finished between our two reads is ruled out by the second history read above.
          await this.#vanished();
        }
      }
      this.#pollErrors = 0;
    } catch (error) {
      this.#onPollError(error);
    } finally {
      this.#polling = false;
    }
  }

  /** Withdraws the prompt (delete if pending, interrupt if running) and waits until the server lets go of it. */
  async cancel(): Promise<void> {
    if (this.#phase === 'done' || this.#phase === 'cancelling') return;
    const wasSubmitting = this.#phase === 'submitting';
    const wasRunning = this.#phase === 'running';
    this.#phase = 'cancelling';
    if (wasSubmitting) await this.#submission; // the POST may still land; we chose the id, so we can withdraw it either way
    // One abort cancels all our prompts at once: let the waiting ones leave the queue first, so
    // the server does not start one of them in the gap the running one leaves.
    if (wasRunning) await sleep(RUNNING_CANCEL_DELAY_MS);
    await this.#withdraw();
    await this.#awaitGone();
    this.#settleError(cancelledError(`prompt ${this.promptId} on server ${this.host.serverName}`), 'interrupted');
  }

  /** The server went away: give up here (the pool runs the job elsewhere). */
  abandon(error: ComicError): void {
    if (this.#phase === 'done') return;
    this.#settleError(error, 'failed');
  }

  #budget(): { ms: number; what: string } {
    const t = this.host.timeouts;
    if (this.#phase === 'queued') return { ms: t.queue, what: 'waiting in the queue' };
    if (!this.#sawNode) return { ms: t.start, what: 'starting (loading models?)' };
    const node = this.#currentNode === null ? 'running' : `running ${this.#describeNode(this.#currentNode)}`;
    return { ms: t.nodeSilence, what: node };
  }

  async #timeout(what: string, silentMs: number): Promise<void> {
    if (this.#phase !== 'queued' && this.#phase !== 'running') return;
    this.#phase = 'cancelling';
    await this.#withdraw();
    this.#settleError(
      new ComicError('JOB_TIMEOUT', `prompt ${this.promptId} on server ${this.host.routes.label} gave no sign of life for ${Math.round(silentMs / 1000)} s while ${what}`, {
        hint: 'raise the matching budget under `timeouts` in comic.config.yaml if this server is just slow',
      }),
      'failed',
    );
  }

  #markStarted(): void {
    if (this.#phase !== 'queued') return;
    this.#phase = 'running';
    this.#emit({ type: 'started' });
  }

  #onNode(node: string): void {
    this.#currentNode = node;
    const def = this.workflow[node];
    this.#emit({ type: 'node', node, title: def?._meta?.title ?? def?.class_type ?? node, classType: def?.class_type ?? '' });
  }

  #describeNode(node: string): string {
    const def = this.workflow[node];
    const title = def?._meta?.title;
    return `node ${node}${title ? ` "${title}"` : ''}${def ? ` (${def.class_type})` : ''}`;
  }

  /**
   * The prompt ended, but history may not be written yet (it is, by `executing null`, which
   * normally follows within a millisecond): read it shortly unless that marker comes first.
   * Servers or proxies that drop the marker still finish promptly this way.
   */
  #finishSoon(): void {
    this.#serverDone();
    const timer = setTimeout(() => void this.#finish(), END_MARKER_GRACE_MS);
    timer.unref();
  }

  #serverDone(): void {
    this.#doneAt ??= Date.now();
    const done = this.onServerDone;
    if (done === undefined || this.#serverDoneCalled) return;
    this.#serverDoneCalled = true;
    done();
  }

  async #finish(): Promise<void> {
    if (this.#phase !== 'queued' && this.#phase !== 'running') return;
    this.#phase = 'finishing';
    this.#serverDone();
    try {
      for (let attempt = 0; attempt < HISTORY_RETRIES; attempt++) {
        if (await this.#settleFromHistory('socket')) return;
        // History is written just before `executing null` on 0.8.0; other builds may lag a little.
        await sleep(HISTORY_RETRY_MS * (attempt + 1), this.host.lifetime);
      }
    } catch (error) {
      if (this.#phase === 'finishing') this.#phase = 'running';
      this.#onPollError(error);
      return;
    }
    // Still nothing: let the poll decide (it also detects a vanished prompt).
    if (this.#phase === 'finishing') {
      this.#phase = 'running';
      this.#lastPoll = 0;
    }
  }

  /** Reads history; settles and returns true when the prompt has finished. */
  async #settleFromHistory(via: 'socket' | 'poll'): Promise<boolean> {
    const entry = await this.host.routes.history(this.promptId, this.host.lifetime);
    if (entry === null || this.#phase === 'done' || this.#phase === 'cancelling') return false;
    const outcome = readOutcome(entry, this.workflow, this.host.routes.label, this.#submittedAt);
    if (via === 'poll' && this.host.isSocketOpen() && Date.now() - this.#lastSocketActivity >= this.host.timeouts.poll) {
      this.host.suspectSocket();
    }
    switch (outcome.kind) {
      case 'success':
        this.#phase = 'done';
        this.#serverDone();
        this.#emit({ type: 'completed', outputs: outcome.outputs });
        this.#resolve({ promptId: this.promptId, server: this.host.serverName, outputs: outcome.outputs, cachedNodes: outcome.cachedNodes, timings: outcome.timings });
        this.host.release(this);
        return true;
      case 'failed':
        this.#settleError(outcome.error, 'failed');
        return true;
      case 'interrupted':
        // Not by us (we would be cancelling): someone else interrupted it on a shared server.
        this.#settleError(new ComicError('JOB_FAILED', `prompt ${this.promptId} was interrupted on server ${this.host.routes.label} (not by us)`), 'interrupted');
        return true;
    }
  }

  async #vanished(): Promise<void> {
    if (this.#resubmits < MAX_RESUBMITS) {
      // Restarted server or cleared queue: our prompt_id makes the resubmit safe to repeat.
      this.#resubmits++;
      this.#phase = 'submitting';
      this.#sawNode = false;
      this.#submission = this.#submit();
      await this.#submission;
      return;
    }
    this.#settleError(
      new ComicError('JOB_LOST', `prompt ${this.promptId} vanished from server ${this.host.routes.label} (neither queued nor in history) after a resubmit`, {
        hint: 'the server may have restarted, or someone cleared its queue',
      }),
      'failed',
    );
  }

  #onPollError(error: unknown): void {
    if (!isComicError(error)) {
      this.#settleError(error, 'failed');
      return;
    }
    // The client decides about unreachable servers (reconnect, then give up); cancellations are ours.
    if (error.code === 'CANCELLED' || (error.code === 'SERVER_UNREACHABLE' && !this.host.isSocketOpen())) return;
    if (error.code === 'SERVER_UNREACHABLE') {
      // The socket is fine but a route does not answer (a /history that hangs). Once the server
      // has said the prompt is done, its outcome must be read within one request deadline;
      // before that, give up after a few in a row. Either way the pool retries by reading the
      // same prompt again (OutcomeUnreadError), not by rendering it again.
      const budget = this.host.timeouts.request;
      if (this.#doneAt !== null && Date.now() - this.#doneAt >= budget) {
        this.#settleError(
          new OutcomeUnreadError(
            this.promptId,
            `server ${this.host.routes.label} finished prompt ${this.promptId} but its outcome could not be read within ${seconds(budget)} (timeouts.request): ${error.message}`,
            { hint: 'the server answers its WebSocket but not /history; check the server (or a proxy in front of it), or raise timeouts.request', cause: error },
          ),
          'failed',
        );
        return;
      }
      if (++this.#pollErrors < MAX_POLL_ERRORS) return;
      this.#settleError(new OutcomeUnreadError(this.promptId, `${error.message}, ${MAX_POLL_ERRORS} times in a row while its WebSocket stayed open`, { hint: error.hint, cause: error }), 'failed');
      return;
    }
    if (error.code === 'SERVER_PROTOCOL' || error.code === 'SERVER_AUTH' || ++this.#pollErrors >= MAX_POLL_ERRORS) {
      this.#settleError(error, 'failed');
    }
  }

  /** Best effort: remove from the pending queue, then interrupt if it is the running one. Only ever our prompt_id. */
  async #withdraw(): Promise<void> {
    const budget = deadline(undefined, this.host.timeouts.cancel);
    let reached = true;
    const unreached = (): void => void (reached = false);
    try {
      // POST /api/jobs/{id}/cancel where the server has it (0.28): pending or running, only this prompt.
      const cancelled = await this.host.routes.cancelJob(this.promptId, budget.signal).catch((): undefined => void unreached());
      if (cancelled === undefined) {
        await this.host.routes.deleteQueued([this.promptId], budget.signal).catch(unreached);
        await this.host.routes.interrupt(this.promptId, budget.signal).catch(unreached);
      }
    } finally {
      budget.dispose();
    }
    // The server did not hear us: the client withdraws it again when it can (reconnect, close).
    if (!reached) this.host.orphan(this.promptId);
  }

  /** Waits until the prompt is neither pending nor running (an interrupt is cooperative). */
  async #awaitGone(): Promise<void> {
    const until = Date.now() + this.host.timeouts.cancel;
    while (Date.now() < until) {
      const budget = deadline(undefined, Math.max(1, until - Date.now()));
      try {
        const queue = await this.host.routes.queue(budget.signal);
        const running = queue.running.includes(this.promptId);
        if (!running && !queue.pending.includes(this.promptId)) return;
        // Repeat both until it is gone: it may have moved from pending to running between our
        // delete and our interrupt, and the server clears the interrupt flag when a prompt
        // starts, so an interrupt that lands just then is lost. Both only ever name our prompt.
        await this.#withdraw();
      } catch {
        return; // unreachable: nothing more we can do from here
      } finally {
        budget.dispose();
      }
      await sleep(CANCEL_POLL_MS);
    }
  }

  #touch(): void {
    this.#lastActivity = Date.now();
  }

  #settleError(error: unknown, event: 'failed' | 'interrupted'): void {
    if (this.#phase === 'done') return;
    this.#phase = 'done';
    this.#serverDone();
    const comicError = isComicError(error) ? error : new ComicError('INTERNAL', `prompt ${this.promptId}: ${String(error)}`, { cause: error });
    this.#emit(event === 'failed' ? { type: 'failed', error: comicError } : { type: 'interrupted' });
    this.#reject(comicError);
    this.host.release(this);
  }

  #emit(event: JobEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A listener's bug must not break the job; the run's own bus reports listener failures.
      }
    }
  }
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
