/**
 * The interactive renderer: events go through the pure reducer as they arrive (cheap, so
 * the run never waits on the screen); a timer redraws at most every `frameMs` and only
 * when something changed (or once a second, for the clock and ETA). On finish the
 * dashboard turns into its compact summary and stays on screen.
 */
import { closedSafeOf, type CliIO, type ClosedSafe } from '../../cli/io.js';
import { colourAllowed } from '../color.js';
import type { RunEvent, RunSummary } from '../events.js';
import { PlainRenderer } from '../plain.js';
import { rendererContext, type Renderer, type RendererContext, type RendererOptions } from '../types.js';
import type { InkApp } from './ink-app.js';
import { finish, initialState, reduce, type DashboardState } from './state.js';
import { frameSize } from './terminal.js';
import type { DashboardProps } from './view.js';

/** Redraw at least this often while running, so the elapsed time and the ETA move. */
const CLOCK_MS = 1000;

type Resizable = NodeJS.WritableStream & { columns?: number; rows?: number; on?: (event: 'resize', listener: () => void) => unknown; off?: (event: 'resize', listener: () => void) => unknown };

/**
 * Hands whole lines to `write`; a partial line waits for its end (a frame drawn after half a
 * line would start in the middle of it). `flush` ends a pending partial line.
 */
function lineBuffered(write: (text: string) => void): { write: (text: string) => void; flush: () => void } {
  let pending = '';
  return {
    write(text) {
      pending += text;
      const end = pending.lastIndexOf('\n');
      if (end < 0) return;
      write(pending.slice(0, end + 1));
      pending = pending.slice(end + 1);
    },
    flush() {
      if (pending !== '') write(`${pending}\n`);
      pending = '';
    },
  };
}

export class DashboardRenderer implements Renderer {
  readonly #context: RendererContext;
  readonly #colour: boolean;
  readonly #stdout: Resizable;
  readonly #loaded: Promise<void>;
  readonly #timer: NodeJS.Timeout;
  #state: DashboardState = initialState();
  #app: InkApp | null = null;
  /** When ink cannot be loaded, the run is still reported, in plain lines. */
  #plain: PlainRenderer | null = null;
  #dirty = true;
  #lastDraw = 0;
  #finished = false;
  /** stderr while its lines go above the frame (both share the terminal), and what ends that. */
  #diverted: { stream: ClosedSafe; flush: () => void } | null = null;

  constructor(io: CliIO, options: RendererOptions = {}) {
    this.#context = rendererContext(options);
    this.#colour = colourAllowed(io.stdout, io.env);
    this.#stdout = io.stdout as Resizable;
    this.#loaded = import('./ink-app.js').then(
      ({ mountDashboard }) => {
        const app = mountDashboard(io.stdout, io.stderr, this.#props());
        this.#app = app;
        this.#lastDraw = this.#context.now();
        this.#dirty = false;
        // A line on stderr ("cancelling…", a server going down) written straight to the
        // terminal would push the frame down, and the next redraw would erase the line and
        // leave the frame's top behind. Through ink it lands above the frame instead.
        const stderr = io.stderr.isTTY === true ? closedSafeOf(io.stderr) : null;
        if (stderr !== null && !this.#finished) {
          const lines = lineBuffered(app.writeAbove);
          stderr.divert(lines.write);
          this.#diverted = { stream: stderr, flush: lines.flush };
        }
      },
      (error: unknown) => {
        io.stderr.write(`comic: cannot show the progress dashboard (${String(error)}); printing plain lines instead\n`);
        this.#plain = new PlainRenderer(io, options);
      },
    );
    this.#timer = setInterval(() => this.redraw(), this.#context.frameMs);
    this.#timer.unref();
    this.#stdout.on?.('resize', this.#onResize);
  }

  readonly onEvent = (event: RunEvent): void => {
    if (this.#finished) return;
    if (this.#plain) return this.#plain.onEvent(event);
    this.#state = reduce(this.#state, event, this.#context.now());
    this.#dirty = true;
  };

  /** The state the next frame shows (for tests and for `comic serve`). */
  get state(): DashboardState {
    return this.#state;
  }

  /** Resolves once the dashboard is on screen. */
  ready(): Promise<void> {
    return this.#loaded;
  }

  /** Draws a frame if anything changed; the timer calls this. */
  redraw(): void {
    if (this.#app === null || this.#finished) return;
    const now = this.#context.now();
    if (!this.#dirty && now - this.#lastDraw < CLOCK_MS) return;
    this.#app.update(this.#props());
    this.#dirty = false;
    this.#lastDraw = now;
  }

  async finish(summary: RunSummary): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    clearInterval(this.#timer);
    this.#stdout.off?.('resize', this.#onResize);
    await this.#loaded;
    if (this.#plain) return this.#plain.finish(summary);
    this.#state = finish(this.#state, summary);
    this.#undivert();
    this.#app?.update(this.#props());
    await this.#app?.close();
  }

  /** stderr goes straight to the terminal again (what follows the summary, e.g. the error). */
  #undivert(): void {
    if (this.#diverted === null) return;
    this.#diverted.flush();
    this.#diverted.stream.divert(null);
    this.#diverted = null;
  }

  readonly #onResize = (): void => {
    this.#dirty = true;
    this.redraw();
  };

  #props(): DashboardProps {
    return {
      state: this.#cleanState(),
      now: this.#context.now(),
      size: frameSize(this.#stdout),
      colour: this.#colour,
    };
  }

  /** Server messages may echo a credential: mask what is shown (the few texts a frame holds). */
  #cleanState(): DashboardState {
    const { clean } = this.#context;
    const state = this.#state;
    return {
      ...state,
      warnings: state.warnings.map(clean),
      failures: state.failures.map((f) => ({ ...f, message: clean(f.message) })),
      fallback: state.fallback && { ...state.fallback, reason: clean(state.fallback.reason) },
      lanes: Object.fromEntries(Object.entries(state.lanes).map(([name, lane]) => [name, { ...lane, reason: lane.reason && clean(lane.reason) }])),
    };
  }
}
