/**
 * Typed calls for every ComfyUI route the client uses (../shared/comfyui-protocol.md §3).
 * Each takes an AbortSignal; answers are checked at the edge; empty-body routes are never
 * parsed as JSON.
 */
import { ComicError } from '../errors.js';
import {
  Features,
  History,
  Job,
  JobCancelled,
  ObjectInfo as ObjectInfoSchema,
  PromptAccepted,
  PromptRejected,
  Queue,
  SystemStats,
  Uploaded,
  type HistoryEntry,
} from './schemas.js';
import type { Transport } from './transport.js';
import type { ApiWorkflow, FileRef, ObjectInfo, VramReading } from './types.js';
import { formatValidationErrors, validationError } from './validation-errors.js';

export interface PromptBody {
  readonly prompt: ApiWorkflow;
  readonly client_id: string;
  readonly prompt_id: string;
  readonly extra_data?: Readonly<Record<string, unknown>>;
}

/** What /api/jobs/{id} says of a prompt; `unknown` is a word this client does not know. */
export type JobState = 'pending' | 'in_progress' | 'completed' | 'failed' | 'cancelled' | 'unknown';
const JOB_STATES: ReadonlySet<string> = new Set(['pending', 'in_progress', 'completed', 'failed', 'cancelled']);

/** Whether a route exists on this server: learned from its first answer, then remembered. */
type Support = 'unknown' | 'yes' | 'no';

/** aiohttp's own 404/405 bodies: the route is not there (a job the route does not know is a JSON 404). */
const NO_ROUTE = /^(404: Not Found|405: Method Not Allowed)/;

export interface QueueSnapshot {
  readonly running: readonly string[];
  /** In run order (the server sends heap order; we sort by number). */
  readonly pending: readonly string[];
}

/** /object_info scans model folders and can take a while on big installs: at least this long, whatever `timeouts.request` says. */
const OBJECT_INFO_MS = 300_000;

export class Routes {
  /** GET /api/jobs/{id} (0.8.0 has it; older servers do not). */
  #jobRoute: Support = 'unknown';
  /** POST /api/jobs/{id}/cancel (0.28.0 has it; 0.8.0 does not). */
  #cancelRoute: Support = 'unknown';

  constructor(readonly transport: Transport) {}

  /** What is known so far of the jobs routes (for doctor and tests). */
  get jobRoutes(): { readonly job: Support; readonly cancel: Support } {
    return { job: this.#jobRoute, cancel: this.#cancelRoute };
  }

  features(signal: AbortSignal) {
    return this.transport.json('GET', '/features', Features, { signal });
  }

  /**
   * GET /api/jobs/{id}: the prompt's state in one small answer, `null` when the server does not
   * know the prompt, `undefined` when the server has no such route (then ask /history and
   * /queue). A pending prompt cancelled on 0.28 simply disappears (null).
   */
  async job(promptId: string, signal: AbortSignal): Promise<JobState | null | undefined> {
    if (this.#jobRoute === 'no') return undefined;
    const route = `/jobs/${encodeURIComponent(promptId)}`;
    const { status, text } = await this.transport.text('GET', route, { signal });
    if (status === 404 || status === 405) {
      if (NO_ROUTE.test(text) || !text.trimStart().startsWith('{')) {
        this.#jobRoute = 'no';
        return undefined;
      }
      this.#jobRoute = 'yes';
      return null;
    }
    if (status !== 200) throw this.transport.statusError('GET', route, status, text);
    const job = this.transport.parse('GET', route, Job, text);
    if (job.id !== promptId) throw this.transport.protocolError('GET', route, `the job ${job.id} for our ${promptId}`);
    this.#jobRoute = 'yes';
    return JOB_STATES.has(job.status) ? (job.status as JobState) : 'unknown';
  }

  /**
   * POST /api/jobs/{id}/cancel where the server has it (one call for pending and running, only
   * ever this prompt): true when the server cancelled it, false when it had nothing to cancel,
   * `undefined` when the route does not exist (then delete and interrupt as before).
   */
  async cancelJob(promptId: string, signal: AbortSignal): Promise<boolean | undefined> {
    if (this.#cancelRoute === 'no') return undefined;
    const route = `/jobs/${encodeURIComponent(promptId)}/cancel`;
    const { status, text } = await this.transport.text('POST', route, { signal });
    if ((status === 404 || status === 405) && (NO_ROUTE.test(text) || !text.trimStart().startsWith('{'))) {
      this.#cancelRoute = 'no';
      return undefined;
    }
    if (status !== 200) throw this.transport.statusError('POST', route, status, text);
    this.#cancelRoute = 'yes';
    return this.transport.parse('POST', route, JobCancelled, text).cancelled;
  }

  get label(): string {
    return this.transport.label;
  }

  systemStats(signal: AbortSignal) {
    return this.transport.json('GET', '/system_stats', SystemStats, { signal });
  }

  async vram(signal: AbortSignal, server: string): Promise<VramReading> {
    const stats = await this.systemStats(signal);
    const device = stats.devices[0];
    if (device === undefined) return { server, used: 0, total: 0 };
    return { server, used: Math.max(0, device.vram_total - device.vram_free), total: device.vram_total };
  }

  async objectInfo(signal: AbortSignal): Promise<ObjectInfo> {
    return this.transport.json('GET', '/object_info', ObjectInfoSchema, { signal, timeoutMs: Math.max(OBJECT_INFO_MS, this.transport.requestMs) });
  }

  /**
   * POST /prompt. A 400 becomes WORKFLOW_INVALID (or SERVER_MISSING_CAPABILITY) with one
   * readable line per problem. A 200 that still carries node_errors (some outputs dropped)
   * is returned as `partial` so the caller can withdraw the prompt before failing.
   */
  async queuePrompt(body: PromptBody, signal: AbortSignal): Promise<{ number: number; partial: ComicError | null }> {
    const { status, text } = await this.transport.text('POST', '/prompt', { signal, json: body });
    if (status === 400) {
      const answer = this.transport.parse('POST', '/prompt', PromptRejected, text);
      throw validationError(answer, body.prompt, this.label);
    }
    if (status !== 200) throw this.transport.statusError('POST', '/prompt', status, text);
    const accepted = this.transport.parse('POST', '/prompt', PromptAccepted, text);
    if (accepted.prompt_id !== body.prompt_id) {
      throw this.transport.protocolError('POST', '/prompt', `prompt_id ${accepted.prompt_id} for our ${body.prompt_id}`);
    }
    const nodeErrors = accepted.node_errors ?? {};
    if (Object.keys(nodeErrors).length === 0) return { number: accepted.number, partial: null };
    const lines = formatValidationErrors({ node_errors: nodeErrors }, body.prompt);
    const partial = new ComicError('WORKFLOW_INVALID', `server ${this.label} accepted only part of the workflow:\n  ${lines.join('\n  ')}`, {
      hint: 'fix the nodes listed; the server would have skipped the outputs that depend on them',
    });
    return { number: accepted.number, partial };
  }

  async queue(signal: AbortSignal): Promise<QueueSnapshot> {
    const queue = await this.transport.json('GET', '/queue', Queue, { signal });
    const pending = [...queue.queue_pending].sort((a, b) => a[0] - b[0]);
    return { running: queue.queue_running.map((item) => item[1]), pending: pending.map((item) => item[1]) };
  }

  /** Removes pending prompts by id; never touches the running one or anyone else's. */
  deleteQueued(promptIds: readonly string[], signal: AbortSignal): Promise<void> {
    return this.transport.send('POST', '/queue', { signal, json: { delete: promptIds } });
  }

  /** Interrupts `promptId` only if it is the one running (never a global interrupt). */
  interrupt(promptId: string, signal: AbortSignal): Promise<void> {
    return this.transport.send('POST', '/interrupt', { signal, json: { prompt_id: promptId } });
  }

  /** The history entry, or null while the prompt is pending, running or unknown. */
  async history(promptId: string, signal: AbortSignal): Promise<HistoryEntry | null> {
    const route = `/history/${encodeURIComponent(promptId)}`;
    const history = await this.transport.json('GET', route, History, { signal });
    return history[promptId] ?? null;
  }

  /** GET /view: the response once its 200 is in; the caller reads the body within its cap (./downloads.ts). */
  view(ref: FileRef, signal: AbortSignal) {
    return this.transport.stream('/view', { signal, query: { filename: ref.filename, subfolder: ref.subfolder, type: ref.type } });
  }

  /** Returns the name to use in LoadImage (`subfolder/name` when the server put it in one). */
  async uploadImage(bytes: Uint8Array, filename: string, signal: AbortSignal): Promise<string> {
    const form = new FormData();
    form.set('image', new Blob([bytes]), filename);
    form.set('type', 'input');
    const uploaded = await this.transport.json('POST', '/upload/image', Uploaded, { signal, form });
    return uploaded.subfolder ? `${uploaded.subfolder}/${uploaded.name}` : uploaded.name;
  }

  free(options: { unloadModels: boolean; freeMemory: boolean }, signal: AbortSignal): Promise<void> {
    return this.transport.send('POST', '/free', { signal, json: { unload_models: options.unloadModels, free_memory: options.freeMemory } });
  }
}
