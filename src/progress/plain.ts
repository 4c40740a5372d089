/**
 * Plain lines for CI logs and pipes (`--plain`, `CI=true`, or stdout is not a terminal):
 * one timestamped line per change of a job's state, step progress at most every few
 * seconds per job, and a compact summary at the end. Colour only on a terminal without
 * NO_COLOR. Memory is bounded by the jobs in flight, not by the number of events.
 */
import type { CliIO } from '../cli/io.js';
import { colourAllowed, painter, type Colour, type Paint } from './color.js';
import type { RunEvent, RunSummary } from './events.js';
import { clockTime, formatDuration, outcomeWord, queuePosition, summaryLine } from './format.js';
import type { JobFailure } from './json.js';
import { rendererContext, type Renderer, type RendererContext, type RendererOptions } from './types.js';

/** Failed jobs listed under the summary; the rest are counted. */
const LISTED_FAILURES = 10;
const LABEL_WIDTH = 8;

export class PlainRenderer implements Renderer {
  readonly #out: CliIO['stdout'];
  readonly #context: RendererContext;
  readonly #paint: Paint;
  /** Per job in flight: when its last line was printed (progress is throttled against it). */
  readonly #lastLine = new Map<string, number>();
  /** Per job in flight: the server it is queued on (a new position alone is not a new line). */
  readonly #queuedOn = new Map<string, string | null>();
  /** Per job in flight: the title of the node running now, for progress lines. */
  readonly #node = new Map<string, string>();
  readonly #failures: JobFailure[] = [];
  #failureCount = 0;
  #finished = false;

  constructor(io: CliIO, options: RendererOptions = {}) {
    this.#out = io.stdout;
    this.#context = rendererContext(options);
    this.#paint = painter(colourAllowed(io.stdout, io.env));
  }

  readonly onEvent = (event: RunEvent): void => {
    if (this.#finished) return;
    switch (event.type) {
      case 'run-started':
        return this.#line('start', 'bold', `${event.jobs} jobs from ${event.scripts.join(', ')} on ${event.backend}`);
      case 'job-queued': {
        if (this.#queuedOn.has(event.job) && this.#queuedOn.get(event.job) === event.server) return;
        this.#queuedOn.set(event.job, event.server);
        const where = event.server === null ? '' : ` on ${event.server}`;
        return this.#jobLine(event.job, 'queued', 'dim', `${where}${queuePosition(event.position)}`);
      }
      case 'job-started':
        this.#queuedOn.delete(event.job);
        return this.#jobLine(event.job, 'started', 'cyan', event.backend === 'compose' ? ' (compose)' : ` on ${event.server ?? event.backend}`);
      case 'job-node':
        this.#node.set(event.job, event.title);
        return;
      case 'job-progress': {
        const last = this.#lastLine.get(event.job);
        if (last !== undefined && this.#context.now() - last < this.#context.progressEveryMs) return;
        const node = this.#node.get(event.job);
        return this.#jobLine(event.job, 'progress', 'dim', ` ${node ? `${node} ` : ''}${event.value}/${event.max}`);
      }
      case 'job-retry':
        this.#queuedOn.delete(event.job);
        return this.#jobLine(event.job, 'retry', 'yellow', ` on ${event.server} (attempt ${event.attempt}): ${event.reason}`);
      case 'job-done':
        return this.#lastJobLine(event.job, 'done', 'green', ` in ${formatDuration(event.ms)}${event.backend === 'compose' ? '' : ` on ${event.server ?? event.backend}`}`);
      case 'job-cached':
        return this.#lastJobLine(event.job, 'cached', 'green', '');
      case 'job-failed':
        this.#failureCount++;
        if (this.#failures.length < LISTED_FAILURES) this.#failures.push({ job: event.job, code: event.error.code, message: event.error.message });
        return this.#lastJobLine(event.job, 'failed', 'red', ` ${event.error.code}: ${event.error.message}`);
      case 'job-skipped':
        return this.#lastJobLine(event.job, 'skipped', 'yellow', `: ${event.reason}`);
      case 'fallback':
        return this.#line('fallback', 'yellow', `${event.from} → ${event.to}: ${event.reason}`);
      case 'server':
        return this.#line('server', event.state === 'up' ? 'green' : event.state === 'reconnecting' ? 'yellow' : 'red', `${event.server} ${event.state}: ${event.reason}`);
      case 'warning':
        return this.#line('warning', 'yellow', event.job === null ? event.message : `${event.job}: ${event.message}`);
      case 'job-preview':
      case 'vram':
      case 'run-finished':
        // Previews are for screens; VRAM goes to the report; the summary comes with finish().
        return;
    }
  };

  async finish(summary: RunSummary): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    this.#line(outcomeWord(summary), summary.ok ? 'green' : 'red', summaryLine(summary));
    const clean = this.#context.clean;
    for (const failure of this.#failures) {
      this.#write(`  ${this.#paint('red', '✗')} ${clean(failure.job)}: ${failure.code}: ${indent(clean(failure.message))}\n`);
    }
    const unlisted = this.#failureCount - this.#failures.length;
    if (unlisted > 0) this.#write(`  … and ${unlisted} more failed (see report.json)\n`);
    // Last, so it is the line a reader (or `tail -1`) sees: resume, start a server, retry.
    if (summary.next !== null) this.#write(`  → ${indent(clean(summary.next))}\n`);
  }

  #jobLine(job: string, label: string, colour: Colour, detail: string): void {
    this.#line(label, colour, `${job}${detail}`);
    this.#lastLine.set(job, this.#context.now());
  }

  /** A job's final line: nothing is kept about it afterwards. */
  #lastJobLine(job: string, label: string, colour: Colour, detail: string): void {
    this.#line(label, colour, `${job}${detail}`);
    this.#lastLine.delete(job);
    this.#queuedOn.delete(job);
    this.#node.delete(job);
  }

  #line(label: string, colour: Colour, text: string): void {
    const time = this.#paint('dim', clockTime(this.#context.now()));
    // Cleaned before painting: the masking step escapes control characters, our colours too.
    this.#write(`${time} ${this.#paint(colour, label.padEnd(LABEL_WIDTH))} ${indent(this.#context.clean(text))}\n`);
  }

  /** Writes text whose every part from elsewhere (a server, a script) has been cleaned. */
  #write(text: string): void {
    this.#out.write(text);
  }
}

/** Continuation lines of a multi-line message, indented under the first. */
function indent(text: string): string {
  return text.replace(/\n/g, `\n${' '.repeat(LABEL_WIDTH + 10)}`);
}
