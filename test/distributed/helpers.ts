/**
 * Shared pieces of the distributed tests: a real redis-server of our own on a free loopback
 * port (the suite is skipped, saying why, only when redis-server is not installed), fast
 * stall settings, and backends that count and hold renders.
 */
import { freePort } from '../support/net.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DraftBackend } from '../../src/backends/draft/backend.js';
import type { Backend, RenderOptions, RenderRequest, RenderResult } from '../../src/backends/types.js';
import { parseQueueUrl, type QueueTarget } from '../../src/distributed/target.js';
import { QueueBackend } from '../../src/distributed/queue-backend.js';
import { RenderWorker, type WorkerLogEntry } from '../../src/distributed/worker.js';
import type { TemplateRegistry } from '../../src/templates/index.js';

export const REDIS_AVAILABLE = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
export const SKIP_REASON = 'redis-server is not installed (apt-get install redis-server; .ci/run installs it)';
if (!REDIS_AVAILABLE) console.warn(`test/distributed: skipped: ${SKIP_REASON}`);

export interface RedisInstance {
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
}


/**
 * A throwaway redis-server: no persistence, loopback only, its own folder; resolves once it
 * accepts connections. `port`: the same port again (a restart that lost everything).
 */
export async function startRedis(options: { password?: string; port?: number } = {}): Promise<RedisInstance> {
  const dir = await mkdtemp(join(tmpdir(), 'comic-redis-'));
  for (let attempt = 0; ; attempt++) {
    const port = options.port ?? (await freePort());
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
    if (options.password) args.push('--requirepass', options.password);
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const up = await new Promise<boolean>((resolve) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('Ready to accept connections')) resolve(true);
      });
      child.once('exit', () => resolve(false));
    });
    if (up) {
      child.stdout!.resume();
      child.stderr!.resume();
      return { port, url: `redis://127.0.0.1:${port}/0`, stop: () => stopChild(child).then(() => rm(dir, { recursive: true, force: true })) };
    }
    // The port was taken between our probe and redis binding it: try another.
    if (attempt >= 3) throw new Error('redis-server did not start');
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
}

/** For expect.poll: a loaded CI machine may take seconds where a quiet one takes milliseconds. */
export const EVENTUALLY = { timeout: 15_000, interval: 50 } as const;

/** Stall detection in a second, not half a minute: a killed worker's job moves on quickly. */
export const FAST_STALL = { lockMs: 1000, stalledIntervalMs: 300 } as const;

/** Counts every render that reached its backend, per content key, across all workers of a test. */
export class RenderLedger {
  readonly started = new Map<string, number>();
  readonly finished = new Map<string, number>();
  count(map: Map<string, number>, key: string): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }
  /** Keys rendered to the end more than once: must stay empty. */
  twice(): string[] {
    return [...this.finished].filter(([, n]) => n > 1).map(([key]) => key);
  }
}

/**
 * A backend that records renders in the ledger and can hold them: `hold(predicate)` makes
 * matching renders wait until released, so a test knows a worker is mid-job.
 */
export class LedgerBackend implements Backend {
  readonly #held: { match: (request: RenderRequest) => boolean; gate: Promise<void>; release: () => void; entered: (request: RenderRequest) => void }[] = [];

  constructor(
    readonly inner: Backend,
    readonly ledger: RenderLedger,
  ) {}

  get name() {
    return this.inner.name;
  }

  ready(signal: AbortSignal) {
    return this.inner.ready(signal);
  }

  /** The next render matching `match` waits; resolves with it once it has started. */
  hold(match: (request: RenderRequest) => boolean): { started: Promise<RenderRequest>; release: () => void } {
    let release!: () => void;
    let entered!: (request: RenderRequest) => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const started = new Promise<RenderRequest>((resolve) => (entered = resolve));
    this.#held.push({ match, gate, release, entered });
    return { started, release };
  }

  async render(request: RenderRequest, options: RenderOptions): Promise<RenderResult> {
    this.ledger.count(this.ledger.started, request.key);
    const held = this.#held.find((h) => h.match(request));
    if (held) {
      this.#held.splice(this.#held.indexOf(held), 1);
      options.onEvent({ type: 'started', jobId: request.jobId, server: 'local' });
      held.entered(request);
      await Promise.race([
        held.gate,
        new Promise<never>((_, reject) => options.signal.addEventListener('abort', () => reject(options.signal.reason), { once: true })),
      ]);
    }
    const result = await this.inner.render(request, options);
    this.ledger.count(this.ledger.finished, request.key);
    return result;
  }

  close() {
    return this.inner.close();
  }
}

/** Starts, tracks and stops the participants of one test. */
export class Cluster {
  readonly ledger = new RenderLedger();
  readonly workers: RenderWorker[] = [];
  readonly coordinators: QueueBackend[] = [];
  readonly logs = new Map<string, WorkerLogEntry[]>();
  readonly target: QueueTarget;

  constructor(
    readonly redis: RedisInstance,
    readonly templates: TemplateRegistry,
    url: string = redis.url,
  ) {
    this.target = parseQueueUrl(url);
  }

  async worker(
    name: string,
    options: { backend?: Backend; concurrency?: number; target?: QueueTarget; recheckMs?: number } = {},
  ): Promise<{ worker: RenderWorker; backend: LedgerBackend }> {
    const backend = new LedgerBackend(options.backend ?? new DraftBackend(), this.ledger);
    const log: WorkerLogEntry[] = [];
    this.logs.set(name, log);
    const worker = new RenderWorker({
      target: options.target ?? this.target,
      backend,
      templates: this.templates,
      name,
      concurrency: options.concurrency ?? 2,
      ...FAST_STALL,
      ...(options.recheckMs !== undefined && { recheckMs: options.recheckMs }),
      log: (entry) => log.push(entry),
    });
    this.workers.push(worker);
    await worker.start(AbortSignal.timeout(10_000));
    return { worker, backend };
  }

  coordinator(options: { target?: QueueTarget; pollMs?: number } = {}): QueueBackend {
    const backend = new QueueBackend({ target: options.target ?? this.target, pollMs: options.pollMs ?? 500 });
    this.coordinators.push(backend);
    return backend;
  }

  async close(): Promise<void> {
    await Promise.all(this.coordinators.map((c) => c.close()));
    await Promise.all(this.workers.map((w) => w.close()));
  }
}
