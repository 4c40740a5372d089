/**
 * ComfyClient: one ComfyUI server. One WebSocket under our clientId, typed routes, prompts
 * we name ourselves (uuid v4, so a retried submit is idempotent and events still match
 * after a reconnect), uploads once per content, downloads to paths we choose.
 *
 * Reachability is decided here: the socket reconnects on its own; after a reconnect every
 * prompt in flight is reconciled with /api/jobs/{id} where the server has it (and /history
 * for its outputs), else with /history and /queue. When the server stays
 * unreachable (several failed attempts, or longer than the `unreachable` budget) the client
 * is `down`: its prompts are given up here (so the pool can run them elsewhere) and
 * remembered, and withdrawn from the server if it comes back, so nothing runs twice.
 */
import { randomUUID } from 'node:crypto';
import { ComicError } from '../errors.js';
import { downloadFile } from './downloads.js';
import { PromptJob, type JobEvent, type JobHost, type JobResult } from './job.js';
import type { BinaryFrame, ComfyMessage } from './messages.js';
import { Routes, type QueueSnapshot } from './routes.js';
import { deadline } from '../util/signals.js';
import { ComfySocket, type SocketState } from './socket.js';
import { Transport } from './transport.js';
import { DEFAULT_TIMEOUTS, type ApiWorkflow, type FileRef, type Limits, type ObjectInfo, type ServerOptions, type Timeouts, type VramReading } from './types.js';
import { UploadCache, type UploadInput } from './uploads.js';

export interface ClientOptions {
  readonly timeouts?: Partial<Timeouts>;
  /**
   * Consecutive failed connection attempts after which the server counts as down even within
   * the reconnect grace (`timeouts.reconnect`). Unset: only the grace decides.
   */
  readonly downAfterFailures?: number;
  /** Byte caps on answers and downloads (defaults: DEFAULT_LIMITS). */
  readonly limits?: Partial<Limits>;
}

export type ClientState =
  | { readonly kind: 'connecting' }
  | { readonly kind: 'up' }
  /** The connection was lost; retrying within the reconnect grace. Takes no new work meanwhile. */
  | { readonly kind: 'reconnecting'; readonly reason: string }
  | { readonly kind: 'down'; readonly error: ComicError };

export interface SubmitOptions {
  /** Aborting withdraws the prompt from the server (delete if pending, interrupt if running). */
  readonly signal: AbortSignal;
  readonly onEvent?: (event: JobEvent) => void;
  /** Sent as `extra_data` (e.g. extra_pnginfo). */
  readonly extraData?: Readonly<Record<string, unknown>>;
  /** Defaults to a fresh uuid v4; pass the same id to resubmit idempotently. */
  readonly promptId?: string;
  /**
   * `promptId` was sent by an earlier run of ours: take that prompt over (watch it if queued
   * or running, collect it if it finished) and send the workflow only if the server lost it.
   */
  readonly adopt?: boolean;
  /**
   * Called once, as soon as the server is done with the prompt (its `executing null` or end
   * event), before the outputs are read from history: the pool frees the server's slot here.
   */
  readonly onServerDone?: () => void;
}

export interface JobHandle {
  readonly promptId: string;
  readonly server: string;
  /** Resolves when history says success; rejects with a ComicError (JOB_FAILED, CANCELLED, …). */
  readonly result: Promise<JobResult>;
  /** The job's events from now until it settles. */
  events(): AsyncIterable<JobEvent>;
}

/** What the server says it is: `/system_stats` system.comfyui_version and `/features`. */
export interface ServerInfo {
  /** e.g. "0.8.0", "0.28.0"; null when the server does not say. */
  readonly version: string | null;
  /** GET /features (`{}` on a server without the route). */
  readonly features: Readonly<Record<string, unknown>>;
}

/** At close, how long we try to reach a server we gave up on to withdraw our prompts there. */
const CLOSE_WITHDRAW_MS = 3_000;

export class ComfyClient {
  readonly clientId = randomUUID();
  readonly routes: Routes;
  readonly timeouts: Timeouts;
  readonly #socket: ComfySocket;
  readonly #uploads: UploadCache;
  readonly #jobs = new Map<string, PromptJob>();
  /** Prompts given up while the server was away: withdrawn when it answers again. */
  readonly #orphans = new Set<string>();
  readonly #lifetime = new AbortController();
  readonly #stateListeners = new Set<(state: ClientState) => void>();
  readonly #downAfterFailures: number;
  /** Why the last connection attempt failed, for the message when the grace runs out. */
  #lastFailure: string | null = null;
  readonly #host: JobHost;
  #state: ClientState = { kind: 'connecting' };
  #unreachableSince: number | null = null;
  #objectInfo: Promise<ObjectInfo> | null = null;
  #serverInfo: ServerInfo | null = null;
  /** queue_remaining from the server's last `status` message. */
  #queueRemaining = 0;
  #ticker: NodeJS.Timeout | null = null;

  constructor(
    readonly server: ServerOptions,
    options: ClientOptions = {},
  ) {
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.#downAfterFailures = options.downAfterFailures ?? Number.POSITIVE_INFINITY;
    this.routes = new Routes(new Transport(server, this.timeouts.request, { ...options.limits, downloadMs: this.timeouts.download }));
    this.#uploads = new UploadCache(this.routes);
    this.#socket = new ComfySocket(this.routes, this.clientId, this.timeouts, {
      onMessage: (message) => this.#onMessage(message),
      onBinary: (frame) => this.#onBinary(frame),
      onState: (state) => this.#onSocketState(state),
    });
    this.#host = {
      routes: this.routes,
      clientId: this.clientId,
      serverName: server.name,
      timeouts: this.timeouts,
      lifetime: this.#lifetime.signal,
      isSocketOpen: () => this.#socket.isOpen,
      promptsAhead: (job) => this.#promptsAhead(job),
      suspectSocket: () => this.#socket.recycle(),
      orphan: (promptId) => this.#orphans.add(promptId),
      release: (job) => this.#jobs.delete(job.promptId),
    };
  }

  get name(): string {
    return this.server.name;
  }

  /** `"name" (url)` without credentials: for messages. */
  get label(): string {
    return this.routes.label;
  }

  get state(): ClientState {
    return this.#state;
  }

  /** Prompts of ours the server has not finished. */
  get inFlight(): number {
    return this.#jobs.size;
  }

  /** The server's answer to our feature_flags (empty until it arrives). */
  get serverFlags(): Readonly<Record<string, unknown>> {
    return this.#socket.serverFlags;
  }

  onState(listener: (state: ClientState) => void): () => void {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  }

  /**
   * Starts the connection (it then reconnects on its own until `close()`). Resolves when the
   * socket is open; rejects with the reason when the server counts as down.
   */
  connect(signal: AbortSignal): Promise<void> {
    this.#socket.start();
    this.#ticker ??= setInterval(() => this.#tick(), tickInterval(this.timeouts));
    this.#ticker.unref();
    return new Promise<void>((resolve, reject) => {
      const settle = (): boolean => {
        if (this.#state.kind === 'up') resolve();
        else if (this.#state.kind === 'down') reject(this.#state.error);
        else if (signal.aborted) reject(new ComicError('CANCELLED', `connecting to ${this.label} was cancelled`));
        else return false;
        unsubscribe();
        signal.removeEventListener('abort', onAbort);
        return true;
      };
      const onAbort = (): void => void settle();
      const unsubscribe = this.onState(() => void settle());
      signal.addEventListener('abort', onAbort, { once: true });
      settle();
    });
  }

  /** Cached `/object_info`; `refresh` fetches it again (model lists change). */
  objectInfo(signal: AbortSignal, refresh = false): Promise<ObjectInfo> {
    if (refresh || this.#objectInfo === null) {
      const pending = this.routes.objectInfo(signal);
      this.#objectInfo = pending;
      pending.catch(() => {
        if (this.#objectInfo === pending) this.#objectInfo = null;
      });
    }
    return this.#objectInfo;
  }

  /** The server's version as of the last `serverInfo()` (null before it, or when the server does not say). */
  get serverVersion(): string | null {
    return this.#serverInfo?.version ?? null;
  }

  /** Asks the server what it is (cached; `refresh` asks again, e.g. after a restart of ComfyUI). */
  async serverInfo(signal: AbortSignal, refresh = false): Promise<ServerInfo> {
    if (this.#serverInfo !== null && !refresh) return this.#serverInfo;
    const [stats, features] = await Promise.all([
      this.routes.systemStats(signal),
      this.routes.features(signal).catch((error: unknown) => {
        // Older servers have no /features; anything else (auth, unreachable) is a real answer.
        if (error instanceof ComicError && error.code === 'SERVER_ERROR' && / 404\b/.test(error.message)) return {};
        throw error;
      }),
    ]);
    const version = stats.system?.comfyui_version;
    this.#serverInfo = { version: typeof version === 'string' && version !== '' ? version : null, features };
    return this.#serverInfo;
  }

  vram(signal: AbortSignal): Promise<VramReading> {
    return this.routes.vram(signal, this.server.name);
  }

  /** POST /free: unload models and drop the node cache (applied after the running prompt). */
  free(signal: AbortSignal): Promise<void> {
    return this.routes.free({ unloadModels: true, freeMemory: true }, signal);
  }

  queue(signal: AbortSignal): Promise<QueueSnapshot> {
    return this.routes.queue(signal);
  }

  upload(input: UploadInput, signal: AbortSignal): Promise<string> {
    return this.#uploads.upload(input, signal);
  }

  /** Streams an output to `destination` (our path, never the server's name), atomically. */
  download(ref: FileRef, destination: string, signal: AbortSignal): Promise<void> {
    return downloadFile(this.routes, ref, destination, signal);
  }

  submit(workflow: ApiWorkflow, options: SubmitOptions): JobHandle {
    const promptId = options.promptId ?? randomUUID();
    const job = new PromptJob(this.#host, promptId, workflow, options.extraData, options.onServerDone);
    if (options.onEvent) job.subscribe(options.onEvent);
    if (this.#state.kind === 'down') {
      job.abandon(this.#state.error);
    } else {
      this.#jobs.set(promptId, job);
      job.start(options.signal, options.adopt === true && options.promptId !== undefined ? 'adopt' : 'submit');
    }
    return { promptId, server: this.server.name, result: job.result, events: () => eventStream(job) };
  }

  /**
   * Withdraws our prompts still on the server, then closes the socket. Idempotent. Prompts
   * given up while the server was away are withdrawn too if it answers now (a socket cut by
   * the network while HTTP still works), so they do not run uncollected.
   */
  async close(): Promise<void> {
    if (this.#lifetime.signal.aborted) return;
    await Promise.all([...this.#jobs.values()].map((job) => job.cancel()));
    await this.#withdrawOrphans(this.#lifetime.signal, Math.min(this.timeouts.cancel, CLOSE_WITHDRAW_MS));
    this.#lifetime.abort();
    if (this.#ticker !== null) clearInterval(this.#ticker);
    this.#ticker = null;
    await this.#socket.close();
    this.#stateListeners.clear();
  }

  #onMessage(message: ComfyMessage): void {
    switch (message.type) {
      case 'status':
        this.#queueRemaining = message.queueRemaining;
        for (const job of this.#jobs.values()) job.onQueueActivity();
        return;
      case 'feature_flags':
      case 'other':
        return;
      case 'executing':
      case 'progress':
      case 'progress_state':
        // The bare `executing {node}` after a reconnect has no prompt_id: it is about our running prompt.
        (message.promptId === null ? (message.type === 'executing' ? this.#runningJob() : undefined) : this.#jobs.get(message.promptId))?.onMessage(message);
        return;
      default:
        this.#jobs.get(message.promptId)?.onMessage(message);
    }
  }

  #onBinary(frame: BinaryFrame): void {
    if (frame.kind !== 'preview') return;
    // Type-1 previews carry no prompt id: ComfyUI runs one prompt at a time, so it is our running one (if any).
    const job = frame.promptId === null ? this.#runningJob() : this.#jobs.get(frame.promptId);
    job?.onPreview(frame);
  }

  /** The server's last word on its queue, or at least our own prompts sent before this one. */
  #promptsAhead(job: PromptJob): number {
    let ours = 0;
    for (const other of this.#jobs.values()) {
      if (other === job) break;
      if (!other.isSettled) ours++;
    }
    return Math.max(this.#queueRemaining, ours);
  }

  #runningJob(): PromptJob | undefined {
    for (const job of this.#jobs.values()) if (job.isRunning) return job;
    return undefined;
  }

  #onSocketState(state: SocketState): void {
    switch (state.kind) {
      case 'open':
        this.#unreachableSince = null;
        this.#lastFailure = null;
        this.#setState({ kind: 'up' });
        if (state.reconnected) void this.#reconcile();
        return;
      case 'closed':
        this.#unreachableSince ??= Date.now();
        this.#lastFailure = `server ${this.label}: ${state.reason}`;
        if (this.#state.kind === 'up') this.#setState({ kind: 'reconnecting', reason: state.reason });
        return;
      case 'failed': {
        this.#unreachableSince ??= Date.now();
        const error = state.error instanceof ComicError ? state.error : new ComicError('SERVER_UNREACHABLE', `server ${this.label}: ${state.reason}`);
        this.#lastFailure = error.message;
        // Also before the first connection: the user sees at once that we are retrying, and why.
        if (this.#state.kind === 'up' || this.#state.kind === 'connecting') this.#setState({ kind: 'reconnecting', reason: error.message });
        // A refused token will not fix itself; anything else gets the reconnect grace.
        if (error.code === 'SERVER_AUTH' || state.attempts >= this.#downAfterFailures) this.#goDown(error);
        else this.#checkGrace(Date.now());
        return;
      }
    }
  }

  /** After a reconnect: what finished while we were away is collected, what vanished is resubmitted. */
  async #reconcile(): Promise<void> {
    await this.#withdrawOrphans(this.#lifetime.signal, this.timeouts.cancel);
    await Promise.all([...this.#jobs.values()].map((job) => job.poll()));
  }

  /** Deletes (if queued) and interrupts (if running) the prompts we gave up on this server. */
  async #withdrawOrphans(signal: AbortSignal, budgetMs: number): Promise<void> {
    const orphans = [...this.#orphans];
    this.#orphans.clear();
    if (orphans.length === 0) return;
    const budget = deadline(signal, budgetMs);
    try {
      // One cancel per prompt where the server has POST /api/jobs/{id}/cancel (0.28), else delete and interrupt.
      const left: string[] = [];
      for (const id of orphans) if ((await this.routes.cancelJob(id, budget.signal).catch(() => undefined)) === undefined) left.push(id);
      if (left.length === 0) return;
      await this.routes.deleteQueued(left, budget.signal).catch(() => undefined);
      for (const id of left) await this.routes.interrupt(id, budget.signal).catch(() => undefined);
    } finally {
      budget.dispose();
    }
  }

  #goDown(error: ComicError): void {
    if (this.#state.kind === 'down') return;
    this.#setState({ kind: 'down', error });
    const moved = new ComicError('SERVER_UNREACHABLE', `${error.message}; its prompts are given up there`, { hint: error.hint, cause: error });
    for (const job of [...this.#jobs.values()]) {
      this.#orphans.add(job.promptId);
      job.abandon(moved);
    }
  }

  /**
   * A request to this server failed as if it were unreachable while the socket looks open:
   * recycle the socket so the reconnect loop (and its grace) decides, not one request.
   */
  suspectConnection(): void {
    if (this.#state.kind === 'up') this.#socket.recycle();
  }

  #tick(): void {
    const now = Date.now();
    this.#checkGrace(now);
    for (const job of this.#jobs.values()) job.tick(now);
  }

  /** Down once the server has been unreachable for longer than the reconnect grace. */
  #checkGrace(now: number): void {
    if (this.#unreachableSince === null || this.#state.kind === 'down' || now - this.#unreachableSince < this.timeouts.reconnect) return;
    const seconds = ((now - this.#unreachableSince) / 1000).toFixed(1);
    const last = this.#lastFailure ?? `server ${this.label}: the connection was lost`;
    this.#goDown(new ComicError('SERVER_UNREACHABLE', `${last} (unreachable for ${seconds} s, reconnect grace ${this.timeouts.reconnect / 1000} s)`, {
      hint: 'check that ComfyUI is running and reachable; timeouts.reconnect sets how long it may be away',
    }));
  }

  #setState(state: ClientState): void {
    if (state.kind === this.#state.kind) return;
    this.#state = state;
    for (const listener of [...this.#stateListeners]) listener(state);
  }
}

function tickInterval(timeouts: Timeouts): number {
  return Math.min(1000, Math.max(10, Math.floor(timeouts.poll / 2)));
}

function isTerminal(event: JobEvent): boolean {
  return event.type === 'completed' || event.type === 'failed' || event.type === 'interrupted';
}

/** A live async iterator over one job's events, ending with its terminal event. */
function eventStream(job: PromptJob): AsyncIterable<JobEvent> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<JobEvent> {
      const queue: JobEvent[] = [];
      let ended = job.isSettled;
      let wake: (() => void) | null = null;
      const unsubscribe = job.subscribe((event) => {
        queue.push(event);
        if (isTerminal(event)) ended = true;
        wake?.();
      });
      const finish = (): IteratorResult<JobEvent> => {
        unsubscribe();
        return { value: undefined, done: true };
      };
      return {
        async next(): Promise<IteratorResult<JobEvent>> {
          for (;;) {
            const event = queue.shift();
            if (event !== undefined) return { value: event, done: false };
            if (ended) return finish();
            await new Promise<void>((resolve) => (wake = resolve));
            wake = null;
          }
        },
        async return(): Promise<IteratorResult<JobEvent>> {
          return finish();
        },
      };
    },
  };
}
