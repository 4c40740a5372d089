import { ComicError } from '../errors.js';
import { nearest } from '../util/suggest.js';
import { JOB_KINDS, type Job, type JobCounts, type JobGraph, type JobId, type JobKind } from './types.js';

/**
 * Indexes jobs that are already in topological order. Throws INTERNAL when they are not
 * (a duplicate id, a dep that is unknown or comes later): that is a planner bug, not a
 * user's mistake.
 */
export function createJobGraph(jobs: readonly Job[]): JobGraph {
  const byId = new Map<JobId, Job>();
  const position = new Map<JobId, number>();
  const dependents = new Map<JobId, JobId[]>();
  const counts: Record<JobKind, number> = { character: 0, background: 0, panel: 0, page: 0, export: 0 };

  jobs.forEach((job, index) => {
    if (byId.has(job.id)) throw new ComicError('INTERNAL', `the job graph has two jobs with id ${job.id}`);
    for (const dep of job.deps) {
      if (!byId.has(dep)) throw new ComicError('INTERNAL', `job ${job.id} depends on ${dep}, which does not come before it`);
      dependents.get(dep)?.push(job.id);
    }
    byId.set(job.id, job);
    position.set(job.id, index);
    dependents.set(job.id, []);
    counts[job.kind]++;
  });

  const get = (id: JobId): Job => {
    const job = byId.get(id);
    if (job) return job;
    const guess = nearest(id, byId.keys());
    const kind = JOB_KINDS.find((k) => id.startsWith(`${k}:`));
    const sameKind = kind ? jobs.filter((j) => j.kind === kind).map((j) => j.id) : [];
    const hint = guess
      ? `did you mean ${guess}?`
      : sameKind.length > 0
        ? `the ${kind} jobs are ${sameKind.length > 6 ? `${sameKind.slice(0, 6).join(', ')}, …` : sameKind.join(', ')}; \`comic plan <script>\` lists them all`
        : 'job ids look like character:<id>, background:<id>, panel:<page>-<n>, page:<n>, export:<pdf|cbz|webtoon>';
    throw new ComicError('USAGE', `there is no job ${JSON.stringify(id)} in this comic`, { hint });
  };

  /** Every job reachable from `ids` through `next`, not including `ids`, in topological order. */
  const reach = (ids: readonly JobId[], next: (job: Job) => readonly JobId[]): JobId[] => {
    const start = new Set(ids.map((id) => get(id).id));
    const seen = new Set<JobId>();
    const stack = [...start];
    while (stack.length > 0) {
      for (const id of next(get(stack.pop() as JobId))) {
        if (!seen.has(id)) {
          seen.add(id);
          stack.push(id);
        }
      }
    }
    for (const id of start) seen.delete(id);
    return [...seen].sort((a, b) => (position.get(a) as number) - (position.get(b) as number));
  };

  return {
    jobs,
    byId,
    counts: { ...counts, total: jobs.length } as JobCounts,
    get,
    dependents: (id) => dependents.get(get(id).id) as JobId[],
    ancestors: (ids) => reach(ids, (job) => job.deps),
    descendants: (ids) => reach(ids, (job) => dependents.get(job.id) as JobId[]),
  };
}
