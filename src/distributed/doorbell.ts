/**
 * Wake-ups for renders waiting on their jobs, without lost wake-ups: a render resets its
 * bell, reads the job's state, and waits only if nobody rang since the reset. A ring that
 * lands between the read and the wait is kept, not missed.
 */
export interface Bell {
  /** Forget earlier rings: call right before reading the state the bell is about. */
  reset(): void;
  /** Resolves at once if rung since reset(), else on the next ring or after `ms`; rejects when `signal` aborts. */
  wait(ms: number, signal: AbortSignal): Promise<void>;
  /** Stops listening. */
  dispose(): void;
}

export class Doorbells {
  readonly #bells = new Map<string, Set<BellImpl>>();

  /** A bell for `name`, rung by every ring(name) until disposed. */
  watch(name: string): Bell {
    const bells = this.#bells.get(name) ?? new Set<BellImpl>();
    this.#bells.set(name, bells);
    const bell = new BellImpl(() => {
      bells.delete(bell);
      if (bells.size === 0) this.#bells.delete(name);
    });
    bells.add(bell);
    return bell;
  }

  ring(name: string): void {
    for (const bell of this.#bells.get(name) ?? []) bell.ring();
  }
}

class BellImpl implements Bell {
  #rung = false;
  #wake: (() => void) | null = null;

  constructor(readonly dispose: () => void) {}

  reset(): void {
    this.#rung = false;
  }

  ring(): void {
    this.#rung = true;
    this.#wake?.();
  }

  wait(ms: number, signal: AbortSignal): Promise<void> {
    if (this.#rung) return Promise.resolve();
    signal.throwIfAborted();
    return new Promise((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.#wake = null;
      };
      const onAbort = () => {
        finish();
        reject(signal.reason);
      };
      const timer = setTimeout(() => {
        finish();
        resolve();
      }, ms);
      this.#wake = () => {
        finish();
        resolve();
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
