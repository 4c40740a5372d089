/**
 * Runs a dependency graph: a node starts as soon as all of its dependencies succeeded,
 * within a concurrency limit per lane (render jobs are throttled by the server pool, so
 * their lane is wide; page composition is CPU- and memory-heavy, so its lane is narrow).
 * A failed node's dependents are skipped and everything else carries on.
 */
import { ComicError, isComicError, type ErrorCode } from '../errors.js';

export interface DagNode {
  readonly id: string;
  readonly deps: readonly string[];
}

export type NodeOutcome =
  | { readonly status: 'done' | 'cached' }
  | { readonly status: 'failed'; readonly code: ErrorCode; readonly message: string }
  | { readonly status: 'skipped'; readonly reason: string };

export interface DagOptions<N extends DagNode> {
  readonly signal: AbortSignal;
  /** Which lane a node runs in; nodes of one lane share its limit. */
  readonly lane: (node: N) => string;
  readonly limits: Readonly<Record<string, number>>;
  readonly onOutcome?: (node: N, outcome: NodeOutcome) => void;
}

/** Resolves once every node has an outcome; rejects only when the run is cancelled. */
export async function runDag<N extends DagNode>(
  nodes: readonly N[],
  execute: (node: N, signal: AbortSignal) => Promise<'done' | 'cached'>,
  options: DagOptions<N>,
): Promise<Map<string, NodeOutcome>> {
  const outcomes = new Map<string, NodeOutcome>();
  const waitingOn = new Map<string, number>();
  const dependents = new Map<string, N[]>();
  const byId = new Map(nodes.map((n) => [n.id, n]));
  for (const node of nodes) {
    const deps = node.deps.filter((d) => byId.has(d));
    waitingOn.set(node.id, deps.length);
    for (const dep of deps) dependents.set(dep, [...(dependents.get(dep) ?? []), node]);
  }
  const ready: N[] = nodes.filter((n) => waitingOn.get(n.id) === 0);
  const running = new Map<string, number>();
  let inFlight = 0;

  return new Promise((resolve, reject) => {
    const settle = (node: N, outcome: NodeOutcome) => {
      outcomes.set(node.id, outcome);
      options.onOutcome?.(node, outcome);
      for (const next of dependents.get(node.id) ?? []) {
        if (outcomes.has(next.id)) continue;
        if (outcome.status === 'failed' || outcome.status === 'skipped') {
          settle(next, { status: 'skipped', reason: `${node.id} ${outcome.status === 'failed' ? 'failed' : 'was skipped'}` });
        } else {
          const left = (waitingOn.get(next.id) ?? 1) - 1;
          waitingOn.set(next.id, left);
          if (left === 0) ready.push(next);
        }
      }
    };

    const pump = () => {
      if (options.signal.aborted) {
        if (inFlight === 0) reject(new ComicError('CANCELLED', 'the run was cancelled'));
        return;
      }
      for (let i = 0; i < ready.length; ) {
        const node = ready[i]!;
        const lane = options.lane(node);
        const busy = running.get(lane) ?? 0;
        if (busy >= (options.limits[lane] ?? Infinity)) {
          i++;
          continue;
        }
        ready.splice(i, 1);
        running.set(lane, busy + 1);
        inFlight++;
        execute(node, options.signal).then(
          (status) => finish(node, lane, { status }),
          (error: unknown) => finish(node, lane, failure(error)),
        );
      }
      if (inFlight > 0) return;
      if (outcomes.size === nodes.length) resolve(outcomes);
      else if (ready.length === 0) {
        const stuck = nodes.filter((n) => !outcomes.has(n.id)).map((n) => n.id);
        reject(new ComicError('INTERNAL', `dependency cycle or unknown order among: ${stuck.join(', ')}`));
      }
    };

    const finish = (node: N, lane: string, outcome: NodeOutcome) => {
      running.set(lane, (running.get(lane) ?? 1) - 1);
      inFlight--;
      // A node cut short by cancellation has no outcome: a resumed run will do it.
      if (!(options.signal.aborted && outcome.status === 'failed' && outcome.code === 'CANCELLED')) settle(node, outcome);
      pump();
    };

    options.signal.addEventListener('abort', () => pump(), { once: true });
    pump();
  });
}

function failure(error: unknown): NodeOutcome {
  if (isComicError(error)) return { status: 'failed', code: error.code, message: error.message };
  if (error instanceof Error && error.name === 'AbortError') return { status: 'failed', code: 'CANCELLED', message: 'cancelled' };
  return { status: 'failed', code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
}
