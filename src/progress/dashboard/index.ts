/**
 * The interactive renderer: events go through the pure reducer as they arrive (cheap, so
 * the run never waits on the screen); a timer redraws at most every `frameMs` and only
 * when something changed (or once a second, for the clock and ETA). On finish the
 * dashboard turns into its compact summary and stays on screen.
 */
import type { CliIO } from '../../cli/io.js';
import { colourAllowed } from '../color.js';
import type { RunEvent, RunSummary } from '../events.js';
import { PlainRenderer } from '../plain.js';
import { rendererContext, type Renderer, type RendererContext, type RendererOptions } from '../types.js';
import type { InkApp } from './ink-app.js';
import { finish, initialState, reduce, type DashboardState } from './state.js';
import type { DashboardProps } from './view.js';

/** Redraw at least this often while running, so the elapsed time and the ETA move. */
const CLOCK_MS = 1000;

type Resizable = NodeJS.WritableStream & { columns?: number; rows?: number; on?: (event: 'resize', listener: () => void) => unknown; off?: (event: 'resize', listener: () => void) => unknown };

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

  constructor(io: CliIO, options: RendererOptions = {}) {
    this.#context = rendererContext(options);
    this.#colour = colourAllowed(io.stdout, io.env);
    this.#stdout = io.stdout as Resizable;
    this.#loaded = import('./ink-app.js').then(
      ({ mountDashboard }) => {
        this.#app = mountDashboard(io.stdout, io.stderr, this.#props());
        this.#lastDraw = this.#context.now();
        this.#dirty = false;
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
    this.#app?.update(this.#props());
    await this.#app?.close();
  }

  readonly #onResize = (): void => {
    this.#dirty = true;
    this.redraw();
  };

  #props(): DashboardProps {
    const { columns, rows } = this.#stdout;
    return {
      state: this.#cleanState(),
      now: this.#context.now(),
      size: { columns: columns && columns > 0 ? columns : 80, rows: rows && rows > 0 ? rows : 24 },
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
