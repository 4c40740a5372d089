/**
 * Words and numbers the human renderers (plain lines and the dashboard) share, so both say
 * the same thing the same way; the run report and the summary's `next` use the same words.
 */
import type { ErrorCode } from '../errors.js';
import type { FallbackSwitch, RunSummary } from './events.js';

/** `850ms`, `7.1s`, `3m12s`, `2h05m`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  const minutes = Math.round(seconds / 60);
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/** Binary units, one decimal: `23.5 GiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Local wall-clock time as HH:MM:SS, the prefix of every plain line. */
export function clockTime(ms: number): string {
  const date = new Date(ms);
  return [date.getHours(), date.getMinutes(), date.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** `57 jobs in 3m12s: 40 rendered, 15 cached, 1 failed, 1 skipped` (and `2 cancelled, 9 not run` after a Ctrl-C). */
export function summaryText(summary: RunSummary): string {
  const parts = [`${summary.done} rendered`, `${summary.cached} cached`];
  if (summary.failed > 0) parts.push(`${summary.failed} failed`);
  if (summary.skipped > 0) parts.push(`${summary.skipped} skipped`);
  if (summary.cancelled > 0) parts.push(`${summary.cancelled} cancelled`);
  if (summary.notRun > 0) parts.push(`${summary.notRun} not run`);
  return `${plural(summary.total, 'job')} in ${formatDuration(summary.ms)}: ${parts.join(', ')}`;
}

/** What the run's outcome is called, from its exit code (the counts say how well it went). */
export function outcomeWord(summary: RunSummary): string {
  if (summary.exitCode === 130) return 'cancelled';
  return summary.ok || summary.done + summary.cached + summary.failed + summary.skipped > 0 ? 'finished' : 'failed';
}

/** `fell back from comfyui to sdapi: every ComfyUI server is down`, on one line. */
export function fallbackText(change: FallbackSwitch): string {
  return `fell back from ${change.from} to ${change.to}: ${oneLine(change.reason)}`;
}

/** The run's closing line after its outcome word, shared by plain lines and the dashboard: counts, fallback, exit code. */
export function summaryLine(summary: RunSummary): string {
  const fallback = summary.fellBack ? `; ${fallbackText(summary.fellBack)}` : '';
  return `${summaryText(summary)}${fallback} (exit code ${summary.exitCode})`;
}

/** Said after a cancel: the manifest and the cache make a rerun pick up where this one stopped. */
export const RESUME_HINT = 'run the same command again to resume; jobs already done come from the cache';
/** Said when no backend could get ready and the error brought no hint of its own. */
export const NO_BACKEND_HINT = 'start a ComfyUI server (or pass --server URL), or configure a fallback (--fallback URL or fallback.url)';

/**
 * What to do after a run, in one sentence, or null when there is nothing to do. `stoppedBy`
 * is what kept jobs from running (a cancel, no backend), with its hint if it has one.
 */
export function nextStep(
  outcome: Pick<RunSummary, 'exitCode' | 'failed' | 'skipped'>,
  stoppedBy: { readonly code: ErrorCode; readonly hint?: string | undefined } | null,
): string | null {
  if (outcome.exitCode === 130 || stoppedBy?.code === 'CANCELLED') return RESUME_HINT;
  if (stoppedBy !== null) return `${stoppedBy.hint ?? (stoppedBy.code === 'NO_BACKEND' ? NO_BACKEND_HINT : 'fix what stopped the run')}; then run the same command again`;
  if (outcome.exitCode === 3) return `${NO_BACKEND_HINT}; then run the same command again to render what is missing`;
  if (outcome.failed + outcome.skipped > 0) return 'see report.md for what failed, then run the same command again to retry it';
  return null;
}

/** A multi-line message (a pool's per-server reasons) folded onto one line. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** A place in a server's queue: `next`, or how many prompts are ahead. */
export function queuePosition(position: number | null): string {
  if (position === null) return '';
  return position === 0 ? ' (next)' : ` (${position} ahead)`;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The first line of a possibly multi-line message (preflight errors list one problem per line). */
export function firstLine(text: string): string {
  const end = text.indexOf('\n');
  return end === -1 ? text : text.slice(0, end);
}

/** A text bar of `width` cells for value/max (empty when max is unknown). */
export function bar(value: number, max: number, width: number): string {
  const cells = Math.max(0, Math.floor(width));
  const ratio = max > 0 ? Math.min(1, Math.max(0, value / max)) : 0;
  const full = Math.round(ratio * cells);
  return '█'.repeat(full) + '░'.repeat(cells - full);
}
