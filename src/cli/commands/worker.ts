/**
 * `comic worker --queue redis://…`: runs on each GPU box (or CI runner) next to its ComfyUI.
 * Takes render jobs from the queue, renders them through this box's own servers (with its
 * own SD API fallback), and puts the images in the shared store. Ctrl-C stops taking jobs
 * and lets the ones in hand finish; a second Ctrl-C stops at once, and other workers take
 * over those jobs after stall detection.
 */
import { cpus } from 'node:os';
import { Option } from 'commander';
import { loadConfig, type ResolvedConfig } from '../../config/index.js';
import { parseDuration } from '../../config/duration.js';
import { parseQueueUrl, queueUrlFrom, QUEUE_URL_ENV, withStore } from '../../distributed/target.js';
import { RenderWorker, type WorkerLogEntry } from '../../distributed/worker.js';
import { workerLogLine } from '../../distributed/worker-log.js';
import { ComicError, ExitCode } from '../../errors.js';
import { EventBus } from '../../progress/events.js';
import { createBackend } from '../../run/backends.js';
import { loadTemplateRegistry } from '../../templates/index.js';
import type { CliContext } from '../io.js';
import { maskedContext } from '../masked-io.js';
import { configFlags, positiveInt, sharedOption, type CommonFlags } from '../options.js';
import { ownSignals } from '../signals.js';
import type { RegisterCommand } from './index.js';

interface WorkerFlags extends CommonFlags {
  readonly queue?: string | boolean;
  readonly concurrency?: number;
  readonly store?: string;
  readonly name?: string;
  readonly stallTimeout?: number;
}

export const registerWorker: RegisterCommand = (program, unmasked) => {
  // Log lines carry server text and the queue's URL: every write is masked (the queue password, this box's credentials).
  const ctx = maskedContext(unmasked);
  program
    .command('worker')
    .description('Render jobs from a distributed queue (Redis) on this machine\'s ComfyUI, next to other workers')
    .option('--queue [url]', `the queue: redis[s]://[user:password@]host:6379/0[?queue=NAME] (default $${QUEUE_URL_ENV})`)
    .addOption(sharedOption.server('a ComfyUI server of this worker (repeatable; replaces the configured ones)'))
    .option('--concurrency <n>', 'jobs taken at once (default: what the servers take in flight)', (v) => positiveInt(v, '--concurrency'))
    .addOption(new Option('--backend <name>', 'comfyui, sdapi or draft').choices(['comfyui', 'sdapi', 'draft']))
    .addOption(sharedOption.fallback('the Stable Diffusion API this worker falls back to when its ComfyUI is down'))
    .addOption(sharedOption.noFallback())
    .option('--store <dir>', 'keep inputs and results in this shared folder instead of Redis (every participant must use the same)')
    .addOption(sharedOption.templates('a folder of user templates, searched first (repeatable); must match the coordinator\'s'))
    .addOption(sharedOption.config())
    .option('--name <name>', 'how this worker is named in logs, reports and `comic queue status` (default host-pid)')
    .option('--stall-timeout <duration>', 'a job whose worker is silent this long goes to another worker (default 30s)', (v) => duration(v, '--stall-timeout'))
    .action(async (flags: WorkerFlags) => {
      const url = queueUrlFrom(flags.queue, ctx.io.env);
      if (url === null) {
        throw new ComicError('USAGE', `comic worker needs a queue: --queue redis://host:6379/0, or ${QUEUE_URL_ENV} in the environment`);
      }
      const target = withStore(parseQueueUrl(url, ctx.io.cwd), flags.store ?? null, ctx.io.cwd);
      const config = await loadConfig({ cwd: ctx.io.cwd, env: ctx.io.env, flags: configFlags(flags) });
      const templates = await loadTemplateRegistry({ dirs: [...config.templates] });
      const bus = new EventBus();
      const print = printer(ctx);
      bus.on((event) => {
        if (event.type === 'fallback') print({ type: 'paused', reason: `${event.from} is down (${event.reason}); rendering on ${event.to} instead` });
      });
      const backend = createBackend(config, bus);
      const worker = new RenderWorker({
        target,
        backend,
        templates,
        ...(flags.name !== undefined && { name: flags.name }),
        concurrency: flags.concurrency ?? defaultConcurrency(config),
        ...(flags.stallTimeout !== undefined && { lockMs: flags.stallTimeout }),
        log: print,
      });
      const stop = stopOnSignals(ctx, worker);
      try {
        await worker.start(stop.signal);
        ctx.setExitCode(await stop.stopped);
      } catch (error) {
        await worker.kill();
        if (stop.signal.aborted) ctx.setExitCode(ExitCode.cancelled);
        else throw error;
      } finally {
        stop.dispose();
        await backend.close();
      }
    });
};

/** As many jobs as the servers take in flight; the SD API takes one; drafts use the cores. */
function defaultConcurrency(config: ResolvedConfig): number {
  switch (config.backend) {
    case 'comfyui':
      return config.servers.reduce((sum, s) => sum + s.maxConcurrent, 0);
    case 'sdapi':
      return 1;
    case 'draft':
      return Math.max(1, cpus().length);
  }
}

/** Log lines on stdout; a Redis outage repeats its error on every retry, so repeats are dropped. */
function printer(ctx: CliContext): (entry: WorkerLogEntry) => void {
  let lastError: string | null = null;
  return (entry) => {
    if (entry.type === 'error') {
      if (entry.message === lastError) return;
      lastError = entry.message;
    } else {
      lastError = null;
    }
    const line = workerLogLine(entry);
    if (line !== null) ctx.io.stdout.write(`${line}\n`);
  };
}

/**
 * First SIGINT/SIGTERM: finish the jobs in hand, then exit 0. Second: stop at once (exit
 * 130); the jobs in hand go to other workers after stall detection.
 */
function stopOnSignals(ctx: CliContext, worker: RenderWorker) {
  const controller = new AbortController();
  let settle!: (code: number) => void;
  const stopped = new Promise<number>((resolve) => (settle = resolve));
  const owned = ownSignals({
    first: () => {
      ctx.io.stderr.write('\ncomic: stopping: finishing the jobs in hand (Ctrl-C again to stop at once; other workers will take them over)\n');
      controller.abort(new ComicError('CANCELLED', 'the worker was stopped'));
      void worker.close().then(() => settle(ExitCode.ok));
    },
    second: () => void worker.kill().then(() => settle(ExitCode.cancelled)),
  });
  return { signal: controller.signal, stopped, dispose: () => owned.dispose() };
}

function duration(value: string, flag: string): number {
  const ms = parseDuration(value);
  if (ms === null) throw new ComicError('USAGE', `${flag} takes a duration such as 30s or 2m, not ${JSON.stringify(value)}`);
  return ms;
}
