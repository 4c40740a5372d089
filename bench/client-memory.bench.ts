/**
 * 2,000 jobs through one ComfyClient (submit, events, history, download) must not grow its
 * memory: resident set after ≈ before, within 30 MB, with a full GC before each reading.
 * The emulator runs in its own process so its history and images are not counted.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ComfyClient } from '../src/comfy/client.js';
import type { ApiWorkflow } from '../src/comfy/types.js';
import { spawnEmulator } from '../test/comfy/emulator-process.js';

const JOBS = 2_000;
const WARMUP = 200;
const IN_FLIGHT = 2;
const LIMIT_MB = 30;

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc (npm run bench does)');

function workflow(seed: number): ApiWorkflow {
  return {
    '1': { class_type: 'EmptyImage', inputs: { width: 64, height: 64, batch_size: 1, color: seed & 0xffffff } },
    '2': { class_type: 'SlowProgress', inputs: { image: ['1', 0], steps: 3, delay: 0, send_preview: true, seed } },
    '3': { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: `mem_${seed}` } },
  };
}

const emulator = await spawnEmulator({ stepMs: 0 });
const client = new ComfyClient({ url: emulator.url, name: 'memory', maxConcurrent: IN_FLIGHT, headers: {}, auth: { kind: 'none' } });
const dir = await mkdtemp(join(tmpdir(), 'comic-bench-'));
let events = 0;

async function run(from: number, count: number): Promise<void> {
  let next = from;
  const worker = async (lane: number): Promise<void> => {
    while (next < from + count) {
      const seed = next++;
      const handle = client.submit(workflow(seed), { signal: new AbortController().signal, onEvent: () => events++ });
      const result = await handle.result;
      await client.download(result.outputs[0]!, join(dir, `lane${lane}.png`), new AbortController().signal);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, (_, lane) => worker(lane)));
}

function settle(): { rss: number; heap: number } {
  for (let i = 0; i < 4; i++) gc!();
  const usage = process.memoryUsage();
  return { rss: usage.rss, heap: usage.heapUsed };
}

const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);

try {
  await client.connect(AbortSignal.timeout(30_000));
  await run(0, WARMUP);
  await new Promise((resolve) => setTimeout(resolve, 200));
  const before = settle();
  const started = performance.now();
  await run(WARMUP, JOBS);
  const seconds = (performance.now() - started) / 1000;
  await new Promise((resolve) => setTimeout(resolve, 200));
  const after = settle();
  const grew = after.rss - before.rss;
  console.log(`${JOBS} jobs (${IN_FLIGHT} in flight, ${events} events, a download each) in ${seconds.toFixed(1)} s; prompts still tracked: ${client.inFlight}`);
  console.log('\n| | before | after | change |\n|---|---|---|---|');
  console.log(`| RSS (MB) | ${mb(before.rss)} | ${mb(after.rss)} | ${grew >= 0 ? '+' : ''}${mb(grew)} |`);
  console.log(`| heap used (MB) | ${mb(before.heap)} | ${mb(after.heap)} | ${after.heap - before.heap >= 0 ? '+' : ''}${mb(after.heap - before.heap)} |`);
  const ok = Math.abs(grew) <= LIMIT_MB * 1024 * 1024 && client.inFlight === 0;
  console.log(`\ntarget: RSS after = before within ${LIMIT_MB} MB: ${ok ? 'met' : 'MISSED'}`);
  process.exitCode = ok ? 0 : 1;
} finally {
  await client.close();
  await emulator.stop();
  await rm(dir, { recursive: true, force: true });
}
