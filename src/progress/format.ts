/**
 * Words and numbers the human renderers (plain lines and the dashboard) share, so both say
 * the same thing the same way.
 */
import type { RunSummary } from './events.js';

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

/** `57 jobs in 3m12s: 40 rendered, 15 cached, 1 failed, 1 skipped`. */
export function summaryText(summary: RunSummary): string {
  const parts = [`${summary.done} rendered`, `${summary.cached} cached`];
  if (summary.failed > 0) parts.push(`${summary.failed} failed`);
  if (summary.skipped > 0) parts.push(`${summary.skipped} skipped`);
  return `${plural(summary.total, 'job')} in ${formatDuration(summary.ms)}: ${parts.join(', ')}`;
}

/** What the run's outcome is called, from its exit code (the counts say how well it went). */
export function outcomeWord(summary: RunSummary): string {
  if (summary.exitCode === 130) return 'cancelled';
  return summary.ok || summary.done + summary.cached + summary.failed + summary.skipped > 0 ? 'finished' : 'failed';
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
