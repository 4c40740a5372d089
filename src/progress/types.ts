/**
 * What every renderer is and takes. A renderer listens to the run's EventBus and, at the
 * end, closes its output with the run's summary.
 */
import type { Secret } from '../config/secret.js';
import { createMask } from '../util/redact.js';
import { isComicError, type ErrorCode } from '../errors.js';
import type { RunEventListener, RunSummary } from './events.js';

export type ProgressMode = 'interactive' | 'plain' | 'json';

export interface Renderer {
  /** Subscribe this to the EventBus. Events after `finish` are ignored. */
  readonly onEvent: RunEventListener;
  /**
   * Closes the output with the summary: the dashboard leaves its summary on screen, plain
   * prints it, JSON writes its one summary line. `error` is what ended the run early (a
   * ComicError for a missing backend, a cancel), if anything. Idempotent: only the first
   * call counts, so it may be called from a `finally` too.
   */
  finish(summary: RunSummary, error?: unknown): Promise<void>;
}

export interface RendererOptions {
  /** Credentials of the configuration: masked in everything a renderer prints. */
  readonly secrets?: readonly Secret[];
  /** The clock (epoch ms); tests pass their own. */
  readonly now?: () => number;
  /** Plain mode: least time between two step-progress lines of one job (default 5 s). */
  readonly progressEveryMs?: number;
  /** Interactive mode: least time between two redraws (default 100 ms, i.e. at most 10 per second). */
  readonly frameMs?: number;
}

/** RendererOptions with every default filled in. */
export interface RendererContext {
  readonly now: () => number;
  readonly clean: (text: string) => string;
  readonly progressEveryMs: number;
  readonly frameMs: number;
}

export function rendererContext(options: RendererOptions = {}): RendererContext {
  return {
    now: options.now ?? Date.now,
    // Secrets masked (these and every loaded configuration's), control characters escaped.
    clean: createMask(options.secrets ?? []),
    progressEveryMs: options.progressEveryMs ?? 5000,
    frameMs: options.frameMs ?? 100,
  };
}

/** What ended a run early, in the shape the summaries carry. */
export interface RunError {
  readonly code: ErrorCode;
  readonly message: string;
  readonly hint: string | null;
}

export function runError(error: unknown, clean: (text: string) => string): RunError | null {
  if (error === undefined || error === null) return null;
  if (isComicError(error)) return { code: error.code, message: clean(error.message), hint: error.hint === undefined ? null : clean(error.hint) };
  return { code: 'INTERNAL', message: clean(error instanceof Error ? error.message : String(error)), hint: 'please report this with the command you ran' };
}
