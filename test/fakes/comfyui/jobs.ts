/**
 * GET /api/jobs and /api/jobs/{id} (comfy_execution/jobs.py): one light list over running,
 * pending and finished prompts. Absent values are left out rather than null. Interrupted
 * prompts count as "failed" on 0.8.0 and as "cancelled" on 0.28.0, which also takes status,
 * sort_by and sort_order in any case and clamps a negative offset.
 */
import type { JsonObject } from './catalogue.js';
import type { Profile } from './profile.js';
import type { HistoryEntry, QueueItem } from './queue.js';

export const JOB_STATUSES = ['pending', 'in_progress', 'completed', 'failed', 'cancelled'] as const;
const JOB_STATUSES_0_8 = JOB_STATUSES.slice(0, 4);
export type JobStatus = (typeof JOB_STATUSES)[number];

export interface JobQuery {
  readonly statuses: readonly JobStatus[];
  readonly workflowId: string | undefined;
  readonly sortBy: 'created_at' | 'execution_duration';
  readonly sortOrder: 'asc' | 'desc';
  readonly limit: number | undefined;
  readonly offset: number;
}

type Job = JsonObject;

function prune(job: Record<string, unknown>): Job {
  return Object.fromEntries(Object.entries(job).filter(([, v]) => v !== undefined && v !== null));
}

function metadata(extraData: JsonObject): { createTime: unknown; workflowId: unknown } {
  const pnginfo = extraData.extra_pnginfo as { workflow?: { id?: unknown } } | undefined;
  return { createTime: extraData.create_time, workflowId: pnginfo?.workflow?.id };
}

export function queuedJob(item: QueueItem, status: 'pending' | 'in_progress'): Job {
  const { createTime, workflowId } = metadata(item.extraData);
  return prune({ id: item.promptId, status, priority: item.number, create_time: createTime, outputs_count: 0, workflow_id: workflowId });
}

/** Counts every output item and picks the preview: a saved file first, else any previewable one. */
function outputsSummary(outputs: Record<string, JsonObject>): { count: number; preview: Job | undefined } {
  let count = 0;
  let preview: Job | undefined;
  let fallback: Job | undefined;
  for (const [nodeId, nodeOutputs] of Object.entries(outputs)) {
    for (const [mediaType, items] of Object.entries(nodeOutputs)) {
      if (mediaType === 'animated' || !Array.isArray(items)) continue;
      for (const item of items) {
        if (typeof item !== 'object' || item === null) continue;
        count += 1;
        if (preview !== undefined || !['images', 'video', 'audio', '3d'].includes(mediaType)) continue;
        const enriched = { ...(item as JsonObject), nodeId, mediaType };
        if ((item as JsonObject).type === 'output') preview = enriched;
        else fallback ??= enriched;
      }
    }
  }
  return { count, preview: preview ?? fallback };
}

export function finishedJob(promptId: string, entry: HistoryEntry, detailed: boolean, interruptedStatus: 'failed' | 'cancelled' = 'failed'): Job {
  const [priority, , prompt, extraData] = entry.prompt;
  const { createTime, workflowId } = metadata(extraData);
  let start: unknown;
  let end: unknown;
  let error: unknown;
  let interrupted = false;
  for (const [event, data] of entry.status.messages) {
    if (event === 'execution_interrupted') interrupted = true;
    if (event === 'execution_start') start = data.timestamp;
    if (event === 'execution_success' || event === 'execution_error' || event === 'execution_interrupted') end = data.timestamp;
    if (event === 'execution_error') error = data;
  }
  const { count, preview } = outputsSummary(entry.outputs);
  const job = prune({
    id: promptId,
    status: entry.status.status_str === 'success' ? 'completed' : interrupted ? interruptedStatus : 'failed',
    priority,
    create_time: createTime,
    execution_start_time: start,
    execution_end_time: end,
    execution_error: error,
    outputs_count: count,
    preview_output: preview,
    workflow_id: workflowId,
  });
  if (!detailed) return job;
  return { ...job, outputs: entry.outputs, execution_status: entry.status, workflow: { prompt, extra_data: extraData } };
}

export interface JobSources {
  readonly running: QueueItem | undefined;
  readonly pending: readonly QueueItem[];
  readonly history: ReadonlyMap<string, HistoryEntry>;
  readonly interruptedStatus?: 'failed' | 'cancelled';
}

export function listJobs(sources: JobSources, query: JobQuery): { jobs: Job[]; total: number } {
  let jobs: Job[] = [];
  if (query.statuses.includes('in_progress') && sources.running !== undefined) jobs.push(queuedJob(sources.running, 'in_progress'));
  if (query.statuses.includes('pending')) for (const item of sources.pending) jobs.push(queuedJob(item, 'pending'));
  if (query.statuses.some((s) => s === 'completed' || s === 'failed' || s === 'cancelled')) {
    for (const [id, entry] of sources.history) {
      const job = finishedJob(id, entry, false, sources.interruptedStatus);
      if (query.statuses.includes(job.status as JobStatus)) jobs.push(job);
    }
  }
  if (query.workflowId !== undefined) jobs = jobs.filter((j) => j.workflow_id === query.workflowId);
  const key = (job: Job): number => {
    if (query.sortBy === 'created_at') return typeof job.create_time === 'number' ? job.create_time : 0;
    const start = job.execution_start_time;
    const end = job.execution_end_time;
    return typeof start === 'number' && typeof end === 'number' && start !== 0 && end !== 0 ? end - start : 0;
  };
  // Python's sorted() is stable, with or without reverse=True.
  const sorted = jobs.map((job, i) => ({ job, i })).sort((a, b) => {
    const d = query.sortOrder === 'desc' ? key(b.job) - key(a.job) : key(a.job) - key(b.job);
    return d !== 0 ? d : a.i - b.i;
  });
  const total = sorted.length;
  let page = sorted.map((s) => s.job).slice(query.offset);
  if (query.limit !== undefined) page = page.slice(0, query.limit);
  return { jobs: page, total };
}

export function findJob(sources: JobSources, id: string): Job | undefined {
  const entry = sources.history.get(id);
  if (entry !== undefined) return finishedJob(id, entry, true, sources.interruptedStatus);
  if (sources.running?.promptId === id) return queuedJob(sources.running, 'in_progress');
  const pending = sources.pending.find((item) => item.promptId === id);
  return pending === undefined ? undefined : queuedJob(pending, 'pending');
}

/** Parses the query string as the real handler does; a string is the 400 error text. */
export function parseJobQuery(params: URLSearchParams, profile?: Profile): JobQuery | string {
  const known: readonly string[] = profile?.jobs.interruptedStatus === 'cancelled' ? JOB_STATUSES : JOB_STATUSES_0_8;
  const fold = (text: string): string => (profile?.jobs.caseInsensitive === true ? text.toLowerCase() : text);
  let statuses: JobStatus[] = [...known] as JobStatus[];
  const status = params.get('status');
  if (status !== null && status.trim() !== '') {
    const wanted = status.split(',').map((s) => fold(s.trim())).filter((s) => s !== '');
    const invalid = wanted.filter((s) => !known.includes(s));
    if (invalid.length > 0) return `Invalid status value(s): ${invalid.join(', ')}. Valid values: ${known.join(', ')}`;
    statuses = wanted as JobStatus[];
  }
  const sortBy = fold(params.get('sort_by') ?? 'created_at');
  if (sortBy !== 'created_at' && sortBy !== 'execution_duration') return "sort_by must be 'created_at' or 'execution_duration'";
  const sortOrder = fold(params.get('sort_order') ?? 'desc');
  if (sortOrder !== 'asc' && sortOrder !== 'desc') return "sort_order must be 'asc' or 'desc'";
  let limit: number | undefined;
  const limitText = params.get('limit');
  if (limitText !== null) {
    if (!/^\s*[+-]?\d+\s*$/.test(limitText)) return 'limit must be an integer';
    limit = Number(limitText);
    if (limit <= 0) return 'limit must be a positive integer';
  }
  let offset = 0;
  const offsetText = params.get('offset');
  if (offsetText !== null) {
    if (!/^\s*[+-]?\d+\s*$/.test(offsetText)) return 'offset must be an integer';
    offset = Number(offsetText);
    if (offset < 0) {
      if (profile?.jobs.clampNegativeOffset !== true) return 'offset must be non-negative';
      offset = 0;
    }
  }
  return { statuses, workflowId: params.get('workflow_id') ?? undefined, sortBy, sortOrder, limit, offset };
}
