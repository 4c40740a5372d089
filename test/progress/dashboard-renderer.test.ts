/**
 * The interactive renderer with real ink on a fake terminal: it keeps up with a flood of
 * events (the frame shows the newest state), redraws only on its timer, follows resizes,
 * and leaves the summary on screen when the run ends.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DashboardRenderer } from '../../src/progress/dashboard/index.js';
import { createRenderer } from '../../src/progress/renderer.js';
import { captureIO, FINAL_SUMMARY, SAMPLE_EVENTS, stripAnsi, type CaptureStream } from './fixtures.js';

beforeAll(() => {
  // ink decides at load whether it runs in CI (then it prints only the last frame); this file
  // loads ink only through the renderer, so the terminal behaviour is what gets tested here.
  vi.stubEnv('CI', 'false');
  vi.stubEnv('CONTINUOUS_INTEGRATION', 'false');
});

const renderers: DashboardRenderer[] = [];
afterEach(async () => {
  for (const renderer of renderers.splice(0)) await renderer.finish(FINAL_SUMMARY);
});

/** The frame on screen: what was drawn after the last erase (ink redraws in place). */
function screen(stdout: CaptureStream): string[] {
  const text = stdout.text();
  const lastErase = text.lastIndexOf('\u001b[G');
  return stripAnsi(lastErase === -1 ? text : text.slice(lastErase))
    .split('\n')
    .filter((line) => line.trim() !== '');
}

async function open(options: { columns?: number; rows?: number } = {}) {
  let now = 1_000_000;
  const { io, stdout } = captureIO({ tty: true, columns: options.columns ?? 80, rows: options.rows ?? 20 });
  // A long frame interval: in these tests frames are drawn when the test says so.
  const renderer = new DashboardRenderer(io, { now: () => now, frameMs: 3_600_000 });
  renderers.push(renderer);
  await renderer.ready();
  return { renderer, stdout, advance: (ms: number) => (now += ms) };
}

describe('interactive renderer', () => {
  it('is what createRenderer builds for the interactive mode', async () => {
    const { io } = captureIO({ tty: true });
    const renderer = createRenderer('interactive', io);
    expect(renderer).toBeInstanceOf(DashboardRenderer);
    await renderer.finish(FINAL_SUMMARY);
  });

  it('keeps up with 10,000 progress events: the next frame shows the newest state', async () => {
    const { renderer, stdout, advance } = await open();
    renderer.onEvent(SAMPLE_EVENTS['run-started']);
    renderer.onEvent({ type: 'job-started', job: 'panel:1-1', backend: 'comfyui', server: 'gpu-a' });
    renderer.onEvent(SAMPLE_EVENTS['job-node']);
    const writesBefore = stdout.chunks.length;
    for (let i = 1; i <= 10_000; i++) renderer.onEvent({ type: 'job-progress', job: 'panel:1-1', server: 'gpu-a', value: i, max: 10_000 });
    // Events alone draw nothing: drawing is the timer's job.
    expect(stdout.chunks.length).toBe(writesBefore);
    advance(100);
    renderer.redraw();
    await vi.waitFor(() => expect(screen(stdout).join('\n')).toContain('10000/10000'));
    expect(screen(stdout).find((l) => l.startsWith('gpu-a'))).toMatch(/^gpu-a {4}▶ panel:1-1 █+ 10000\/10000 {2}KSampler$/);
  });

  it('redraws to the new width when the terminal is resized', async () => {
    const { renderer, stdout } = await open({ columns: 100 });
    renderer.onEvent(SAMPLE_EVENTS['run-started']);
    renderer.onEvent({ type: 'warning', job: null, message: 'x'.repeat(200) });
    stdout.resize(50, 20);
    await vi.waitFor(() => expect(screen(stdout).some((l) => l.startsWith('! xxx'))).toBe(true));
    for (const line of screen(stdout)) expect(line.length).toBeLessThanOrEqual(50);
  });

  it('leaves the compact summary on screen at the end', async () => {
    const { renderer, stdout } = await open({ columns: 100 });
    renderer.onEvent(SAMPLE_EVENTS['run-started']);
    renderer.onEvent(SAMPLE_EVENTS['job-failed']);
    await renderer.finish(FINAL_SUMMARY);
    expect(screen(stdout)).toEqual([
      '✖ comic finished: 6 jobs in 42.0s: 3 rendered, 1 cached, 1 failed, 1 skipped (exit code 1)',
      '  ⚠ fell back from comfyui to sdapi: every ComfyUI server is down',
      '  ✗ panel:1-2: JOB_FAILED: node 3 (KSampler) failed: CUDA out of memory',
      '  2 warnings (see report.md)',
      '  → see report.md for what failed, then run the same command again to retry it',
    ]);
  });
});
