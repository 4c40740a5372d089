/**
 * `comic generate <script...>`: the main job. Plans every script, renders what is not
 * cached on the chosen backend (ComfyUI servers with the SD API as fallback, or the draft
 * backend), composes the pages, writes the exports and a report. Several scripts share one
 * backend, so a batch keeps every server busy.
 */
import { resolve } from 'node:path';
import { Option } from 'commander';
import { loadConfig, type ResolvedConfig, type Secret } from '../../config/index.js';
import { commaList, configFlags, positiveInt, sharedOption, type CommonFlags } from '../options.js';
import { ownSignals } from '../signals.js';
import { ComicError, ExitCode, isComicError } from '../../errors.js';
import { chooseMode, createRenderer } from '../../progress/renderer.js';
import { EventBus, type RunSummary } from '../../progress/events.js';
import { nextStep } from '../../progress/format.js';
import type { Backend } from '../../backends/types.js';
import { createBackend } from '../../run/backends.js';
import { launchIfDown } from '../../run/launch.js';
import { RenderCache } from '../../run/cache.js';
import { generate } from '../../run/generate.js';
import { exportOptionsFrom, planExports, prepareScript, type PreparedScript } from '../../run/prepare.js';
import { predictRun } from '../../run/predict.js';
import { watchAndRun } from '../../run/watch.js';
import { loadTemplateRegistry, type TemplateRegistry } from '../../templates/index.js';
import type { CliContext } from '../io.js';
import type { RegisterCommand } from './index.js';

interface GenerateFlags extends CommonFlags {
  readonly only?: string[];
  readonly force?: boolean;
  readonly concurrency?: number;
  readonly dryRun?: boolean;
  readonly watch?: boolean;
  readonly json?: boolean;
  readonly plain?: boolean;
  /** --queue [url]: a URL, or true to take it from the environment. */
  readonly queue?: string | boolean;
}

export const registerGenerate: RegisterCommand = (program, ctx) => {
  program
    .command('generate')
    .description('Render comic scripts into lettered pages, PDF and CBZ (only what changed is rendered again)')
    .argument('<scripts...>', 'comic scripts (YAML); several share the same servers')
    .addOption(sharedOption.out())
    .addOption(sharedOption.cache())
    .option('--only <jobs>', 'render only these jobs (ids as in `comic plan`, comma-separated) and what they need', commaList)
    .option('--force', 'ignore the cache for the selected jobs')
    .addOption(sharedOption.server())
    .option('--concurrency <n>', 'prompts in flight per server', (v) => positiveInt(v, '--concurrency'))
    .addOption(new Option('--backend <name>', 'comfyui, sdapi or draft (no GPU: storyboard panels)').choices(['comfyui', 'sdapi', 'draft']))
    .addOption(sharedOption.fallback())
    .addOption(sharedOption.noFallback())
    .option('--keep-fallback', 'keep images the SD API fallback made instead of rendering them on ComfyUI once it is back (config: keepFallback)')
    .option('--queue [url]', 'render on the workers of a Redis queue: redis[s]://host:6379/0 (default $COMIC_REDIS_URL); see docs/distributed.md')
    .addOption(sharedOption.exports())
    .addOption(sharedOption.templates())
    .addOption(sharedOption.config())
    .option('--dry-run', 'plan and check, say what would be rendered, render nothing')
    .option('--watch', 'keep running: re-render what changed when a script, the config or a template changes')
    .addOption(new Option('--json', 'newline-delimited JSON events on stdout (docs/events.md)').conflicts('plain'))
    .option('--plain', 'plain log lines even on a terminal')
    .action(async (scripts: string[], flags: GenerateFlags) => {
      // Loaded for every run, so --watch picks up an edited config file.
      const load = async () => {
        const config = await loadConfig({ cwd: ctx.io.cwd, env: ctx.io.env, flags: configFlags(flags) });
        return flags.concurrency ? withConcurrency(config, flags.concurrency) : config;
      };
      const controller = cancelOnSignals(ctx);
      try {
        if (flags.watch) {
          const config = await load();
          const files = [...scripts.map((s) => resolve(ctx.io.cwd, s)), ...(config.files.project ? [config.files.project] : [])];
          const code = await watchAndRun({ files, dirs: config.templates, io: ctx.io, signal: controller.signal }, async (signal) =>
            runOnce(scripts, await load(), flags, ctx, signal),
          );
          ctx.setExitCode(controller.signal.aborted ? ExitCode.cancelled : code);
        } else {
          ctx.setExitCode(await runOnce(scripts, await load(), flags, ctx, controller.signal));
        }
      } finally {
        controller.dispose();
      }
    });
};

async function runOnce(scripts: readonly string[], config: ResolvedConfig, flags: GenerateFlags, ctx: CliContext, signal: AbortSignal): Promise<number> {
  if (flags.queue !== undefined && flags.queue !== false) {
    // Loaded only for --queue: BullMQ and ioredis are not needed on a single machine.
    const { queueBackendFromFlag } = await import('../../distributed/index.js');
    const queued = queueBackendFromFlag(flags.queue, ctx.io)!;
    return runPipeline({ scripts, config, flags, ctx, signal, backend: () => queued, secrets: queued.target.secrets, local: false });
  }
  return runPipeline({ scripts, config, flags, ctx, signal, backend: (bus) => createBackend(config, bus), secrets: [], local: true });
}

export interface PipelineRun {
  readonly scripts: readonly string[];
  readonly config: ResolvedConfig;
  readonly flags: Pick<GenerateFlags, 'only' | 'force' | 'dryRun' | 'json' | 'plain'>;
  readonly ctx: CliContext;
  readonly signal: AbortSignal;
  readonly backend: (bus: EventBus) => Backend;
  /** Credentials beyond the config's (a queue URL's password): masked in all output. */
  readonly secrets: readonly Secret[];
  /** The backend renders on this machine's configured servers, so `comfyui.launch` applies. */
  readonly local: boolean;
}

/** Plan, render what is missing, compose, export, report: `generate` and `compose` differ only in the backend. */
export async function runPipeline({ scripts, config, flags, ctx, signal, ...make }: PipelineRun): Promise<number> {
  const templates = await loadTemplateRegistry({ dirs: [...config.templates] });
  const prepared = await prepareAll(scripts, ctx.io.cwd, templates, config);
  const cache = new RenderCache(config.cache);
  if (flags.dryRun) return dryRun(prepared, cache, config, flags, ctx);

  const bus = new EventBus();
  const mode = chooseMode({ flags: { json: flags.json, plain: flags.plain }, io: ctx.io, env: ctx.io.env });
  const renderer = createRenderer(mode, ctx.io, { secrets: [...config.secrets, ...make.secrets] });
  bus.on(renderer.onEvent);
  // A run that stops with an error (no backend) still ends with its real summary: every job, not run.
  let finished: RunSummary | null = null;
  bus.on((event) => {
    if (event.type === 'run-finished') finished = event.summary;
  });
  const backend = make.backend(bus);
  const launched =
    make.local && config.backend === 'comfyui' && config.comfyui.launch
      ? await launchIfDown({ url: config.servers[0]!.url, launch: config.comfyui.launch, signal, log: (line) => ctx.io.stderr.write(`${line}\n`) })
      : null;
  try {
    const result = await generate({
      scripts: prepared,
      outDir: config.output,
      backend,
      templates,
      cache,
      bus,
      signal,
      only: flags.only ?? null,
      force: flags.force ?? false,
      keepFallback: config.keepFallback,
      // The same options the plan keyed the exports with.
      exportOptions: exportOptionsFrom(config),
    });
    await renderer.finish(result.summary, result.stopped ?? undefined);
    return result.summary.exitCode;
  } catch (error) {
    // The renderer still closes its output (the JSON stream ends with its summary line).
    await renderer.finish(finished ?? failedSummary(error), error);
    throw error;
  } finally {
    await backend.close();
    await launched?.stop();
  }
}

async function prepareAll(scripts: readonly string[], cwd: string, templates: TemplateRegistry, config: ResolvedConfig): Promise<PreparedScript[]> {
  const exports = planExports(config);
  const prepared: PreparedScript[] = [];
  const exportOptions = exportOptionsFrom(config);
  for (const path of scripts) prepared.push(await prepareScript(path, { cwd, templates, exports, exportOptions }));
  return prepared;
}

/**
 * `--dry-run`: what a run would do, from the plan, the cache and the run manifest alone, by
 * the run's own rules (src/run/predict.ts): which images are rendered (a draft storyboard
 * never stands in for a real render; the fallback's images are rendered on ComfyUI unless
 * kept), which pages are composed again, which exports are made.
 */
async function dryRun(prepared: readonly PreparedScript[], cache: RenderCache, config: ResolvedConfig, flags: PipelineRun['flags'], ctx: CliContext): Promise<number> {
  const rows = await predictRun({
    scripts: prepared,
    cache,
    outDir: config.output,
    backend: config.backend,
    only: flags.only ?? null,
    force: flags.force ?? false,
    keepFallback: config.keepFallback,
  });
  if (flags.json) {
    ctx.io.stdout.write(`${JSON.stringify({ schema: 'comic.dry-run/1', jobs: rows })}\n`);
  } else {
    for (const row of rows) ctx.io.stdout.write(`${row.cached ? 'cached ' : 'render '} ${row.job}${row.reason ? `  (${DRY_RUN_REASONS[row.reason]})` : ''}\n`);
    const toRender = rows.filter((r) => !r.cached).length;
    ctx.io.stdout.write(`${toRender} of ${rows.length} jobs would run; ${rows.length - toRender} are cached.\n`);
    if (config.backend === 'comfyui' && config.fallback !== null) {
      ctx.io.stdout.write('This assumes ComfyUI answers; if the run falls back to the SD API, the images the fallback made before are kept.\n');
    }
  }
  return ExitCode.ok;
}

const DRY_RUN_REASONS = {
  draft: 'the cached image is a draft storyboard',
  fallback: 'the cached image was made by the SD API fallback; --keep-fallback keeps it',
  inputs: 'what it is made from is made again',
  forced: '--force',
} as const;

function withConcurrency(config: ResolvedConfig, n: number): ResolvedConfig {
  return { ...config, servers: config.servers.map((s) => ({ ...s, maxConcurrent: n })) };
}


/** The summary of a run that ended before generate() could say (an error before or outside it). */
function failedSummary(error: unknown): RunSummary {
  const exitCode = error instanceof ComicError ? error.exitCode : ExitCode.jobsFailed;
  const next = nextStep({ exitCode, failed: 0, skipped: 0 }, isComicError(error) ? error : null);
  return { ok: false, exitCode, total: 0, done: 0, cached: 0, failed: 0, skipped: 0, cancelled: 0, notRun: 0, warnings: 0, ms: 0, fallback: false, fellBack: null, next };
}

/**
 * Ctrl-C (or SIGTERM from CI) cancels the run: our remote prompts are interrupted and
 * dequeued, finished work stays recorded, and the command exits 130. A second Ctrl-C
 * exits at once.
 */
export function cancelOnSignals(ctx: CliContext): AbortController & { dispose(): void } {
  const controller = new AbortController();
  const owned = ownSignals({
    first: () => {
      ctx.io.stderr.write('\ncomic: cancelling: stopping our prompts on the servers (Ctrl-C again to quit at once)\n');
      controller.abort(new ComicError('CANCELLED', 'the run was cancelled'));
    },
    second: () => process.exit(ExitCode.cancelled),
  });
  return Object.assign(controller, { dispose: () => owned.dispose() });
}
