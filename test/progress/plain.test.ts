import { describe, expect, it } from 'vitest';
import { Secret } from '../../src/config/secret.js';
import { PlainRenderer } from '../../src/progress/plain.js';
import { createRenderer } from '../../src/progress/renderer.js';
import { clockTime, nextStep, NO_BACKEND_HINT, RESUME_HINT } from '../../src/progress/format.js';
import { CANCELLED_SUMMARY, captureIO, FINAL_SUMMARY, manualClock, play, SAMPLE_EVENTS, stripAnsi, syntheticRun } from './fixtures.js';

const withoutTime = (text: string) => text.replace(/^\d\d:\d\d:\d\d /gm, '');

describe('plain renderer', () => {
  it('prints one line per state change of a whole run, throttled progress and a summary', async () => {
    const clock = manualClock();
    const start = clock.now();
    const { io, stdout } = captureIO();
    const renderer = new PlainRenderer(io, { now: clock.now });
    play(syntheticRun(), renderer.onEvent, clock);
    await renderer.finish(FINAL_SUMMARY);
    expect(withoutTime(stdout.text())).toBe(
      [
        'start    6 jobs from examples/lighthouse.yaml on comfyui',
        'server   gpu-a up: connected to "gpu-a" (http://127.0.0.1:8188)',
        'server   gpu-b up: connected to "gpu-b" (http://127.0.0.1:8189)',
        'cached   character:mara',
        'queued   panel:1-1 on gpu-a (1 ahead)',
        'retry    panel:1-1 on gpu-a (attempt 2): HTTP 502 from the proxy',
        'queued   panel:1-1 on gpu-a (1 ahead)',
        'queued   panel:1-2 on gpu-b (1 ahead)',
        'started  panel:1-1 on gpu-a',
        'started  panel:1-2 on gpu-b',
        // 30 steps at 250 ms: one progress line 5 s after the job's last line, not 30.
        'progress panel:1-1 KSampler 18/30',
        'done     panel:1-1 in 7.1s on gpu-a',
        'failed   panel:1-2 JOB_FAILED: node 3 (KSampler) failed: CUDA out of memory',
        'skipped  page:1: panel:1-2 failed',
        'server   gpu-b down: ECONNREFUSED',
        'server   gpu-a down: ECONNREFUSED',
        'fallback comfyui → sdapi: every ComfyUI server is down',
        'queued   panel:1-3',
        'started  panel:1-3 on http://127.0.0.1:7861',
        'progress panel:1-3 20/20',
        'warning  panel:1-3: sdapi could not honour reference',
        'done     panel:1-3 in 2.5s on http://127.0.0.1:7861',
        'done     export:pdf in 300ms',
        'finished 6 jobs in 42.0s: 3 rendered, 1 cached, 1 failed, 1 skipped; fell back from comfyui to sdapi: every ComfyUI server is down (exit code 1)',
        '  ✗ panel:1-2: JOB_FAILED: node 3 (KSampler) failed: CUDA out of memory',
        // What to do next closes the output: the line a reader sees last.
        '  → see report.md for what failed, then run the same command again to retry it',
        '',
      ].join('\n'),
    );
    // Every line starts with the local wall-clock time of its event.
    expect(stdout.text().split('\n')[0]).toBe(`${clockTime(start + 250)} start    6 jobs from examples/lighthouse.yaml on comfyui`);
  });

  it('formats the clock as local HH:MM:SS', () => {
    expect(clockTime(new Date(2025, 0, 2, 9, 5, 7).getTime())).toBe('09:05:07');
  });

  it('prints step progress at most once per interval per job', async () => {
    const clock = manualClock();
    const { io, stdout } = captureIO();
    const renderer = new PlainRenderer(io, { now: clock.now, progressEveryMs: 1000 });
    renderer.onEvent({ type: 'job-started', job: 'a', backend: 'comfyui', server: 's' });
    renderer.onEvent({ type: 'job-started', job: 'b', backend: 'comfyui', server: 's' });
    for (let i = 1; i <= 100; i++) {
      clock.advance(100); // 10 s in all
      renderer.onEvent({ type: 'job-progress', job: 'a', server: 's', value: i, max: 100 });
      renderer.onEvent({ type: 'job-progress', job: 'b', server: 's', value: i, max: 100 });
    }
    const lines = withoutTime(stdout.text()).trim().split('\n');
    expect(lines.filter((l) => l.startsWith('progress a '))).toEqual(['progress a 10/100', 'progress a 20/100', 'progress a 30/100', 'progress a 40/100', 'progress a 50/100', 'progress a 60/100', 'progress a 70/100', 'progress a 80/100', 'progress a 90/100', 'progress a 100/100']);
    expect(lines.filter((l) => l.startsWith('progress b '))).toHaveLength(10);
    await renderer.finish(FINAL_SUMMARY);
  });

  it('does not repeat a queued line when only the position moves', () => {
    const { io, stdout } = captureIO();
    const renderer = new PlainRenderer(io);
    for (const position of [3, 2, 1, 0]) renderer.onEvent({ type: 'job-queued', job: 'a', server: 's', position });
    renderer.onEvent({ type: 'job-queued', job: 'a', server: 't', position: 0 });
    expect(withoutTime(stdout.text())).toBe('queued   a on s (3 ahead)\nqueued   a on t (next)\n');
  });

  it('colours only on a terminal without NO_COLOR', () => {
    const ESC = '\u001b[';
    const run = (tty: boolean, env: NodeJS.ProcessEnv) => {
      const { io, stdout } = captureIO({ tty, env });
      new PlainRenderer(io, { now: () => 0 }).onEvent(SAMPLE_EVENTS['job-failed']);
      return stdout.text();
    };
    expect(run(true, {})).toContain(ESC);
    expect(run(true, { NO_COLOR: '1' })).not.toContain(ESC);
    expect(run(false, {})).not.toContain(ESC);
    expect(run(true, { TERM: 'dumb' })).not.toContain(ESC);
    expect(run(false, { FORCE_COLOR: '1' })).toContain(ESC);
    expect(stripAnsi(run(true, {}))).toBe(run(false, {}));
  });

  it('indents multi-line messages and lists at most ten failures under the summary', async () => {
    const { io, stdout } = captureIO();
    const renderer = new PlainRenderer(io);
    for (let i = 1; i <= 12; i++) {
      renderer.onEvent({ type: 'job-failed', job: `panel:${i}`, error: { code: 'SERVER_MISSING_CAPABILITY', message: `gpu cannot run this workflow:\n  no node "Foo"` } });
    }
    await renderer.finish({ ...FINAL_SUMMARY, failed: 12 });
    const text = withoutTime(stdout.text());
    expect(text).toContain('failed   panel:1 SERVER_MISSING_CAPABILITY: gpu cannot run this workflow:\n                    no node "Foo"\n');
    expect(text.match(/ {2}✗ panel:/g)).toHaveLength(10);
    expect(text).toContain('  … and 2 more failed (see report.json)\n');
  });

  it('says a run was cancelled, with what never ran, and ends with how to resume', async () => {
    const { io, stdout } = captureIO();
    const renderer = new PlainRenderer(io);
    await renderer.finish(CANCELLED_SUMMARY);
    expect(withoutTime(stdout.text()).split('\n')).toEqual([
      'cancelled 14 jobs in 2.1s: 2 rendered, 0 cached, 1 cancelled, 11 not run (exit code 130)',
      `  → ${RESUME_HINT}`,
      '',
    ]);
  });

  it('says when no backend got ready, and what to do about it', async () => {
    const { io, stdout } = captureIO();
    const renderer = new PlainRenderer(io);
    const next = nextStep({ exitCode: 3, failed: 0, skipped: 0 }, { code: 'NO_BACKEND' });
    await renderer.finish({ ...CANCELLED_SUMMARY, exitCode: 3, done: 0, cancelled: 0, notRun: 14, next });
    const lines = withoutTime(stdout.text()).trimEnd().split('\n');
    expect(lines[0]).toBe('failed   14 jobs in 2.1s: 0 rendered, 0 cached, 14 not run (exit code 3)');
    expect(lines.at(-1)).toBe(`  → ${NO_BACKEND_HINT}; then run the same command again`);
  });

  it('masks credentials and ignores events after finish; finish is idempotent', async () => {
    const { io, stdout } = captureIO();
    const renderer = new PlainRenderer(io, { secrets: [new Secret('hunter2')] });
    renderer.onEvent({ type: 'server', server: 'gpu', state: 'down', reason: 'GET http://gpu/?token=hunter2 refused' });
    await renderer.finish(FINAL_SUMMARY);
    await renderer.finish(FINAL_SUMMARY);
    renderer.onEvent(SAMPLE_EVENTS['job-done']);
    const text = stdout.text();
    expect(text).not.toContain('hunter2');
    expect(text).toContain('token=***');
    expect(text.match(/finished/g)).toHaveLength(1);
    expect(text).not.toContain('panel:1-1');
  });

  it('writes GitHub annotations for failed jobs under GITHUB_ACTIONS=true', async () => {
    const { io, stdout } = captureIO({ env: { GITHUB_ACTIONS: 'true' } });
    const renderer = createRenderer('plain', io);
    renderer.onEvent(SAMPLE_EVENTS['job-failed']);
    renderer.onEvent({ type: 'job-failed', job: 'page:2', error: { code: 'PANEL_IMAGE_INVALID', message: 'a, b: c\nd' } });
    await renderer.finish(FINAL_SUMMARY);
    const annotations = stdout.text().split('\n').filter((l) => l.startsWith('::'));
    expect(annotations).toEqual([
      '::error file=examples/lighthouse.yaml,line=41,col=9,title=comic%3A panel%3A1-2 failed (JOB_FAILED)::node 3 (KSampler) failed: CUDA out of memory',
      '::error title=comic%3A page%3A2 failed (PANEL_IMAGE_INVALID)::a, b: c%0Ad',
    ]);
    const { io: local, stdout: localOut } = captureIO();
    createRenderer('plain', local).onEvent(SAMPLE_EVENTS['job-failed']);
    expect(localOut.text()).not.toContain('::error');
  });
});
