/**
 * `comic queue status|drain|clean --queue redis://…`: see and manage a distributed queue.
 * status: jobs by state, connected workers, recent failures. drain: remove the jobs nobody
 * has taken yet. clean: remove the records of finished jobs. Rendered images stay in the
 * store either way, so nothing is rendered twice.
 */
import { Option, type Command } from 'commander';
import { parseDuration } from '../../config/duration.js';
import { cleanQueue, COUNTED_STATES, drainQueue, queueStatus, type CleanState, type QueueStatus } from '../../distributed/admin.js';
import { openSession, type QueueSession } from '../../distributed/session.js';
import { parseQueueUrl, queueUrlFrom, QUEUE_URL_ENV, withStore } from '../../distributed/target.js';
import { ComicError } from '../../errors.js';
import type { CliContext } from '../io.js';
import { maskedContext } from '../masked-io.js';
import type { RegisterCommand } from './index.js';

interface QueueFlags {
  readonly queue?: string | boolean;
  readonly store?: string;
}

export const registerQueue: RegisterCommand = (program: Command, unmasked: CliContext) => {
  // Failures recorded by workers and Redis's own errors reach these lines: every write is masked.
  const ctx = maskedContext(unmasked);
  const queue = program.command('queue').description('See and manage a distributed render queue (Redis): status, drain, clean.');
  const withQueue = (command: Command) =>
    command
      .option('--queue [url]', `the queue: redis[s]://[user:password@]host:6379/0[?queue=NAME] (default $${QUEUE_URL_ENV})`)
      .option('--store <dir>', 'the shared result folder, when the workers use one');

  withQueue(queue.command('status').description('Jobs by state, the workers connected, and the latest failures.'))
    .option('--json', 'print one JSON object')
    .action((flags: QueueFlags & { json?: boolean }) =>
      withSession(ctx, flags, async (session) => {
        const status = await queueStatus(session);
        ctx.io.stdout.write(flags.json ? `${JSON.stringify({ schema: 'comic.queue-status/1', ...status }, null, 2)}\n` : statusText(status));
      }),
    );

  withQueue(queue.command('drain').description('Remove every job no worker has taken yet (jobs in progress finish).')).action((flags: QueueFlags) =>
    withSession(ctx, flags, async (session) => {
      const removed = await drainQueue(session);
      ctx.io.stdout.write(`removed ${removed} waiting job${removed === 1 ? '' : 's'} from ${session.target.display}\n`);
    }),
  );

  withQueue(queue.command('clean').description('Remove the records of finished jobs (their images stay in the store).'))
    .option('--older-than <duration>', 'only jobs finished longer ago than this, e.g. 1h or 7d (default: all)')
    .addOption(new Option('--only <state>', 'only completed or only failed jobs').choices(['completed', 'failed']))
    .action((flags: QueueFlags & { olderThan?: string; only?: CleanState }) =>
      withSession(ctx, flags, async (session) => {
        const olderThanMs = flags.olderThan === undefined ? 0 : olderThan(flags.olderThan);
        const states: CleanState[] = flags.only ? [flags.only] : ['completed', 'failed'];
        const removed = await cleanQueue(session, { olderThanMs, states });
        ctx.io.stdout.write(`removed ${states.map((s) => `${removed[s]} ${s}`).join(' and ')} job record(s) from ${session.target.display}\n`);
      }),
    );
};

async function withSession(ctx: CliContext, flags: QueueFlags, use: (session: QueueSession) => Promise<void>): Promise<void> {
  const url = queueUrlFrom(flags.queue, ctx.io.env);
  if (url === null) throw new ComicError('USAGE', `comic queue needs a queue: --queue redis://host:6379/0, or ${QUEUE_URL_ENV} in the environment`);
  const target = withStore(parseQueueUrl(url, ctx.io.cwd), flags.store ?? null, ctx.io.cwd);
  const session = openSession(target, 'comic-queue-admin');
  try {
    await session.ping(AbortSignal.timeout(30_000));
    await use(session);
  } catch (error) {
    throw session.connections.explain(error);
  } finally {
    await session.close();
  }
}

function statusText(status: QueueStatus): string {
  const lines = [`queue ${status.queue} at ${status.url}${status.paused ? ' (paused)' : ''}; results in ${status.store}`];
  lines.push(`jobs: ${COUNTED_STATES.map((state) => `${status.counts[state]} ${state}`).join(', ')}`);
  if (status.workers.length === 0) lines.push('workers: none connected (start `comic worker --queue …` on a GPU box)');
  else lines.push(`workers (${status.workers.length}):`, ...status.workers.map((w) => `  ${w.name} from ${w.address}, idle ${w.idleSeconds}s`));
  if (status.failures.length > 0) {
    lines.push('latest failures:', ...status.failures.map((f) => `  ${f.job} ${f.key.slice(0, 12)}: ${f.message} (${f.code})`));
  }
  return `${lines.join('\n')}\n`;
}

function olderThan(text: string): number {
  const ms = parseDuration(text);
  if (ms === null) throw new ComicError('USAGE', `--older-than takes a duration such as 1h or 7d, not ${JSON.stringify(text)}`);
  return ms;
}
