/**
 * The dashboard's state: a pure reducer over RunEvents. It keeps counters, one record per
 * server lane, one per job in flight and a few recent warnings and failures, so its size
 * depends on the servers and the jobs in flight, never on how many events arrived (10,000
 * progress events leave it the size it was).
 */
import type { BackendName, ServerState } from '../../backends/types.js';
import type { ErrorCode } from '../../errors.js';
import type { RunEvent, RunSummary } from '../events.js';

/** Warnings and failures kept for display; older ones are counted, not kept. */
export const KEPT_WARNINGS = 3;
export const KEPT_FAILURES = 5;

export interface Lane {
  readonly name: string;
  readonly state: ServerState | 'unknown';
  /** Why it is down (or how it came up). */
  readonly reason: string | null;
  readonly vram: { readonly used: number; readonly total: number } | null;
}

export interface ActiveJob {
  readonly job: string;
  /** The lane it is queued or running on; null while our scheduler holds it. */
  readonly lane: string | null;
  readonly phase: 'queued' | 'running';
  readonly position: number | null;
  /** Title of the node running now. */
  readonly node: string | null;
  readonly value: number;
  readonly max: number;
  /** Order of arrival on its lane: the newest running job is the lane's "current" job. */
  readonly since: number;
}

export interface Failure {
  readonly job: string;
  readonly code: ErrorCode;
  readonly message: string;
}

export interface DashboardState {
  readonly scripts: readonly string[];
  readonly backend: BackendName | null;
  readonly total: number;
  readonly done: number;
  readonly cached: number;
  readonly failed: number;
  readonly skipped: number;
  /** Clock time of run-started (for elapsed time and ETA). */
  readonly startedAt: number | null;
  /** Lanes in order of appearance, by name. */
  readonly lanes: Readonly<Record<string, Lane>>;
  /** Jobs queued or running, by id. */
  readonly active: Readonly<Record<string, ActiveJob>>;
  readonly fallback: { readonly from: BackendName; readonly to: BackendName; readonly reason: string } | null;
  /** The newest warnings, oldest first. */
  readonly warnings: readonly string[];
  readonly warningCount: number;
  /** The first failures. */
  readonly failures: readonly Failure[];
  readonly summary: RunSummary | null;
  /** Events seen, and a counter that orders arrivals. */
  readonly events: number;
}

export function initialState(): DashboardState {
  return {
    scripts: [],
    backend: null,
    total: 0,
    done: 0,
    cached: 0,
    failed: 0,
    skipped: 0,
    startedAt: null,
    lanes: {},
    active: {},
    fallback: null,
    warnings: [],
    warningCount: 0,
    failures: [],
    summary: null,
    events: 0,
  };
}

/** Where a job runs: its server, or the local backend's name (draft) or "compose" for pages. */
export function laneName(server: string | null, backend: BackendName | 'compose'): string {
  return server ?? backend;
}

export function reduce(previous: DashboardState, event: RunEvent, now: number): DashboardState {
  const state = { ...previous, events: previous.events + 1 };
  switch (event.type) {
    case 'run-started':
      return { ...state, scripts: event.scripts, backend: event.backend, total: event.jobs, startedAt: now };
    case 'job-queued': {
      const lane = event.server;
      const current = state.active[event.job];
      return withJob(withLane(state, lane), {
        job: event.job,
        lane,
        phase: 'queued',
        position: event.position,
        node: null,
        value: 0,
        max: 0,
        since: current?.lane === lane ? current.since : state.events,
      });
    }
    case 'job-started': {
      const lane = laneName(event.server, event.backend);
      return withJob(withLane(state, lane), { job: event.job, lane, phase: 'running', position: null, node: null, value: 0, max: 0, since: state.events });
    }
    case 'job-node':
      return updateJob(state, event.job, (job) => ({ ...job, phase: 'running', node: event.title, value: 0, max: 0 }));
    case 'job-progress':
      return updateJob(state, event.job, (job) => ({ ...job, phase: 'running', value: event.value, max: event.max }));
    case 'job-retry':
      // The job goes back to our scheduler; it shows up again when it is queued somewhere.
      return updateJob(state, event.job, (job) => ({ ...job, lane: null, phase: 'queued', position: null, node: null, value: 0, max: 0 }));
    case 'job-done':
      return { ...withoutJob(state, event.job), done: state.done + 1 };
    case 'job-cached':
      return { ...withoutJob(state, event.job), cached: state.cached + 1 };
    case 'job-failed': {
      const failures =
        state.failures.length < KEPT_FAILURES ? [...state.failures, { job: event.job, code: event.error.code, message: event.error.message }] : state.failures;
      return { ...withoutJob(state, event.job), failed: state.failed + 1, failures };
    }
    case 'job-skipped':
      return { ...withoutJob(state, event.job), skipped: state.skipped + 1 };
    case 'fallback':
      return { ...state, fallback: state.fallback ?? { from: event.from, to: event.to, reason: event.reason } };
    case 'server': {
      const lanes = withLane(state, event.server).lanes;
      return { ...state, lanes: { ...lanes, [event.server]: { ...lanes[event.server]!, state: event.state, reason: event.reason } } };
    }
    case 'vram': {
      const lanes = withLane(state, event.server).lanes;
      return { ...state, lanes: { ...lanes, [event.server]: { ...lanes[event.server]!, vram: { used: event.used, total: event.total } } } };
    }
    case 'warning': {
      const text = event.job === null ? event.message : `${event.job}: ${event.message}`;
      return { ...state, warnings: [...state.warnings, text].slice(-KEPT_WARNINGS), warningCount: state.warningCount + 1 };
    }
    case 'run-finished':
      return { ...state, summary: event.summary };
    case 'job-preview':
      return state;
  }
}

/** The run is over: the dashboard switches to its summary. */
export function finish(state: DashboardState, summary: RunSummary): DashboardState {
  return { ...state, summary, active: {} };
}

/** Estimated time left, from the pace of jobs that were really worked on (cached ones cost nothing). */
export function etaMs(state: DashboardState, now: number): number | null {
  if (state.startedAt === null) return null;
  const worked = state.done + state.failed;
  const left = state.total - state.done - state.cached - state.failed - state.skipped;
  if (worked === 0 || left <= 0) return left <= 0 && worked > 0 ? 0 : null;
  return ((now - state.startedAt) / worked) * left;
}

/** The lane's current job (the newest running one, else the next queued one), and how many others run or wait there. */
export function laneJobs(state: DashboardState, lane: string): { current: ActiveJob | null; running: number; queued: number } {
  let current: ActiveJob | null = null;
  let running = 0;
  let queued = 0;
  for (const job of Object.values(state.active)) {
    if (job.lane !== lane) continue;
    if (job.phase === 'running') running++;
    else queued++;
    if (current === null || rank(job) > rank(current)) current = job;
  }
  if (current?.phase === 'running') running--;
  else if (current) queued--;
  return { current, running, queued };
}

/** Jobs waiting in our own scheduler (not yet sent to a server). */
export function waiting(state: DashboardState): number {
  return Object.values(state.active).filter((job) => job.lane === null).length;
}

function rank(job: ActiveJob): number {
  // Running beats queued; among running, the newest; among queued, the nearest the front.
  return job.phase === 'running' ? 1e12 + job.since : 1e6 - (job.position ?? 1e5);
}

function withLane(state: DashboardState, name: string | null): DashboardState {
  if (name === null || state.lanes[name]) return state;
  return { ...state, lanes: { ...state.lanes, [name]: { name, state: 'unknown', reason: null, vram: null } } };
}

function withJob(state: DashboardState, job: ActiveJob): DashboardState {
  return { ...state, active: { ...state.active, [job.job]: job } };
}

function updateJob(state: DashboardState, id: string, change: (job: ActiveJob) => ActiveJob): DashboardState {
  const job = state.active[id];
  return job ? withJob(state, change(job)) : state;
}

function withoutJob(state: DashboardState, id: string): DashboardState {
  if (!state.active[id]) return state;
  const { [id]: _gone, ...active } = state.active;
  return { ...state, active };
}
