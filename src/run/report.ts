/**
 * The run report: `<out>/report.json` for tools (one entry per job of the plan, ids as in
 * `comic plan`, also for jobs a cancel or a missing backend kept from running) and a short
 * `report.md` for people. It says which backend and server made every image, so a run that
 * fell back to the SD API shows exactly which images came from where; what stopped the run,
 * what to do next, and every warning (lettering, parameters not honoured, retries).
 * Documented field by field in docs/events.md.
 */
import type { BackendName } from '../backends/types.js';
import type { ErrorCode } from '../errors.js';
import type { JobKind } from '../graph/index.js';
import type { JobStatus } from '../progress/events.js';
import { oneLine } from '../progress/format.js';
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
  /** When this run started and finished the job (ISO 8601, UTC; from the event stream): the timeline of report.html. Null when it did not. */
  readonly startedAt?: string | null;
  readonly finishedAt?: string | null;
  readonly retries: number;
  /** Parameters the backend could not honour. */
  readonly dropped: readonly string[];
  readonly output: string | null;
  /** The error that decided the job: its own failure, or what stopped the run (CANCELLED, NO_BACKEND). */
  readonly error: { readonly code: ErrorCode; readonly message: string } | null;
  /** Why the job did not finish, in words (any status but done and cached); null otherwise. */
  readonly reason: string | null;
}

/** A warning of the run, with the job it concerns (null: the run as a whole). */
export interface RunWarning {
  readonly job: string | null;
  readonly message: string;
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
  /** The exit code of the whole run (with several scripts, shared by their reports). */
  readonly exitCode: number;
  /** What ended the run before every job had its turn (a cancel, no backend); null when none did. */
  readonly stopped: { readonly code: ErrorCode; readonly message: string } | null;
  /** What to do next, in one sentence; null when all went well. */
  readonly next: string | null;
  readonly fallback: { readonly from: string; readonly to: string; readonly reason: string } | null;
  /** `jobs`: every job of the plan; one count per status, keyed by the status word. */
  readonly totals: Readonly<Record<JobStatus, number>> & { readonly jobs: number; readonly byBackend: Readonly<Record<string, number>> };
  readonly warnings: readonly RunWarning[];
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
  exitCode: number;
  stopped: RunReport['stopped'];
  next: string | null;
  warnings: readonly RunWarning[];
}): RunReport {
  // Report jobs in plan order, whatever order they finished in.
  const order = new Map(input.script.graph.jobs.map((job, i) => [job.id, i]));
  const jobs = [...input.records].sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
  const totals: Record<JobStatus, number> = { done: 0, cached: 0, failed: 0, skipped: 0, cancelled: 0, 'not-run': 0 };
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
    exitCode: input.exitCode,
    stopped: input.stopped,
    next: input.next,
    fallback: input.fallback,
    totals: { ...totals, jobs: jobs.length, byBackend },
    warnings: input.warnings,
    vram: Object.fromEntries(input.vram),
    jobs,
  };
}

export function reportMarkdown(report: RunReport): string {
  const t = report.totals;
  const lines = [`# ${report.title}`, ''];
  // What happened to the run as a whole comes first: it decides how to read the rest.
  if (report.stopped?.code === 'CANCELLED') {
    lines.push(`**Cancelled** (Ctrl-C or SIGTERM) with ${t.jobs - t.cancelled - t['not-run']} of ${t.jobs} jobs settled: ${t.cancelled} cut short, ${t['not-run']} not started.`, '');
  } else if (report.stopped) {
    // A backend that never got ready stops the run before any job; a folder that stopped taking writes, midway.
    const began = t.done + t.failed > 0;
    lines.push(`**${began ? 'Stopped' : 'No job ran'} (${report.stopped.code}):** ${oneLine(report.stopped.message)}`, '');
  }
  if (report.fallback) lines.push(`**Fell back from ${report.fallback.from} to ${report.fallback.to}:** ${oneLine(report.fallback.reason)}`, '');
  const counts = `${t.done} rendered, ${t.cached} from cache, ${t.failed} failed, ${t.skipped} skipped`;
  const unfinished = [...(t.cancelled > 0 ? [`${t.cancelled} cancelled`] : []), ...(t['not-run'] > 0 ? [`${t['not-run']} not run`] : [])];
  lines.push(`${t.jobs} jobs in ${(report.ms / 1000).toFixed(1)} s: ${[counts, ...unfinished].join(', ')}.`);
  const backends = Object.entries(t.byBackend).map(([name, n]) => `${name} ${n}`);
  if (backends.length) lines.push(`Made by: ${backends.join(', ')}.`);
  if (report.next) lines.push('', `**Next:** ${report.next}.`);
  const problems = report.jobs.filter((j) => j.status !== 'done' && j.status !== 'cached');
  if (problems.length) {
    lines.push('', '## Not done', '', '| job | status | why |', '|---|---|---|');
    for (const job of problems) lines.push(`| ${job.id} | ${job.status} | ${escapeCell(why(job, report.stopped))} |`);
  }
  if (report.warnings.length) {
    lines.push('', '## Warnings', '');
    for (const warning of report.warnings) lines.push(`- ${warning.job === null ? '' : `${warning.job}: `}${oneLine(warning.message)}`);
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

function why(job: JobRecord, stopped: RunReport['stopped']): string {
  if (job.status === 'failed' && job.error) return `${job.error.code}: ${job.error.message}`;
  // The run's own stop is said once, at the top; report.json has it on every job.
  if (job.status === 'not-run' && stopped && stopped.code !== 'CANCELLED' && job.error?.code === stopped.code) return `${stopped.code} (see above)`;
  return job.reason ?? (job.error ? `${job.error.code}: ${job.error.message}` : '');
}

function escapeCell(text: string): string {
  return oneLine(text).replace(/\|/g, '\\|');
}
