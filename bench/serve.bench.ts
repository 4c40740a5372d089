/**
 * bench/serve: what `comic serve` adds on top of the pipeline, with the draft backend (no
 * GPU) so only our own code is measured.
 *
 * 1. Latency of one cached panel request, sequentially: through HTTP (`?wait=true`: auth,
 *    rate limit, validation, planning, the queue, generate(), the JSON answer) against the
 *    same planning and generate() run called directly in-process. The difference is the
 *    server's overhead.
 * 2. Throughput: identical (cached) panel requests from 16 concurrent clients.
 * 3. The same latency comparison for a panel the draft backend renders (a new seed each time).
 *
 * Prints markdown tables; copy them into docs/benchmarks.md (section `## serve`).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DraftBackend } from '../src/backends/draft/backend.js';
import { loadConfig } from '../src/config/index.js';
import { EventBus } from '../src/progress/events.js';
import { RenderCache } from '../src/run/cache.js';
import { EMPTY_CAST } from '../src/serve/cast.js';
import { ServePipeline } from '../src/serve/pipeline.js';
import { startServe } from '../src/serve/server.js';
import { loadTemplateRegistry } from '../src/templates/index.js';

const KEY = 'bench-key';
const SEQUENTIAL = 100;
const CONCURRENT_CLIENTS = 16;
const CONCURRENT_REQUESTS = 480;
const RENDERED = 30;

const panel = (seed: number) => ({
  scene: 'Mara climbs the spiral stairs, lantern in hand',
  characters: [{ name: 'Mara', description: 'young lighthouse keeper, red raincoat' }],
  camera: 'low angle',
  size: { width: 512, height: 768 },
  seed,
});

const dir = await mkdtemp(join(tmpdir(), 'comic-serve-bench-'));
try {
  const config = await loadConfig({
    cwd: dir,
    env: { COMIC_API_KEYS: KEY },
    flags: { backend: 'draft', port: 0, output: join(dir, 'out'), cache: join(dir, 'cache'), exports: ['png'] },
  });
  const server = await startServe({
    config,
    cwd: dir,
    script: null,
    logStream: { write: () => true } as unknown as NodeJS.WritableStream,
    limits: { requestsPerMinute: 1_000_000, pendingJobsPerKey: 1_000 },
    concurrency: 4,
  });
  const request = async (body: unknown) => {
    const response = await fetch(`${server.url}/api/comic/generate-panel?wait=true`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as { job: { state: string; outputs: { cached: boolean }[] } };
    if (answer.job?.state !== 'completed') throw new Error(`request failed: ${JSON.stringify(answer)}`);
    return answer.job.outputs[0]!.cached;
  };

  // The same planning and generate() run as a job, without HTTP or the queue.
  const templates = await loadTemplateRegistry({ dirs: [] });
  const pipeline = new ServePipeline({
    backend: new DraftBackend(),
    templates,
    cache: new RenderCache(config.cache),
    cast: EMPTY_CAST,
    exports: [],
    ready: async () => undefined,
    observe: () => undefined,
  });
  let direct = 0;
  const runDirect = async (body: unknown) => {
    const id = `direct-${direct++}`;
    const spec = await pipeline.panelJob(body, { id, owner: 'bench', dir: join(dir, 'direct', id) });
    const summary = await spec.run(new EventBus(), new AbortController().signal);
    if (!summary.ok) throw new Error('direct run failed');
    return summary.cached === 1;
  };

  await request(panel(1)); // renders it: everything below with seed 1 is a cache hit
  for (let i = 0; i < 10; i++) {
    await request(panel(1));
    await runDirect(panel(1));
  }

  const health = await timeEach(SEQUENTIAL, async () => {
    const response = await fetch(`${server.url}/api/health`, { headers: { authorization: `Bearer ${KEY}` } });
    if (response.status !== 200) throw new Error(`health answered ${response.status}`);
    await response.arrayBuffer();
  });
  const cached = await compare(SEQUENTIAL, async () => expectCached(await request(panel(1)), true), async () => expectCached(await runDirect(panel(1)), true));

  let sent = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENT_CLIENTS }, async () => {
      while (sent < CONCURRENT_REQUESTS) {
        sent++;
        expectCached(await request(panel(1)), true);
      }
    }),
  );
  const throughputMs = performance.now() - started;

  let seed = 1000;
  const rendered = await compare(RENDERED, async () => expectCached(await request(panel(seed++)), false), async () => expectCached(await runDirect(panel(seed++)), false));
  await server.close();

  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`Run on ${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpu}, Node ${process.versions.node}, load average ${loadavg()[0]!.toFixed(1)}.\n`);
  console.log('| panel request (sequential, ?wait=true) | through serve: median | p95 | CPU per request | direct generate(): median | p95 | CPU per request | overhead of serve: wall (median) | CPU |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const [name, c] of [
    [`cached (${SEQUENTIAL} runs each)`, cached],
    [`rendered by the draft backend (${RENDERED} runs each)`, rendered],
  ] as const) {
    console.log(
      `| ${name} | ${ms(median(c.serve.wall))} | ${ms(p95(c.serve.wall))} | ${ms(c.serve.cpuMs)} | ${ms(median(c.direct.wall))} | ${ms(p95(c.direct.wall))} | ${ms(c.direct.cpuMs)} | ${ms(median(c.serve.wall) - median(c.direct.wall))} | ${ms(c.serve.cpuMs - c.direct.cpuMs)} |`,
    );
  }
  console.log(`\nA bare authenticated round trip (GET /api/health, ${SEQUENTIAL} runs): median ${ms(median(health))}, p95 ${ms(p95(health))}.`);
  console.log(`\nThroughput, cached panels: ${CONCURRENT_REQUESTS} requests from ${CONCURRENT_CLIENTS} clients in ${ms(throughputMs)}: **${((CONCURRENT_REQUESTS / throughputMs) * 1000).toFixed(0)} requests/s**.`);
  console.log(`Peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB.`);
} finally {
  await rm(dir, { recursive: true, force: true });
}

function expectCached(cached: boolean, want: boolean): void {
  if (cached !== want) throw new Error(`expected ${want ? 'a cache hit' : 'a render'}, got ${cached ? 'a cache hit' : 'a render'}`);
}

interface Timing {
  /** Wall times, sorted. */
  readonly wall: number[];
  /** CPU time of this process (server and client alike) per run. */
  readonly cpuMs: number;
}

/**
 * Runs `a` and `b` alternately, so both see the same machine load, and times each run:
 * wall time, and the process's CPU time (steadier on a shared machine).
 */
async function compare(runs: number, serve: () => Promise<void>, direct: () => Promise<void>): Promise<{ serve: Timing; direct: Timing }> {
  const wall = { serve: [] as number[], direct: [] as number[] };
  const cpu = { serve: 0, direct: 0 };
  for (let i = 0; i < runs; i++) {
    for (const [name, body] of [['serve', serve], ['direct', direct]] as const) {
      const cpuStart = process.cpuUsage();
      const start = performance.now();
      await body();
      wall[name].push(performance.now() - start);
      const used = process.cpuUsage(cpuStart);
      cpu[name] += (used.user + used.system) / 1000;
    }
  }
  const timing = (name: 'serve' | 'direct'): Timing => ({ wall: wall[name].sort((x, y) => x - y), cpuMs: cpu[name] / runs });
  return { serve: timing('serve'), direct: timing('direct') };
}

async function timeEach(runs: number, body: () => Promise<void>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await body();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b);
}

function median(sorted: readonly number[]): number {
  return sorted[Math.floor(sorted.length / 2)]!;
}

function p95(sorted: readonly number[]): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))]!;
}

function ms(value: number): string {
  return `${value.toFixed(1)} ms`;
}
