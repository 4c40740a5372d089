/**
 * `comic serve`: the generate pipeline over HTTP and WebSocket (docs/serve.md). Runs until
 * SIGINT or SIGTERM, then shuts down gracefully: running jobs are aborted (their remote
 * prompts interrupted), sockets closed. A second signal exits at once.
 */
import { Option } from 'commander';
import { loadConfig } from '../../config/index.js';
import { configFlags, sharedOption, type CommonFlags } from '../options.js';
import { ComicError, ExitCode } from '../../errors.js';
import { startServe, type RunningServer } from '../../serve/server.js';
import type { CliContext } from '../io.js';
import { ownSignals } from '../signals.js';
import type { RegisterCommand } from './index.js';

export interface ServeFlags extends CommonFlags {
  readonly script?: string;
  readonly rateLimit?: number;
  readonly maxJobs?: number;
  readonly concurrency?: number;
}


export const registerServe: RegisterCommand = (program, ctx) => {
  program
    .command('serve')
    .description('Serve the pipeline over HTTP and WebSocket: panel and script jobs, progress, files (docs/serve.md)')
    .option('--port <n>', 'port to listen on (default from config: serve.port, 8787; 0 picks a free one)', (v) => wholeNumber(v, '--port', 0))
    .option('--host <host>', 'address to listen on (default 127.0.0.1; anything else needs an API key)')
    .addOption(sharedOption.server())
    .addOption(sharedOption.fallback())
    .addOption(sharedOption.noFallback())
    .addOption(new Option('--backend <name>', 'comfyui, sdapi or draft').choices(['comfyui', 'sdapi', 'draft']))
    .option('--script <file>', 'a comic script whose characters and backgrounds panel requests may name by id')
    .addOption(sharedOption.out('output folder; each job gets a folder under <out>/serve/'))
    .addOption(sharedOption.cache('render cache folder, shared by every job'))
    .addOption(sharedOption.templates())
    .addOption(sharedOption.config())
    .option('--rate-limit <n>', 'requests per minute per API key (default 600)', (v) => wholeNumber(v, '--rate-limit', 1))
    .option('--max-jobs <n>', 'jobs one API key may have queued or running (default 20)', (v) => wholeNumber(v, '--max-jobs', 1))
    .option('--concurrency <n>', 'jobs run at once (default: what the servers take at once)', (v) => wholeNumber(v, '--concurrency', 1))
    .action(async (flags: ServeFlags) => {
      const stop = new AbortController();
      const owned = ownSignals({ first: () => stop.abort(), second: () => process.exit(ExitCode.cancelled) });
      try {
        await runServe(flags, ctx, stop.signal);
      } finally {
        owned.dispose();
      }
    });
};

/** Starts the server and keeps it up until `stop` aborts; `onListening` gets it once it listens. */
export async function runServe(flags: ServeFlags, ctx: CliContext, stop: AbortSignal, onListening?: (server: RunningServer) => void): Promise<void> {
  const config = await loadConfig({ cwd: ctx.io.cwd, env: ctx.io.env, flags: configFlags(flags) });
  const server = await startServe({
    config,
    cwd: ctx.io.cwd,
    script: flags.script ?? null,
    logStream: ctx.io.stderr,
    limits: {
      ...(flags.rateLimit !== undefined && { requestsPerMinute: flags.rateLimit }),
      ...(flags.maxJobs !== undefined && { pendingJobsPerKey: flags.maxJobs }),
    },
    ...(flags.concurrency !== undefined && { concurrency: flags.concurrency }),
  });
  onListening?.(server);
  if (!stop.aborted) await new Promise<void>((resolve) => stop.addEventListener('abort', () => resolve(), { once: true }));
  server.log.info('shutting down: cancelling running jobs, closing connections');
  await server.close();
  server.log.info('stopped');
}


function wholeNumber(value: string, flag: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new ComicError('USAGE', `${flag} takes a whole number of at least ${min}, not ${JSON.stringify(value)}`);
  return n;
}
