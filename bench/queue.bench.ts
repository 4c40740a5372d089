/**
 * bench/queue: the distributed queue's own cost. 400 jobs of a fixed 50 ms each on 4
 * workers, each worker a process of its own (as on separate GPU boxes) with a backend that
 * sleeps 50 ms and writes a tiny PNG; the coordinator is the QueueBackend generate() uses,
 * all on one local redis-server with results stored in Redis.
 * Target (issue 10): makespan within 10% of ideal (400 × 50 ms / 4 = 5 s).
 * Also measured: one job's round trip through the queue (latency over the 50 ms render).
 *
 * Prints a markdown table; copy it into docs/benchmarks.md (section `## queue`).
 * Run as `bench/queue.bench.ts worker <url> <name>`, the file is one of the workers.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import type { Backend, RenderOptions, RenderRequest, RenderResult } from '../src/backends/types.js';
import { QueueBackend } from '../src/distributed/queue-backend.js';
import { parseQueueUrl } from '../src/distributed/target.js';
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

/** Renders nothing: waits the fixed time, then writes a tiny PNG, as a render's end would. */
class FixedTimeBackend implements Backend {
  readonly name = 'draft' as const;
  constructor(private readonly png: Buffer) {}
  async ready(): Promise<void> {}
  async render(request: RenderRequest, { signal, onEvent }: RenderOptions): Promise<RenderResult> {
    onEvent({ type: 'started', jobId: request.jobId, server: 'local' });
    await new Promise((resolve) => setTimeout(resolve, JOB_MS));
    signal.throwIfAborted();
    await writeFileAtomic(request.outputPath, this.png);
    return { jobId: request.jobId, backend: 'draft', server: null, outputPath: request.outputPath, dropped: [], timings: { queuedMs: 0, runMs: JOB_MS } };
  }
  async close(): Promise<void> {}
}

async function runWorker(url: string, name: string): Promise<void> {
  const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#888' } }).png().toBuffer();
  const worker = new RenderWorker({
    target: parseQueueUrl(url),
    backend: new FixedTimeBackend(png),
    templates: await loadTemplateRegistry({ dirs: [] }),
    name,
    concurrency: 1,
  });
  await worker.start(AbortSignal.timeout(10_000));
  process.stdout.write('ready\n');
  process.once('SIGTERM', () => void worker.close().then(() => process.exit(0)));
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
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

async function main(): Promise<void> {
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) {
    console.log('skipped: redis-server is not installed (apt-get install redis-server)');
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'comic-queue-bench-'));
  const port = await freePort();
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const workers: ChildProcess[] = [];
  const coordinator = new QueueBackend({ target: parseQueueUrl(`redis://127.0.0.1:${port}/0`) });
  try {
    await started(redis, 'Ready to accept connections');
    const url = `redis://127.0.0.1:${port}/0`;
    for (let i = 0; i < WORKERS; i++) {
      const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'worker', url, `bench-${i + 1}`], { stdio: ['ignore', 'pipe', 'inherit'] });
      workers.push(child);
      await started(child, 'ready');
    }
    const templates = await loadTemplateRegistry({ dirs: [] });
    await coordinator.ready(AbortSignal.timeout(10_000));
    // Warm-up: connections, scripts loaded into Redis, JIT.
    await Promise.all(Array.from({ length: 20 }, (_, n) => coordinator.render(request(templates, dir, 'warm', n), events())));

    const latencies: number[] = [];
    for (let n = 0; n < LATENCY_SAMPLES; n++) {
      const began = performance.now();
      await coordinator.render(request(templates, dir, 'latency', n), events());
      latencies.push(performance.now() - began - JOB_MS);
    }

    const makespans: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const began = performance.now();
      await Promise.all(Array.from({ length: JOBS }, (_, n) => coordinator.render(request(templates, dir, `run${run}`, n), events())));
      makespans.push(performance.now() - began);
    }

    const makespan = median(makespans);
    const ratio = makespan / IDEAL_MS;
    const perJob = (makespan - IDEAL_MS) / (JOBS / WORKERS);
    console.log(`${cpus().length} cores, load ${loadavg()[0]!.toFixed(2)}, Node ${process.version}; median of ${RUNS} runs, after a warm-up\n`);
    console.log('| measure | value | target |');
    console.log('|---|---|---|');
    console.log(`| makespan, ${JOBS} jobs × ${JOB_MS} ms on ${WORKERS} workers | ${makespan.toFixed(0)} ms (runs: ${makespans.map((m) => m.toFixed(0)).join(', ')}) | ideal ${IDEAL_MS} ms |`);
    console.log(`| makespan / ideal | ${ratio.toFixed(3)} | ≤ ${TARGET} ${ratio <= TARGET ? '✅' : '❌'} |`);
    console.log(`| queue overhead per job, at full load ((makespan − ideal) ÷ jobs per worker) | ${perJob.toFixed(1)} ms | |`);
    console.log(`| one job's round trip over its ${JOB_MS} ms render, idle queue (median, p90 of ${LATENCY_SAMPLES}) | ${median(latencies).toFixed(1)} ms, ${[...latencies].sort((a, b) => a - b)[Math.floor(LATENCY_SAMPLES * 0.9)]!.toFixed(1)} ms | |`);
    if (ratio > TARGET) process.exitCode = 1;
  } finally {
    await coordinator.close();
    for (const child of workers) child.kill('SIGTERM');
    await Promise.all(workers.map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)))));
    redis.kill('SIGTERM');
    await new Promise((resolve) => (redis.exitCode !== null ? resolve(null) : redis.once('exit', resolve)));
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'worker') await runWorker(process.argv[3]!, process.argv[4]!);
else await main();
