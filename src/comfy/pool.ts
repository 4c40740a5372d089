/**
 * ComfyPool: N ComfyUI servers behind one `run(job)`. The queue is ours, client-side:
 *
 * - Each server holds at most `maxConcurrent` of our prompts, counting its own queue (2 =
 *   one running and one waiting), so its GPU never idles between jobs; a server pulls the
 *   next job the moment a slot frees, so a fast GPU pulls more.
 * - A job goes to the server that can start it soonest, preferring one that already has
 *   its models loaded, and only to servers whose /object_info has its node classes and
 *   models; if none has them, the job fails before anything is submitted.
 * - Failures are classified first (./failures.ts): invalid workflows fail at once, an
 *   incapable server is skipped for that job, transient trouble retries elsewhere with
 *   backoff. A server that goes down hands its jobs back; it rejoins when it answers again.
 * - When every server is down, pending work is rejected with NO_BACKEND (the caller falls
 *   back to the SD API).
 *
 * The pool knows nothing of templates: each job brings a `prepare(target)` that builds its
 * workflow for one server (model names resolved there) and a `collect` step (downloads).
 */
import { randomUUID } from 'node:crypto';
import { ComicError, isComicError } from '../errors.js';
import { missingCapabilities, modelsOf } from './capabilities.js';
import { ComfyClient, type ClientOptions } from './client.js';
import { isIncompleteDownload } from './downloads.js';
import { classifyFailure } from './failures.js';
import { Member, type ActiveAttempt } from './health.js';
import { OutcomeUnreadError, type JobEvent, type JobResult } from './job.js';
import { backoffDelay, cancelledError, deadline, sleep } from '../util/signals.js';
import type { ApiWorkflow, FreeMemoryPolicy, Limits, ObjectInfo, PreviewMethod, PromptTimings, ServerOptions, Timeouts, VramReading } from './types.js';
import { uploadName, type UploadInput } from './uploads.js';

/** Downloads of one prompt's outputs (each within `timeouts.download`) before the job gives up on them. */
export const COLLECT_ATTEMPTS = 3;

/** The outputs of a rendered prompt that would not come down after COLLECT_ATTEMPTS downloads. */
class UndeliveredError extends Error {
  constructor(override readonly cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

export interface PrepareTarget {
  readonly server: ServerOptions;
  readonly objectInfo: ObjectInfo;
  /** Input param → the name of the uploaded file on this server (for LoadImage). */
  readonly uploads: Readonly<Record<string, string>>;
}

export interface PoolInput extends UploadInput {
  /** The template parameter the file feeds. */
  readonly param: string;
}

export interface CompletedPrompt {
  readonly server: string;
  readonly client: ComfyClient;
  readonly result: JobResult;
}

export interface PoolJob<T> {
  /** Names the job in events and errors. */
  readonly id: string;
  /** Uploaded to the chosen server (once per content) before `prepare`. */
  readonly inputs?: readonly PoolInput[];
  /**
   * Builds the workflow for one server. Throw SERVER_MISSING_CAPABILITY when this server
   * cannot run it (another may); any other error fails the job at once.
   */
  prepare(target: PrepareTarget): ApiWorkflow;
  /** Runs after the prompt succeeded (downloads); its failures are classified and retried like any other. */
  collect(done: CompletedPrompt, signal: AbortSignal): Promise<T>;
  /** Prompts an earlier run sent for this job, by server name: taken over where that server still has them. */
  readonly prior?: ReadonlyMap<string, string>;
  /** Awaited with each prompt id before it is sent (or taken over), so a crash leaves a record of what we sent. */
  beforeSubmit?(sent: SentPrompt): Promise<void>;
}

export interface SentPrompt {
  readonly server: string;
  readonly promptId: string;
}

export interface PoolResult<T> {
  readonly value: T;
  readonly server: string;
  readonly promptId: string;
  /** 1 when it worked the first time. */
  readonly attempts: number;
  readonly timings: PromptTimings;
}

export type PoolEvent =
  | { readonly type: 'server'; readonly server: string; readonly state: ServerState; readonly reason: string }
  | { readonly type: 'vram'; readonly server: string; readonly used: number; readonly total: number }
  | { readonly type: 'retry'; readonly jobId: string; readonly server: string; readonly attempt: number; readonly reason: string }
  | { readonly type: 'job'; readonly jobId: string; readonly server: string; readonly event: JobEvent };

/** `reconnecting`: the connection was lost and is being retried within the reconnect grace. */
export type ServerState = 'up' | 'reconnecting' | 'down';

export interface PoolOptions {
  readonly timeouts?: Partial<Timeouts>;
  readonly freeMemory?: FreeMemoryPolicy;
  /** Attempts per job for transient failures (a server going down does not count). */
  readonly maxAttempts?: number;
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  /** Consecutive failures (transient or bad answers) after which a connected server is benched. */
  readonly failuresBeforeDown?: number;
  /** First delay before a benched server is probed again (grows while it keeps failing). */
  readonly probeBaseMs?: number;
  /** Consecutive failed connection attempts after which a server counts as down. */
  readonly downAfterFailures?: number;
  /** Byte caps on every server's answers and downloads. */
  readonly limits?: Partial<Limits>;
  /**
   * Sent with every prompt as `extra_data.preview_method`, so the server sends sampler
   * previews (job `preview` events) or does not; absent: the server's `--preview-method`.
   */
  readonly previewMethod?: PreviewMethod;
}

export interface RunOptions {
  readonly signal: AbortSignal;
  readonly onEvent?: (event: PoolEvent) => void;
}

export interface ServerStatus {
  readonly name: string;
  readonly state: 'connecting' | 'up' | 'down';
  readonly reason: string | null;
  readonly inFlight: number;
}

interface Entry {
  readonly job: PoolJob<unknown>;
  readonly options: RunOptions;
  readonly resolve: (result: PoolResult<unknown>) => void;
  readonly reject: (error: unknown) => void;
  /** Counted attempts (transient failures). */
  attempts: number;
  /** Dispatches, for the result. */
  tries: number;
  readyAt: number;
  lastError: ComicError | null;
  /** Servers this job must not use: why, and whether it is a capability gap or the server's fault. */
  readonly excluded: Map<string, { readonly reason: string; readonly incapable: boolean }>;
  /** Servers that failed it transiently: used only when nothing else can take it. */
  readonly avoid: Set<string>;
  /** Per server: the models its workflow needs there, or why the server cannot run it. */
  readonly fit: Map<string, { readonly models: ReadonlySet<string> } | { readonly problem: string }>;
  settled: boolean;
  /** The attempt running on a server, if any (aborting it withdraws the prompt there). */
  attempt: ActiveAttempt | null;
  /** Earlier runs' prompts not taken over yet, by server. */
  readonly prior: Map<string, string>;
}

export class ComfyPool {
  readonly #members: Member[];
  readonly #pending: Entry[] = [];
  readonly #listeners = new Set<(event: PoolEvent) => void>();
  /** Entries by caller signal: one abort listener per signal, however many jobs share it (a run's 2,000). */
  readonly #watched = new WeakMap<AbortSignal, Set<Entry>>();
  readonly #waiters = new Set<() => void>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #lifetime = new AbortController();
  readonly #freeMemory: FreeMemoryPolicy;
  readonly #maxAttempts: number;
  readonly #retryBaseMs: number;
  readonly #retryMaxMs: number;
  /** Every prompt's extra_data (the preview method), or none. */
  readonly #extraData: Readonly<Record<string, unknown>> | undefined;
  #connecting: Promise<unknown> | null = null;
  #pumping = false;
  #pumpAgain = false;
  #wake: NodeJS.Timeout | null = null;
  #wakeTime = 0;

  constructor(servers: readonly ServerOptions[], options: PoolOptions = {}) {
    if (servers.length === 0) throw new ComicError('CONFIG_INVALID', 'the ComfyUI pool needs at least one server');
    const names = new Set(servers.map((s) => s.name));
    if (names.size !== servers.length) throw new ComicError('CONFIG_INVALID', 'ComfyUI server names must be unique');
    this.#freeMemory = options.freeMemory ?? { kind: 'never' };
    this.#maxAttempts = options.maxAttempts ?? 4;
    this.#retryBaseMs = options.retryBaseMs ?? 250;
    this.#retryMaxMs = options.retryMaxMs ?? 10_000;
    this.#extraData = options.previewMethod === undefined ? undefined : { preview_method: options.previewMethod };
    const clientOptions: ClientOptions = { timeouts: options.timeouts, downAfterFailures: options.downAfterFailures, limits: options.limits };
    this.#members = servers.map((server) => {
      const member = new Member(new ComfyClient(server, clientOptions), options.failuresBeforeDown ?? 3, options.probeBaseMs ?? 5_000);
      member.client.onState((state) => {
        if (state.kind === 'up') void this.#bringUp(member);
        else if (state.kind === 'reconnecting') this.#markReconnecting(member, state.reason);
        else if (state.kind === 'down') this.#markDown(member, state.error.message, false);
      });
      return member;
    });
  }

  /** Pool-wide events (servers up/down, VRAM); job events go to each run's `onEvent`. */
  on(listener: (event: PoolEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Connects every server. Resolves as soon as one can take work; rejects with NO_BACKEND when none can. */
  async start(signal: AbortSignal): Promise<void> {
    this.#connectAll();
    await new Promise<void>((resolve, reject) => {
      const check = (): boolean => {
        if (this.#members.some((m) => m.available)) resolve();
        else if (this.#allDown()) reject(this.#noBackend());
        else if (signal.aborted || this.#lifetime.signal.aborted) reject(cancelledError('connecting to the ComfyUI servers'));
        else return false;
        this.#waiters.delete(waiter);
        signal.removeEventListener('abort', waiter);
        return true;
      };
      const waiter = (): void => void check();
      if (check()) return;
      this.#waiters.add(waiter);
      signal.addEventListener('abort', waiter, { once: true });
    });
  }

  /** Starts every client's connection loop once (they reconnect on their own until close). */
  #connectAll(): void {
    this.#connecting ??= Promise.allSettled(this.#members.map((m) => m.client.connect(this.#lifetime.signal)));
  }

  status(): ServerStatus[] {
    return this.#members.map((m) => ({
      name: m.name,
      state: m.health.kind,
      reason: m.health.kind === 'down' ? m.health.reason : null,
      inFlight: m.inFlight,
    }));
  }

  /** The client of a server (for routes the pool does not wrap). */
  client(name: string): ComfyClient | undefined {
    return this.#members.find((m) => m.name === name)?.client;
  }

  run<T>(job: PoolJob<T>, options: RunOptions): Promise<PoolResult<T>> {
    return new Promise<PoolResult<T>>((resolve, reject) => {
      const entry: Entry = {
        job,
        options,
        resolve: resolve as (result: PoolResult<unknown>) => void,
        reject,
        attempts: 0,
        tries: 0,
        readyAt: 0,
        lastError: null,
        excluded: new Map(),
        avoid: new Set(),
        fit: new Map(),
        settled: false,
        attempt: null,
        prior: new Map(job.prior),
      };
      if (options.signal.aborted || this.#lifetime.signal.aborted) {
        this.#fail(entry, cancelledError(`job ${job.id}`));
        return;
      }
      this.#connectAll();
      this.#watch(entry);
      if (this.#rejectIfHopeless(entry)) return;
      this.#pending.push(entry);
      this.#pump();
    });
  }

  #watch(entry: Entry): void {
    const signal = entry.options.signal;
    let entries = this.#watched.get(signal);
    if (entries === undefined) {
      const watched = new Set<Entry>();
      entries = watched;
      this.#watched.set(signal, watched);
      signal.addEventListener('abort', () => {
        for (const aborted of [...watched]) this.#cancel(aborted);
      }, { once: true });
    }
    entries.add(entry);
  }

  /** The caller gave up on this job: drop it from our queue, or withdraw it from its server. */
  #cancel(entry: Entry): void {
    const index = this.#pending.indexOf(entry);
    if (index >= 0) {
      this.#pending.splice(index, 1);
      this.#fail(entry, cancelledError(`job ${entry.job.id}`));
    }
    entry.attempt?.controller.abort();
  }

  /** Reads every reachable server's VRAM (emitted as `vram` events). */
  async vram(signal: AbortSignal): Promise<VramReading[]> {
    const readings = await Promise.all(
      this.#members.filter((m) => m.available).map((m) => m.client.vram(signal).catch(() => null)),
    );
    const found = readings.filter((r): r is VramReading => r !== null);
    for (const reading of found) this.#emit({ type: 'vram', ...reading });
    return found;
  }

  /** Between two scripts: frees memory when the policy says so, then reads VRAM. */
  async endScript(signal: AbortSignal): Promise<VramReading[]> {
    if (this.#freeMemory.kind === 'between-scripts') {
      await Promise.all(this.#members.filter((m) => m.available).map((m) => m.client.free(signal).catch(() => undefined)));
    }
    return this.vram(signal);
  }

  /** Rejects pending work with CANCELLED, withdraws our prompts from every server and closes the connections. */
  async close(): Promise<void> {
    if (this.#lifetime.signal.aborted) return;
    this.#lifetime.abort();
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    if (this.#wake !== null) clearTimeout(this.#wake);
    for (const entry of this.#pending.splice(0)) this.#fail(entry, cancelledError(`job ${entry.job.id} (the pool closed)`));
    await Promise.all(this.#members.map((m) => m.client.close()));
    for (const waiter of [...this.#waiters]) waiter();
  }

  // ── dispatch ──────────────────────────────────────────────────────────────────────────

  #pump(): void {
    if (this.#lifetime.signal.aborted) return;
    if (this.#pumping) {
      // Called from inside a dispatch (a synchronous failure, a freed slot): go round once more.
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#pumpAgain = false;
        this.#pumpOnce();
      } while (this.#pumpAgain);
    } finally {
      this.#pumping = false;
    }
  }

  #pumpOnce(): void {
    const now = Date.now();
    let nextWake = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.#pending.length && this.#members.some((m) => m.available && m.hasFreeSlot); ) {
      const entry = this.#pending[i]!;
      if (entry.readyAt > now) {
        nextWake = Math.min(nextWake, entry.readyAt);
        i++;
        continue;
      }
      const member = this.#choose(entry);
      if (entry.settled) {
        this.#pending.splice(i, 1);
        continue;
      }
      if (member === null) {
        i++;
        continue;
      }
      this.#pending.splice(i, 1);
      this.#dispatch(entry, member);
    }
    if (nextWake !== Number.POSITIVE_INFINITY) this.#wakeAt(nextWake);
  }

  #wakeAt(time: number): void {
    if (this.#wake !== null && this.#wakeTime <= time) return;
    if (this.#wake !== null) clearTimeout(this.#wake);
    this.#wakeTime = time;
    this.#wake = setTimeout(() => {
      this.#wake = null;
      this.#pump();
    }, Math.max(0, time - Date.now()));
    this.#wake.unref();
  }

  /** The best member with a free slot for this entry, or null (it waits). May settle the entry. */
  #choose(entry: Entry): Member | null {
    let best: { member: Member; score: number } | null = null;
    for (const member of this.#members) {
      if (!member.available || !member.hasFreeSlot || entry.excluded.has(member.name)) continue;
      const fit = this.#fit(entry, member);
      if (entry.settled) return null;
      if (fit === null || 'problem' in fit) continue;
      // Soonest start, preferring loaded models; a server that just failed this job only as a last resort;
      // the server that may still hold this job's prompt from an earlier run first of all.
      const score = member.expectedStartMs(fit.models) + (entry.avoid.has(member.name) ? 1e12 : 0) - (entry.prior.has(member.name) ? 1e13 : 0);
      if (best === null || score < best.score || (score === best.score && member.lastDispatch < best.member.lastDispatch)) {
        best = { member, score };
      }
    }
    return best?.member ?? null;
  }

  /** Prepares the job for a member once (with the upload names we will ask for) and checks it fits. */
  #fit(entry: Entry, member: Member): { models: ReadonlySet<string> } | { problem: string } | null {
    const known = entry.fit.get(member.name);
    if (known !== undefined) return known;
    if (member.objectInfo === null) return null;
    const uploads = Object.fromEntries((entry.job.inputs ?? []).map((input) => [input.param, uploadName(input)]));
    let fit: { models: ReadonlySet<string> } | { problem: string };
    try {
      const workflow = entry.job.prepare({ server: member.options, objectInfo: member.objectInfo, uploads });
      const missing = missingCapabilities(workflow, member.objectInfo);
      fit = missing.length > 0 ? { problem: missing.join('; ') } : { models: modelsOf(workflow) };
    } catch (error) {
      if (classifyFailure(error) !== 'incapable') {
        this.#fail(entry, error);
        return null;
      }
      fit = { problem: error instanceof Error ? error.message : String(error) };
    }
    entry.fit.set(member.name, fit);
    return fit;
  }

  #dispatch(entry: Entry, member: Member): void {
    const fit = entry.fit.get(member.name);
    member.inFlight++;
    member.lastDispatch = Date.now();
    if (fit !== undefined && 'models' in fit && fit.models.size > 0) member.loadedModels = fit.models;
    entry.tries++;
    void this.#attempt(entry, member);
  }

  async #attempt(entry: Entry, member: Member): Promise<void> {
    const job = entry.job;
    const attempt: ActiveAttempt = { controller: new AbortController(), evicted: false };
    entry.attempt = attempt;
    member.attempts.add(attempt);
    let slotHeld = true;
    const releaseSlot = (): void => {
      if (!slotHeld) return;
      slotHeld = false;
      member.inFlight--;
      this.#pump();
    };
    const signal = attempt.controller.signal;
    try {
      const uploads: Record<string, string> = {};
      for (const input of job.inputs ?? []) uploads[input.param] = await member.client.upload(input, signal);
      const workflow = job.prepare({ server: member.options, objectInfo: member.objectInfo ?? {}, uploads });
      const prior = entry.prior.get(member.name);
      entry.prior.delete(member.name);
      const promptId = prior ?? randomUUID();
      await job.beforeSubmit?.({ server: member.name, promptId });
      if (signal.aborted) throw cancelledError(`job ${job.id}`);
      const handle = member.client.submit(workflow, {
        signal,
        promptId,
        adopt: prior !== undefined,
        ...(this.#extraData && { extraData: this.#extraData }),
        onEvent: (event) => entry.options.onEvent?.({ type: 'job', jobId: job.id, server: member.name, event }),
        // The next prompt goes in while this one's outputs are still being read: the GPU never waits for us.
        onServerDone: releaseSlot,
      });
      const result = await handle.result;
      releaseSlot();
      member.recordSuccess(result.timings.runMs);
      this.#afterCompletion(member);
      const value = await this.#collect(entry, member, result, signal);
      this.#settle(entry, { value, server: member.name, promptId: result.promptId, attempts: entry.tries, timings: result.timings });
    } catch (error) {
      releaseSlot();
      if (error instanceof UndeliveredError) {
        // Rendered, and its outputs are on the server, but they would not come down: rendering
        // it again would only make the same image twice. A re-run adopts the prompt (its id is
        // in the run manifest) and downloads them then.
        this.#fail(entry, error.cause);
        return;
      }
      this.#onFailure(entry, member, error, attempt.evicted);
    } finally {
      member.attempts.delete(attempt);
      if (entry.attempt === attempt) entry.attempt = null;
    }
  }

  /**
   * Downloads the prompt's outputs (the job's `collect`); a download that did not come down
   * (deadline, broken off, 5xx, the server unreachable meanwhile) is tried again, as a
   * download, with a retry event: the prompt is never rendered again for it. A download that
   * still does not come down ends the job (UndeliveredError), or, for a server gone
   * unreachable, goes to the usual failure handling.
   */
  async #collect<T>(entry: Entry, member: Member, result: JobResult, signal: AbortSignal): Promise<T> {
    for (let download = 1; ; download++) {
      try {
        return (await entry.job.collect({ server: member.name, client: member.client, result }, signal)) as T;
      } catch (error) {
        const undelivered = isIncompleteDownload(error);
        const unreachable = isComicError(error) && error.code === 'SERVER_UNREACHABLE';
        if (signal.aborted || !(undelivered || unreachable)) throw error;
        if (download >= COLLECT_ATTEMPTS) {
          if (!undelivered || !isComicError(error)) throw error;
          throw new UndeliveredError(
            new ComicError('SERVER_PROTOCOL', `${error.message} (${COLLECT_ATTEMPTS} downloads; prompt ${result.promptId} was rendered and is not rendered again)`, {
              hint: `${error.hint ?? 'the server would not serve the outputs its history lists'}; a later run downloads them without rendering again while the server keeps them`,
              cause: error,
            }),
          );
        }
        const reason = `${error instanceof Error ? error.message : String(error)}; downloading the outputs of prompt ${result.promptId} again (it is not rendered again)`;
        entry.options.onEvent?.({ type: 'retry', jobId: entry.job.id, server: member.name, attempt: download + 1, reason });
        await sleep(backoffDelay(download - 1, this.#retryBaseMs, this.#retryMaxMs), signal);
      }
    }
  }

  #onFailure(entry: Entry, member: Member, error: unknown, evicted: boolean): void {
    if (entry.options.signal.aborted) {
      this.#fail(entry, cancelledError(`job ${entry.job.id}`));
      return;
    }
    if (this.#lifetime.signal.aborted) {
      this.#fail(entry, cancelledError(`job ${entry.job.id} (the pool closed)`));
      return;
    }
    const reason = error instanceof Error ? error.message : String(error);
    const comicError = isComicError(error) ? error : null;
    if (comicError !== null) entry.lastError = comicError;
    // The server was taken out of rotation under this job: not the job's fault, no attempt counted.
    if (evicted || member.health.kind === 'down' || member.health.kind === 'connecting') {
      this.#retry(entry, member, reason, 0);
      return;
    }
    if (comicError?.code === 'SERVER_UNREACHABLE') {
      // Reachability is the client's to decide, within its reconnect grace: a lost connection
      // does not bench the server, and the job waits for it (or for the fallback) uncounted.
      member.client.suspectConnection();
      this.#retry(entry, member, reason, backoffDelay(0, this.#retryBaseMs, this.#retryMaxMs));
      return;
    }
    switch (classifyFailure(error)) {
      case 'cancelled':
      case 'invalid':
      case 'job':
        this.#fail(entry, error);
        return;
      case 'incapable':
        entry.excluded.set(member.name, { reason, incapable: true });
        this.#retry(entry, member, reason, 0);
        return;
      case 'server':
        entry.excluded.set(member.name, { reason, incapable: false });
        if (member.recordFailure()) this.#markDown(member, reason, true);
        this.#retry(entry, member, reason, 0);
        return;
      case 'transient':
        if (member.recordFailure()) this.#markDown(member, reason, true);
        if (++entry.attempts >= this.#maxAttempts) {
          this.#fail(entry, error);
          return;
        }
        if (error instanceof OutcomeUnreadError) {
          // The server ran the prompt but its outcome could not be read (a /history that does not
          // answer): the retry reads it again on that server (adopting the prompt), it does not render it again.
          entry.prior.set(member.name, error.promptId);
        } else {
          entry.avoid.add(member.name);
        }
        this.#retry(entry, member, reason, backoffDelay(entry.attempts - 1, this.#retryBaseMs, this.#retryMaxMs));
        return;
    }
  }

  #retry(entry: Entry, member: Member, reason: string, delayMs: number): void {
    entry.options.onEvent?.({ type: 'retry', jobId: entry.job.id, server: member.name, attempt: entry.tries + 1, reason });
    entry.readyAt = Date.now() + delayMs;
    if (this.#rejectIfHopeless(entry)) return;
    this.#pending.unshift(entry);
    this.#pump();
  }

  /** Settles the entry when no server can ever take it (every one excluded or lacking something), or all are down. */
  #rejectIfHopeless(entry: Entry): boolean {
    if (this.#allDown()) {
      this.#fail(entry, this.#noBackend());
      return true;
    }
    const verdicts = this.#members.map((member) => {
      const excluded = entry.excluded.get(member.name);
      if (excluded !== undefined) return { member, problem: excluded.reason, incapable: excluded.incapable };
      const fit = this.#fit(entry, member);
      // An unknown fit (no /object_info yet) leaves hope: the server may come up and have it.
      return { member, problem: fit !== null && 'problem' in fit ? fit.problem : null, incapable: true };
    });
    if (entry.settled) return true;
    if (verdicts.some((v) => v.problem === null)) return false;
    const lines = verdicts.map((v) => `${v.member.client.label}: ${v.problem}`);
    const capability = verdicts.every((v) => v.incapable);
    this.#fail(
      entry,
      capability
        ? new ComicError('SERVER_MISSING_CAPABILITY', `no server can run job ${entry.job.id}:\n  ${lines.join('\n  ')}`, {
            hint: 'install the missing nodes or models on a server, or use a template that only needs what they have',
          })
        : (entry.lastError ?? new ComicError('JOB_FAILED', `no server could run job ${entry.job.id}:\n  ${lines.join('\n  ')}`)),
    );
    return true;
  }

  #settle(entry: Entry, result: PoolResult<unknown>): void {
    if (entry.settled) return;
    entry.settled = true;
    this.#watched.get(entry.options.signal)?.delete(entry);
    entry.resolve(result);
  }

  #fail(entry: Entry, error: unknown): void {
    if (entry.settled) return;
    entry.settled = true;
    this.#watched.get(entry.options.signal)?.delete(entry);
    entry.reject(error);
  }

  // ── health ────────────────────────────────────────────────────────────────────────────

  async #bringUp(member: Member): Promise<void> {
    try {
      // The server may have restarted with other nodes or models: always read them again.
      member.objectInfo = await member.client.objectInfo(this.#lifetime.signal, true);
    } catch (error) {
      if (this.#lifetime.signal.aborted) return;
      this.#markDown(member, error instanceof Error ? error.message : String(error), true);
      return;
    }
    if (this.#lifetime.signal.aborted || member.client.state.kind !== 'up') return;
    member.resetFailures();
    const wasUp = member.health.kind === 'up';
    member.health = { kind: 'up' };
    if (!wasUp) this.#emit({ type: 'server', server: member.name, state: 'up', reason: `connected to ${member.client.label}` });
    this.#notify();
    this.#pump();
    // The "before" reading of this server's VRAM, whenever it joins.
    void member.client
      .vram(this.#lifetime.signal)
      .then((reading) => this.#emit({ type: 'vram', ...reading }))
      .catch(() => undefined);
  }

  /** The connection is lost but within the grace: no new work goes there until it is back. */
  #markReconnecting(member: Member, reason: string): void {
    if (this.#lifetime.signal.aborted || member.health.kind === 'down') return;
    member.health = { kind: 'connecting' };
    this.#emit({ type: 'server', server: member.name, state: 'reconnecting', reason: `${reason}; retrying for up to ${member.client.timeouts.reconnect / 1000} s` });
  }

  /** Takes a member out of rotation and hands its jobs back. `probe`: we must check on it ourselves. */
  #markDown(member: Member, reason: string, probe: boolean): void {
    if (this.#lifetime.signal.aborted) return;
    const wasDown = member.health.kind === 'down';
    member.health = { kind: 'down', reason, probe };
    if (!wasDown) this.#emit({ type: 'server', server: member.name, state: 'down', reason });
    if (probe) {
      // Still connected: withdraw our prompts there and run them elsewhere. (A lost
      // connection's client has already given its prompts up.)
      for (const attempt of member.attempts) {
        attempt.evicted = true;
        attempt.controller.abort();
      }
      this.#scheduleProbe(member);
    }
    if (this.#allDown()) {
      for (const entry of this.#pending.splice(0)) this.#fail(entry, this.#noBackend());
    }
    this.#notify();
  }

  #scheduleProbe(member: Member): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void this.#probe(member);
    }, member.nextProbeDelay());
    timer.unref();
    this.#timers.add(timer);
  }

  async #probe(member: Member): Promise<void> {
    if (this.#lifetime.signal.aborted || member.health.kind !== 'down' || !member.health.probe) return;
    const budget = deadline(this.#lifetime.signal, member.client.timeouts.connect);
    try {
      await member.client.routes.systemStats(budget.signal);
    } catch {
      if (!this.#lifetime.signal.aborted) this.#scheduleProbe(member);
      return;
    } finally {
      budget.dispose();
    }
    if (member.client.state.kind === 'up') await this.#bringUp(member);
  }

  #afterCompletion(member: Member): void {
    if (this.#freeMemory.kind !== 'every-n-jobs') return;
    if (++member.completedSinceFree < this.#freeMemory.every) return;
    member.completedSinceFree = 0;
    const signal = this.#lifetime.signal;
    void member.client
      .free(signal)
      .then(() => member.client.vram(signal))
      .then((reading) => this.#emit({ type: 'vram', ...reading }))
      .catch(() => undefined);
  }

  #allDown(): boolean {
    return this.#members.every((m) => m.health.kind === 'down');
  }

  #noBackend(): ComicError {
    const reasons = this.#members.map((m) => `${m.client.label}: ${m.health.kind === 'down' ? m.health.reason : m.health.kind}`);
    return new ComicError('NO_BACKEND', `no ComfyUI server is available:\n  ${reasons.join('\n  ')}`, {
      hint: 'start ComfyUI (or pass --server URL), or configure the SD API fallback',
    });
  }

  #notify(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  #emit(event: PoolEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A listener's bug must not break scheduling.
      }
    }
  }
}
