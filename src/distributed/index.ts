/**
 * Distributed rendering on Redis (BullMQ): the coordinator's QueueBackend (what
 * `comic generate --queue` renders with), the RenderWorker each GPU box runs (`comic
 * worker`), and what `comic queue` shows and does. See docs/distributed.md.
 */
export { createQueueBackend, queueBackendFromFlag, QueueBackend, type QueueBackendOptions } from './queue-backend.js';
export { RenderWorker, type RenderWorkerOptions, type WorkerLogEntry } from './worker.js';
export { workerLogLine } from './worker-log.js';
export { cleanQueue, drainQueue, queueStatus, type CleanState, type QueueStatus } from './admin.js';
export { openSession, type QueueSession } from './session.js';
export { parseQueueUrl, queueUrlFrom, QUEUE_URL_ENV, withStore, type QueueTarget } from './target.js';
