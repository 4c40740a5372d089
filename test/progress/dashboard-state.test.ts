import { describe, expect, it } from 'vitest';
import { etaMs, finish, initialState, KEPT_FAILURES, KEPT_WARNINGS, laneJobs, reduce, waiting, type DashboardState } from '../../src/progress/dashboard/state.js';
import type { RunEvent } from '../../src/progress/events.js';
import { FINAL_SUMMARY, SAMPLE_EVENTS, syntheticRun } from './fixtures.js';

const run = (events: readonly RunEvent[], state = initialState(), start = 0): DashboardState =>
  events.reduce((s, e, i) => reduce(s, e, start + i * 100), state);

/** Everything whose size could grow with the run: it must depend on servers and jobs in flight only. */
const footprint = (s: DashboardState) => ({
  lanes: Object.keys(s.lanes).length,
  active: Object.keys(s.active).length,
  warnings: s.warnings.length,
  failures: s.failures.length,
  scripts: s.scripts.length,
});

describe('dashboard state', () => {
  it('tracks queue positions per server lane and jobs our scheduler still holds', () => {
    const s = run([
      SAMPLE_EVENTS['run-started'],
      { type: 'job-queued', job: 'a', server: 'gpu-a', position: 2 },
      { type: 'job-queued', job: 'b', server: 'gpu-a', position: 1 },
      { type: 'job-queued', job: 'c', server: null, position: null },
    ]);
    expect(Object.keys(s.lanes)).toEqual(['gpu-a']);
    expect(laneJobs(s, 'gpu-a')).toEqual({ current: expect.objectContaining({ job: 'b', phase: 'queued', position: 1 }), running: 0, queued: 1 });
    expect(waiting(s)).toBe(1);
  });

  it('shows the running job with its node and steps, and forgets it once settled', () => {
    let s = run([
      SAMPLE_EVENTS['run-started'],
      { type: 'job-queued', job: 'a', server: 'gpu-a', position: 0 },
      { type: 'job-queued', job: 'b', server: 'gpu-a', position: 1 },
      { type: 'job-started', job: 'a', backend: 'comfyui', server: 'gpu-a' },
      { type: 'job-node', job: 'a', server: 'gpu-a', node: '3', title: 'KSampler' },
      { type: 'job-progress', job: 'a', server: 'gpu-a', value: 12, max: 30 },
    ]);
    expect(laneJobs(s, 'gpu-a').current).toMatchObject({ job: 'a', phase: 'running', node: 'KSampler', value: 12, max: 30 });
    s = reduce(s, { type: 'job-node', job: 'a', server: 'gpu-a', node: '8', title: 'VAE Decode' }, 1000);
    expect(laneJobs(s, 'gpu-a').current).toMatchObject({ node: 'VAE Decode', value: 0, max: 0 });
    s = reduce(s, { type: 'job-done', job: 'a', backend: 'comfyui', server: 'gpu-a', ms: 10, output: 'x' }, 1100);
    expect(s.active.a).toBeUndefined();
    expect(laneJobs(s, 'gpu-a').current?.job).toBe('b');
    expect(s.done).toBe(1);
  });

  it('puts local work on the draft and compose lanes, counting what else runs there', () => {
    const s = run([
      { type: 'job-started', job: 'panel:1', backend: 'draft', server: 'local' },
      { type: 'job-started', job: 'panel:2', backend: 'draft', server: 'local' },
      { type: 'job-started', job: 'page:1', backend: 'compose', server: null },
    ]);
    expect(Object.keys(s.lanes)).toEqual(['local', 'compose']);
    expect(laneJobs(s, 'local')).toEqual({ current: expect.objectContaining({ job: 'panel:2' }), running: 1, queued: 0 });
  });

  it('sends a retried job back to our scheduler', () => {
    const s = run([
      { type: 'job-started', job: 'a', backend: 'comfyui', server: 'gpu-a' },
      { type: 'job-retry', job: 'a', server: 'gpu-a', attempt: 2, reason: 'HTTP 502' },
    ]);
    expect(s.active.a).toMatchObject({ lane: null, phase: 'queued' });
  });

  it('keeps the first fallback, server states, VRAM, and only the newest warnings and first failures', () => {
    const warnings = Array.from({ length: 50 }, (_, i): RunEvent => ({ type: 'warning', job: null, message: `w${i}` }));
    const failures = Array.from({ length: 50 }, (_, i): RunEvent => ({ type: 'job-failed', job: `j${i}`, error: { code: 'JOB_FAILED', message: `f${i}` } }));
    const s = run([
      SAMPLE_EVENTS.fallback,
      { type: 'fallback', from: 'comfyui', to: 'draft', reason: 'later' },
      SAMPLE_EVENTS.server,
      SAMPLE_EVENTS.vram,
      ...warnings,
      ...failures,
    ]);
    expect(s.fallback).toEqual({ from: 'comfyui', to: 'sdapi', reason: 'every ComfyUI server is down' });
    expect(s.lanes['gpu-b']).toMatchObject({ state: 'down', reason: 'ECONNREFUSED' });
    expect(s.lanes['gpu-a']!.vram).toEqual({ used: 3 * 2 ** 30, total: 24 * 2 ** 30 });
    expect(s.warnings).toEqual(['w47', 'w48', 'w49'].slice(-KEPT_WARNINGS));
    expect(s.warningCount).toBe(50);
    expect(s.failures.map((f) => f.job)).toEqual(['j0', 'j1', 'j2', 'j3', 'j4'].slice(0, KEPT_FAILURES));
    expect(s.failed).toBe(50);
  });

  it('counts a whole run like its summary, and ends with no job in flight', () => {
    const s = run(syntheticRun());
    expect({ done: s.done, cached: s.cached, failed: s.failed, skipped: s.skipped, total: s.total }).toEqual({ done: 3, cached: 1, failed: 1, skipped: 1, total: 6 });
    expect(s.active).toEqual({});
    expect(s.summary).toEqual(FINAL_SUMMARY);
    expect(finish(s, FINAL_SUMMARY).summary).toBe(FINAL_SUMMARY);
  });

  it('estimates the time left from the pace of jobs worked on, ignoring cached ones', () => {
    let s = reduce(initialState(), { type: 'run-started', scripts: [], jobs: 10, backend: 'comfyui' }, 0);
    expect(etaMs(s, 5000)).toBeNull();
    s = reduce(s, { type: 'job-cached', job: 'c', output: 'x' }, 100);
    s = reduce(s, { type: 'job-done', job: 'a', backend: 'comfyui', server: 's', ms: 1, output: 'x' }, 2000);
    s = reduce(s, { type: 'job-done', job: 'b', backend: 'comfyui', server: 's', ms: 1, output: 'x' }, 4000);
    // 2 jobs in 4 s, 7 left → 14 s.
    expect(etaMs(s, 4000)).toBe(14_000);
  });

  it('stays the same size through 10,000 progress events', () => {
    const start = run([
      SAMPLE_EVENTS['run-started'],
      { type: 'job-started', job: 'a', backend: 'comfyui', server: 'gpu-a' },
      { type: 'job-started', job: 'b', backend: 'comfyui', server: 'gpu-b' },
      SAMPLE_EVENTS['job-node'],
    ]);
    let s = start;
    for (let i = 1; i <= 10_000; i++) {
      s = reduce(s, { type: 'job-progress', job: i % 2 ? 'a' : 'b', server: i % 2 ? 'gpu-a' : 'gpu-b', value: i, max: 10_000 }, i);
      s = reduce(s, { type: 'job-preview', job: 'a', mime: 'image/png', bytes: new Uint8Array(64) }, i);
      if (i % 100 === 0) s = reduce(s, { type: 'warning', job: 'a', message: `slow step ${i}` }, i);
    }
    expect(footprint(s)).toEqual({ ...footprint(start), warnings: KEPT_WARNINGS });
    expect(s.active.a).toMatchObject({ value: 9999, max: 10_000 });
    expect(s.active.b).toMatchObject({ value: 10_000, max: 10_000 });
    expect(s.events).toBe(start.events + 20_100);
  });
});
