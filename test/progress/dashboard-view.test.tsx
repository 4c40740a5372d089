/**
 * Frames of the ink dashboard, rendered by ink itself (ink-testing-library), for a run
 * that is queued, running with steps, fallen back to the SD API, and finished.
 */
import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { Dashboard } from '../../src/progress/dashboard/view.js';
import { finish, initialState, reduce, type DashboardState } from '../../src/progress/dashboard/state.js';
import type { RunEvent } from '../../src/progress/events.js';
import { CANCELLED_SUMMARY, FINAL_SUMMARY, SAMPLE_EVENTS, stripAnsi } from './fixtures.js';

const unmounts: (() => void)[] = [];
afterEach(() => {
  for (const unmount of unmounts.splice(0)) unmount();
});

const T0 = 1_000_000;
function stateOf(events: readonly RunEvent[]): DashboardState {
  return events.reduce((s, e, i) => reduce(s, e, T0 + i * 1000), initialState());
}

/** ink-testing-library's terminal is 100 columns wide. */
function frame(state: DashboardState, options: { now?: number; rows?: number; columns?: number } = {}): string[] {
  const { lastFrame, unmount } = render(<Dashboard state={state} now={options.now ?? T0 + 60_000} size={{ columns: options.columns ?? 100, rows: options.rows ?? 30 }} colour={false} />);
  unmounts.push(unmount);
  const lines = stripAnsi(lastFrame() ?? '').split('\n');
  for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(options.columns ?? 100);
  return lines;
}

const started: RunEvent[] = [
  SAMPLE_EVENTS['run-started'],
  { type: 'server', server: 'gpu-a', state: 'up', reason: 'connected' },
  { type: 'server', server: 'gpu-b', state: 'up', reason: 'connected' },
  SAMPLE_EVENTS['job-cached'],
];

describe('dashboard frames', () => {
  it('queued: each lane shows its next job and its place in the queue', () => {
    const lines = frame(
      stateOf([
        ...started,
        { type: 'job-queued', job: 'panel:1-1', server: 'gpu-a', position: 0 },
        { type: 'job-queued', job: 'panel:1-2', server: 'gpu-a', position: 1 },
        { type: 'job-queued', job: 'panel:1-3', server: 'gpu-b', position: 2 },
        { type: 'job-queued', job: 'page:1', server: null, position: null },
      ]),
    );
    expect(lines).toEqual([
      'comic · lighthouse.yaml · comfyui · 1m00s',
      `${'█'.repeat(5)}${'░'.repeat(25)}  1/6 jobs · 1 cached · ETA –`,
      'gpu-a    … panel:1-1 queued (next)  +1 queued',
      'gpu-b    … panel:1-3 queued (2 ahead)',
      'waiting  1 job not yet sent to a server',
    ]);
  });

  it('running: the current job, its node and a step bar per lane; ETA from the pace so far', () => {
    const lines = frame(
      stateOf([
        ...started,
        { type: 'job-started', job: 'panel:1-1', backend: 'comfyui', server: 'gpu-a' },
        { type: 'job-node', job: 'panel:1-1', server: 'gpu-a', node: '3', title: 'KSampler' },
        { type: 'job-progress', job: 'panel:1-1', server: 'gpu-a', value: 12, max: 30 },
        { type: 'job-started', job: 'panel:1-2', backend: 'comfyui', server: 'gpu-b' },
        { type: 'job-done', job: 'panel:1-2', backend: 'comfyui', server: 'gpu-b', ms: 900, output: 'x' },
        { type: 'job-started', job: 'panel:1-3', backend: 'comfyui', server: 'gpu-b' },
        SAMPLE_EVENTS.warning,
      ]),
      { now: T0 + 10_000 },
    );
    expect(lines[1]).toBe(`${'█'.repeat(10)}${'░'.repeat(20)}  2/6 jobs · 1 cached · ETA 40.0s`);
    expect(lines[2]).toBe(`gpu-a    ▶ panel:1-1 ${'█'.repeat(8)}${'░'.repeat(12)} 12/30  KSampler`);
    expect(lines[3]).toBe('gpu-b    ▶ panel:1-3');
    expect(lines.at(-1)).toBe('! panel:1-3: sdapi could not honour reference');
  });

  it('fallback: a banner with the reason, the down servers and the SD API lane', () => {
    const lines = frame(
      stateOf([
        ...started,
        SAMPLE_EVENTS.server,
        { type: 'server', server: 'gpu-a', state: 'down', reason: 'ECONNREFUSED' },
        SAMPLE_EVENTS.fallback,
        { type: 'job-started', job: 'panel:1-3', backend: 'sdapi', server: 'http://127.0.0.1:7861' },
        { type: 'job-progress', job: 'panel:1-3', server: 'http://127.0.0.1:7861', value: 5, max: 20 },
      ]),
    );
    expect(lines[2]).toBe('⚠ Fell back from comfyui to sdapi: every ComfyUI server is down');
    expect(lines[3]).toBe('gpu-a             ✖ down: ECONNREFUSED');
    expect(lines[4]).toBe('gpu-b             ✖ down: ECONNREFUSED');
    expect(lines[5]).toMatch(/^http:\/\/127\.0\.0\.… {2}▶ panel:1-3 █+░+ 5\/20$/);
  });

  it('finished: only a compact summary is left', () => {
    const state = finish(stateOf([...started, SAMPLE_EVENTS.fallback, SAMPLE_EVENTS['job-failed'], SAMPLE_EVENTS.warning]), FINAL_SUMMARY);
    expect(frame(state)).toEqual([
      '✖ comic finished: 6 jobs in 42.0s: 3 rendered, 1 cached, 1 failed, 1 skipped (exit code 1)',
      '  ⚠ fell back from comfyui to sdapi: every ComfyUI server is down',
      '  ✗ panel:1-2: JOB_FAILED: node 3 (KSampler) failed: CUDA out of memory',
      '  2 warnings (see report.md)',
      '  → see report.md for what failed, then run the same command again to retry it',
    ]);
    const ok = finish(stateOf(started), { ...FINAL_SUMMARY, ok: true, exitCode: 0, failed: 0, skipped: 0, warnings: 0, fallback: false, fellBack: null, next: null });
    expect(frame(ok)).toEqual(['✔ comic finished: 6 jobs in 42.0s: 3 rendered, 1 cached (exit code 0)']);
  });

  it('cancelled: the summary says so, counts what never ran, and how to resume', () => {
    const state = finish(stateOf(started), CANCELLED_SUMMARY);
    expect(frame(state)).toEqual([
      '✖ comic cancelled: 14 jobs in 2.1s: 2 rendered, 0 cached, 1 cancelled, 11 not run (exit code 130)',
      '  → run the same command again to resume; jobs already done come from the cache',
    ]);
  });

  it('fits a small terminal: fewer rows than lanes, and narrow', () => {
    const servers = Array.from({ length: 12 }, (_, i): RunEvent => ({ type: 'job-started', job: `panel:${i}`, backend: 'comfyui', server: `gpu-${i}` }));
    const lines = frame(stateOf([SAMPLE_EVENTS['run-started'], ...servers, SAMPLE_EVENTS.warning]), { rows: 8, columns: 40 });
    // One row stays free, so the frame never reaches the bottom and scrolls.
    expect(lines).toHaveLength(7);
    expect(lines.at(-1)).toBe('+8 more servers');
  });
});
