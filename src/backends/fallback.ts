/**
 * Puts a fallback behind a primary backend. The first time the primary cannot serve at all
 * (not ready at start, or every server went down mid-run: NO_BACKEND / SERVER_UNREACHABLE),
 * the switch is announced once with its reason and every later request goes to the
 * fallback. Errors about the job itself (an invalid workflow, a failed node) are not a
 * reason to switch: they would fail on the fallback too, or hide a real problem.
 */
import { ComicError, isComicError } from '../errors.js';
import type { Backend, BackendName, RenderOptions, RenderRequest, RenderResult } from './types.js';

const SWITCH_CODES = new Set(['NO_BACKEND', 'SERVER_UNREACHABLE']);

export interface FallbackSwitch {
  readonly from: BackendName;
  readonly to: BackendName;
  readonly reason: string;
}

export class FallbackBackend implements Backend {
  #active: Backend;
  #switched: FallbackSwitch | null = null;
  /** Concurrent failures share one switch, so it is announced exactly once. */
  #switching: Promise<void> | null = null;

  constructor(
    readonly primary: Backend,
    readonly fallback: Backend,
    private readonly onSwitch: (change: FallbackSwitch) => void,
  ) {
    this.#active = primary;
  }

  get name(): BackendName {
    return this.#active.name;
  }

  /** The switch that happened, if any (for the report). */
  get switched(): FallbackSwitch | null {
    return this.#switched;
  }

  async ready(signal: AbortSignal): Promise<void> {
    try {
      await this.primary.ready(signal);
    } catch (error) {
      if (!canSwitch(error)) throw error;
      await this.#switchTo(error, signal);
    }
  }

  async render(request: RenderRequest, options: RenderOptions): Promise<RenderResult> {
    if (this.#active === this.primary) {
      try {
        return await this.primary.render(request, options);
      } catch (error) {
        if (!canSwitch(error)) throw error;
        await this.#switchTo(error, options.signal);
      }
    }
    return this.fallback.render(request, options);
  }

  async endBatch(signal: AbortSignal): Promise<void> {
    // The primary's servers may still hold memory from before a switch.
    await Promise.all([this.primary.endBatch?.(signal), this.fallback.endBatch?.(signal)]);
  }

  async close(): Promise<void> {
    await Promise.all([this.primary.close(), this.fallback.close()]);
  }

  #switchTo(cause: unknown, signal: AbortSignal): Promise<void> {
    // A failed switch is forgotten, so a fallback that comes up later can still be switched to.
    this.#switching ??= this.#doSwitch(cause, signal).catch((error: unknown) => {
      this.#switching = null;
      throw error;
    });
    return this.#switching;
  }

  async #doSwitch(cause: unknown, signal: AbortSignal): Promise<void> {
    const reason = cause instanceof Error ? cause.message : String(cause);
    try {
      await this.fallback.ready(signal);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new ComicError('NO_BACKEND', `no backend is available: ${this.primary.name}: ${reason}; ${this.fallback.name} fallback: ${why}`, {
        hint: 'start a ComfyUI server (or pass --server URL), or point --fallback at a running Stable Diffusion API',
        cause: error,
      });
    }
    this.#active = this.fallback;
    this.#switched = { from: this.primary.name, to: this.fallback.name, reason };
    this.onSwitch(this.#switched);
  }
}

function canSwitch(error: unknown): boolean {
  return isComicError(error) && SWITCH_CODES.has(error.code);
}
