/**
 * Hand-built comics for the planner tests: a compact spec turned into the typed model, an
 * in-test template resolver and a simple grid layout, so these tests depend on nothing but
 * src/graph and the model's types.
 */
import type { PageLayout, PanelBox } from '../../src/compose/types.js';
import { ComicError } from '../../src/errors.js';
import type { PlanContext } from '../../src/graph/index.js';
import type { Background, Character, Comic, Page, PageFormat, Panel, Params, YamlPath } from '../../src/script/model.js';
import type { TemplateInfo, TemplateResolver } from '../../src/templates/types.js';
import { sha256 } from '../../src/util/hash.js';

export interface SpecCharacter {
  id: string;
  name: string;
  description: string;
  /** A sheet to render, a user-supplied image, or neither. */
  image: 'sheet' | 'reference' | 'none';
  seed?: number | null;
  params?: Record<string, unknown>;
}

export interface SpecBackground {
  id: string;
  prompt: string;
  image: 'render' | 'reference' | 'none';
}

export interface SpecPanel {
  prompt: string;
  characters: string[];
  background: string | null;
  pose: string | null;
  camera: string | null;
  dialogue: { who: string; text: string }[];
  caption: string | null;
  template?: string;
  seed?: number | null;
  params?: Record<string, unknown>;
}

export interface ComicSpec {
  title: string;
  seed: number;
  style: string;
  negative: string;
  characters: SpecCharacter[];
  backgrounds: SpecBackground[];
  pages: { panels: SpecPanel[] }[];
}

export const FORMAT: PageFormat = { preset: 'custom', width: 1000, height: 1500, dpi: 150, bleed: 20, margin: 40 };

export function panel(prompt: string, extra: Partial<SpecPanel> = {}): SpecPanel {
  return { prompt, characters: [], background: null, pose: null, camera: null, dialogue: [], caption: null, ...extra };
}

/** A small comic with one of everything: two characters (one with a user image), a background, two pages. */
export function sampleSpec(): ComicSpec {
  return {
    title: 'The Last Lighthouse',
    seed: 1234,
    style: 'ink and watercolor graphic novel, muted palette',
    negative: 'blurry, extra fingers, watermark',
    characters: [
      { id: 'mara', name: 'Mara', description: 'young lighthouse keeper, red raincoat, short black hair, freckles', image: 'sheet', seed: 42 },
      { id: 'tom', name: 'Tom', description: 'old fisherman, grey beard, yellow oilskin', image: 'reference' },
    ],
    backgrounds: [{ id: 'lamp-room', prompt: 'lamp room at the top of a lighthouse, brass lens, storm outside', image: 'render' }],
    pages: [
      {
        panels: [
          panel('Mara climbs the spiral stairs, lantern in hand', {
            characters: ['mara'],
            background: 'lamp-room',
            pose: 'climbing, looking up',
            camera: 'low angle',
            dialogue: [{ who: 'mara', text: 'Who lit the lamp?' }],
            caption: 'Night three of the storm.',
          }),
          panel('Tom waits at the top', { characters: ['tom', 'mara'], background: 'lamp-room', pose: 'arms crossed' }),
          panel('The lens turns, throwing light over the sea', { background: 'lamp-room', camera: 'wide shot' }),
        ],
      },
      { panels: [panel('A ship on the rocks', { camera: 'aerial view', caption: 'Below, the sea.' })] },
    ],
  };
}

const use = (template: string, seed: number | null = null, params: Params = {}) => ({
  template: { id: template, range: null },
  seed,
  params,
});

export const referencePath = (id: string) => `/home/artist/comic/refs/${id}.png`;

/** The model a valid script with this content would parse to. */
export function buildComic(spec: ComicSpec, file = '/home/artist/comic/comic.yaml'): Comic {
  const characters: Character[] = spec.characters.map((c) => ({
    id: c.id,
    name: c.name,
    description: c.description,
    reference: c.image === 'reference' ? referencePath(c.id) : null,
    sheet: c.image === 'sheet' ? use('character-sheet', c.seed ?? null, c.params ?? {}) : null,
    path: ['characters', c.id],
  }));
  const backgrounds: Background[] = spec.backgrounds.map((b) => ({
    id: b.id,
    prompt: b.prompt,
    reference: b.image === 'reference' ? referencePath(b.id) : null,
    render: b.image === 'render' ? use('background') : null,
    path: ['backgrounds', b.id],
  }));
  const pages: Page[] = spec.pages.map((p, pi) => {
    const number = pi + 1;
    const panels: Panel[] = p.panels.map((s, i): Panel => {
      const path: YamlPath = ['pages', pi, 'panels', i];
      return {
        id: `${number}-${i + 1}`,
        page: number,
        index: i + 1,
        render: use(s.template ?? 'panel', s.seed ?? null, s.params ?? {}),
        prompt: s.prompt,
        characters: s.characters,
        pose: s.pose,
        camera: s.camera,
        background: s.background,
        frame: 'border',
        dialogue: s.dialogue.map((d, di) => ({ who: d.who, text: d.text, kind: 'speech', tail: null, path: [...path, 'dialogue', di] })),
        caption: s.caption,
        sfx: [],
        path,
      };
    });
    const rows = Math.ceil(panels.length / 2);
    return {
      number,
      frames: {},
      layout: { kind: 'rows', rows: Array.from({ length: rows }, (_, r) => Math.min(2, panels.length - 2 * r)), heights: null },
      panels,
      path: ['pages', pi],
    };
  });
  return {
    file,
    meta: {
      title: spec.title,
      series: null,
      issue: null,
      authors: [],
      language: 'en',
      style: spec.style,
      negative: spec.negative,
      seed: spec.seed,
      direction: 'ltr',
      format: FORMAT,
    },
    characters,
    backgrounds,
    pages,
    // Tests read the YAML path back out of the file name.
    locate: (path) => ({ file: `${file}#${path.join('.')}`, line: 1, column: 1 }),
  };
}

/**
 * By default a template takes up to eight reference images (seven characters and a
 * background), so every reference feeds its job.
 */
export function templateInfo(
  id: string,
  digest = `digest-of-${id}`,
  defaults: Record<string, unknown> = { steps: 30, cfg: 7 },
  imageInputs: readonly string[] = Array.from({ length: 8 }, (_, i) => `reference${i + 1}`),
  references: TemplateInfo['references'] = { character: imageInputs.length, background: imageInputs.length > 0 ? 1 : 0 },
  referenceLabel: string | null = null,
): TemplateInfo {
  return { id, version: '1.0.0', digest, size: { multiple: 64, min: 512, max: 2048, pixels: 1024 * 1024 }, defaults, imageInputs, references, referenceLabel };
}

export function resolverOf(templates: readonly TemplateInfo[]): TemplateResolver {
  const byId = new Map(templates.map((t) => [t.id, t]));
  return {
    resolve(ref) {
      const found = byId.get(ref.id);
      if (!found) throw new ComicError('TEMPLATE_NOT_FOUND', `no template "${ref.id}"`, { hint: `known: ${[...byId.keys()].join(', ')}` });
      return found;
    },
    ids: () => [...byId.keys()],
  };
}

export const standardTemplates = (digests: Record<string, string> = {}) =>
  ['panel', 'panel-ref', 'character-sheet', 'background'].map((id) => templateInfo(id, digests[id]));

/** Rows of up to two panels filling the safe area, with a 20 px gutter. */
export function gridLayout(page: Page, format: PageFormat): PageLayout {
  const canvas = { width: format.width + 2 * format.bleed, height: format.height + 2 * format.bleed };
  const trim = { x: format.bleed, y: format.bleed, width: format.width, height: format.height };
  const safe = { x: trim.x + format.margin, y: trim.y + format.margin, width: trim.width - 2 * format.margin, height: trim.height - 2 * format.margin };
  const rows = Math.ceil(page.panels.length / 2);
  const rowHeight = (safe.height - 20 * (rows - 1)) / rows;
  const panels = page.panels.map((p, i): PanelBox => {
    const row = Math.floor(i / 2);
    const inRow = Math.min(2, page.panels.length - 2 * row);
    const width = (safe.width - 20 * (inRow - 1)) / inRow;
    return {
      panelId: p.id,
      readingOrder: i,
      bleeds: false,
      bordered: true,
      x: safe.x + (i % 2) * (width + 20),
      y: safe.y + row * (rowHeight + 20),
      width,
      height: rowHeight,
    };
  });
  return { canvas, trim, safe, panels, border: { width: 3, color: '#1a1a1a' } };
}

/** Reference images count by content: the fake file system maps a path to its bytes. */
export function fakeFiles(contents: Record<string, string> = {}): (path: string) => string {
  return (path) => {
    const bytes = contents[path] ?? (path.startsWith('/home/artist/comic/refs/') ? `png bytes of ${path.split('/').pop()}` : undefined);
    if (bytes === undefined) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
    return sha256(bytes);
  };
}

export function context(options: { templates?: readonly TemplateInfo[]; files?: Record<string, string> } = {}): PlanContext {
  return {
    templates: resolverOf(options.templates ?? standardTemplates()),
    layoutPage: (page, format) => gridLayout(page, format),
    fileHash: fakeFiles(options.files),
  };
}
