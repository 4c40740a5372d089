/**
 * `comic doctor [--server URL] [--fallback URL] [--json]`: checks, as a listr2 task list,
 * everything `comic generate` needs, and says how to fix what is missing: the config; each
 * ComfyUI server (reachable, its ComfyUI version, device, VRAM); what each template needs on
 * each server (nodes and models, by the same preflight a run uses); the SD API fallback; the
 * output and cache folders; free disk. One task per check, shown ✔ ok, ⚠ warning, ✖ failed or
 * ↓ skipped, the same on a terminal and off it (src/doctor/render.ts). Exit code 0 only when
 * `generate` can run (warnings allowed); otherwise the exit code of the blocking problem
 * (3 no backend, 2 invalid setup, 1 disk full): non-zero exactly when a check failed.
 */
import { Listr, ListrLogger, ProcessOutput, SilentRenderer, type ListrRendererFactory, type ListrTask } from 'listr2';
import { loadConfig, type ResolvedConfig } from '../../config/index.js';
import { configFlags, sharedOption, type CommonFlags } from '../options.js';
import { isComicError } from '../../errors.js';
import {
  configCheck,
  configFailure,
  DEFAULT_DISK_LIMITS,
  diskCheck,
  fallbackCheck,
  folderCheck,
  headline,
  serverCheck,
  serverTemplatesCheck,
  serverTitle,
  templateProblemsOn,
  templatesCheck,
  verdict,
  verdictExitCode,
  type CheckResult,
  type DiskLimits,
} from '../../doctor/checks.js';
import { deviceOf, probeComfy, probeDisk, probeFallback, probeFolder, type ComfyProbe, type DiskProbe, type FallbackProbe } from '../../doctor/probes.js';
import { ICONS, plainRenderer, TERMINAL_ICONS, terminalRenderer, type CheckStatuses } from '../../doctor/render.js';
import { loadTemplateRegistry, type Template } from '../../templates/index.js';
import type { CliContext } from '../io.js';
import type { RegisterCommand } from './index.js';
import { mask, maskDeep, maskedJson } from '../../util/redact.js';

interface DoctorFlags extends CommonFlags {
  readonly json?: boolean;
}

export interface DoctorOptions {
  readonly disk?: DiskLimits;
}


export function createDoctorCommand(options: DoctorOptions = {}): RegisterCommand {
  return (program, ctx) => {
    program
      .command('doctor')
      .description('Check that everything `comic generate` needs is in place, and say how to fix what is not')
      .addOption(sharedOption.server('check this ComfyUI server instead of the configured ones (repeatable)'))
      .addOption(sharedOption.fallback('check this Stable Diffusion API as the fallback'))
      .addOption(sharedOption.noFallback('do not check the SD API fallback'))
      .addOption(sharedOption.config())
      .option('--json', 'print the checks as one JSON document (docs/events.md)')
      .action(async (flags: DoctorFlags) => {
        ctx.setExitCode(await runDoctor(ctx, flags, options));
      });
  };
}

export const registerDoctor: RegisterCommand = createDoctorCommand();

/** What the tasks learn, in the order they learn it. */
interface DoctorState {
  templates: Template[];
  /** Every server's answer, in the configured order. */
  probed: ComfyProbe[];
  templateProblems: Map<string, ReadonlyMap<Template, readonly string[]>>;
  fallbackProbe: FallbackProbe | null;
  checks: CheckResult[];
}

async function runDoctor(ctx: CliContext, flags: DoctorFlags, options: DoctorOptions): Promise<number> {
  const { io } = ctx;
  const state: DoctorState = { templates: [], probed: [], templateProblems: new Map(), fallbackProbe: null, checks: [] };
  const statuses: CheckStatuses = new Map();
  // Findings carry what servers said (versions, device names, error bodies): each is masked
  // (credentials of the loaded configuration, control characters) before it is kept, so every
  // renderer, the JSON and the verdict only ever see the masked text.
  const record = (found: CheckResult): CheckResult => {
    const check = maskDeep(found);
    state.checks.push(check);
    return check;
  };
  /** Shows a finding on its task (title, icon by status) and keeps it for the verdict. */
  const show = (task: TaskLike, found: CheckResult): void => {
    const check = record(found);
    statuses.set(task.task.id, check.status);
    switch (check.status) {
      case 'ok':
      case 'warning':
        task.title = headline(check);
        return;
      case 'skipped':
        return skip(task, headline(check));
      case 'failed':
        // The title first: listr2 draws a task as failed before it learns the error's message.
        task.title = describe(check);
        throw new Error(describe(check));
    }
  };

  // The config says which servers there are, so it is read before the task list is made:
  // one task per check, flat, so that no task's icon stands for several verdicts.
  let config: ResolvedConfig | null = null;
  let configResult: CheckResult;
  try {
    config = await loadConfig({ cwd: io.cwd, env: io.env, flags: configFlags(flags) });
    configResult = configCheck(config);
  } catch (error) {
    if (!isComicError(error)) throw error;
    configResult = configFailure(error);
  }

  const tasks: ListrTask[] = [{ title: 'Configuration', task: (_, task) => show(task, configResult) }];
  if (config === null) {
    for (const title of ['Templates', 'ComfyUI servers', 'SD API fallback', 'Output folder', 'Cache folder', 'Free disk']) {
      tasks.push({ title, task: (_, task) => skip(task, `${title}: not checked (the configuration is invalid)`) });
    }
  } else {
    tasks.push(...checkTasks(config, state, show, options));
  }

  const listr = new Listr<unknown, ListrRendererFactory, ListrRendererFactory>(tasks, {
    exitOnError: false,
    registerSignalListeners: false,
    ...rendererFor(io, flags, statuses),
  });
  await listr.run();

  const final = maskDeep(config
    ? verdict({ config, checks: state.checks, servers: state.probed, templateProblems: state.templateProblems, fallback: state.fallbackProbe })
    : { ...configResult, id: 'generate', title: 'Ready for comic generate', message: `comic generate cannot run: ${configResult.message}` });
  const exitCode = verdictExitCode(final);
  if (flags.json) {
    io.stdout.write(`${maskedJson({ schema: 'comic.doctor/1', ok: exitCode === 0, exitCode, checks: [...state.checks, final] }, 2)}\n`);
  } else {
    io.stdout.write(mask(`\n${ICONS[final.status]} ${final.message}\n`));
    if (final.status === 'failed') io.stdout.write(mask(`  error code ${final.code ?? 'INTERNAL'} (docs/errors.md)${final.fix ? `\n  → ${final.fix}` : ''}\n`));
    for (const warning of state.checks.filter((c) => c.status === 'warning')) io.stdout.write(mask(`${ICONS.warning} ${warning.title}: ${warning.message}${warning.fix ? `\n  → ${warning.fix}` : ''}\n`));
  }
  return exitCode;
}

/** The checks after the config's, in the order they are shown. Every probe is started at once; each task waits for the answers it needs. */
function checkTasks(config: ResolvedConfig, state: DoctorState, show: (task: TaskLike, check: CheckResult) => void, options: DoctorOptions): ListrTask[] {
  const pending = config.servers.map((server) => probeComfy(server, config.timeouts.connect));
  const fallback = config.fallback ? probeFallback(config.fallback, config.timeouts.connect) : Promise.resolve(null);
  const allServers = Promise.all(pending);
  // Per server, what each template lacks there: all at once (it is quick and local), so each
  // server's finding can say whether another server covers for it.
  let problems: Promise<void> | null = null;
  const templateProblems = () =>
    (problems ??= allServers.then((probed) => {
      for (const probe of probed.filter(isUp)) state.templateProblems.set(probe.server.name, templateProblemsOn(probe, state.templates));
    }));

  return [
    {
      title: 'Templates',
      task: async (_, task) => {
        const registry = await loadTemplateRegistry({ dirs: [...config.templates], strict: false });
        state.templates = registry.ids().map((id) => registry.get(id));
        show(task, templatesCheck(state.templates, registry.problems));
      },
    },
    ...config.servers.map(
      (server, i): ListrTask => ({
        title: `ComfyUI ${serverTitle(server)}`,
        task: async (_, task) => {
          const probe = await pending[i]!;
          state.probed[i] = probe;
          // A server that is down fails the check only when nothing can do its work instead:
          // no other server answers and neither does the SD API fallback.
          let required = false;
          if (!probe.ok && config.backend === 'comfyui') {
            const [others, fallbackProbe] = await Promise.all([Promise.all(pending.filter((_p, j) => j !== i)), fallback]);
            required = !others.some((o) => o.ok) && fallbackProbe?.ok !== true;
          }
          show(task, serverCheck(probe, required));
        },
      }),
    ),
    ...config.servers.map(
      (server, i): ListrTask => ({
        title: `${server.name}: templates`,
        task: async (_, task) => {
          const probe = await pending[i]!;
          if (!probe.ok) return skip(task, `${server.name}: templates: not checked (the server does not answer)`);
          await templateProblems();
          show(task, serverTemplatesCheck(probe, state.templateProblems));
        },
      }),
    ),
    {
      title: 'SD API fallback',
      task: async (_, task) => {
        state.fallbackProbe = await fallback;
        show(task, fallbackCheck(config, state.fallbackProbe));
      },
    },
    {
      title: 'Output folder',
      task: async (_, task) => show(task, folderCheck('output', await probeFolder(config.output))),
    },
    {
      title: 'Cache folder',
      task: async (_, task) => show(task, folderCheck('cache', await probeFolder(config.cache))),
    },
    {
      title: 'Free disk',
      task: async (_, task) => {
        show(task, diskCheck(await disks([config.output, config.cache]), options.disk ?? DEFAULT_DISK_LIMITS));
      },
    },
  ];
}

/**
 * On a terminal, listr2's default renderer; off one, doctor's plain lines; the same icons and
 * verdicts either way (src/doctor/render.ts). A pseudo-terminal that reports no size (`script`
 * without a terminal of its own) would wrap every character onto a line of its own and show
 * no line at all while the checks run: it gets $COLUMNS × $LINES, or 80 × 24 as the dashboard.
 */
function rendererFor(io: CliContext['io'], flags: DoctorFlags, statuses: CheckStatuses): { renderer: ListrRendererFactory; fallbackRenderer?: ListrRendererFactory; rendererOptions?: Record<PropertyKey, unknown> } {
  const plain = plainRenderer(statuses, io.stdout);
  if (flags.json) return { renderer: SilentRenderer };
  if (!io.stdout.isTTY || !process.stdout.isTTY) return { renderer: plain, fallbackRenderer: plain };
  if (!(process.stdout.columns > 0)) process.stdout.columns = Number(io.env.COLUMNS) > 0 ? Number(io.env.COLUMNS) : 80;
  if (!(process.stdout.rows > 0)) process.stdout.rows = Number(io.env.LINES) > 0 ? Number(io.env.LINES) : 24;
  return {
    renderer: terminalRenderer(statuses),
    fallbackRenderer: plain,
    rendererOptions: {
      icon: TERMINAL_ICONS,
      logger: new ListrLogger({ processOutput: new ProcessOutput(facade(io.stdout), facade(io.stderr)) }),
    },
  };
}

/**
 * What listr2's ProcessOutput gets instead of the stream itself: it swaps the `write` of what
 * it is given while it draws, and that must not reach the stream (the process's own, behind
 * io's closed-safe wrapper, whose `write` calls it: swapped, the two would call each other).
 */
function facade(stream: CliContext['io']['stdout']): NodeJS.WriteStream {
  const size = process.stdout;
  return {
    isTTY: true,
    columns: size.columns,
    rows: size.rows,
    write: (chunk: string | Uint8Array, ...rest: unknown[]) => (stream.write as (...args: unknown[]) => boolean)(chunk, ...rest),
  } as unknown as NodeJS.WriteStream;
}

/** Skips a task, its title first: listr2 draws a task as skipped before it learns why. */
function skip(task: TaskLike, text: string): void {
  const message = mask(text);
  task.title = message;
  task.skip(message);
}

const isUp = (probe: ComfyProbe): probe is Extract<ComfyProbe, { ok: true }> => probe.ok;

/** What doctor uses of a listr2 task wrapper. */
type TaskLike = { title: string; skip(message?: string): void; readonly task: { readonly id: string } };

function describe(check: CheckResult): string {
  return `${headline(check)}${check.code ? ` (${check.code})` : ''}${check.fix ? `\n→ ${check.fix}` : ''}`;
}

/** One reading per disk: output and cache on the same device are counted once. */
async function disks(paths: readonly string[]): Promise<DiskProbe[]> {
  const seen = new Set<number | string>();
  const found: DiskProbe[] = [];
  for (const path of paths) {
    const device = (await deviceOf(path)) ?? path;
    if (seen.has(device)) continue;
    seen.add(device);
    const disk = await probeDisk(path);
    if (disk) found.push(disk);
  }
  return found;
}

