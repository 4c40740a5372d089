/**
 * A valid script's data → the Comic model: defaults applied, lengths in pixels, template
 * references parsed, per-script template defaults merged, the sheet rule applied.
 */
import { resolve } from 'node:path';
import { layoutSpecFrom } from './layouts.js';
import type { Background, BookInfo, Character, Comic, DialogueLine, FrameStyle, Page, Panel, Params, Sfx, TemplateRef, TemplateUse, YamlPath } from './model.js';
import { lengthPixels, resolvePageFormat } from './page-format.js';
import type { Locate } from './positions.js';
import type { DefaultsInput, PanelInput, ScriptInput } from './schema.js';
import { familyTemplate, parseTemplateRef, type TemplateKind } from './template-ref.js';

export interface BuildContext {
  /** Absolute path of the script. */
  readonly file: string;
  readonly baseDir: string;
  readonly locate: Locate;
}

function templateRef(text: string): TemplateRef {
  const result = parseTemplateRef(text);
  // The schema has already accepted every reference; this guards the invariant.
  if (!result.ok) throw new RangeError(result.message);
  return result.ref;
}

/**
 * Merges an entity's own template choice over the script's `defaults` and the built-in id (of
 * `defaults.family`). `usePath` is where the entity writes its template use (its `params` are under it).
 */
function templateUse(kind: TemplateKind, defaults: DefaultsInput | undefined, own: { template?: string; seed?: number; params?: Params }, usePath: YamlPath): TemplateUse {
  const fallback = defaults?.[kind];
  const paramPaths: Record<string, YamlPath> = {};
  for (const name of Object.keys(fallback?.params ?? {})) paramPaths[name] = ['defaults', kind, 'params', name];
  for (const name of Object.keys(own.params ?? {})) paramPaths[name] = [...usePath, 'params', name];
  return {
    template: templateRef(own.template ?? fallback?.template ?? familyTemplate(defaults?.family, kind)),
    seed: own.seed ?? null,
    params: { ...fallback?.params, ...own.params },
    paramPaths,
  };
}

function buildPanel(
  input: PanelInput,
  page: number,
  index: number,
  path: YamlPath,
  defaults: DefaultsInput | undefined,
  hasImage: (characterId: string) => boolean,
): Panel {
  const dialogue: DialogueLine[] = input.dialogue.map((line, k) => ({
    who: line.who,
    text: line.text,
    kind: line.kind,
    tail: line.tail ?? null,
    offPanel: line.offPanel ?? null,
    path: [...path, 'dialogue', k],
  }));
  const sfxItems = typeof input.sfx === 'string' ? [input.sfx] : (input.sfx ?? []);
  const sfx: Sfx[] = sfxItems.map((item, k) => ({
    text: typeof item === 'string' ? item : item.text,
    at: typeof item === 'string' ? null : (item.at ?? null),
    path: typeof input.sfx === 'string' ? [...path, 'sfx'] : [...path, 'sfx', k],
  }));
  return {
    id: `${page}-${index}`,
    page,
    index,
    render: templateUse('panel', defaults, {
      ...input,
      template: input.template ?? (defaults?.panel?.template === undefined && input.characters.some(hasImage) ? familyTemplate(defaults?.family, 'referencePanel') : undefined),
    }, path),
    prompt: input.prompt,
    characters: input.characters,
    pose: input.pose ?? null,
    camera: input.camera ?? null,
    background: input.background ?? null,
    frame: input.frame,
    dialogue,
    caption: input.caption ?? null,
    sfx,
    path,
  };
}

/** `defaults.page` in pixels at the page's dpi (the schema has checked every length). */
function frameStyle(defaults: DefaultsInput | undefined, dpi: number): FrameStyle {
  const style = defaults?.page;
  const gutter = lengthPixels(style?.gutter, dpi);
  const borderWidth = lengthPixels(style?.border?.width, dpi);
  const borderColor = style?.border?.color;
  return { ...(gutter !== undefined && { gutter }), ...(borderWidth !== undefined && { borderWidth }), ...(borderColor !== undefined && { borderColor }) };
}

export function buildComic(input: ScriptInput, context: BuildContext): Comic {
  const { comic: meta, defaults } = input;
  const characters: Character[] = Object.entries(input.characters).map(([id, c]) => {
    const reference = c.reference === undefined ? null : resolve(context.baseDir, c.reference);
    return {
      id,
      name: c.name ?? id,
      description: c.description,
      reference,
      // The sheet rule: a sheet is rendered unless the user brings a reference or opts out.
      sheet: reference !== null || c.sheet === false ? null : templateUse('sheet', defaults, c.sheet ?? {}, ['characters', id, 'sheet']),
      path: ['characters', id],
    };
  });
  const backgrounds: Background[] = Object.entries(input.backgrounds).map(([id, b]) => {
    const reference = b.reference === undefined ? null : resolve(context.baseDir, b.reference);
    return { id, prompt: b.prompt, reference, render: reference === null ? templateUse('background', defaults, b, ['backgrounds', id]) : null, path: ['backgrounds', id] };
  });
  const withImage = new Set(characters.filter((c) => c.sheet !== null || c.reference !== null).map((c) => c.id));
  const hasImage = (id: string) => withImage.has(id);
  const format = resolvePageFormat(meta.format);
  const frames = frameStyle(defaults, format.dpi);
  const pages: Page[] = input.pages.map((page, p) => {
    const path: YamlPath = ['pages', p];
    return {
      number: p + 1,
      layout: layoutSpecFrom(page.layout, page.panels.length),
      cover: page.cover === true,
      frames,
      panels: page.panels.map((panel, n) => buildPanel(panel, p + 1, n + 1, [...path, 'panels', n], defaults, hasImage)),
      path,
    };
  });
  return {
    file: context.file,
    meta: {
      title: meta.title,
      series: meta.series ?? null,
      issue: meta.issue ?? null,
      ...bookInfo(meta),
      authors: meta.authors.map((a) => (typeof a === 'string' ? { name: a, role: 'writer' } : { name: a.name, role: a.role })),
      language: Intl.getCanonicalLocales(meta.language)[0] ?? meta.language,
      style: meta.style,
      negative: meta.negative,
      seed: meta.seed,
      direction: meta.direction,
      format,
    },
    characters,
    backgrounds,
    pages,
    locate: (path, at) => context.locate(path, at),
  };
}

const BOOK_KEYS = ['summary', 'volume', 'count', 'year', 'month', 'day', 'publisher', 'genres', 'tags', 'web', 'storyArc', 'ageRating', 'gtin'] as const;

/** `{ book }` with the script's ComicInfo keys that are set, and only those; nothing when none is. */
function bookInfo(meta: { [K in (typeof BOOK_KEYS)[number]]?: BookInfo[K] }): { book?: BookInfo } {
  const book: Record<string, unknown> = {};
  for (const key of BOOK_KEYS) {
    if (meta[key] !== undefined) book[key] = meta[key];
  }
  return Object.keys(book).length === 0 ? {} : { book: book as BookInfo };
}
