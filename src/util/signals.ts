/**
 * Small helpers for AbortSignal-driven code: every wait of the clients is abortable, and
 * deadlines are plain timers that are always cleared (no lingering AbortSignal.any chains,
 * which keep memory alive on long runs).
 */
import { ComicError } from '../errors.js';

export function cancelledError(what = 'the operation'): ComicError {
  return new ComicError('CANCELLED', `${what} was cancelled`);
}

export function throwIfAborted(signal: AbortSignal | undefined, what?: string): void {
  if (signal?.aborted) throw cancelledError(what);
}

/** Resolves after `ms`, or rejects with CANCELLED as soon as `signal` aborts. The timer never holds the process open. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(cancelledError());
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(cancelledError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    timer.unref();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The abort reason of a deadline that ran out (as opposed to a caller that gave up). */
export class DeadlineExpired extends Error {
  override readonly name = 'DeadlineExpired';
}

/** True when `signal` was aborted by a deadline, here or further up. */
export function expiredByDeadline(signal: AbortSignal): boolean {
  return signal.aborted && signal.reason instanceof DeadlineExpired;
}

export interface Deadline {
  /** Aborts when the parent aborts or the time is up. */
  readonly signal: AbortSignal;
  /** True when the deadline (not the parent) fired. */
  expired(): boolean;
  /** Restarts the clock (for silence budgets: call it on every sign of life). */
  touch(): void;
  dispose(): void;
}

/** A child signal that aborts with its parent or after `ms` of no `touch()`. Always `dispose()` it. */
export function deadline(parent: AbortSignal | undefined, ms: number): Deadline {
  const controller = new AbortController();
  let fired = false;
  const onParentAbort = (): void => controller.abort(parent?.reason);
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      fired = true;
      controller.abort(new DeadlineExpired(`no answer within ${ms} ms`));
    }, ms);
    timer.unref();
  };
  if (parent?.aborted) controller.abort(parent.reason);
  else {
    parent?.addEventListener('abort', onParentAbort, { once: true });
    arm();
  }
  return {
    signal: controller.signal,
    expired: () => fired,
    touch: () => {
      if (!controller.signal.aborted) arm();
    },
    dispose: () => {
      if (timer !== undefined) clearTimeout(timer);
      parent?.removeEventListener('abort', onParentAbort);
    },
  };
}

/** Bounded exponential backoff with jitter: attempt 0 waits about `base`, never more than `max`. */
export function backoffDelay(attempt: number, base: number, max: number, random: () => number = Math.random): number {
  const ceiling = Math.min(max, base * 2 ** Math.min(attempt, 30));
  // "Equal jitter": half fixed, half random, so retries spread out but never collapse to zero.
  return ceiling / 2 + random() * (ceiling / 2);
}
