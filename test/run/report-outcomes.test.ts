/**
 * What generate() reports when a run does not simply finish: a backend that never gets
 * ready, a cancel part-way, and the warnings of a run (lettering, parameters not honoured,
 * retries), also when the results come from the cache. In process, with the real draft
 * backend behind small wrappers; test/acceptance/reports.test.ts shows the same through the
 * built CLI.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DraftBackend } from '../../src/backends/draft/backend.js';
import type { Backend, RenderOptions, RenderRequest, RenderResult } from '../../src/backends/types.js';
import { ComicError } from '../../src/errors.js';
import { EventBus, type RunEvent, type RunSummary } from '../../src/progress/events.js';
import { RESUME_HINT } from '../../src/progress/format.js';
import { RenderCache } from '../../src/run/cache.js';
import { generate } from '../../src/run/generate.js';
import { prepareScript } from '../../src/run/prepare.js';
import type { RunReport } from '../../src/run/report.js';
import { loadTemplateRegistry, type TemplateRegistry } from '../../src/templates/index.js';

// panel:1-2 and panel:2-1 need nothing, panel:1-1 needs the sheet of ada.
const SCRIPT = `
comic:
  title: Small Test
  seed: 5
  format: { width: 600, height: 900, dpi: 72, bleed: 0, margin: 20px }
characters:
  ada: { name: Ada, description: a tall woman in a green coat }
pages:
  - layout: 2
    panels:
      - { prompt: Ada waves, characters: [ada], dialogue: [{ who: ada, text: Hello there }] }
      - { prompt: an empty street at dawn }
  - layout: 1
    panels:
      - { prompt: a cat on a wall, caption: Later. }
`;
const OVERFULL = join(process.cwd(), 'test', 'fixtures', 'overfull-lettering.yaml');

/** The draft backend with hooks: a ready() that may fail, renders that may wait, report more, or retry. */
class HookedDraft implements Backend {
  readonly name = 'draft' as const;
  readonly #inner = new DraftBackend();
  constructor(
    private readonly hooks: {
      ready?: () => Promise<void>;
      /** Runs before the real render; may wait for the abort. */
      before?: (request: RenderRequest, options: RenderOptions) => Promise<void>;
      dropped?: (jobId: string) => readonly string[];
    } = {},
  ) {}
  async ready(): Promise<void> {
    await this.hooks.ready?.();
    return this.#inner.ready();
  }
  async render(request: RenderRequest, options: RenderOptions): Promise<RenderResult> {
    await this.hooks.before?.(request, options);
    const result = await this.#inner.render(request, options);
    return { ...result, dropped: this.hooks.dropped?.(request.jobId) ?? result.dropped };
  }
  close() {
    return this.#inner.close();
  }
}

let dir: string;
let templates: TemplateRegistry;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'comic-outcomes-'));
  templates = await loadTemplateRegistry({ dirs: [] });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(paths: readonly string[], backend: Backend, controller = new AbortController(), onEvent?: (event: RunEvent) => void) {
  const scripts = [];
  for (const path of paths) scripts.push(await prepareScript(path, { cwd: dir, templates, exports: ['pdf'] }));
  const bus = new EventBus();
  const events: RunEvent[] = [];
  bus.on((event) => {
    events.push(event);
    onEvent?.(event);
  });
  const outDir = join(dir, 'out');
  const settled = await generate({ scripts, outDir, backend, templates, cache: new RenderCache(join(dir, 'cache')), bus, signal: controller.signal, only: null, force: false }).then(
    (result) => ({ result, error: null }),
    (error: unknown) => ({ result: null, error }),
  );
  const finished = events.find((e): e is Extract<RunEvent, { type: 'run-finished' }> => e.type === 'run-finished');
  return { ...settled, events, summary: finished?.summary as RunSummary, jobs: scripts.flatMap((s) => s.graph.jobs.map((j) => j.id)), outDir };
}

async function script(text = SCRIPT): Promise<string> {
  const path = join(dir, 'comic.yaml');
  await writeFile(path, text);
  return path;
}

const readReport = async (outDir: string) => JSON.parse(await readFile(join(outDir, 'report.json'), 'utf8')) as RunReport;
const statusOf = (report: RunReport) => Object.fromEntries(report.jobs.map((j) => [j.id, j.status]));

describe('a backend that cannot get ready', () => {
  it('still writes the report: every job not run, with the reason; the error is thrown after', async () => {
    const message = 'no ComfyUI server is available:\n  "gpu-a" (http://127.0.0.1:1): ECONNREFUSED';
    const failing = new HookedDraft({
      ready: () => Promise.reject(new ComicError('NO_BACKEND', message, { hint: 'start ComfyUI (or pass --server URL), or configure the SD API fallback' })),
    });
    const { error, summary, jobs, outDir } = await run([await script()], failing);
    expect(error).toBeInstanceOf(ComicError);
    expect((error as ComicError).code).toBe('NO_BACKEND');

    const report = await readReport(outDir);
    expect(report.jobs.map((j) => j.id).sort()).toEqual([...jobs].sort());
    for (const job of report.jobs) {
      expect(job).toMatchObject({ status: 'not-run', reason: message, error: { code: 'NO_BACKEND', message } });
    }
    expect(report.totals).toMatchObject({ jobs: jobs.length, 'not-run': jobs.length, done: 0, cached: 0 });
    expect(report).toMatchObject({ exitCode: 3, stopped: { code: 'NO_BACKEND', message } });
    expect(report.next).toMatch(/^start ComfyUI .*; then run the same command again$/);

    // The renderers get the real summary, before the error reaches the CLI.
    expect(summary).toMatchObject({ ok: false, exitCode: 3, total: jobs.length, notRun: jobs.length, next: report.next });
    const md = await readFile(join(outDir, 'report.md'), 'utf8');
    expect(md).toContain('**No job ran (NO_BACKEND):** no ComfyUI server is available: "gpu-a" (http://127.0.0.1:1): ECONNREFUSED');
    expect(md).toContain(`**Next:** ${report.next}.`);
    expect(md).toContain('| panel:1-1 | not-run | NO_BACKEND (see above) |');
  });
});

describe('a run cancelled part-way', () => {
  it('lists every job: done, cancelled while running, not run; exit 130 and how to resume', async () => {
    const controller = new AbortController();
    // The two panels that need nothing hang until the cancel; the sheet renders.
    const hang = (request: RenderRequest, options: RenderOptions) =>
      request.jobId === 'character:ada'
        ? new Promise<void>((r) => setTimeout(r, 20))
        : new Promise<void>((_, reject) => options.signal.addEventListener('abort', () => reject(new ComicError('CANCELLED', 'cancelled')), { once: true }));
    const { result, jobs, outDir } = await run([await script()], new HookedDraft({ before: hang }), controller, (event) => {
      if (event.type === 'job-done') controller.abort();
    });
    expect(result!.summary).toMatchObject({ ok: false, exitCode: 130, total: jobs.length, done: 1, cancelled: 2, notRun: jobs.length - 3, next: RESUME_HINT });
    expect(result!.stopped?.code).toBe('CANCELLED');

    const report = await readReport(outDir);
    expect(report.totals.jobs).toBe(jobs.length);
    expect(statusOf(report)).toEqual({
      'character:ada': 'done',
      'panel:1-2': 'cancelled',
      'panel:2-1': 'cancelled',
      'panel:1-1': 'not-run',
      'page:1': 'not-run',
      'page:2': 'not-run',
      'export:pdf': 'not-run',
    });
    expect(report.jobs.find((j) => j.id === 'panel:1-2')).toMatchObject({ error: { code: 'CANCELLED' }, reason: expect.stringMatching(/cancelled while it was queued or running/) });
    expect(report.jobs.find((j) => j.id === 'page:1')).toMatchObject({ error: { code: 'CANCELLED' }, reason: expect.stringMatching(/cancelled before it started/) });
    expect(report).toMatchObject({ exitCode: 130, stopped: { code: 'CANCELLED' }, next: RESUME_HINT });
    const md = await readFile(join(outDir, 'report.md'), 'utf8');
    expect(md).toMatch(/^\*\*Cancelled\*\* \(Ctrl-C or SIGTERM\) with 1 of 7 jobs settled: 2 cut short, 4 not started\.$/m);
    expect(md).toContain('1 rendered, 0 from cache, 0 failed, 0 skipped, 2 cancelled, 4 not run.');
    expect(md).toContain(`**Next:** ${RESUME_HINT}.`);
    expect(md).toContain('| panel:1-2 | cancelled |');

    // The resumed run renders what is missing and its report has no cancelled job left.
    const again = await run([await script()], new HookedDraft());
    expect(statusOf(await readReport(again.outDir))).toMatchObject({ 'character:ada': 'cached', 'panel:1-2': 'done', 'export:pdf': 'done' });
    expect(again.result!.summary).toMatchObject({ exitCode: 0, cancelled: 0, notRun: 0, next: null });
  });
});

describe('warnings', () => {
  it('lettering warnings are in report.json and report.md, and again when the page comes from the cache', async () => {
    const first = await run([OVERFULL], new DraftBackend());
    const report = await readReport(first.outDir);
    const page = report.warnings.filter((w) => w.job === 'page:1').map((w) => w.message);
    expect(page).toEqual([expect.stringMatching(/^panel 1-1: the speech "This line goes on .*" does not fit in the panel/), expect.stringContaining('panel 1-2: no lettering font has a glyph for "𓀀" (U+13000); it is drawn as an empty box')]);
    expect(first.summary.warnings).toBe(report.warnings.length);
    const md = await readFile(join(first.outDir, 'report.md'), 'utf8');
    expect(md).toContain('## Warnings');
    expect(md).toContain('- page:1: panel 1-2: no lettering font has a glyph for "𓀀" (U+13000); it is drawn as an empty box');

    // The page's cache entry keeps its warnings.
    const key = report.jobs.find((j) => j.id === 'page:1')!.key;
    const entry = await new RenderCache(join(dir, 'cache')).get(key);
    expect(entry!.meta.detail).toMatchObject({ warnings: page });

    const second = await run([OVERFULL], new DraftBackend());
    const rerun = await readReport(second.outDir);
    expect(statusOf(rerun)['page:1']).toBe('cached');
    expect(rerun.warnings).toEqual(report.warnings);
    expect(second.events.filter((e) => e.type === 'warning').map((e) => (e as { message: string }).message)).toEqual(page);
    expect(await readFile(join(second.outDir, 'report.md'), 'utf8')).toContain('- page:1: panel 1-2: no lettering font has a glyph for "𓀀" (U+13000); it is drawn as an empty box');
  });

  it('parameters not honoured and retries are warnings of their job, also for a cached image', async () => {
    const retrying = new HookedDraft({
      before: async (request, options) => {
        if (request.jobId === 'panel:2-1') options.onEvent({ type: 'retry', jobId: request.jobId, server: 'local', attempt: 2, reason: 'HTTP 502 from the proxy' });
      },
      dropped: (jobId) => (jobId === 'panel:1-1' ? ['reference'] : []),
    });
    const first = await run([await script()], retrying);
    const report = await readReport(first.outDir);
    expect(report.warnings).toEqual(
      expect.arrayContaining([
        { job: 'panel:1-1', message: 'draft could not honour reference' },
        { job: 'panel:2-1', message: 'retried (attempt 2) after a failure on local: HTTP 502 from the proxy' },
      ]),
    );
    expect(report.jobs.find((j) => j.id === 'panel:2-1')!.retries).toBe(1);

    const second = await run([await script()], new HookedDraft());
    const rerun = await readReport(second.outDir);
    expect(statusOf(rerun)['panel:1-1']).toBe('cached');
    // The cached image still lacks the reference: said again. A retry belongs to the run that made it.
    expect(rerun.warnings).toEqual([{ job: 'panel:1-1', message: 'draft could not honour reference' }]);
  });

  it('with several scripts, each report has the warnings of its own jobs', async () => {
    const { result, outDir } = await run([OVERFULL, await script()], new DraftBackend());
    expect(result!.summary.exitCode).toBe(0);
    const overfull = await readReport(join(outDir, 'overfull-lettering'));
    const small = await readReport(join(outDir, 'comic'));
    expect(overfull.warnings.map((w) => w.job)).toEqual(['page:1', 'page:1']);
    expect(small.warnings).toEqual([]);
  });
});
