/**
 * The worker's log as plain lines: one per job taken, finished or failed, and per change of
 * its own state, each with the time and a short key so lines from several boxes can be
 * matched with the coordinator's report.
 */
import { clockTime, formatDuration } from '../progress/format.js';
import { mask } from '../util/redact.js';
import type { WorkerLogEntry } from './worker.js';

const short = (key: string) => key.slice(0, 12);

/** The line for an entry, or null for the ones a log leaves out (step progress). */
export function workerLogLine(entry: WorkerLogEntry, now: number = Date.now()): string | null {
  const text = describe(entry);
  // Failures and server states carry what servers said: masked (credentials, control characters) like every line that leaves.
  return text === null ? null : mask(`${clockTime(now)} ${text}`);
}

function describe(entry: WorkerLogEntry): string | null {
  switch (entry.type) {
    case 'ready':
      return `worker ${entry.worker}: taking jobs from ${entry.queue}, ${entry.concurrency} at a time; results go to ${entry.store}`;
    case 'taken':
      return `take    ${entry.jobId} ${short(entry.key)}${entry.attempt > 1 ? ` (attempt ${entry.attempt})` : ''}`;
    case 'reused':
      return `reuse   ${entry.jobId} ${short(entry.key)}: already in the store, not rendered again`;
    case 'rendered':
      return `done    ${entry.jobId} ${short(entry.key)} on ${entry.backend}${entry.server ? ` ${entry.server}` : ''} in ${formatDuration(entry.ms)}`;
    case 'failed':
      return `fail    ${entry.jobId} ${short(entry.key)}: ${entry.message} (${entry.code})${entry.retried ? '; back to the queue for another try' : ''}`;
    case 'paused':
      return `pause   ${entry.reason}`;
    case 'resumed':
      return `resume  ${entry.reason}`;
    case 'event':
      return entry.event.type === 'server' ? `server  ${entry.event.server} ${entry.event.state}: ${entry.event.reason}` : null;
    case 'error':
      return `error   ${entry.message}`;
  }
}
