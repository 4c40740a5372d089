import { describe, expect, it } from 'vitest';
import { mapAhead } from '../../src/util/map-ahead.js';

/** A task per item that finishes when the test says so, to see what is in flight. */
function gated() {
  const started: number[] = [];
  const release = new Map<number, () => void>();
  const fn = (n: number) =>
    new Promise<number>((resolve) => {
      started.push(n);
      release.set(n, () => resolve(n * 10));
    });
  return { started, release, fn };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('mapAhead', () => {
  it('keeps the order of the items whatever order the work finishes in', async () => {
    const delays = [30, 1, 15, 2, 8];
    const out: number[] = [];
    for await (const v of mapAhead(delays, 3, (ms) => new Promise<number>((r) => setTimeout(() => r(ms), ms)))) out.push(v);
    expect(out).toEqual(delays);
  });

  it('has at most `width` items in flight, and starts the next as soon as one is taken', async () => {
    const { started, release, fn } = gated();
    const it = mapAhead([1, 2, 3, 4], 2, fn);
    const first = it.next();
    await tick();
    expect(started).toEqual([1, 2]);
    release.get(2)!();
    await tick();
    expect(started).toEqual([1, 2]); // 2 is done, but 1 is still held: nothing more starts
    release.get(1)!();
    expect((await first).value).toBe(10);
    await tick();
    expect(started).toEqual([1, 2, 3]);
    expect((await it.next()).value).toBe(20);
    await tick();
    expect(started).toEqual([1, 2, 3, 4]);
    release.get(3)!();
    release.get(4)!();
    expect((await it.next()).value).toBe(30);
    expect((await it.next()).value).toBe(40);
    expect((await it.next()).done).toBe(true);
  });

  it('rejects in its turn with the failing item, and a later failure is never unhandled', async () => {
    const fn = (n: number) => (n === 2 ? Promise.reject(new Error('two')) : n === 3 ? Promise.reject(new Error('three')) : Promise.resolve(n));
    const out: number[] = [];
    await expect(
      (async () => {
        for await (const v of mapAhead([1, 2, 3], 3, fn)) out.push(v);
      })(),
    ).rejects.toThrow('two');
    expect(out).toEqual([1]);
  });
});
