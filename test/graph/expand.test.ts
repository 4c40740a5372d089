import { describe, expect, it } from 'vitest';
import { ComicError } from '../../src/errors.js';
import { planComic, type ImageJob, type Job, type JobGraph, type PanelJob } from '../../src/graph/index.js';
import { buildComic, context, referencePath, sampleSpec, standardTemplates, templateInfo } from './fixtures.js';

const plan = (spec = sampleSpec(), ctx = context()) => planComic(buildComic(spec), ctx);

function image(graph: JobGraph, id: string): ImageJob {
  const job = graph.get(id);
  if (job.kind === 'page' || job.kind === 'export') throw new Error(`${id} is not an image job`);
  return job;
}

function thrown(fn: () => unknown): ComicError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ComicError) return error;
    throw error;
  }
  throw new Error('expected a ComicError');
}

describe('planComic', () => {
  it('expands sheets, backgrounds, panels, pages and exports with ids, deps and counts', () => {
    const graph = plan();
    expect(graph.jobs.map((j) => j.id)).toEqual([
      'character:mara',
      'background:lamp-room',
      'panel:1-1',
      'panel:1-2',
      'panel:1-3',
      'page:1',
      'panel:2-1',
      'page:2',
      'export:pdf',
      'export:cbz',
    ]);
    expect(graph.counts).toEqual({ character: 1, background: 1, panel: 4, page: 2, export: 2, total: 10 });
    const deps = Object.fromEntries(graph.jobs.map((j) => [j.id, j.deps]));
    expect(deps).toMatchObject({
      'character:mara': [],
      'background:lamp-room': [],
      'panel:1-1': ['character:mara', 'background:lamp-room'],
      // Tom has a user-supplied image: a reference, but no job to wait for.
      'panel:1-2': ['character:mara', 'background:lamp-room'],
      'panel:1-3': ['background:lamp-room'],
      'page:1': ['panel:1-1', 'panel:1-2', 'panel:1-3'],
      'panel:2-1': [],
      'page:2': ['panel:2-1'],
      'export:pdf': ['page:1', 'page:2'],
      'export:cbz': ['page:1', 'page:2'],
    });
  });

  it('lists every job after its deps', () => {
    const graph = plan();
    const seen = new Set<string>();
    for (const job of graph.jobs) {
      for (const dep of job.deps) expect(seen.has(dep), `${job.id} after ${dep}`).toBe(true);
      seen.add(job.id);
    }
  });

  it('feeds a panel its characters in panel order, then its background; user images by content', () => {
    const refs = image(plan(), 'panel:1-2').request.references;
    expect(refs).toEqual([
      { source: 'file', role: 'character', subject: 'tom', file: referencePath('tom'), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
      { source: 'job', role: 'character', subject: 'mara', job: 'character:mara' },
      { source: 'job', role: 'background', subject: 'lamp-room', job: 'background:lamp-room' },
    ]);
  });

  it('sizes panels by their layout box and sheets/backgrounds by their fixed aspects', () => {
    const graph = plan();
    const size = (id: string) => {
      const { width, height } = image(graph, id).request;
      return { width, height };
    };
    // Grid boxes: the two panels of row 1 are 450×695 (portrait); the lone panel of row 2 is 920×695.
    expect(size('panel:1-1')).toEqual({ width: 832, height: 1280 });
    expect(size('panel:1-3')).toEqual({ width: 1088, height: 832 });
    expect(size('character:mara')).toEqual({ width: 1344, height: 896 });
    expect(size('background:lamp-room')).toEqual({ width: 1344, height: 768 });
  });

  it('merges template defaults under script params and keeps the reserved names out of params', () => {
    const spec = sampleSpec();
    spec.pages[0]!.panels[0]!.params = { steps: 40, sampler: 'euler' };
    const templates = standardTemplates().map((t) =>
      t.id === 'panel' ? templateInfo('panel', 'd', { steps: 20, cfg: 6, seed: 0, width: 512, negative: 'lowres' }) : t,
    );
    const job = image(plan(spec, context({ templates })), 'panel:1-1');
    expect(job.request.params).toEqual({ cfg: 6, sampler: 'euler', steps: 40 });
    expect(job.request.negative).toBe('blurry, extra fingers, watermark, speech bubble, text, lettering, lowres');
  });

  it('uses an explicit script seed and derives the others', () => {
    const graph = plan();
    expect(image(graph, 'character:mara').seed).toBe(42);
    expect(image(graph, 'character:mara').request.seed).toBe(42);
    const panelJob = image(graph, 'panel:1-1');
    expect(panelJob.seed).toBe(panelJob.request.seed);
    expect(panelJob.seed).not.toBe(image(graph, 'panel:1-2').seed);
  });

  it('re-keys a panel whose explicit seed changes, and every image when the base seed does', () => {
    const before = plan();
    const reseeded = sampleSpec();
    reseeded.pages[1]!.panels[0]!.seed = 7;
    const after = plan(reseeded);
    const changed = after.jobs.filter((j) => j.key !== before.get(j.id).key).map((j) => j.id);
    expect(changed).toEqual(['panel:2-1', 'page:2', 'export:pdf', 'export:cbz']);

    const rebased = sampleSpec();
    rebased.seed = 4321;
    const moved = plan(rebased);
    // Mara's sheet has an explicit seed; every other image is re-seeded.
    const images = moved.jobs.filter((j) => j.kind !== 'page' && j.kind !== 'export' && j.key !== before.get(j.id).key);
    expect(images.map((j) => j.id)).toEqual(['background:lamp-room', 'panel:1-1', 'panel:1-2', 'panel:1-3', 'panel:2-1']);
  });

  it('recomposes a page, and only that page, when a line is put off-panel; its panels stay cached', () => {
    const comic = buildComic(sampleSpec());
    const before = planComic(comic, context());
    const page = comic.pages[0]!;
    const panel = page.panels.find((p) => p.dialogue.length > 0)!;
    const offPanel = {
      ...comic,
      pages: comic.pages.map((pg) =>
        pg !== page ? pg : { ...pg, panels: pg.panels.map((p) => (p !== panel ? p : { ...p, dialogue: p.dialogue.map((d, i) => (i === 0 ? { ...d, offPanel: 'left' as const } : d)) })) },
      ),
    };
    const after = planComic(offPanel, context());
    const changed = after.jobs.filter((j) => j.key !== before.get(j.id).key).map((j) => j.id);
    expect(changed.filter((id) => !id.startsWith('export:'))).toEqual([`page:${page.number}`]);
  });

  it('plans only the exports asked for, in a fixed order', () => {
    const comic = buildComic(sampleSpec());
    const exports = (kinds: ('pdf' | 'cbz' | 'webtoon')[]) =>
      planComic(comic, context(), { exports: kinds }).jobs.filter((j) => j.kind === 'export').map((j) => j.id);
    expect(exports(['webtoon', 'pdf'])).toEqual(['export:pdf', 'export:webtoon']);
    expect(exports([])).toEqual([]);
  });

  it('gives the same keys on every plan and whatever the order of object keys in the script', () => {
    const first = plan();
    const second = plan();
    const keys = (graph: JobGraph) => graph.jobs.map((j) => [j.id, j.key]);
    expect(keys(second)).toEqual(keys(first));

    // Same params and templates, written in another key order.
    const a = sampleSpec();
    a.pages[0]!.panels[0]!.params = { steps: 40, sampler: 'euler', extra: { b: 1, a: 2 } };
    const b = sampleSpec();
    b.pages[0]!.panels[0]!.params = { extra: { a: 2, b: 1 }, sampler: 'euler', steps: 40 };
    const reversedDefaults = standardTemplates().map((t) => templateInfo(t.id, t.digest, { cfg: 7, steps: 30 }));
    expect(keys(plan(b, context({ templates: reversedDefaults })))).toEqual(keys(plan(a)));
  });

  it('keys do not depend on where the script or the reference images are, only on their bytes', () => {
    const spec = sampleSpec();
    const here = planComic(buildComic(spec, '/home/artist/comic/comic.yaml'), context());
    const moved = buildComic(spec, 'D:/elsewhere/comic.yaml');
    const tom = moved.characters[1]!;
    const relocated = { ...moved, characters: [moved.characters[0]!, { ...tom, reference: '/mnt/other/tom-copy.png' }] };
    const files = { '/mnt/other/tom-copy.png': `png bytes of tom.png` };
    const there = planComic(relocated, context({ files }));
    expect(there.jobs.map((j) => j.key)).toEqual(here.jobs.map((j) => j.key));

    const changedBytes = planComic(relocated, context({ files: { '/mnt/other/tom-copy.png': 'other bytes' } }));
    expect(changedBytes.get('panel:1-2').key).not.toBe(here.get('panel:1-2').key);
    expect(changedBytes.get('panel:1-1').key).toBe(here.get('panel:1-1').key);
  });

  it('keeps keys stable across releases unless KEY_SCHEMA or COMPOSER_REVISION is bumped', () => {
    // A change here means users' caches are invalidated: bump KEY_SCHEMA (everything) or
    // COMPOSER_REVISION (pages and exports only, renders stay cached) on purpose, then update.
    const graph = plan();
    expect(graph.get('character:mara').key).toBe('3168e1e3ee5d5380ef6a14d90638c13565551e5da1f1abf6a26f5b5a9610ef55');
    expect(graph.get('export:pdf').key).toBe('8dbd50f210238464d61de935a8214ad4026989dcdce790ea8f22b1b0f8011fbc');
  });

  it('points at the script when a template is unknown, a param is reserved or a reference is unreadable', () => {
    const unknownTemplate = sampleSpec();
    unknownTemplate.pages[1]!.panels[0]!.template = 'panle';
    const e1 = thrown(() => plan(unknownTemplate));
    expect(e1.code).toBe('TEMPLATE_NOT_FOUND');
    expect(e1.location?.file).toMatch(/#pages\.1\.panels\.0\.template$/);

    const reserved = sampleSpec();
    reserved.pages[0]!.panels[1]!.params = { seed: 5 };
    const e2 = thrown(() => plan(reserved));
    expect(e2.code).toBe('TEMPLATE_PARAM');
    expect(e2.message).toContain('"seed"');
    expect(e2.hint).toContain('seed:');
    expect(e2.location?.file).toMatch(/#pages\.0\.panels\.1\.params\.seed$/);

    const ctx = context();
    const e3 = thrown(() => planComic(buildComic(sampleSpec()), { ...ctx, fileHash: () => { throw new Error('EACCES: permission denied'); } }));
    expect(e3.code).toBe('SCRIPT_INVALID');
    expect(e3.message).toContain('tom');
    expect(e3.message).toContain('EACCES');
    expect(e3.location?.file).toMatch(/#characters\.tom\.reference$/);
  });

  it('refuses a template whose size rule admits no size, naming it', () => {
    const templates = standardTemplates().map((t) =>
      t.id === 'background' ? { ...t, size: { multiple: 64, min: 600, max: 620, pixels: 1e6 } } : t,
    );
    const error = thrown(() => plan(sampleSpec(), context({ templates })));
    expect(error.code).toBe('TEMPLATE_INVALID');
    expect(error.message).toContain('background@1.0.0');
  });

  it('reports a layout that does not match the page as an internal error', () => {
    const ctx = context();
    const broken = { ...ctx, layoutPage: (...args: Parameters<typeof ctx.layoutPage>) => ({ ...ctx.layoutPage(...args), panels: [] }) };
    expect(thrown(() => planComic(buildComic(sampleSpec()), broken)).code).toBe('INTERNAL');
  });
});

describe('JobGraph helpers', () => {
  const graph = plan();
  it('finds dependents, ancestors and descendants in topological order', () => {
    expect(graph.dependents('character:mara')).toEqual(['panel:1-1', 'panel:1-2']);
    expect(graph.ancestors(['page:1'])).toEqual(['character:mara', 'background:lamp-room', 'panel:1-1', 'panel:1-2', 'panel:1-3']);
    expect(graph.ancestors(['panel:2-1'])).toEqual([]);
    expect(graph.descendants(['character:mara'])).toEqual(['panel:1-1', 'panel:1-2', 'page:1', 'export:pdf', 'export:cbz']);
    expect(graph.descendants(['export:cbz'])).toEqual([]);
  });

  it('names an unknown job id with a suggestion', () => {
    const error = thrown(() => graph.ancestors(['panel:1-4']));
    expect(error.code).toBe('USAGE');
    expect(error.message).toContain('panel:1-4');
    expect(error.hint).toMatch(/did you mean panel:1-[1-3]\?/);
    expect(thrown(() => graph.get('pannel')).hint).toContain('panel:<page>-<n>');
  });

  it('gives panel jobs their page and 1-based index', () => {
    const job = graph.get('panel:1-3') as PanelJob;
    expect([job.page, job.index]).toEqual([1, 3]);
    const isPage = (j: Job) => j.kind === 'page';
    expect(graph.jobs.filter(isPage).map((j) => (j.kind === 'page' ? j.layout.panels.length : 0))).toEqual([3, 1]);
  });
});
