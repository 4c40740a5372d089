/**
 * bench/queue: the distributed queue's own cost. 400 jobs of a fixed 50 ms each on 4
 * workers, each worker a process of its own (as on separate GPU boxes) whose backend is
 * one GPU: it renders one job at a time, sleeping 50 ms and writing a tiny PNG. The
 * coordinator is the QueueBackend generate() uses; one local redis-server holds the queue
 * and the results.
 *
 * Target (issue 10): makespan within 10% of ideal (400 × 50 ms / 4 = 5 s), with workers at
 * their default concurrency for one ComfyUI server (2: the next job is fetched, checked
 * and its inputs downloaded while the GPU renders the current one, as the server pool
 * keeps two prompts in flight). Also measured: concurrency 1, where every job's queue and
 * store traffic adds to its render time, and one job's round trip on an idle queue.
 *
 * Prints a markdown table; copy it into docs/benchmarks.md (section `## queue`).
 * Baseline: the same jobs on bare BullMQ workers that only sleep, to tell the machine's and
 * BullMQ's share from comic's.
 *
 * Run as `bench/queue.bench.ts worker <url> <name> <concurrency>` (or `bare <url> <concurrency>`),
 * the file is one worker.
 */
import { freePort } from '../test/support/net.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import sharp from 'sharp';
import type { Backend, RenderOptions, RenderRequest, RenderResult } from '../src/backends/types.js';
import { QueueBackend } from '../src/distributed/queue-backend.js';
import { parseQueueUrl, redisOptions } from '../src/distributed/target.js';
import { RenderWorker } from '../src/distributed/worker.js';
import { loadTemplateRegistry, type TemplateRegistry } from '../src/templates/index.js';
import { writeFileAtomic } from '../src/util/fs.js';
import { sha256 } from '../src/util/hash.js';

const JOBS = 400;
const WORKERS = 4;
const JOB_MS = 50;
const LATENCY_SAMPLES = 40;
const RUNS = 3;
const IDEAL_MS = (JOBS * JOB_MS) / WORKERS;
const TARGET = 1.1;
const BARE_QUEUE = 'bench-bare';

/** One GPU: renders one job at a time, each a fixed 50 ms, then writes a tiny PNG as a render's download would. */
class FixedTimeGpu implements Backend {
  readonly name = 'draft' as const;
  #busy: Promise<void> = Promise.resolve();
  constructor(private readonly png: Buffer) {}
  async ready(): Promise<void> {}
  async render(request: RenderRequest, { signal, onEvent }: RenderOptions): Promise<RenderResult> {
    const previous = this.#busy;
    let free!: () => void;
    this.#busy = new Promise((resolve) => (free = resolve));
    try {
      await previous;
      onEvent({ type: 'started', jobId: request.jobId, server: 'local' });
      await new Promise((resolve) => setTimeout(resolve, JOB_MS));
    } finally {
      free();
    }
    signal.throwIfAborted();
    await writeFileAtomic(request.outputPath, this.png);
    return { jobId: request.jobId, backend: 'draft', server: null, outputPath: request.outputPath, dropped: [], timings: { queuedMs: 0, runMs: JOB_MS } };
  }
  async close(): Promise<void> {}
}

async function runWorker(url: string, name: string, concurrency: number): Promise<void> {
  const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#888' } }).png().toBuffer();
  const worker = new RenderWorker({
    target: parseQueueUrl(url),
    backend: new FixedTimeGpu(png),
    templates: await loadTemplateRegistry({ dirs: [] }),
    name,
    concurrency,
  });
  await worker.start(AbortSignal.timeout(10_000));
  process.stdout.write('ready\n');
  process.once('SIGTERM', () => void worker.close().then(() => process.exit(0)));
}

/** The baseline: a bare BullMQ worker whose processor only sleeps 50 ms (no store, no template, no file). */
async function runBareWorker(url: string, concurrency: number): Promise<void> {
  const target = parseQueueUrl(url);
  const connection = new Redis(redisOptions(target, 'bench-bare'));
  const worker = new Worker(BARE_QUEUE, () => new Promise((resolve) => setTimeout(resolve, JOB_MS)), { connection, concurrency });
  await worker.waitUntilReady();
  process.stdout.write('ready\n');
  process.once('SIGTERM', () => void worker.close().then(() => process.exit(0)));
}


/** Starts a child and resolves once it prints `marker`. */
function started(child: ChildProcess, marker: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes(marker)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before "${marker}"`)));
  });
}

function request(templates: TemplateRegistry, dir: string, run: string, n: number): RenderRequest {
  return {
    jobId: `panel:${run}-${n}`,
    key: sha256(`queue bench ${run} ${n}`),
    template: templates.get('panel'),
    params: { positive: `panel ${n}`, seed: n, width: 8, height: 8 },
    inputs: [],
    shot: { title: `Panel ${n}`, summary: `panel ${n}`, subjects: [], camera: null, pose: null, dialogue: null },
    outputPath: join(dir, run, `${n}.png`),
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const events = () => ({ signal: new AbortController().signal, onEvent: () => undefined });

interface Measured {
  readonly concurrency: number;
  readonly makespans: number[];
  readonly latencies: number[];
}

/** Four worker processes at `concurrency`, a warm-up, one-job round trips, then the 400-job runs. */
async function measure(url: string, dir: string, templates: TemplateRegistry, concurrency: number): Promise<Measured> {
  const workers: ChildProcess[] = [];
  const coordinator = new QueueBackend({ target: parseQueueUrl(url) });
  const tag = `c${concurrency}`;
  try {
    for (let i = 0; i < WORKERS; i++) {
      const args = ['--import', 'tsx', fileURLToPath(import.meta.url), 'worker', url, `bench-${tag}-${i + 1}`, String(concurrency)];
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
      workers.push(child);
      await started(child, 'ready');
    }
    await coordinator.ready(AbortSignal.timeout(10_000));
    // Warm-up: connections, scripts loaded into Redis, JIT.
    await Promise.all(Array.from({ length: 20 }, (_, n) => coordinator.render(request(templates, dir, `${tag}-warm`, n), events())));
    const latencies: number[] = [];
    for (let n = 0; n < LATENCY_SAMPLES; n++) {
      const began = performance.now();
      await coordinator.render(request(templates, dir, `${tag}-latency`, n), events());
      latencies.push(performance.now() - began - JOB_MS);
    }
    const makespans: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const began = performance.now();
      await Promise.all(Array.from({ length: JOBS }, (_, n) => coordinator.render(request(templates, dir, `${tag}-run${run}`, n), events())));
      makespans.push(performance.now() - began);
    }
    return { concurrency, makespans, latencies };
  } finally {
    await coordinator.close();
    for (const child of workers) child.kill('SIGTERM');
    await Promise.all(workers.map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)))));
  }
}

/** The same 400 jobs on 4 bare BullMQ workers: what the machine and BullMQ cost without comic's layer. */
async function measureBare(url: string): Promise<number[]> {
  const workers: ChildProcess[] = [];
  const connection = new Redis(redisOptions(parseQueueUrl(url), 'bench-bare-producer'));
  const queue = new Queue(BARE_QUEUE, { connection });
  const eventsConnection = new Redis(redisOptions(parseQueueUrl(url), 'bench-bare-events'));
  const events = new QueueEvents(BARE_QUEUE, { connection: eventsConnection });
  try {
    for (let i = 0; i < WORKERS; i++) {
      const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'bare', url, '1'], { stdio: ['ignore', 'pipe', 'inherit'] });
      workers.push(child);
      await started(child, 'ready');
    }
    await events.waitUntilReady();
    const makespans: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      let done = 0;
      const all = new Promise<void>((resolve) => {
        const onCompleted = () => {
          if (++done < JOBS) return;
          events.off('completed', onCompleted);
          resolve();
        };
        events.on('completed', onCompleted);
      });
      const began = performance.now();
      await queue.addBulk(Array.from({ length: JOBS }, (_, n) => ({ name: 'sleep', data: {}, opts: { jobId: `run${run}-${n}` } })));
      await all;
      makespans.push(performance.now() - began);
    }
    return makespans;
  } finally {
    await events.close();
    await queue.close();
    connection.disconnect();
    eventsConnection.disconnect();
    for (const child of workers) child.kill('SIGTERM');
    await Promise.all(workers.map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)))));
  }
}

async function main(): Promise<void> {
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) {
    console.log('skipped: redis-server is not installed (apt-get install redis-server)');
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'comic-queue-bench-'));
  const port = await freePort();
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await started(redis, 'Ready to accept connections');
    const templates = await loadTemplateRegistry({ dirs: [] });
    const results: Measured[] = [];
    for (const [db, concurrency] of [[1, 2], [2, 1]] as const) results.push(await measure(`redis://127.0.0.1:${port}/${db}`, dir, templates, concurrency));
    const bare = median(await measureBare(`redis://127.0.0.1:${port}/3`));

    console.log(`${cpus().length} cores, load ${loadavg()[0]!.toFixed(2)}, Node ${process.version}; median of ${RUNS} runs each, after a warm-up\n`);
    console.log(`| worker concurrency | makespan, ${JOBS} jobs × ${JOB_MS} ms on ${WORKERS} workers (runs) | makespan / ideal (${IDEAL_MS} ms) | queue overhead per job at full load | one job's round trip over its ${JOB_MS} ms, idle queue (median, p90) |`);
    console.log('|---|---|---|---|---|');
    for (const { concurrency, makespans, latencies } of results) {
      const makespan = median(makespans);
      const ratio = makespan / IDEAL_MS;
      const verdict = concurrency === 2 ? (ratio <= TARGET ? ' ✅' : ' ❌') : '';
      if (concurrency === 2 && ratio > TARGET) process.exitCode = 1;
      const perJob = (makespan - IDEAL_MS) / (JOBS / WORKERS);
      const sorted = [...latencies].sort((a, b) => a - b);
      console.log(
        `| ${concurrency}${concurrency === 2 ? ' (default)' : ''} | ${makespan.toFixed(0)} ms (${makespans.map((m) => m.toFixed(0)).join(', ')}) | ${ratio.toFixed(3)}${verdict} | ${perJob.toFixed(1)} ms | ${median(latencies).toFixed(1)} ms, ${sorted[Math.floor(sorted.length * 0.9)]!.toFixed(1)} ms |`,
      );
    }
    console.log(`| baseline: bare BullMQ workers that only sleep, concurrency 1 | ${bare.toFixed(0)} ms | ${(bare / IDEAL_MS).toFixed(3)} | ${((bare - IDEAL_MS) / (JOBS / WORKERS)).toFixed(1)} ms | |`);
  } finally {
    redis.kill('SIGTERM');
    await new Promise((resolve) => (redis.exitCode !== null ? resolve(null) : redis.once('exit', resolve)));
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'worker') await runWorker(process.argv[3]!, process.argv[4]!, Number(process.argv[5] ?? 1));
else if (process.argv[2] === 'bare') await runBareWorker(process.argv[3]!, Number(process.argv[4] ?? 1));
else await main();
