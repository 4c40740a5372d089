/**
 * `generate` end to end on the draft backend: real planning, real rendering with sharp,
 * real composition and exports, real cache and manifest on disk.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DraftBackend } from '../../src/backends/draft/backend.js';
import type { Backend, RenderOptions, RenderRequest } from '../../src/backends/types.js';
import { ComicError } from '../../src/errors.js';
import { EventBus, type RunEvent } from '../../src/progress/events.js';
import { RenderCache } from '../../src/run/cache.js';
import { generate } from '../../src/run/generate.js';
import { prepareScript } from '../../src/run/prepare.js';
import type { RunReport } from '../../src/run/report.js';
import { loadTemplateRegistry, type TemplateRegistry } from '../../src/templates/index.js';

const SCRIPT = (panelPrompt: string) => `
comic:
  title: Small Test
  seed: 5
  format: { width: 600, height: 900, dpi: 72, bleed: 0, margin: 20px }
characters:
  ada: { name: Ada, description: a tall woman in a green coat }
pages:
  - layout: 2
    panels:
      - { prompt: "${panelPrompt}", characters: [ada], dialogue: [{ who: ada, text: Hello there }] }
      - { prompt: an empty street at dawn }
  - layout: 1
    panels:
      - { prompt: a cat on a wall, caption: Later. }
`;

/** The real draft backend, counting what it is asked to render. */
class CountingDraft implements Backend {
  readonly name = 'draft' as const;
  readonly rendered: string[] = [];
  readonly #inner = new DraftBackend();
  constructor(private readonly failJob: string | null = null) {}
  ready() {
    return this.#inner.ready();
  }
  async render(request: RenderRequest, options: RenderOptions) {
    this.rendered.push(request.jobId);
    if (request.jobId === this.failJob) throw new ComicError('JOB_FAILED', `node 3 (KSampler) failed for ${request.jobId}`);
    return this.#inner.render(request, options);
  }
  close() {
    return this.#inner.close();
  }
}

let dir: string;
let templates: TemplateRegistry;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'comic-e2e-'));
  templates = await loadTemplateRegistry({ dirs: [] });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(script: string, backend: Backend, extra: { only?: string[]; force?: boolean } = {}) {
  const path = join(dir, 'comic.yaml');
  await writeFile(path, script);
  const prepared = await prepareScript(path, { cwd: dir, templates, exports: ['pdf', 'cbz'] });
  const bus = new EventBus();
  const events: RunEvent[] = [];
  bus.on((e) => events.push(e));
  const result = await generate({
    scripts: [prepared],
    outDir: join(dir, 'out'),
    backend,
    templates,
    cache: new RenderCache(join(dir, 'cache')),
    bus,
    signal: new AbortController().signal,
    only: extra.only ?? null,
    force: extra.force ?? false,
  });
  const report = JSON.parse(await readFile(join(dir, 'out', 'report.json'), 'utf8')) as RunReport;
  return { result, events, report };
}

const statusOf = (report: RunReport) => Object.fromEntries(report.jobs.map((j) => [j.id, j.status]));

describe('generate on the draft backend', () => {
  it('renders sheets, panels, pages and exports, and reports every job', async () => {
    const backend = new CountingDraft();
    const { result, report, events } = await run(SCRIPT('Ada waves from a window'), backend);
    expect(result.summary).toMatchObject({ ok: true, exitCode: 0, failed: 0, skipped: 0 });
    expect(backend.rendered.sort()).toEqual(['character:ada', 'panel:1-1', 'panel:1-2', 'panel:2-1']);
    expect(statusOf(report)).toEqual({
      'character:ada': 'done',
      'panel:1-1': 'done',
      'panel:1-2': 'done',
      'panel:2-1': 'done',
      'page:1': 'done',
      'page:2': 'done',
      'export:pdf': 'done',
      'export:cbz': 'done',
    });
    const panel = report.jobs.find((j) => j.id === 'panel:1-1')!;
    expect(panel).toMatchObject({ backend: 'draft', cached: false, retries: 0 });
    expect(typeof panel.seed).toBe('number');
    const page = await sharp(join(dir, 'out', 'pages', '001.png')).metadata();
    expect([page.width, page.height]).toEqual([600, 900]);
    expect((await readFile(join(dir, 'out', 'small-test.pdf'))).subarray(0, 5).toString()).toBe('%PDF-');
    expect(events.at(-1)).toMatchObject({ type: 'run-finished' });
    expect(await readFile(join(dir, 'out', 'report.md'), 'utf8')).toContain('8 rendered, 0 from cache, 0 failed, 0 skipped');
  });

  it('after one panel prompt changes, renders exactly that panel and its page again', async () => {
    await run(SCRIPT('Ada waves from a window'), new CountingDraft());
    const backend = new CountingDraft();
    const { report } = await run(SCRIPT('Ada climbs out of the window'), backend);
    expect(backend.rendered).toEqual(['panel:1-1']);
    expect(statusOf(report)).toMatchObject({
      'character:ada': 'cached',
      'panel:1-1': 'done',
      'panel:1-2': 'cached',
      'panel:2-1': 'cached',
      'page:1': 'done',
      'page:2': 'cached',
    });
  });

  it('an unchanged rerun renders nothing', async () => {
    await run(SCRIPT('x'), new CountingDraft());
    const backend = new CountingDraft();
    const { result } = await run(SCRIPT('x'), backend);
    expect(backend.rendered).toEqual([]);
    expect(result.summary).toMatchObject({ ok: true, done: 0, cached: 8 });
  });

  it('--only renders the named job and what it needs; --force ignores the cache for it', async () => {
    const backend = new CountingDraft();
    const { report } = await run(SCRIPT('x'), backend, { only: ['page:1'] });
    expect(backend.rendered.sort()).toEqual(['character:ada', 'panel:1-1', 'panel:1-2']);
    expect(Object.keys(statusOf(report)).sort()).toEqual(['character:ada', 'page:1', 'panel:1-1', 'panel:1-2']);
    const again = new CountingDraft();
    await run(SCRIPT('x'), again, { only: ['panel:1-2'], force: true });
    expect(again.rendered).toEqual(['panel:1-2']);
  });

  it('a failed job fails its dependents and the rest carry on; exit code 1', async () => {
    const { result, report, events } = await run(SCRIPT('x'), new CountingDraft('panel:1-2'));
    expect(result.summary).toMatchObject({ ok: false, exitCode: 1, failed: 1 });
    expect(statusOf(report)).toMatchObject({ 'panel:1-2': 'failed', 'page:1': 'skipped', 'export:pdf': 'skipped', 'page:2': 'done' });
    expect(report.jobs.find((j) => j.id === 'panel:1-2')?.error).toEqual({ code: 'JOB_FAILED', message: 'node 3 (KSampler) failed for panel:1-2' });
    // The failure points at the panel in the script (line 12 of SCRIPT), for CI annotations.
    const failed = events.find((e) => e.type === 'job-failed');
    expect(failed).toMatchObject({ job: 'panel:1-2', location: { file: expect.stringMatching(/comic\.yaml$/), line: 12 } });
  });

  it('an unknown --only id is a usage error naming it', async () => {
    await expect(run(SCRIPT('x'), new CountingDraft(), { only: ['panel:9-9'] })).rejects.toThrow(/panel:9-9/);
  });
});
