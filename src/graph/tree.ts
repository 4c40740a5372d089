import { isImageJob, JOB_KINDS, type Job, type JobCounts, type JobGraph, type JobKind } from './types.js';

const NOUNS: Record<JobKind, [string, string]> = {
  character: ['character sheet', 'character sheets'],
  background: ['background', 'backgrounds'],
  panel: ['panel', 'panels'],
  page: ['page', 'pages'],
  export: ['export', 'exports'],
};

function count(n: number, kind: JobKind): string {
  return `${n} ${NOUNS[kind][n === 1 ? 0 : 1]}`;
}

/** "10 jobs: 1 character sheet, 1 background, 5 panels, 1 page, 2 exports" (kinds with none left out). */
export function describeCounts(counts: JobCounts): string {
  const parts = JOB_KINDS.filter((kind) => counts[kind] > 0).map((kind) => count(counts[kind], kind));
  return `${counts.total} ${counts.total === 1 ? 'job' : 'jobs'}${parts.length > 0 ? `: ${parts.join(', ')}` : ''}`;
}

const shortKey = (key: string) => `key ${key.slice(0, 12)}`;

function details(job: Job): string[] {
  if (isImageJob(job)) {
    const { template, request } = job;
    const inputs = request.references.map((ref) => (ref.source === 'job' ? ref.job : `${ref.role} ${ref.subject} (user image)`));
    const deps = inputs.length > 0 ? [`← ${inputs.join(', ')}`] : [];
    return [`${template.id}@${template.version}`, `${request.width}×${request.height}`, `seed ${job.seed}`, shortKey(job.key), ...deps];
  }
  if (job.kind === 'export') return [shortKey(job.key), `← ${count(job.pages.length, 'page')}`];
  return [shortKey(job.key)];
}

function rows(jobs: readonly Job[], prefixes: readonly string[]): string[] {
  const width = Math.max(0, ...jobs.map((job, i) => (prefixes[i] ?? '').length + job.id.length));
  return jobs.map((job, i) => {
    const head = `${prefixes[i] ?? ''}${job.id}`;
    return `  ${head.padEnd(width)}  ${details(job).join('  ')}`.trimEnd();
  });
}

/** The plan as text: sheets, backgrounds, each page with its panels, exports; counts first. */
export function planTree(graph: JobGraph, title: string): string {
  const lines = [`${title}: ${describeCounts(graph.counts)}`];
  const section = (heading: string, jobs: readonly Job[], prefixes: readonly string[] = []) => {
    if (jobs.length === 0) return;
    lines.push('', heading, ...rows(jobs, prefixes));
  };
  section('character sheets', graph.jobs.filter((j) => j.kind === 'character'));
  section('backgrounds', graph.jobs.filter((j) => j.kind === 'background'));
  const pageJobs: Job[] = [];
  const prefixes: string[] = [];
  for (const page of graph.jobs) {
    if (page.kind !== 'page') continue;
    pageJobs.push(page);
    prefixes.push('');
    page.panels.forEach((id, i) => {
      pageJobs.push(graph.get(id));
      prefixes.push(i === page.panels.length - 1 ? '└─ ' : '├─ ');
    });
  }
  section('pages', pageJobs, prefixes);
  section('exports', graph.jobs.filter((j) => j.kind === 'export'));
  return `${lines.join('\n')}\n`;
}
