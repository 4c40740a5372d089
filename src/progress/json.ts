/**
 * `--json`: one JSON object per line on stdout, for tools. Every run event becomes
 * `{"schema":"comic.event/1","at":…,"type":…, …fields}`; the stream always ends with
 * exactly one `{"schema":"comic.summary/1", …}` line, also when the run failed or was
 * cancelled. Nothing else is written to stdout. The format is documented, field by
 * field, in docs/events.md; a test checks that every event type is.
 */
import type { CliIO } from '../cli/io.js';
import type { ErrorCode } from '../errors.js';
import { EVENT_SCHEMA, type RunEvent, type RunSummary } from './events.js';
import { rendererContext, runError, type Renderer, type RendererContext, type RendererOptions } from './types.js';

export const SUMMARY_SCHEMA = 'comic.summary/1';

export interface JobFailure {
  readonly job: string;
  readonly code: ErrorCode;
  readonly message: string;
}

/** An event as it goes on the wire: preview bytes become their length (never the image itself). */
export function eventJson(event: RunEvent): Record<string, unknown> {
  switch (event.type) {
    case 'job-preview':
      return { type: event.type, job: event.job, mime: event.mime, bytes: event.bytes.byteLength };
    case 'job-failed':
      return { type: event.type, job: event.job, error: event.error, location: event.location ?? null };
    default:
      return { ...event };
  }
}

export class JsonRenderer implements Renderer {
  readonly #out: CliIO['stdout'];
  readonly #context: RendererContext;
  readonly #failures: JobFailure[] = [];
  #finished = false;

  constructor(io: CliIO, options: RendererOptions = {}) {
    this.#out = io.stdout;
    this.#context = rendererContext(options);
  }

  readonly onEvent = (event: RunEvent): void => {
    if (this.#finished) return;
    // The summary line closes the stream; run-finished would only say the same thing earlier.
    if (event.type === 'run-finished') return;
    if (event.type === 'job-failed') {
      this.#failures.push({ job: event.job, code: event.error.code, message: this.#context.clean(event.error.message) });
    }
    this.#write({ schema: EVENT_SCHEMA, at: this.#at(), ...eventJson(event) });
  };

  async finish(summary: RunSummary, error?: unknown): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    this.#write({
      schema: SUMMARY_SCHEMA,
      at: this.#at(),
      ...summary,
      failures: this.#failures,
      error: runError(error, this.#context.clean),
    });
  }

  #at(): string {
    return new Date(this.#context.now()).toISOString();
  }

  #write(value: Record<string, unknown>): void {
    const clean = this.#context.clean;
    this.#out.write(`${JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? clean(v) : v))}\n`);
  }
}
