/**
 * The renderers on a real run: examples/lighthouse.yaml generated with the draft backend
 * (real planning, rendering, composing and exports), its events fed to the plain and the
 * JSON renderer at once, then a second run served from the cache.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DraftBackend } from '../../src/backends/draft/backend.js';
import { EventBus } from '../../src/progress/events.js';
import { JsonRenderer, SUMMARY_SCHEMA } from '../../src/progress/json.js';
import { PlainRenderer } from '../../src/progress/plain.js';
import { RenderCache } from '../../src/run/cache.js';
import { generate } from '../../src/run/generate.js';
import { prepareScript } from '../../src/run/prepare.js';
import { loadTemplateRegistry } from '../../src/templates/index.js';
import { captureIO } from './fixtures.js';

const EXAMPLE = join(process.cwd(), 'examples', 'lighthouse.yaml');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'comic-progress-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function runOnce() {
  const templates = await loadTemplateRegistry({ dirs: [] });
  const prepared = await prepareScript(EXAMPLE, { cwd: process.cwd(), templates, exports: ['pdf'] });
  const bus = new EventBus();
  const json = captureIO();
  const plain = captureIO();
  const renderers = [new JsonRenderer(json.io), new PlainRenderer(plain.io)];
  for (const renderer of renderers) bus.on(renderer.onEvent);
  const backend = new DraftBackend();
  const result = await generate({
    scripts: [prepared],
    outDir: join(dir, 'out'),
    backend,
    templates,
    cache: new RenderCache(join(dir, 'cache')),
    bus,
    signal: new AbortController().signal,
    only: null,
    force: false,
  });
  await backend.close();
  for (const renderer of renderers) await renderer.finish(result.summary);
  const lines = json.stdout.text().trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  return { summary: result.summary, lines, plain: plain.stdout.text(), jobs: prepared.graph.jobs.map((j) => j.id) };
}

describe('renderers on a real draft run of examples/lighthouse.yaml', () => {
  it('report every job once, in both forms, and end with the summary', async () => {
    const { summary, lines, plain, jobs } = await runOnce();
    expect(summary).toMatchObject({ ok: true, exitCode: 0, total: jobs.length, done: jobs.length, failed: 0 });

    expect(lines[0]).toMatchObject({ schema: 'comic.event/1', type: 'run-started', jobs: jobs.length, backend: 'draft' });
    const settled = lines.filter((l) => l.type === 'job-done' || l.type === 'job-cached').map((l) => l.job);
    expect([...settled].sort()).toEqual([...jobs].sort());
    const started = lines.filter((l) => l.type === 'job-started');
    expect(started.some((l) => l.backend === 'draft' && l.server === 'local')).toBe(true);
    expect(started.some((l) => l.backend === 'compose')).toBe(true);
    expect(lines.filter((l) => l.schema === SUMMARY_SCHEMA)).toHaveLength(1);
    expect(lines.at(-1)).toMatchObject({ schema: SUMMARY_SCHEMA, ...summary, failures: [], error: null });

    for (const job of jobs) expect(plain).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d done +${job.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} in `, 'm'));
    expect(plain.trimEnd().split('\n').at(-1)).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d finished ${jobs.length} jobs in .*: ${jobs.length} rendered, 0 cached \\(exit code 0\\)$`));
  });

  it('report a rerun as cached', async () => {
    const { summary, lines, plain, jobs } = await runOnce();
    expect(summary).toMatchObject({ ok: true, cached: jobs.length, done: 0 });
    expect(lines.filter((l) => l.type === 'job-cached')).toHaveLength(jobs.length);
    expect(plain).toContain(`: 0 rendered, ${jobs.length} cached (exit code 0)`);
  });
});
