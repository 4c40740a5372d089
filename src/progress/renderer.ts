/**
 * Picks how a run's progress is shown and builds that renderer. One renderer, three modes
 * (after comfy-cli): an ink dashboard for people at a terminal, plain lines for CI and
 * pipes, JSON lines for tools. Under GitHub Actions failed jobs are also written as
 * workflow annotations.
 */
import type { CliIO } from '../cli/io.js';
import { DashboardRenderer } from './dashboard/index.js';
import type { RunEvent } from './events.js';
import { inGithubActions, workflowCommand } from './github.js';
import { JsonRenderer } from './json.js';
import { PlainRenderer } from './plain.js';
import { rendererContext, type ProgressMode, type Renderer, type RendererOptions } from './types.js';

export type { ProgressMode, Renderer, RendererOptions } from './types.js';

export interface ModeChoice {
  readonly flags: { readonly json?: boolean | undefined; readonly plain?: boolean | undefined };
  readonly io: CliIO;
  readonly env: NodeJS.ProcessEnv;
}

/**
 * In this order: `--json`; `--plain`; plain in CI (CI set to anything but "false"/"0"), on
 * a dumb terminal or when stdout is not a terminal; otherwise the interactive dashboard.
 */
export function chooseMode({ flags, io, env }: ModeChoice): ProgressMode {
  if (flags.json) return 'json';
  if (flags.plain) return 'plain';
  if (isCi(env) || env.TERM === 'dumb' || io.stdout.isTTY !== true) return 'plain';
  return 'interactive';
}

export function createRenderer(mode: ProgressMode, io: CliIO, options: RendererOptions = {}): Renderer {
  const renderer =
    mode === 'json' ? new JsonRenderer(io, options) : mode === 'plain' ? new PlainRenderer(io, options) : new DashboardRenderer(io, options);
  if (!inGithubActions(io.env)) return renderer;
  // Workflow commands are read from the step's output; in JSON mode stdout belongs to the event stream.
  return withAnnotations(renderer, mode === 'json' ? io.stderr : io.stdout, rendererContext(options).clean);
}

function isCi(env: NodeJS.ProcessEnv): boolean {
  const value = env.CI;
  return value !== undefined && value !== '' && value !== '0' && value !== 'false';
}

/** Adds a `::error` annotation for every failed job, pointing at the script when the event says where. */
function withAnnotations(inner: Renderer, out: NodeJS.WritableStream, clean: (text: string) => string): Renderer {
  let finished = false;
  return {
    onEvent: (event: RunEvent) => {
      inner.onEvent(event);
      if (finished || event.type !== 'job-failed') return;
      const annotation = workflowCommand({
        level: 'error',
        title: `comic: ${event.job} failed (${event.error.code})`,
        message: clean(event.error.message),
        ...(event.location ? { location: event.location } : {}),
      });
      out.write(`${annotation}\n`);
    },
    finish: (summary, error) => {
      finished = true;
      return inner.finish(summary, error);
    },
  };
}
