import type { ExportKind, Job, JobCounts, JobGraph, JobId, JobKind, ReferenceRole, TemplateStamp } from './types.js';

/**
 * The stable shape of `comic plan --json` (schema `comic.plan/1`). Fields are only ever
 * added; a change to an existing field bumps the schema. Nothing in it depends on the
 * machine: user reference images appear by their sha256, not their path.
 *
 * {
 *   "schema": "comic.plan/1",
 *   "title": "The Last Lighthouse",
 *   "counts": { "character": 1, "background": 1, "panel": 5, "page": 1, "export": 2, "total": 10 },
 *   "jobs": [            // topological order: every job after the jobs in its `deps`
 *     { "id": "panel:1-1", "kind": "panel", "deps": ["character:mara", "background:lamp-room"],
 *       "key": "<sha256 hex>", "seed": 190245338847412,
 *       "template": { "id": "panel", "version": "1.0.0", "digest": "<sha256 hex>" },
 *       "size": { "width": 1216, "height": 832 },
 *       "prompt": { "positive": "…", "negative": "…" }, "params": { "steps": 30 },
 *       "references": [{ "role": "character", "subject": "mara", "job": "character:mara" }],
 *       "page": 1, "panels": null, "target": null },
 *     …
 *   ]
 * }
 *
 * Every job has every field; those that do not apply to its kind are null: seed,
 * template, size, prompt, params and references for pages and exports; `page` is the
 * page number for panels and pages; `panels` lists a page's panel jobs; `target` is an
 * export's kind (pdf, cbz, webtoon).
 */
export const PLAN_SCHEMA = 'comic.plan/1';

export type PlanJsonReference =
  | { readonly role: ReferenceRole; readonly subject: string; readonly job: JobId }
  | { readonly role: ReferenceRole; readonly subject: string; readonly sha256: string };

export interface PlanJsonJob {
  readonly id: JobId;
  readonly kind: JobKind;
  readonly deps: readonly JobId[];
  readonly key: string;
  readonly seed: number | null;
  readonly template: TemplateStamp | null;
  readonly size: { readonly width: number; readonly height: number } | null;
  readonly prompt: { readonly positive: string; readonly negative: string } | null;
  readonly params: Readonly<Record<string, unknown>> | null;
  readonly references: readonly PlanJsonReference[] | null;
  readonly page: number | null;
  readonly panels: readonly JobId[] | null;
  readonly target: ExportKind | null;
}

export interface PlanJson {
  readonly schema: typeof PLAN_SCHEMA;
  readonly title: string;
  readonly counts: JobCounts;
  readonly jobs: readonly PlanJsonJob[];
}

function jobJson(job: Job): PlanJsonJob {
  const common = { id: job.id, kind: job.kind, deps: job.deps, key: job.key };
  const none = { seed: null, template: null, size: null, prompt: null, params: null, references: null };
  switch (job.kind) {
    case 'page':
      return { ...common, ...none, page: job.page, panels: job.panels, target: null };
    case 'export':
      return { ...common, ...none, page: null, panels: null, target: job.target };
    default: {
      const { request } = job;
      return {
        ...common,
        seed: job.seed,
        template: job.template,
        size: { width: request.width, height: request.height },
        prompt: { positive: request.positive, negative: request.negative },
        params: request.params,
        references: request.references.map((ref) =>
          ref.source === 'job'
            ? { role: ref.role, subject: ref.subject, job: ref.job }
            : { role: ref.role, subject: ref.subject, sha256: ref.sha256 },
        ),
        page: job.kind === 'panel' ? job.page : null,
        panels: null,
        target: null,
      };
    }
  }
}

export function planJson(graph: JobGraph, title: string): PlanJson {
  return { schema: PLAN_SCHEMA, title, counts: graph.counts, jobs: graph.jobs.map(jobJson) };
}
