/**
 * The run report: `<out>/report.json` for tools (one entry per job, ids as in `comic plan`)
 * and a short `report.md` for people. It says which backend and server made every image,
 * so a run that fell back to the SD API shows exactly which images came from where.
 */
import type { BackendName } from '../backends/types.js';
import type { ErrorCode } from '../errors.js';
import type { JobKind } from '../graph/index.js';
import type { JobStatus } from '../progress/events.js';
import type { PreparedScript } from './prepare.js';

export const REPORT_SCHEMA = 'comic.report/1';

export interface JobRecord {
  readonly id: string;
  readonly kind: JobKind;
  readonly key: string;
  readonly status: JobStatus;
  /** Served from our cache (or an earlier run's output), not made in this run. */
  readonly cached: boolean;
  readonly backend: BackendName | 'compose' | null;
  readonly server: string | null;
  readonly seed: number | null;
  readonly timings: { readonly queuedMs: number; readonly runMs: number } | null;
  readonly retries: number;
  /** Parameters the backend could not honour. */
  readonly dropped: readonly string[];
  readonly output: string | null;
  readonly error: { readonly code: ErrorCode; readonly message: string } | null;
}

interface VramReading {
  readonly used: number;
  readonly total: number;
}

export interface RunReport {
  readonly schema: typeof REPORT_SCHEMA;
  readonly script: string;
  readonly title: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly ms: number;
  readonly fallback: { readonly from: string; readonly to: string; readonly reason: string } | null;
  readonly totals: Readonly<Record<JobStatus, number>> & { readonly jobs: number; readonly byBackend: Readonly<Record<string, number>> };
  readonly vram: Readonly<Record<string, { readonly before: VramReading; readonly after: VramReading }>>;
  readonly jobs: readonly JobRecord[];
}

export function buildReport(input: {
  script: PreparedScript;
  records: readonly JobRecord[];
  fallback: RunReport['fallback'];
  vram: ReadonlyMap<string, { before: VramReading; after: VramReading }>;
  started: number;
  finished: number;
}): RunReport {
  // Report jobs in plan order, whatever order they finished in.
  const order = new Map(input.script.graph.jobs.map((job, i) => [job.id, i]));
  const jobs = [...input.records].sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
  const totals = { done: 0, cached: 0, failed: 0, skipped: 0 };
  const byBackend: Record<string, number> = {};
  for (const job of jobs) {
    totals[job.status]++;
    if (job.backend && job.status === 'done') byBackend[job.backend] = (byBackend[job.backend] ?? 0) + 1;
  }
  return {
    schema: REPORT_SCHEMA,
    script: input.script.path,
    title: input.script.comic.meta.title,
    startedAt: new Date(input.started).toISOString(),
    finishedAt: new Date(input.finished).toISOString(),
    ms: input.finished - input.started,
    fallback: input.fallback,
    totals: { ...totals, jobs: jobs.length, byBackend },
    vram: Object.fromEntries(input.vram),
    jobs,
  };
}

export function reportMarkdown(report: RunReport): string {
  const t = report.totals;
  const lines = [
    `# ${report.title}`,
    '',
    `${t.jobs} jobs in ${(report.ms / 1000).toFixed(1)} s: ${t.done} rendered, ${t.cached} from cache, ${t.failed} failed, ${t.skipped} skipped.`,
  ];
  const backends = Object.entries(t.byBackend).map(([name, n]) => `${name} ${n}`);
  if (backends.length) lines.push(`Made by: ${backends.join(', ')}.`);
  if (report.fallback) lines.push('', `**Fell back from ${report.fallback.from} to ${report.fallback.to}:** ${report.fallback.reason}`);
  const problems = report.jobs.filter((j) => j.status === 'failed' || j.status === 'skipped');
  if (problems.length) {
    lines.push('', '## Not done', '', '| job | status | why |', '|---|---|---|');
    for (const job of problems) lines.push(`| ${job.id} | ${job.status} | ${job.error ? `${job.error.code}: ${escapeCell(job.error.message)}` : ''} |`);
  }
  const dropped = report.jobs.filter((j) => j.dropped.length > 0);
  if (dropped.length) {
    lines.push('', '## Not honoured by the backend', '');
    for (const job of dropped) lines.push(`- ${job.id} (${job.backend}): ${job.dropped.join('; ')}`);
  }
  lines.push('', '## Images', '', '| job | status | backend | server |', '|---|---|---|---|');
  for (const job of report.jobs) {
    if (job.kind === 'export') continue;
    lines.push(`| ${job.id} | ${job.status} | ${job.backend ?? ''} | ${job.server ?? ''} |`);
  }
  return `${lines.join('\n')}\n`;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
