/**
 * What the dashboard shows, as lines of text: a pure function of the state, the clock and
 * the terminal size. The frame is always shorter than the terminal (so it is redrawn in
 * place and never scrolls); lanes come before warnings when rows are short, and the view
 * truncates each line to the terminal's width.
 */
import type { Colour } from '../color.js';
import { bar, fallbackText, formatBytes, formatDuration, outcomeWord, queuePosition, summaryLine } from '../format.js';
import { etaMs, laneJobs, waiting, type DashboardState, type Lane } from './state.js';

export interface Line {
  readonly text: string;
  readonly colour?: Colour;
  /** Wrap instead of truncating: only in the final summary, which is never redrawn. */
  readonly wrap?: boolean;
}

export interface FrameSize {
  readonly columns: number;
  readonly rows: number;
}

const MAX_LANE_NAME = 16;
const MAX_BAR = 30;

export function dashboardLines(state: DashboardState, now: number, size: FrameSize): Line[] {
  return state.summary === null ? runningLines(state, now, size) : summaryLines(state);
}

function runningLines(state: DashboardState, now: number, size: FrameSize): Line[] {
  const top: Line[] = [header(state, now), overall(state, now, size.columns)];
  if (state.fallback) top.push({ text: `⚠ Fell back from ${state.fallback.from} to ${state.fallback.to}: ${state.fallback.reason}`, colour: 'yellow' });

  const queuedHere = waiting(state);
  const bottom: Line[] = queuedHere > 0 ? [{ text: `${'waiting'.padEnd(laneWidth(state))}  ${queuedHere} job${queuedHere === 1 ? '' : 's'} not yet sent to a server`, colour: 'dim' }] : [];

  // One row stays free: a frame as tall as the terminal would make it scroll.
  let room = Math.max(1, size.rows - 1) - top.length - bottom.length;
  const lanes = Object.values(state.lanes);
  const lanesShown = lanes.length <= room ? lanes : lanes.slice(0, Math.max(0, room - 1));
  const laneLines = lanesShown.map((lane) => laneLine(state, lane, size.columns));
  if (lanesShown.length < lanes.length && room > 0) laneLines.push({ text: `+${lanes.length - lanesShown.length} more servers`, colour: 'dim' });
  room -= laneLines.length;

  const warnings = room > 0 ? state.warnings.slice(-room) : [];
  const warningLines = warnings.map((text): Line => ({ text: `! ${text}`, colour: 'yellow' }));
  return [...top, ...laneLines, ...bottom, ...warningLines];
}

function header(state: DashboardState, now: number): Line {
  const parts = ['comic'];
  if (state.scripts.length > 0) parts.push(state.scripts.map(baseName).join(', '));
  if (state.backend) parts.push(state.backend);
  if (state.startedAt !== null) parts.push(formatDuration(now - state.startedAt));
  return { text: parts.join(' · '), colour: 'bold' };
}

function overall(state: DashboardState, now: number, columns: number): Line {
  const finished = state.done + state.cached + state.failed + state.skipped;
  const parts = [`${finished}/${state.total} jobs`, `${state.cached} cached`];
  if (state.failed > 0) parts.push(`${state.failed} failed`);
  if (state.skipped > 0) parts.push(`${state.skipped} skipped`);
  const eta = etaMs(state, now);
  parts.push(`ETA ${eta === null ? '–' : formatDuration(eta)}`);
  const text = parts.join(' · ');
  const width = Math.min(MAX_BAR, columns - text.length - 2);
  return { text: width >= 5 ? `${bar(finished, state.total, width)}  ${text}` : text, colour: state.failed > 0 ? 'red' : 'green' };
}

function laneLine(state: DashboardState, lane: Lane, columns: number): Line {
  const name = truncate(lane.name, MAX_LANE_NAME).padEnd(laneWidth(state));
  if (lane.state === 'down') return { text: `${name}  ✖ down${lane.reason ? `: ${lane.reason}` : ''}`, colour: 'red' };
  if (lane.state === 'reconnecting') return { text: `${name}  ↻ reconnecting${lane.reason ? `: ${lane.reason}` : ''}`, colour: 'yellow' };
  const { current, running, queued } = laneJobs(state, lane.name);
  const extra = `${running > 0 ? `  +${running} running` : ''}${queued > 0 ? `  +${queued} queued` : ''}`;
  if (current === null) {
    const vram = lane.vram && lane.vram.total > 0 ? ` · VRAM ${formatBytes(lane.vram.used)}/${formatBytes(lane.vram.total)}` : '';
    return { text: `${name}  · idle${vram}`, colour: 'dim' };
  }
  if (current.phase === 'queued') {
    return { text: `${name}  … ${current.job} queued${queuePosition(current.position)}${extra}`, colour: 'dim' };
  }
  const head = `${name}  ▶ ${current.job}`;
  const steps = current.max > 0 ? `${current.value}/${current.max}` : '';
  // The bar takes what is left after the text, within bounds; the node title goes last so truncation eats it first.
  const barWidth = current.max > 0 ? Math.min(20, Math.max(0, columns - head.length - steps.length - 20)) : 0;
  const progress = current.max > 0 ? ` ${barWidth >= 5 ? `${bar(current.value, current.max, barWidth)} ` : ''}${steps}` : '';
  const node = current.node ? `  ${current.node}` : '';
  return { text: `${head}${progress}${extra}${node}` };
}

function summaryLines(state: DashboardState): Line[] {
  const summary = state.summary!;
  // The fallback has a line of its own here (from the events, which the frame already masks).
  const line = summaryLine({ ...summary, fellBack: null });
  const lines: Line[] = [{ text: `${summary.ok ? '✔' : '✖'} comic ${outcomeWord(summary)}: ${line}`, colour: summary.ok ? 'green' : 'red', wrap: true }];
  const fellBack = state.fallback ?? summary.fellBack;
  if (fellBack) lines.push({ text: `  ⚠ ${fallbackText(fellBack)}`, colour: 'yellow' });
  for (const failure of state.failures) lines.push({ text: `  ✗ ${failure.job}: ${failure.code}: ${failure.message.split('\n')[0]}`, colour: 'red' });
  const unlisted = summary.failed - state.failures.length;
  if (unlisted > 0) lines.push({ text: `  … and ${unlisted} more failed (see report.json)`, colour: 'red' });
  const warnings = Math.max(summary.warnings, state.warningCount);
  if (warnings > 0) lines.push({ text: `  ${warnings} warning${warnings === 1 ? '' : 's'} (see report.md)`, colour: 'yellow' });
  if (summary.next !== null) lines.push({ text: `  → ${summary.next}`, colour: summary.ok ? 'green' : 'yellow', wrap: true });
  return lines;
}

function laneWidth(state: DashboardState): number {
  const names = Object.keys(state.lanes).map((n) => Math.min(n.length, MAX_LANE_NAME));
  return Math.max(7, ...names);
}

function truncate(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

function baseName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
}
