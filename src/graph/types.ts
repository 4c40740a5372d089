/**
 * The job graph: what `comic plan` shows and `comic generate` runs. A closed union of
 * jobs, each with the ids of the jobs it needs and a content key that names its output
 * (the render cache is addressed by it).
 *
 * Job ids, stable across runs (they are what `--only` and the report use):
 *   character:<character id>   a character's reference sheet
 *   background:<background id> a background plate that feeds panels
 *   panel:<page>-<n>           one panel image, both 1-based
 *   page:<n>                   one composed, lettered page (the PNG output)
 *   export:<pdf|cbz|webtoon>   a file made from all pages
 */
import type { PageLayout } from '../compose/types.js';
import type { YamlPath } from '../script/model.js';

export type JobId = string;

export const EXPORT_KINDS = ['pdf', 'pdf-art', 'cbz', 'webtoon', 'epub'] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];

/** The template a job renders with, exactly as resolved: all three are part of its key. */
export interface TemplateStamp {
  readonly id: string;
  readonly version: string;
  readonly digest: string;
}

export type ReferenceRole = 'character' | 'background';

/**
 * An image that feeds this one: the output of another job, or a file the user supplied.
 * `subject` is the character or background id, so a template can tell its inputs apart.
 */
export type ImageReference =
  | { readonly source: 'job'; readonly role: ReferenceRole; readonly subject: string; readonly job: JobId }
  | {
      readonly source: 'file';
      readonly role: ReferenceRole;
      readonly subject: string;
      /** Absolute path on this machine (never part of a key: `sha256` is). */
      readonly file: string;
      readonly sha256: string;
    };

/**
 * What to render, backend-neutral. The backend receives `positive`, `negative`, `seed`,
 * `width` and `height` as template parameters of those names, next to `params`.
 */
export interface ImageRequest {
  readonly positive: string;
  readonly negative: string;
  readonly width: number;
  readonly height: number;
  readonly seed: number;
  /** Template defaults < script defaults < the job's own params; never holds the five names above. */
  readonly params: Readonly<Record<string, unknown>>;
  /** In a stable order: characters in the panel's order, then the background. */
  readonly references: readonly ImageReference[];
}

interface ImageJobBase {
  readonly id: JobId;
  readonly deps: readonly JobId[];
  /** Equal to request.seed: derived from the base seed and the job id, unless the script set one. */
  readonly seed: number;
  readonly key: string;
  readonly template: TemplateStamp;
  readonly request: ImageRequest;
  /** Where the script asked for this job (for Comic.locate in error messages). */
  readonly origin: YamlPath;
}

export interface CharacterSheetJob extends ImageJobBase {
  readonly kind: 'character';
  readonly character: string;
}

export interface BackgroundJob extends ImageJobBase {
  readonly kind: 'background';
  readonly background: string;
}

export interface PanelJob extends ImageJobBase {
  readonly kind: 'panel';
  /** 1-based page number and panel index on that page (as in the id). */
  readonly page: number;
  readonly index: number;
}

export type ImageJob = CharacterSheetJob | BackgroundJob | PanelJob;

export interface PageJob {
  readonly kind: 'page';
  readonly id: JobId;
  /** The page's panel jobs, in the order of Page.panels (same list as `panels`). */
  readonly deps: readonly JobId[];
  readonly page: number;
  readonly panels: readonly JobId[];
  /** The layout computed at plan time; panel render sizes follow its boxes. */
  readonly layout: PageLayout;
  readonly key: string;
  readonly origin: YamlPath;
}

export interface ExportJob {
  readonly kind: 'export';
  readonly id: JobId;
  /** Every page job, in page order (same list as `pages`). */
  readonly deps: readonly JobId[];
  readonly target: ExportKind;
  readonly pages: readonly JobId[];
  readonly key: string;
}

export type Job = ImageJob | PageJob | ExportJob;
export type JobKind = Job['kind'];

export const JOB_KINDS: readonly JobKind[] = ['character', 'background', 'panel', 'page', 'export'];

export type JobCounts = Readonly<Record<JobKind, number>> & { readonly total: number };

export interface JobGraph {
  /** Every job, in a deterministic topological order (a job comes after all its deps). */
  readonly jobs: readonly Job[];
  readonly byId: ReadonlyMap<JobId, Job>;
  readonly counts: JobCounts;
  /** The job with this id; throws ComicError USAGE naming the id when there is none. */
  get(id: JobId): Job;
  /** The jobs that list `id` among their deps, in topological order. */
  dependents(id: JobId): readonly JobId[];
  /** Every job the given ones need, transitively, not including them; topological order. */
  ancestors(ids: readonly JobId[]): readonly JobId[];
  /** Every job that needs the given ones, transitively, not including them; topological order. */
  descendants(ids: readonly JobId[]): readonly JobId[];
}

export function isImageJob(job: Job): job is ImageJob {
  return job.kind === 'character' || job.kind === 'background' || job.kind === 'panel';
}
