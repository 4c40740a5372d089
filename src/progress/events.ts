/**
 * The run's event bus: one closed union of everything a run reports. The three renderers
 * (ink dashboard, plain lines, JSON lines), the report and `comic serve` all read these
 * and nothing else. The JSON renderer writes them as-is, so changing a field is a schema
 * change: bump EVENT_SCHEMA and update docs/events.md.
 */
import type { BackendName, ServerState } from '../backends/types.js';
import type { ErrorCode, SourceLocation } from '../errors.js';
import { mask } from '../util/redact.js';

export const EVENT_SCHEMA = 'comic.event/1';

/**
 * What became of a job of the plan, as report.json records it (docs/events.md): made in
 * this run, served from the cache, failed, skipped because a job it needs did not finish,
 * cut short by a cancel while it was queued or running, or never started (cancelled first,
 * or no backend).
 */
export type JobStatus = 'done' | 'cached' | 'failed' | 'skipped' | 'cancelled' | 'not-run';

/** A switch of backends during a run (the `fallback` event's fields). */
export interface FallbackSwitch {
  readonly from: BackendName;
  readonly to: BackendName;
  readonly reason: string;
}

export interface JobError {
  readonly code: ErrorCode;
  readonly message: string;
}

export type RunEvent =
  | { readonly type: 'run-started'; readonly scripts: readonly string[]; readonly jobs: number; readonly backend: BackendName }
  | { readonly type: 'job-queued'; readonly job: string; readonly server: string | null; readonly position: number | null }
  | { readonly type: 'job-started'; readonly job: string; readonly backend: BackendName | 'compose'; readonly server: string | null }
  | { readonly type: 'job-node'; readonly job: string; readonly server: string; readonly node: string; readonly title: string }
  | { readonly type: 'job-progress'; readonly job: string; readonly server: string | null; readonly value: number; readonly max: number }
  | { readonly type: 'job-preview'; readonly job: string; readonly mime: string; readonly bytes: Uint8Array }
  | { readonly type: 'job-retry'; readonly job: string; readonly server: string; readonly attempt: number; readonly reason: string }
  | { readonly type: 'job-done'; readonly job: string; readonly backend: BackendName | 'compose'; readonly server: string | null; readonly ms: number; readonly output: string }
  | { readonly type: 'job-cached'; readonly job: string; readonly output: string }
  /** `location`: where the script asks for the job, when known (GitHub annotations point there). */
  | { readonly type: 'job-failed'; readonly job: string; readonly error: JobError; readonly location?: SourceLocation }
  | { readonly type: 'job-skipped'; readonly job: string; readonly reason: string }
  | { readonly type: 'fallback'; readonly from: BackendName; readonly to: BackendName; readonly reason: string }
  | { readonly type: 'server'; readonly server: string; readonly state: ServerState; readonly reason: string }
  | { readonly type: 'vram'; readonly server: string; readonly used: number; readonly total: number }
  | { readonly type: 'warning'; readonly message: string; readonly job: string | null }
  | { readonly type: 'run-finished'; readonly summary: RunSummary };

export interface RunSummary {
  readonly ok: boolean;
  readonly exitCode: number;
  readonly total: number;
  readonly done: number;
  readonly cached: number;
  readonly failed: number;
  readonly skipped: number;
  /** Jobs that were queued or running when the run was cancelled (a rerun does them). */
  readonly cancelled: number;
  /** Jobs that never started: the run was cancelled or found no backend first. */
  readonly notRun: number;
  /** Warnings of the run, retries included (each is in report.json). */
  readonly warnings: number;
  readonly ms: number;
  readonly fallback: boolean;
  /** The switch behind `fallback: true`: which backends, and why; null when there was none. */
  readonly fellBack: FallbackSwitch | null;
  /** What to do next, in one sentence (resume, start a server, retry failures); null when all went well. */
  readonly next: string | null;
}

export type RunEventListener = (event: RunEvent) => void;

/** A synchronous fan-out; a listener that throws is reported, never allowed to break the run. */
export class EventBus {
  readonly #listeners = new Set<RunEventListener>();

  on(listener: RunEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(event: RunEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        // A broken renderer must not fail a render; say so once on stderr and keep going.
        process.stderr.write(mask(`comic: a progress listener failed: ${String(error)}\n`));
      }
    }
  }
}
