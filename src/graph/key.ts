/**
 * Content keys: the sha256 of the canonical JSON (keys sorted at every depth) of exactly
 * what decides a job's output. Nothing machine-specific goes in: no absolute paths (a
 * user's reference image counts by the sha256 of its bytes), no timestamps, no YAML
 * positions, no iteration order of a Map or Set. Equal content means equal key on every
 * machine, and the render cache is addressed by it.
 *
 * Bump KEY_SCHEMA when what a key covers, or what the renderer makes of the same inputs,
 * changes in a way old cache entries must not satisfy; when only the compositor's output
 * changes, bump COMPOSER_REVISION instead, so renders stay cached.
 */
import type { LayoutSpec, PageFormat, ReadingDirection, ComicMeta } from '../script/model.js';
import { COMPOSER_REVISION } from '../compose/revision.js';
import type { ExportOptions } from '../compose/export/index.js';
import type { PageLayout } from '../compose/types.js';
import { canonicalJson, hashValue, sha256 } from '../util/hash.js';
import type { ExportKind, ImageRequest, JobId, TemplateStamp } from './types.js';

export const KEY_SCHEMA = 'comic.key/1';

/** Keys of dependencies, by job id. */
export type KeyOf = (id: JobId) => string;

function depKeys(deps: readonly JobId[], keyOf: KeyOf): [JobId, string][] {
  return [...deps].sort().map((id) => [id, keyOf(id)]);
}

/**
 * An image job: its template (id, version, digest), the resolved request (prompts, size,
 * seed, params) and its inputs: another job's image counts by that job's key, a user
 * file by its sha256.
 *
 * Encoded as a positional JSON array rather than an object: its order is fixed by this
 * code, so only the free-form params need canonicalJson, and a plan of thousands of
 * panels stays fast.
 */
export function imageKey(template: TemplateStamp, request: ImageRequest, deps: readonly JobId[], keyOf: KeyOf): string {
  return sha256(
    JSON.stringify([
      KEY_SCHEMA,
      'image',
      [template.id, template.version, template.digest],
      [request.positive, request.negative, request.width, request.height, request.seed],
      canonicalJson(request.params),
      request.references.map((ref) =>
        ref.source === 'job' ? [ref.role, ref.subject, 'job', keyOf(ref.job)] : [ref.role, ref.subject, 'file', ref.sha256],
      ),
      depKeys(deps, keyOf),
    ]),
  );
}

/** What the letterer draws on one panel. */
export interface PanelLettering {
  /** `tail` and `offPanel` only when the script gives them, so pages without them keep their keys. */
  readonly dialogue: readonly {
    readonly who: string;
    readonly text: string;
    readonly kind: string;
    readonly tail?: { readonly x: number; readonly y: number };
    readonly offPanel?: string;
  }[];
  readonly caption: string | null;
  readonly sfx: readonly { readonly text: string; readonly at: string | null }[];
}

export interface PageKeyInput {
  readonly number: number;
  readonly format: PageFormat;
  readonly direction: ReadingDirection;
  /** Lettering breaks lines and sets case by language. */
  readonly language: string;
  /** The comic's seed: the sound effects' tilt, size and shade come from it. */
  readonly seed: number;
  readonly spec: LayoutSpec;
  readonly layout: PageLayout;
  /** One entry per panel, in page order. */
  readonly lettering: readonly PanelLettering[];
  readonly panels: readonly JobId[];
}

/**
 * A composed page: the composer's revision, its number (for the folio), format, reading
 * direction, language, the comic's seed (sound effects), layout (as written and as computed), lettering, and its panels' keys. The panels' prompts count
 * only through those keys.
 */
export function pageKey(input: PageKeyInput, keyOf: KeyOf): string {
  return hashValue({
    schema: KEY_SCHEMA,
    kind: 'page',
    composer: COMPOSER_REVISION,
    number: input.number,
    format: input.format,
    direction: input.direction,
    language: input.language,
    seed: input.seed,
    spec: input.spec,
    layout: input.layout,
    lettering: input.lettering,
    panels: input.panels.map(keyOf),
  });
}

/** What an export writes besides the pages: the book's metadata (ComicInfo.xml, PDF info). */
export type ExportMeta = Pick<ComicMeta, 'title' | 'series' | 'issue' | 'authors' | 'language' | 'direction' | 'format' | 'book'>;

/**
 * What the exporters make differs by this when the same pages and options give other bytes
 * (1: raster lettering; 2: vector lettering in the PDF, ComicInfo fields from the script,
 * faster screen encoders; 3: the text of a tilted sound effect tilted with it), so files
 * written before are made again.
 */
export const EXPORTER_REVISION = 3;

/**
 * The options that decide the target's file: the PDF's edition (for `pdf` and `pdf-art`), the
 * CBZ's format and quality, the EPUB's quality, the webtoon's width and slice height. Other
 * targets' options are left out, so changing one re-exports only its own file.
 */
export function exportOptionsFor(target: ExportKind, options: ExportOptions): unknown {
  switch (target) {
    case 'pdf':
    case 'pdf-art':
      return { edition: options.pdf?.edition ?? 'print' };
    case 'cbz':
      return { format: options.cbz?.format ?? null, quality: options.cbz?.quality ?? null, maxBytes: options.cbz?.maxBytes ?? null };
    case 'epub':
      return { quality: options.epub?.quality ?? null, maxBytes: options.epub?.maxBytes ?? null };
    case 'webtoon':
      return { width: options.webtoon?.width ?? null, maxHeight: options.webtoon?.maxHeight ?? null };
  }
}

export function exportKey(target: ExportKind, meta: ExportMeta, pages: readonly JobId[], keyOf: KeyOf, options: ExportOptions = {}): string {
  return hashValue({
    schema: KEY_SCHEMA,
    kind: 'export',
    exporter: EXPORTER_REVISION,
    target,
    options: exportOptionsFor(target, options),
    meta: {
      title: meta.title,
      series: meta.series,
      issue: meta.issue,
      authors: meta.authors.map((a) => ({ name: a.name, role: a.role })),
      language: meta.language,
      direction: meta.direction,
      format: meta.format,
      // Only when the script has any (ComicInfo.xml), so other comics keep their keys.
      ...(meta.book !== undefined && { book: meta.book }),
    },
    pages: pages.map(keyOf),
  });
}
