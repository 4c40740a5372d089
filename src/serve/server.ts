/**
 * `comic serve` assembled: the templates, the optional cast script, one backend and one
 * cache for every job, the job queue, server health, the WebSocket hub and the HTTP app,
 * listening on the configured host and port. `close()` shuts it all down in order: running
 * jobs are aborted (their remote prompts interrupted), sockets closed, the backend released.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Secret, type ResolvedConfig } from '../config/index.js';
import { ComicError } from '../errors.js';
import { EventBus, type RunEvent } from '../progress/events.js';
import { comfyPreviews, createBackend, type BackendDefaults } from '../run/backends.js';
import { RenderCache } from '../run/cache.js';
import { planExports } from '../run/prepare.js';
import { paramLookupFrom } from '../script/params.js';
import { loadTemplateRegistry } from '../templates/index.js';
import { buildServeApp, DEFAULT_LIMITS, type ServeLimits } from './app.js';
import { ApiKeys } from './auth.js';
import { EMPTY_CAST, loadCast } from './cast.js';
import { outputUrl } from './files.js';
import { HealthTracker } from './health.js';
import { SocketHub } from './hub.js';
import { JobQueue } from './jobs.js';
import { createCleaner, createLog, type ServeLog } from './log.js';
import { serverMessage } from './messages.js';
import { isLoopback } from './loopback.js';
import { ServePipeline } from './pipeline.js';
import { protocolEncoded } from './ws-token.js';

export interface ServeOptions {
  readonly config: ResolvedConfig;
  /** What relative paths (the cast script) are relative to. */
  readonly cwd: string;
  /** A script whose characters and backgrounds panel requests may name by id. */
  readonly script: string | null;
  /** Where the log goes (stderr for the CLI). */
  readonly logStream: NodeJS.WritableStream;
  readonly limits?: Partial<ServeLimits>;
  /** Jobs run at once (default: what the servers take at once). */
  readonly concurrency?: number;
}

export interface RunningServer {
  /** http://host:port */
  readonly url: string;
  readonly port: number;
  readonly app: FastifyInstance;
  readonly log: ServeLog;
  /** Jobs queued and running, and WebSocket clients: for tests and benchmarks. */
  stats(): { queued: number; running: number; kept: number; sockets: number };
  close(): Promise<void>;
}

/** Job folders live under the output folder, one per job id. */
export const JOBS_FOLDER = 'serve';

/**
 * The studio page is for watching a render, so ComfyUI is asked for sampler previews
 * (`comfyui.previews: auto`) unless a config file or the user settings set that key.
 */
export const SERVE_BACKEND_DEFAULTS: BackendDefaults = { previews: 'auto' };

export async function startServe(options: ServeOptions): Promise<RunningServer> {
  const { config } = options;
  const host = config.serve.host;
  const keys = new ApiKeys(config.serve.apiKeys);
  if (!keys.enabled && !isLoopback(host)) {
    throw new ComicError('CONFIG_INVALID', `refusing to listen on ${host} without an API key: anyone who can reach it could render on your servers`, {
      hint: 'set serve.apiKeys in comic.config.yaml or COMIC_API_KEYS (comma-separated), or keep the default host 127.0.0.1',
    });
  }
  const jobsDir = join(config.output, JOBS_FOLDER);
  const clean = createCleaner(
    // A key also travels as a WebSocket subprotocol, in its own encoding: masked in that form too.
    [...config.secrets, ...config.serve.apiKeys, ...config.serve.apiKeys.map((key) => new Secret(protocolEncoded(key.reveal())))],
    [
      { path: jobsDir, as: '<jobs>' },
      { path: config.output, as: '<out>' },
      { path: config.cache, as: '<cache>' },
    ],
  );
  const log = createLog(options.logStream, clean);
  if (!keys.enabled) {
    log.warn(`NO API KEY IS CONFIGURED: every program on this machine can use this server and its GPUs. Set serve.apiKeys or COMIC_API_KEYS before sharing it (docs/serve.md).`);
  }

  const templates = await loadTemplateRegistry({ dirs: [...config.templates] });
  const cast = options.script === null ? EMPTY_CAST : await loadCast(options.script, { cwd: options.cwd, templateIds: templates.ids(), templateParams: paramLookupFrom(templates) });
  const lifetime = new AbortController();
  const bus = new EventBus();
  const backend = createBackend(config, bus, SERVE_BACKEND_DEFAULTS);
  const health = new HealthTracker(config.backend, config.fallback !== null, config.servers.map((s) => s.name));

  const queue = new JobQueue({
    concurrency: options.concurrency ?? defaultConcurrency(config),
    urlOf: (job, path) => outputUrl(job.id, job.dir, path),
  });
  const hub = new SocketHub(queue, clean);
  const onServerEvent = (event: RunEvent) => {
    health.observe(event);
    const message = serverMessage(event);
    if (!message) return;
    hub.publish(message);
    if (message.type === 'fallback') log.warn(`falling back from ${message.from} to ${message.to}: ${message.reason}`);
    else if (message.type === 'server') log.info(`server ${message.server} is ${message.state}${message.state === 'up' ? '' : `: ${message.reason}`}`);
  };
  bus.on(onServerEvent);
  queue.on((message) => {
    if (message.type === 'completed') log.info(`job ${message.job} completed: ${message.outputs.map((o) => `${o.image} via ${o.cached ? 'cache' : `${o.backend}${o.server ? ` (${o.server})` : ''}`}`).join(', ') || 'no outputs'}`);
    else if (message.type === 'failed') log.warn(`job ${message.job} failed: ${message.error.message} (${message.error.code})`);
    else if (message.type === 'cancelled') log.info(`job ${message.job} cancelled`);
  });

  const ready = readinessGate(() => backend.ready(lifetime.signal), (problem) => health.setUnavailable(problem));
  const pipeline = new ServePipeline({
    backend,
    templates,
    cache: new RenderCache(config.cache),
    cast,
    exports: planExports(config),
    ready,
    observe: (jobBus) => jobBus.on(onServerEvent),
  });
  const app = await buildServeApp({
    keys,
    queue,
    pipeline,
    hub,
    health: () => health.view(queue.stats),
    templates,
    cast,
    jobsDir,
    clean,
    log,
    limits: { ...DEFAULT_LIMITS, ...options.limits },
  });

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      lifetime.abort(new ComicError('CANCELLED', 'the server is shutting down'));
      await queue.close();
      hub.closeAll();
      await app.close();
      await backend.close();
    })());

  try {
    await app.listen({ host, port: config.serve.port });
  } catch (error) {
    await close();
    const reason = error instanceof Error ? error.message : String(error);
    throw new ComicError('CONFIG_INVALID', `cannot listen on ${host}:${config.serve.port}: ${reason}`, { hint: 'pick another --port, or stop what is using it', cause: error });
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.serve.port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const previews = config.backend === 'comfyui' ? `; ComfyUI previews ${comfyPreviews(config, SERVE_BACKEND_DEFAULTS)}` : '';
  log.info(`listening on ${url} (${keys.enabled ? `${keys.count} API key${keys.count === 1 ? '' : 's'}` : 'no API key'}; backend ${config.backend}${config.fallback ? ' with the SD API fallback' : ''}${previews})`);
  // Connect now, so health is known before the first job; a failure is retried by the next job.
  ready(lifetime.signal).then(
    () => log.info(`backend ready: ${backend.name}`),
    (error: unknown) => {
      if (!lifetime.signal.aborted) log.warn(`no backend yet: ${error instanceof Error ? error.message : String(error)}; jobs will try again`);
    },
  );

  return {
    url,
    port,
    app,
    log,
    stats: () => ({ ...queue.stats, sockets: hub.size }),
    close,
  };
}

/**
 * The backend's `ready()`, shared by every job: called once, and again after a failure
 * (the servers may have come up since). A job that is cancelled stops waiting for it.
 */
function readinessGate(connect: () => Promise<void>, report: (problem: string | null) => void): (signal: AbortSignal) => Promise<void> {
  let ready = false;
  let pending: Promise<void> | null = null;
  return async (signal) => {
    if (ready) return;
    pending ??= connect().then(
      () => {
        ready = true;
        report(null);
      },
      (error: unknown) => {
        pending = null;
        report(error instanceof Error ? error.message : String(error));
        throw error;
      },
    );
    await untilAborted(pending, signal);
  };
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Runs at once: what the ComfyUI servers take in flight (the SD API takes one; draft, the cores). */
function defaultConcurrency(config: ResolvedConfig): number {
  switch (config.backend) {
    case 'comfyui':
      return Math.max(1, config.servers.reduce((sum, s) => sum + s.maxConcurrent, 0));
    case 'sdapi':
      return 1;
    case 'draft':
      return Math.max(1, availableParallelism());
  }
}
