/**
 * What `comic serve` tells its clients, over the WebSocket and in job answers: one closed
 * union of messages, mapped from the run's RunEvents (the same events the CLI renders).
 * Paths never appear: outputs are URLs under /api/files/.
 */
import type { ServerState } from '../backends/types.js';
import type { RunEvent } from '../progress/events.js';
import type { ErrorCode } from '../errors.js';

export type JobState = 'queued' | 'processing' | 'completed' | 'failed' | 'cancelled';

export interface JobOutput {
  /** The image or file's job id in the plan: `panel:1-1`, `page:2`, `export:pdf`. */
  readonly image: string;
  readonly url: string;
  readonly backend: string | null;
  readonly server: string | null;
  /** Served from the render cache. */
  readonly cached: boolean;
}

export interface JobProgress {
  /** Images, pages and exports finished (rendered, cached, failed or skipped) of `total`. */
  readonly done: number;
  readonly total: number;
  /** What is being worked on now. */
  readonly image: string | null;
  readonly server: string | null;
  /** The node's title as the workflow names it. */
  readonly node: string | null;
  readonly step: { readonly value: number; readonly max: number } | null;
}

export interface JobErrorInfo {
  readonly code: ErrorCode;
  readonly message: string;
}

export type ServeMessage =
  /** Waiting: `server` null while in our queue (position 1 is next), else in that server's queue. */
  | { readonly type: 'queued'; readonly job: string; readonly position: number; readonly server: string | null }
  | { readonly type: 'processing'; readonly job: string; readonly progress: JobProgress }
  | { readonly type: 'preview'; readonly job: string; readonly image: string; readonly mime: string; readonly data: string }
  | { readonly type: 'completed'; readonly job: string; readonly outputs: readonly JobOutput[] }
  | { readonly type: 'failed'; readonly job: string; readonly error: JobErrorInfo }
  | { readonly type: 'cancelled'; readonly job: string }
  | { readonly type: 'warning'; readonly job: string | null; readonly message: string }
  /** Every later render goes to `to`; sent to every client. */
  | { readonly type: 'fallback'; readonly from: string; readonly to: string; readonly reason: string }
  | { readonly type: 'server'; readonly server: string; readonly state: ServerState; readonly reason: string };

/** Messages about one job carry its id; the rest concern every client. */
export function messageJob(message: ServeMessage): string | null {
  return 'job' in message ? message.job : null;
}

/** Events that concern the whole server rather than one job. */
export function serverMessage(event: RunEvent): ServeMessage | null {
  switch (event.type) {
    case 'fallback':
      return { type: 'fallback', from: event.from, to: event.to, reason: event.reason };
    case 'server':
      return { type: 'server', server: event.server, state: event.state, reason: event.reason };
    default:
      return null;
  }
}

/**
 * One job's progress, folded from its run's events. `next` returns the message the event
 * makes, if any; lifecycle messages (completed, failed, cancelled) are the job's to send.
 */
export class ProgressTracker {
  #progress: JobProgress = { done: 0, total: 0, image: null, server: null, node: null, step: null };

  constructor(private readonly job: string) {}

  get progress(): JobProgress {
    return this.#progress;
  }

  next(event: RunEvent): ServeMessage | null {
    const job = this.job;
    switch (event.type) {
      case 'run-started':
        return this.#set({ total: event.jobs });
      case 'job-queued':
        return event.server === null ? null : { type: 'queued', job, position: event.position ?? 0, server: event.server };
      case 'job-started':
        return this.#set({ image: event.job, server: event.server, node: null, step: null });
      case 'job-node':
        return this.#set({ image: event.job, server: event.server, node: event.title || event.node, step: null });
      case 'job-progress':
        return this.#set({ image: event.job, step: { value: event.value, max: event.max } });
      case 'job-preview':
        return { type: 'preview', job, image: event.job, mime: event.mime, data: Buffer.from(event.bytes).toString('base64') };
      case 'job-retry':
        return { type: 'warning', job, message: `${event.job}: attempt ${event.attempt} on ${event.server} failed (${event.reason}); retrying` };
      case 'job-done':
      case 'job-cached':
      case 'job-skipped':
        return this.#set({ done: this.#progress.done + 1 });
      case 'job-failed':
        this.#progress = { ...this.#progress, done: this.#progress.done + 1 };
        return { type: 'warning', job, message: `${event.job} failed: ${event.error.message} (${event.error.code})` };
      case 'warning':
        return { type: 'warning', job, message: event.job ? `${event.job}: ${event.message}` : event.message };
      case 'fallback':
      case 'server':
      case 'vram':
      case 'run-finished':
        return null;
    }
  }

  #set(change: Partial<JobProgress>): ServeMessage {
    this.#progress = { ...this.#progress, ...change };
    return { type: 'processing', job: this.job, progress: this.#progress };
  }
}
