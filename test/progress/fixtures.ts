/**
 * Synthetic runs for the renderer tests: a whole emulated run across two ComfyUI servers
 * (queueing, node and step progress, a preview, a retry, a failure and its skipped
 * dependent, a server going down, the fallback to the SD API), plus one sample of every
 * event type, checked at compile time to cover the whole union.
 */
import { EventEmitter } from 'node:events';
import type { CliIO } from '../../src/cli/io.js';
import type { RunEvent, RunSummary } from '../../src/progress/events.js';

/** One of each event type; adding a variant to RunEvent without a sample here is a type error. */
export const SAMPLE_EVENTS: { readonly [K in RunEvent['type']]: Extract<RunEvent, { type: K }> } = {
  'run-started': { type: 'run-started', scripts: ['examples/lighthouse.yaml'], jobs: 6, backend: 'comfyui' },
  'job-queued': { type: 'job-queued', job: 'panel:1-1', server: 'gpu-a', position: 2 },
  'job-started': { type: 'job-started', job: 'panel:1-1', backend: 'comfyui', server: 'gpu-a' },
  'job-node': { type: 'job-node', job: 'panel:1-1', server: 'gpu-a', node: '3', title: 'KSampler' },
  'job-progress': { type: 'job-progress', job: 'panel:1-1', server: 'gpu-a', value: 12, max: 30 },
  'job-preview': { type: 'job-preview', job: 'panel:1-1', mime: 'image/jpeg', bytes: new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]) },
  'job-retry': { type: 'job-retry', job: 'panel:1-1', server: 'gpu-a', attempt: 2, reason: 'HTTP 502 from the proxy' },
  'job-done': { type: 'job-done', job: 'panel:1-1', backend: 'comfyui', server: 'gpu-a', ms: 7100, output: 'out/panels/1-1.png' },
  'job-cached': { type: 'job-cached', job: 'character:mara', output: 'out/characters/mara.png' },
  'job-failed': {
    type: 'job-failed',
    job: 'panel:1-2',
    error: { code: 'JOB_FAILED', message: 'node 3 (KSampler) failed: CUDA out of memory' },
    location: { file: 'examples/lighthouse.yaml', line: 41, column: 9 },
  },
  'job-skipped': { type: 'job-skipped', job: 'page:1', reason: 'panel:1-2 failed' },
  fallback: { type: 'fallback', from: 'comfyui', to: 'sdapi', reason: 'every ComfyUI server is down' },
  server: { type: 'server', server: 'gpu-b', state: 'down', reason: 'ECONNREFUSED' },
  vram: { type: 'vram', server: 'gpu-a', used: 3 * 2 ** 30, total: 24 * 2 ** 30 },
  warning: { type: 'warning', message: 'sdapi could not honour reference', job: 'panel:1-3' },
  'run-finished': {
    type: 'run-finished',
    summary: {
      ok: false,
      exitCode: 1,
      total: 6,
      done: 3,
      cached: 1,
      failed: 1,
      skipped: 1,
      cancelled: 0,
      notRun: 0,
      warnings: 2,
      ms: 42_000,
      fallback: true,
      fellBack: { from: 'comfyui', to: 'sdapi', reason: 'every ComfyUI server is down' },
      next: 'see report.md for what failed, then run the same command again to retry it',
    },
  },
};

export const FINAL_SUMMARY: RunSummary = SAMPLE_EVENTS['run-finished'].summary;

/** A run of 14 jobs cancelled after two were rendered: one was cut short, eleven never started. */
export const CANCELLED_SUMMARY: RunSummary = {
  ok: false,
  exitCode: 130,
  total: 14,
  done: 2,
  cached: 0,
  failed: 0,
  skipped: 0,
  cancelled: 1,
  notRun: 11,
  warnings: 0,
  ms: 2_100,
  fallback: false,
  fellBack: null,
  next: 'run the same command again to resume; jobs already done come from the cache',
};

/** A whole run, in the order a real one reports it. */
export function syntheticRun(): RunEvent[] {
  const steps = (job: string, server: string, max: number): RunEvent[] =>
    Array.from({ length: max }, (_, i) => ({ type: 'job-progress', job, server, value: i + 1, max }) as const);
  return [
    SAMPLE_EVENTS['run-started'],
    { type: 'server', server: 'gpu-a', state: 'up', reason: 'connected to "gpu-a" (http://127.0.0.1:8188)' },
    { type: 'server', server: 'gpu-b', state: 'up', reason: 'connected to "gpu-b" (http://127.0.0.1:8189)' },
    SAMPLE_EVENTS.vram,
    SAMPLE_EVENTS['job-cached'],
    { type: 'job-queued', job: 'panel:1-1', server: 'gpu-a', position: 1 },
    SAMPLE_EVENTS['job-retry'],
    { type: 'job-queued', job: 'panel:1-1', server: 'gpu-a', position: 1 },
    { type: 'job-queued', job: 'panel:1-2', server: 'gpu-b', position: 1 },
    { type: 'job-queued', job: 'panel:1-1', server: 'gpu-a', position: 0 },
    { type: 'job-started', job: 'panel:1-1', backend: 'comfyui', server: 'gpu-a' },
    { type: 'job-started', job: 'panel:1-2', backend: 'comfyui', server: 'gpu-b' },
    SAMPLE_EVENTS['job-node'],
    ...steps('panel:1-1', 'gpu-a', 30),
    SAMPLE_EVENTS['job-preview'],
    SAMPLE_EVENTS['job-done'],
    SAMPLE_EVENTS['job-failed'],
    SAMPLE_EVENTS['job-skipped'],
    SAMPLE_EVENTS.server,
    { type: 'server', server: 'gpu-a', state: 'down', reason: 'ECONNREFUSED' },
    SAMPLE_EVENTS.fallback,
    { type: 'job-queued', job: 'panel:1-3', server: null, position: null },
    { type: 'job-started', job: 'panel:1-3', backend: 'sdapi', server: 'http://127.0.0.1:7861' },
    ...steps('panel:1-3', 'http://127.0.0.1:7861', 20),
    SAMPLE_EVENTS.warning,
    { type: 'job-done', job: 'panel:1-3', backend: 'sdapi', server: 'http://127.0.0.1:7861', ms: 2500, output: 'out/panels/1-3.png' },
    { type: 'job-done', job: 'export:pdf', backend: 'compose', server: null, ms: 300, output: 'out/lighthouse.pdf' },
    SAMPLE_EVENTS['run-finished'],
  ];
}

/** A stream that records what is written, optionally posing as a terminal of a given size. */
export class CaptureStream extends EventEmitter {
  readonly chunks: string[] = [];
  isTTY: boolean;
  columns: number;
  rows: number;

  constructor(options: { tty?: boolean; columns?: number; rows?: number } = {}) {
    super();
    this.isTTY = options.tty ?? false;
    this.columns = options.columns ?? 100;
    this.rows = options.rows ?? 30;
  }

  write = (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    this.chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  };

  text(): string {
    return this.chunks.join('');
  }

  resize(columns: number, rows: number): void {
    this.columns = columns;
    this.rows = rows;
    this.emit('resize');
  }
}

export function captureIO(options: { tty?: boolean; columns?: number; rows?: number; env?: NodeJS.ProcessEnv } = {}) {
  const stdout = new CaptureStream(options);
  const stderr = new CaptureStream({ tty: options.tty ?? false });
  const io: CliIO = {
    stdout: stdout as unknown as CliIO['stdout'],
    stderr: stderr as unknown as CliIO['stderr'],
    env: options.env ?? {},
    cwd: process.cwd(),
  };
  return { io, stdout, stderr };
}

/** A clock that moves only when told to. */
export function manualClock(start = new Date(2025, 2, 14, 9, 30, 0).getTime()) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

/** Feeds events, moving the clock by `stepMs` before each. */
export function play(events: readonly RunEvent[], onEvent: (event: RunEvent) => void, clock: { advance(ms: number): void }, stepMs = 250): void {
  for (const event of events) {
    clock.advance(stepMs);
    onEvent(event);
  }
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}
