/**
 * What `comic queue` shows and does: job counts by state, the workers connected, recent
 * failures; removing the jobs nobody has taken yet (drain); removing finished job records
 * (clean). Results in the store are left alone: they are what keeps keys from being
 * rendered twice, and they expire on their own (Redis) or are pruned with the share's tools.
 */
import type { JobType } from 'bullmq';
import { decodeFailure } from './protocol.js';
import type { QueueSession } from './session.js';

export const COUNTED_STATES = ['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed'] as const satisfies readonly JobType[];
export type CountedState = (typeof COUNTED_STATES)[number];

export interface QueueStatus {
  readonly queue: string;
  readonly url: string;
  readonly store: string;
  readonly paused: boolean;
  readonly counts: Readonly<Record<CountedState, number>>;
  /** Workers connected now, by the name they gave (`--name`, default host-pid). */
  readonly workers: readonly { readonly name: string; readonly address: string; readonly idleSeconds: number }[];
  /** The most recent failures, newest first. */
  readonly failures: readonly { readonly job: string; readonly key: string; readonly code: string; readonly message: string }[];
}

const LISTED_FAILURES = 5;

export async function queueStatus(session: QueueSession): Promise<QueueStatus> {
  const { queue, target, store } = session;
  const counts = (await queue.getJobCounts(...COUNTED_STATES)) as Record<CountedState, number>;
  const workers = await queue.getWorkers();
  const failed = await queue.getFailed(0, LISTED_FAILURES - 1);
  return {
    queue: target.queue,
    url: target.display,
    store: store.description,
    paused: await queue.isPaused(),
    counts: Object.fromEntries(COUNTED_STATES.map((state) => [state, counts[state] ?? 0])) as Record<CountedState, number>,
    workers: workers
      .map((w) => ({ name: workerName(w.rawname ?? ''), address: String(w.addr ?? ''), idleSeconds: Number(w.idle ?? 0) }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    failures: failed.map((job) => {
      const error = decodeFailure(job.failedReason, 'a worker');
      return { job: job.name, key: job.id ?? '', code: error.code, message: error.message };
    }),
  };
}

/** Removes every job no worker has taken yet; returns how many there were. Jobs in progress finish. */
export async function drainQueue(session: QueueSession): Promise<number> {
  const { queue } = session;
  const before = await queue.getJobCountByTypes('waiting', 'prioritized', 'delayed');
  await queue.drain(true);
  return before;
}

export type CleanState = 'completed' | 'failed';

/** Removes the records of finished jobs older than `olderThanMs`; returns how many per state. */
export async function cleanQueue(session: QueueSession, options: { olderThanMs: number; states: readonly CleanState[] }): Promise<Record<CleanState, number>> {
  const removed: Record<CleanState, number> = { completed: 0, failed: 0 };
  for (const state of options.states) {
    // In batches, so a huge queue does not block Redis in one long script.
    for (;;) {
      const batch = await session.queue.clean(options.olderThanMs, 1000, state);
      removed[state] += batch.length;
      if (batch.length < 1000) break;
    }
  }
  return removed;
}

/** BullMQ names a worker's connection `<prefix>:<queue in base64>:w:<name>`; the name is what people gave. */
function workerName(clientName: string): string {
  const at = clientName.indexOf(':w:');
  return at === -1 ? clientName : clientName.slice(at + 3);
}
