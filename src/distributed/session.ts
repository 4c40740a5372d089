/**
 * What every participant of a queue opens first (coordinator, worker, `comic queue`): its
 * Redis connections, a command connection checked with PING, the BullMQ queue and the store
 * named by the target. One place, so all three agree on prefixes and store choice.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { RedisConnections } from './connections.js';
import { FolderStore } from './folder-store.js';
import { BULLMQ_PREFIX } from './protocol.js';
import { RedisStore } from './redis-store.js';
import type { BlobStore } from './store.js';
import type { QueueTarget } from './target.js';

export interface QueueSession {
  readonly target: QueueTarget;
  readonly connections: RedisConnections;
  /** For our own commands (store, cancel marks, publish). */
  readonly redis: Redis;
  readonly queue: Queue;
  readonly store: BlobStore;
  /** Fails with QUEUE_UNREACHABLE (saying why) when Redis does not answer. */
  ping(signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
  /** Drops every connection at once, as if the process died. */
  kill(): void;
}

export function openSession(target: QueueTarget, name: string, options: { storeTtlSeconds?: number } = {}): QueueSession {
  const connections = new RedisConnections(target, name);
  const redis = connections.open('cmd');
  const queue = new Queue(target.queue, { connection: redis, prefix: BULLMQ_PREFIX });
  // BullMQ reports connection trouble on the queue as well; the connection keeps the reason.
  queue.on('error', () => undefined);
  const store: BlobStore = target.storeDir
    ? new FolderStore(target.storeDir)
    : new RedisStore(redis, target.queue, target.display, options.storeTtlSeconds);
  let closing: Promise<void> | null = null;
  return {
    target,
    connections,
    redis,
    queue,
    store,
    ping: (signal) => connections.ping(redis, signal),
    close() {
      closing ??= (async () => {
        await queue.close().catch(() => undefined);
        await connections.close();
      })();
      return closing;
    },
    kill: () => connections.kill(),
  };
}

/** Attempts per job: a worker whose own servers are down gives the job back for another. */
export const JOB_ATTEMPTS = 3;
export const JOB_BACKOFF_MS = 1000;
/** Finished jobs stay visible to `comic queue status` (and block re-queueing their key) for a while. */
export const KEEP_COMPLETED_SECONDS = 24 * 3600;
export const KEEP_FAILED_SECONDS = 7 * 24 * 3600;
