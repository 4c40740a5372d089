/**
 * How `comic doctor` shows its checks as they finish, on a terminal and off it, with the same
 * verdict on each line either way: ✔ ok, ⚠ warning, ✖ failed, ↓ skipped.
 *
 * listr2 knows no "warning" state (a task completes or fails), and its own renderers disagree
 * about a task list: off a terminal its simple renderer ticks a parent whose subtask failed.
 * So every check is one flat task, its status is kept beside it (`CheckStatuses`), and two
 * renderers read it: on a terminal listr2's default renderer with the icon of a completed
 * task chosen by that status; off it a plain one printing one finished line per task, in the
 * shape the terminal's last frame has (the icon, the line, further lines indented by two).
 */
import { color, DefaultRenderer, ListrDefaultRendererLogLevels, ListrTaskEventType, type ListrDefaultRendererTask, type ListrRendererFactory, type ListrTaskObject } from 'listr2';
import type { CheckStatus } from './checks.js';

export const ICONS: Readonly<Record<CheckStatus, string>> = { ok: '✔', warning: '⚠', failed: '✖', skipped: '↓' };

/** The status of each finished check, by listr2 task id. */
export type CheckStatuses = Map<string, CheckStatus>;

/** The icons listr2's default renderer draws for finished tasks: the same characters as the plain lines. */
export const TERMINAL_ICONS = {
  [ListrDefaultRendererLogLevels.COMPLETED]: ICONS.ok,
  [ListrDefaultRendererLogLevels.FAILED]: ICONS.failed,
  [ListrDefaultRendererLogLevels.SKIPPED_WITH_COLLAPSE]: ICONS.skipped,
};

/** listr2's default renderer (spinners, redrawn in place), with ⚠ for a check that completed with a warning. */
export function terminalRenderer(statuses: CheckStatuses) {
  return class DoctorTerminalRenderer extends DefaultRenderer {
    protected override style(task: ListrDefaultRendererTask, output = false): string {
      if (!output && task.isCompleted() && statuses.get(task.id) === 'warning') return color.yellow(ICONS.warning);
      return super.style(task, output);
    }
  };
}

type PlainTask = ListrTaskObject<any, ListrRendererFactory, ListrRendererFactory>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Sink {
  write(chunk: string): unknown;
}

/**
 * Off a terminal: one line per finished check, in order, nothing redrawn. Tasks are shown when
 * they close (by then a failure's message is set), so none may use listr2's `skip` option,
 * which ends a task without closing it: a skipped check calls `task.skip(message)`.
 */
export function plainRenderer(statuses: CheckStatuses, out: Sink) {
  return class DoctorPlainRenderer {
    static nonTTY = true;
    static rendererOptions: Record<PropertyKey, unknown> = {};
    static rendererTaskOptions: Record<PropertyKey, unknown> = {};

    constructor(private readonly tasks: PlainTask[]) {}

    render(): void {
      for (const task of this.tasks) {
        let shown = false;
        task.on(ListrTaskEventType.CLOSED, () => {
          if (shown || !task.hasTitle()) return;
          shown = true;
          const line = plainLine(task, statuses.get(task.id));
          if (line) out.write(`${line}\n`);
        });
      }
    }

    end(): void {}
  };
}

function plainLine(task: PlainTask, status: CheckStatus | undefined): string | null {
  if (task.hasFailed()) return indent(ICONS.failed, task.message.error ?? task.title ?? '');
  if (task.isSkipped()) return indent(ICONS.skipped, task.message.skip ?? task.title ?? '');
  if (task.isCompleted()) return indent(status === 'warning' ? ICONS.warning : ICONS.ok, task.title ?? '');
  return null;
}

/** As the default renderer lays a message out: the icon, then every further line indented by two; no empty lines. */
function indent(icon: string, message: string): string {
  const lines = message.split('\n').map((line) => line.trimEnd()).filter(Boolean);
  return lines.map((line, i) => (i === 0 ? `${icon} ${line}` : `  ${line}`)).join('\n');
}
