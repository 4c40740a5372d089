/**
 * Ctrl-C and SIGTERM during a long command: the first asks for a graceful stop, the second
 * for an immediate one.
 *
 * While the command runs it owns these signals. Some libraries install exit hooks that
 * re-raise the signal after their own cleanup so the process dies (when-exit, which conf
 * pulls in through atomically, does exactly that): the re-raised signal would count as a
 * second Ctrl-C and skip the graceful stop. Such listeners are set aside for the command's
 * lifetime and put back after.
 */
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export interface SignalOwnership {
  /** Gives the signals back (and the listeners that were set aside). */
  dispose(): void;
}

export function ownSignals(handlers: { first: () => void; second: () => void }): SignalOwnership {
  const setAside = new Map(SIGNALS.map((signal) => [signal, process.rawListeners(signal)] as const));
  let count = 0;
  const onSignal = () => (++count === 1 ? handlers.first() : handlers.second());
  for (const signal of SIGNALS) {
    process.removeAllListeners(signal);
    process.on(signal, onSignal);
  }
  return {
    dispose() {
      for (const signal of SIGNALS) {
        process.off(signal, onSignal);
        for (const listener of setAside.get(signal) ?? []) process.on(signal, listener as () => void);
      }
    },
  };
}
