/**
 * The promise behind "edit the script, run again, only what changed is rendered": for
 * random comics and one random edit, exactly the jobs whose output the edit affects get a
 * new key, and no job gets a new seed. The expected sets are worked out from the spec
 * here, not with the graph's own helpers.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planComic, type ExportKind, type JobGraph } from '../../src/graph/index.js';
import { buildComic, context, standardTemplates, type ComicSpec, type SpecPanel } from './fixtures.js';

const CHARACTER_IDS = ['ann', 'bob', 'cy', 'dee'];
const BACKGROUND_IDS = ['sea', 'room', 'cliff'];
const words = fc.constantFrom('storm', 'lantern', 'red coat', 'the sea', 'rain', 'a gull', 'night');
const text = fc.array(words, { minLength: 1, maxLength: 4 }).map((w) => w.join(' '));
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null });

const comicArb: fc.Arbitrary<{ spec: ComicSpec; exports: ExportKind[] }> = fc
  .record({
    characters: fc.subarray(CHARACTER_IDS),
    backgrounds: fc.subarray(BACKGROUND_IDS),
  })
  .chain(({ characters, backgrounds }) => {
    const panelArb: fc.Arbitrary<SpecPanel> = fc.record({
      prompt: text,
      characters: fc.subarray(characters),
      background: backgrounds.length > 0 ? maybe(fc.constantFrom(...backgrounds)) : fc.constant(null),
      pose: maybe(text),
      camera: maybe(text),
      dialogue: characters.length > 0 ? fc.array(fc.record({ who: fc.constantFrom(...characters), text }), { maxLength: 2 }) : fc.constant([]),
      caption: maybe(text),
      template: fc.constantFrom('panel', 'panel-ref'),
    });
    return fc.record({
      spec: fc.record({
        title: text,
        seed: fc.integer({ min: 0, max: 2 ** 31 }),
        style: text,
        negative: text,
        characters: fc.tuple(
          ...characters.map((id) =>
            fc.record({ id: fc.constant(id), name: fc.constant(id.toUpperCase()), description: text, image: fc.constantFrom('sheet' as const, 'reference' as const, 'none' as const) }),
          ),
        ),
        backgrounds: fc.tuple(
          ...backgrounds.map((id) => fc.record({ id: fc.constant(id), prompt: text, image: fc.constantFrom('render' as const, 'reference' as const, 'none' as const) })),
        ),
        pages: fc.array(fc.record({ panels: fc.array(panelArb, { minLength: 1, maxLength: 4 }) }), { minLength: 1, maxLength: 4 }),
      }),
      exports: fc.subarray(['pdf', 'cbz', 'webtoon'] as ExportKind[]),
    });
  });

type Edit =
  | { kind: 'panel-prompt' | 'panel-pose' | 'dialogue'; pick: number }
  | { kind: 'character' | 'background'; pick: number }
  | { kind: 'template'; template: string };

const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constantFrom('panel-prompt' as const, 'panel-pose' as const, 'dialogue' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constantFrom('character' as const, 'background' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('template' as const), template: fc.constantFrom('panel', 'panel-ref', 'character-sheet', 'background') }),
);

interface Located {
  id: string;
  page: number;
  panel: SpecPanel;
}

function panelsOf(spec: ComicSpec): Located[] {
  return spec.pages.flatMap((page, p) => page.panels.map((panel, i) => ({ id: `panel:${p + 1}-${i + 1}`, page: p + 1, panel })));
}

/** Applies the edit; returns the new spec, the digests to plan with, and the image jobs it touches directly. */
function apply(spec: ComicSpec, edit: Edit): { spec: ComicSpec; digests: Record<string, string>; images: Set<string>; pages: Set<number> } {
  // A JSON copy, not structuredClone: generated specs may share arrays (fc.constant([])) and edits must not alias.
  const next = JSON.parse(JSON.stringify(spec)) as ComicSpec;
  const located = panelsOf(next);
  const images = new Set<string>();
  const pages = new Set<number>();
  const digests: Record<string, string> = {};
  switch (edit.kind) {
    case 'panel-prompt':
    case 'panel-pose':
    case 'dialogue': {
      const target = located[edit.pick % located.length]!;
      if (edit.kind === 'panel-prompt') target.panel.prompt += ', edited';
      if (edit.kind === 'panel-pose') target.panel.pose = `${target.panel.pose ?? ''} kneeling`;
      if (edit.kind === 'dialogue') target.panel.dialogue.push({ who: 'ann', text: 'Look!' });
      if (edit.kind === 'dialogue') pages.add(target.page);
      else images.add(target.id);
      break;
    }
    case 'character': {
      if (next.characters.length === 0) break;
      const character = next.characters[edit.pick % next.characters.length]!;
      character.description += ', a scar over one eye';
      if (character.image === 'sheet') images.add(`character:${character.id}`);
      for (const { id, panel } of located) if (panel.characters.includes(character.id)) images.add(id);
      break;
    }
    case 'background': {
      if (next.backgrounds.length === 0) break;
      const background = next.backgrounds[edit.pick % next.backgrounds.length]!;
      background.prompt += ', at dawn';
      // A plate is rendered only when a panel (whose template takes it) uses it; every fixture template takes one.
      if (background.image === 'render' && located.some(({ panel }) => panel.background === background.id)) images.add(`background:${background.id}`);
      for (const { id, panel } of located) if (panel.background === background.id) images.add(id);
      break;
    }
    case 'template': {
      digests[edit.template] = 'edited';
      if (edit.template === 'character-sheet') for (const c of next.characters) if (c.image === 'sheet') images.add(`character:${c.id}`);
      if (edit.template === 'background') {
        for (const b of next.backgrounds) if (b.image === 'render' && located.some(({ panel }) => panel.background === b.id)) images.add(`background:${b.id}`);
      }
      for (const { id, panel } of located) if (panel.template === edit.template) images.add(id);
      break;
    }
  }
  return { spec: next, digests, images, pages };
}

/** What a change to these image jobs and pages must re-key: panels fed by a changed sheet or plate, their pages, the exports. */
function expectedChanges(spec: ComicSpec, exports: ExportKind[], images: Set<string>, pages: Set<number>): Set<string> {
  const changed = new Set(images);
  for (const { id, page, panel } of panelsOf(spec)) {
    const fed = panel.characters.some((c) => changed.has(`character:${c}`)) || (panel.background !== null && changed.has(`background:${panel.background}`));
    if (fed) changed.add(id);
    if (changed.has(id)) pages.add(page);
  }
  for (const page of pages) changed.add(`page:${page}`);
  if (pages.size > 0) for (const kind of exports) changed.add(`export:${kind}`);
  return changed;
}

const planOf = (spec: ComicSpec, exports: ExportKind[], digests: Record<string, string> = {}) =>
  planComic(buildComic(spec), context({ templates: standardTemplates(digests) }), { exports });

const keysOf = (graph: JobGraph) => new Map(graph.jobs.map((j) => [j.id, j.key]));
const seedsOf = (graph: JobGraph) => graph.jobs.flatMap((j) => (j.kind === 'page' || j.kind === 'export' ? [] : [[j.id, j.seed]]));

describe('content keys under edits (property)', () => {
  it('one edit re-keys exactly the jobs it affects and never changes a seed', () => {
    fc.assert(
      fc.property(comicArb, editArb, ({ spec, exports }, edit) => {
        const before = planOf(spec, exports);
        const { spec: edited, digests, images, pages } = apply(spec, edit);
        const after = planOf(edited, exports, digests);

        expect(after.jobs.map((j) => j.id)).toEqual(before.jobs.map((j) => j.id));
        expect(seedsOf(after)).toEqual(seedsOf(before));
        const old = keysOf(before);
        const changed = after.jobs.filter((j) => j.key !== old.get(j.id)).map((j) => j.id);
        expect(new Set(changed)).toEqual(expectedChanges(spec, exports, images, pages));
      }),
      { numRuns: 300 },
    );
  });

  it('a panel prompt edit changes that panel, its page and the exports, and nothing else', () => {
    fc.assert(
      fc.property(comicArb, fc.nat(), ({ spec, exports }, pick) => {
        const before = planOf(spec, exports);
        const located = panelsOf(spec);
        const target = located[pick % located.length]!;
        const { spec: edited } = apply(spec, { kind: 'panel-prompt', pick });
        const after = planOf(edited, exports);
        const old = keysOf(before);
        const changed = after.jobs.filter((j) => j.key !== old.get(j.id)).map((j) => j.id);
        expect(changed.sort()).toEqual([target.id, `page:${target.page}`, ...exports.map((k) => `export:${k}`)].sort());
      }),
    );
  });

  it('every plan lists each job after its deps, and deps are exactly the images a panel uses', () => {
    fc.assert(
      fc.property(comicArb, ({ spec, exports }) => {
        const graph = planOf(spec, exports);
        const position = new Map(graph.jobs.map((j, i) => [j.id, i]));
        for (const job of graph.jobs) for (const dep of job.deps) expect(position.get(dep)!).toBeLessThan(position.get(job.id)!);
        const rendered = new Set([
          ...spec.characters.filter((c) => c.image === 'sheet').map((c) => `character:${c.id}`),
          ...spec.backgrounds.filter((b) => b.image === 'render').map((b) => `background:${b.id}`),
        ]);
        for (const { id, panel } of panelsOf(spec)) {
          const wanted = [...panel.characters.map((c) => `character:${c}`), ...(panel.background ? [`background:${panel.background}`] : [])];
          expect(graph.get(id).deps).toEqual(wanted.filter((d) => rendered.has(d)));
        }
      }),
    );
  });
});
