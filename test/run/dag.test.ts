import { describe, expect, it } from 'vitest';
import { runDag, type DagNode, type NodeOutcome } from '../../src/run/dag.js';
import { ComicError } from '../../src/errors.js';

const node = (id: string, ...deps: string[]): DagNode & { lane: string } => ({ id, deps, lane: id.split(':')[0]! });

describe('runDag', () => {
  it('runs every node after its dependencies, in order', async () => {
    const nodes = [node('a:1'), node('a:2'), node('b:1', 'a:1', 'a:2'), node('c:1', 'b:1')];
    const order: string[] = [];
    const outcomes = await runDag(nodes, async (n) => (order.push(n.id), 'done'), {
      signal: new AbortController().signal,
      lane: (n) => n.lane,
      limits: {},
    });
    expect(order.indexOf('b:1')).toBeGreaterThan(order.indexOf('a:1'));
    expect(order.indexOf('b:1')).toBeGreaterThan(order.indexOf('a:2'));
    expect(order.at(-1)).toBe('c:1');
    expect([...outcomes.values()].every((o) => o.status === 'done')).toBe(true);
  });

  it('skips the dependents of a failed node and carries on with the rest', async () => {
    const nodes = [node('a:1'), node('a:2'), node('b:1', 'a:1'), node('b:2', 'a:2'), node('c:1', 'b:1')];
    const outcomes = await runDag(
      nodes,
      async (n) => {
        if (n.id === 'a:1') throw new ComicError('JOB_FAILED', 'boom');
        return 'done';
      },
      { signal: new AbortController().signal, lane: (n) => n.lane, limits: {} },
    );
    expect(outcomes.get('a:1')).toEqual({ status: 'failed', code: 'JOB_FAILED', message: 'boom' });
    expect(outcomes.get('b:1')).toEqual({ status: 'skipped', reason: 'a:1 failed' });
    expect(outcomes.get('c:1')).toEqual({ status: 'skipped', reason: 'b:1 was skipped' });
    expect(outcomes.get('b:2')).toEqual({ status: 'done' });
  });

  it('never runs more nodes of a lane at once than its limit', async () => {
    const nodes = Array.from({ length: 12 }, (_, i) => node(`page:${i}`));
    let running = 0;
    let peak = 0;
    await runDag(
      nodes,
      async () => {
        peak = Math.max(peak, ++running);
        await new Promise((r) => setImmediate(r));
        running--;
        return 'done';
      },
      { signal: new AbortController().signal, lane: (n) => n.lane, limits: { page: 3 } },
    );
    expect(peak).toBe(3);
  });

  it('rejects with CANCELLED after in-flight nodes end, and records no outcome for them', async () => {
    const controller = new AbortController();
    const seen: [string, NodeOutcome][] = [];
    const nodes = [node('a:1'), node('b:1', 'a:1')];
    const run = runDag(
      nodes,
      (n, signal) =>
        new Promise((_, reject) => {
          signal.addEventListener('abort', () => reject(new ComicError('CANCELLED', `stopped ${n.id}`)));
          controller.abort();
        }),
      { signal: controller.signal, lane: (n) => n.lane, limits: {}, onOutcome: (n, o) => seen.push([n.id, o]) },
    );
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(seen).toEqual([]);
  });

  it('reports a cycle instead of hanging', async () => {
    const nodes = [node('a:1', 'b:1'), node('b:1', 'a:1')];
    await expect(
      runDag(nodes, async () => 'done', { signal: new AbortController().signal, lane: (n) => n.lane, limits: {} }),
    ).rejects.toMatchObject({ code: 'INTERNAL' });
  });
});
