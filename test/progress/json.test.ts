import { describe, expect, it } from 'vitest';
import { Secret } from '../../src/config/secret.js';
import { ComicError } from '../../src/errors.js';
import { EVENT_SCHEMA } from '../../src/progress/events.js';
import { JsonRenderer, SUMMARY_SCHEMA } from '../../src/progress/json.js';
import { createRenderer } from '../../src/progress/renderer.js';
import { captureIO, FINAL_SUMMARY, manualClock, play, SAMPLE_EVENTS, syntheticRun } from './fixtures.js';

const parseLines = (text: string) => text.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);

describe('JSON renderer', () => {
  it('writes every event of a whole run as one line, then exactly one summary line', async () => {
    const clock = manualClock(Date.UTC(2025, 2, 14, 9, 30, 0));
    const { io, stdout, stderr } = captureIO();
    const renderer = new JsonRenderer(io, { now: clock.now });
    const events = syntheticRun();
    play(events, renderer.onEvent, clock);
    await renderer.finish(FINAL_SUMMARY);

    const lines = parseLines(stdout.text());
    const written = events.filter((e) => e.type !== 'run-finished');
    expect(lines).toHaveLength(written.length + 1);
    lines.slice(0, -1).forEach((line, i) => {
      expect(line.schema).toBe(EVENT_SCHEMA);
      expect(line.type).toBe(written[i]!.type);
    });
    expect(lines[0]).toEqual({ schema: 'comic.event/1', at: '2025-03-14T09:30:00.250Z', type: 'run-started', scripts: ['examples/lighthouse.yaml'], jobs: 6, backend: 'comfyui' });
    expect(lines.at(-1)).toEqual({
      schema: SUMMARY_SCHEMA,
      at: new Date(clock.now()).toISOString(),
      ...FINAL_SUMMARY,
      failures: [{ job: 'panel:1-2', code: 'JOB_FAILED', message: 'node 3 (KSampler) failed: CUDA out of memory' }],
      error: null,
    });
    expect(lines.filter((l) => l.schema === SUMMARY_SCHEMA)).toHaveLength(1);
    expect(stderr.text()).toBe('');
  });

  it('writes previews as their type and size, never their bytes', () => {
    const { io, stdout } = captureIO();
    new JsonRenderer(io).onEvent(SAMPLE_EVENTS['job-preview']);
    const [line] = parseLines(stdout.text());
    expect(line).toMatchObject({ type: 'job-preview', job: 'panel:1-1', mime: 'image/jpeg', bytes: 7 });
    expect(Object.keys(line!).sort()).toEqual(['at', 'bytes', 'job', 'mime', 'schema', 'type']);
  });

  it('writes a failed job with its location, or null', () => {
    const { io, stdout } = captureIO();
    const renderer = new JsonRenderer(io);
    renderer.onEvent(SAMPLE_EVENTS['job-failed']);
    renderer.onEvent({ type: 'job-failed', job: 'x', error: { code: 'JOB_LOST', message: 'gone' } });
    const [located, unlocated] = parseLines(stdout.text());
    expect(located!.location).toEqual({ file: 'examples/lighthouse.yaml', line: 41, column: 9 });
    expect(unlocated!.location).toBeNull();
  });

  it('ends with the summary also when the run stopped early, carrying the error', async () => {
    const { io, stdout } = captureIO();
    const renderer = new JsonRenderer(io);
    renderer.onEvent(SAMPLE_EVENTS['run-started']);
    const summary = { ...FINAL_SUMMARY, exitCode: 3, total: 0, done: 0, cached: 0, failed: 0, skipped: 0, fallback: false, fellBack: null, next: 'start a ComfyUI server' };
    const error = new ComicError('NO_BACKEND', 'no backend is available: comfyui: ECONNREFUSED', { hint: 'start a ComfyUI server' });
    await renderer.finish(summary, error);
    await renderer.finish(summary, error);
    renderer.onEvent(SAMPLE_EVENTS['job-done']);
    const lines = parseLines(stdout.text());
    expect(lines.map((l) => l.schema)).toEqual([EVENT_SCHEMA, SUMMARY_SCHEMA]);
    expect(lines[1]!.error).toEqual({ code: 'NO_BACKEND', message: 'no backend is available: comfyui: ECONNREFUSED', hint: 'start a ComfyUI server' });
    expect(lines[1]!.exitCode).toBe(3);
  });

  it('reports an unexpected error as INTERNAL', async () => {
    const { io, stdout } = captureIO();
    const renderer = new JsonRenderer(io);
    await renderer.finish({ ...FINAL_SUMMARY, exitCode: 1 }, new TypeError('x is undefined'));
    expect(parseLines(stdout.text())[0]!.error).toMatchObject({ code: 'INTERNAL', message: 'x is undefined' });
  });

  it('masks credentials in every string', async () => {
    const { io, stdout } = captureIO();
    const renderer = new JsonRenderer(io, { secrets: [new Secret('s3cret token')] });
    renderer.onEvent({ type: 'warning', job: null, message: 'proxy said: bad token s3cret token' });
    renderer.onEvent({ type: 'server', server: 'gpu', state: 'down', reason: 'GET /?t=s3cret%20token failed' });
    await renderer.finish(FINAL_SUMMARY, new ComicError('SERVER_AUTH', 'refused s3cret token'));
    expect(stdout.text()).not.toMatch(/s3cret/);
    expect(stdout.text().match(/\*\*\*/g)).toHaveLength(3);
  });

  it('sends GitHub annotations to stderr, keeping stdout pure JSON', async () => {
    const { io, stdout, stderr } = captureIO({ env: { GITHUB_ACTIONS: 'true' } });
    const renderer = createRenderer('json', io);
    renderer.onEvent(SAMPLE_EVENTS['job-failed']);
    await renderer.finish(FINAL_SUMMARY);
    expect(() => parseLines(stdout.text())).not.toThrow();
    expect(stderr.text()).toMatch(/^::error file=examples\/lighthouse.yaml,line=41,col=9,/);
  });
});
