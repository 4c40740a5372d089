/**
 * `comic generate --dry-run`: what a run would do, from the plan, the cache and the run
 * manifest alone, by the same rules the run follows (src/run/generate.ts): the same
 * selection (`--only`) and `--force`, the same provenance checks (src/run/provenance.ts), the
 * same rule for exports. Nothing is written and no server is contacted, so it assumes the
 * configured backend is up: with ComfyUI down a run falls back, and keeps the fallback's images.
 */
import { pathExists } from '../util/fs.js';
import { join } from 'node:path';
import type { BackendName } from '../backends/types.js';
import type { Job } from '../graph/index.js';
import type { RenderCache } from './cache.js';
import { forcedIds, scriptOutDir, select } from './generate.js';
import { RunManifest } from './manifest.js';
import type { PreparedScript } from './prepare.js';
import { exportStale, madeNow, refusal, stampOf, stampOfMade, type Refusal } from './provenance.js';

export interface PredictedJob {
  readonly script: string;
  readonly job: string;
  readonly cached: boolean;
  /** Why a job with a cache entry (or a recorded export) is made again: 'draft', 'fallback', 'inputs', 'forced'. */
  readonly reason: Refusal | 'forced' | null;
}

export interface PredictOptions {
  readonly scripts: readonly PreparedScript[];
  readonly cache: RenderCache;
  readonly outDir: string;
  /** The backend that will render: 'comfyui', 'sdapi', 'draft' (or 'cache' for compose). */
  readonly backend: BackendName;
  readonly only: readonly string[] | null;
  readonly force: boolean;
  readonly keepFallback: boolean;
}

export async function predictRun(options: PredictOptions): Promise<PredictedJob[]> {
  const rows: PredictedJob[] = [];
  const policy = { backend: options.backend, keepFallback: options.keepFallback };
  for (const script of options.scripts) {
    const { outDir } = scriptOutDir(options.scripts, script, options.outDir);
    const manifest = await RunManifest.open(join(outDir, '.comic', 'run.jsonl'));
    const forced = forcedIds(script, options.only, options.force);
    const made = new Map<string, { stamp: string; createdAt: string | null }>();
    for (const job of select(script, options.only)) {
      const row = await predictJob(job, { manifest, forced, made, policy, cache: options.cache, backend: options.backend });
      rows.push({ script: script.path, job: job.id, ...row });
    }
    await manifest.close();
  }
  return rows;
}

interface JobContext {
  readonly manifest: RunManifest;
  readonly forced: ReadonlySet<string>;
  /** Stamps and entry times as the run will have them (null: written during the run). */
  readonly made: Map<string, { stamp: string; createdAt: string | null }>;
  readonly policy: { readonly backend: BackendName; readonly keepFallback: boolean };
  readonly cache: RenderCache;
  readonly backend: BackendName;
}

async function predictJob(job: Job, ctx: JobContext): Promise<Pick<PredictedJob, 'cached' | 'reason'>> {
  if (job.kind === 'export') {
    const recorded = ctx.manifest.finished(job.id, job.key);
    if (recorded === null || !(await pathExists(recorded.output))) return { cached: false, reason: null };
    if (ctx.forced.has(job.id)) return { cached: false, reason: 'forced' };
    const stale = exportStale(recorded.at, job.pages.map((id) => ctx.made.get(id)?.createdAt ?? null));
    return stale ? { cached: false, reason: 'inputs' } : { cached: true, reason: null };
  }
  const entry = await ctx.cache.get(job.key);
  const refused = entry === null ? null : ctx.forced.has(job.id) ? 'forced' : refusal(job, entry.meta, ctx.policy, ctx.made);
  if (entry !== null && refused === null) {
    ctx.made.set(job.id, { stamp: stampOf(entry.meta), createdAt: entry.meta.createdAt });
    return { cached: true, reason: null };
  }
  // Made now: by the backend (assumed up, so not the fallback), or composed.
  const by = job.kind === 'page' ? 'compose' : ctx.backend;
  ctx.made.set(job.id, { stamp: stampOfMade(madeNow(job, by, false, ctx.made)), createdAt: null });
  return { cached: false, reason: refused };
}

