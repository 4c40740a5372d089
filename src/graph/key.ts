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
  /** `tail` only when the script gives one, so pages without anchors keep their keys. */
  readonly dialogue: readonly { readonly who: string; readonly text: string; readonly kind: string; readonly tail?: { readonly x: number; readonly y: number } }[];
  readonly caption: string | null;
  readonly sfx: readonly { readonly text: string; readonly at: string | null }[];
}

export interface PageKeyInput {
  readonly number: number;
  readonly format: PageFormat;
  readonly direction: ReadingDirection;
  /** Lettering breaks lines and sets case by language. */
  readonly language: string;
  readonly spec: LayoutSpec;
  readonly layout: PageLayout;
  /** One entry per panel, in page order. */
  readonly lettering: readonly PanelLettering[];
  readonly panels: readonly JobId[];
}

/**
 * A composed page: the composer's revision, its number (for the folio), format, reading
 * direction, language, layout (as written and as computed), lettering, and its panels' keys. The panels' prompts count
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
    spec: input.spec,
    layout: input.layout,
    lettering: input.lettering,
    panels: input.panels.map(keyOf),
  });
}

/** What an export writes besides the pages: the book's metadata (ComicInfo.xml, PDF info). */
export type ExportMeta = Pick<ComicMeta, 'title' | 'series' | 'issue' | 'authors' | 'language' | 'direction' | 'format'>;

export function exportKey(target: ExportKind, meta: ExportMeta, pages: readonly JobId[], keyOf: KeyOf): string {
  return hashValue({
    schema: KEY_SCHEMA,
    kind: 'export',
    target,
    meta: {
      title: meta.title,
      series: meta.series,
      issue: meta.issue,
      authors: meta.authors.map((a) => ({ name: a.name, role: a.role })),
      language: meta.language,
      direction: meta.direction,
      format: meta.format,
    },
    pages: pages.map(keyOf),
  });
}
