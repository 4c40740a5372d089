/**
 * Maps items in order with up to `width` of them in flight: a slow step (a page encode) runs on
 * the other cores while earlier results are consumed, and results still come out in order, so
 * at most `width` of them are held at once.
 */
export async function* mapAhead<T, R>(items: readonly T[], width: number, fn: (item: T) => Promise<R>): AsyncGenerator<R> {
  const running: Promise<R>[] = [];
  let next = 0;
  const start = (): void => {
    const made = fn(items[next++]!);
    made.catch(() => undefined); // awaited in its turn; not an unhandled rejection meanwhile
    running.push(made);
  };
  while (next < items.length && running.length < Math.max(1, width)) start();
  while (running.length > 0) {
    const value = await running.shift()!;
    if (next < items.length) start();
    yield value;
  }
}
