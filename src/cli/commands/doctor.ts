/**
 * `comic doctor [--server URL] [--fallback URL] [--json]`: checks, as a listr2 task list,
 * everything `comic generate` needs, and says how to fix what is missing: the config; each
 * ComfyUI server (reachable, version, VRAM); what each template needs on each server
 * (nodes and models, by the same preflight a run uses); the SD API fallback; the output
 * and cache folders; free disk. Exit code 0 only when `generate` can run; otherwise the
 * exit code of the blocking problem (3 no backend, 2 invalid setup, 1 disk full).
 */
import { Listr, ListrLogger, ProcessOutput, type ListrTask } from 'listr2';
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
  serverCheck,
  serverTemplatesCheck,
  templateProblemsOn,
  templatesCheck,
  verdict,
  verdictExitCode,
  type CheckResult,
  type DiskLimits,
} from '../../doctor/checks.js';
import { deviceOf, probeComfy, probeDisk, probeFallback, probeFolder, type ComfyProbe, type DiskProbe, type FallbackProbe } from '../../doctor/probes.js';
import { loadTemplateRegistry, type Template } from '../../templates/index.js';
import type { CliContext } from '../io.js';
import type { RegisterCommand } from './index.js';

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
  config: ResolvedConfig | null;
  templates: Template[];
  servers: Map<string, Promise<ComfyProbe>>;
  probed: ComfyProbe[];
  templateProblems: Map<string, ReadonlyMap<Template, readonly string[]>>;
  fallback: Promise<FallbackProbe | null>;
  fallbackProbe: FallbackProbe | null;
  checks: CheckResult[];
}

async function runDoctor(ctx: CliContext, flags: DoctorFlags, options: DoctorOptions): Promise<number> {
  const { io } = ctx;
  const state: DoctorState = {
    config: null,
    templates: [],
    servers: new Map(),
    probed: [],
    templateProblems: new Map(),
    fallback: Promise.resolve(null),
    fallbackProbe: null,
    checks: [],
  };
  const record = (check: CheckResult): CheckResult => {
    state.checks.push(check);
    return check;
  };
  const configured = () => state.config !== null;

  const tasks: ListrTask[] = [
    {
      title: 'Configuration',
      task: async (_, task) => {
        try {
          state.config = await loadConfig({ cwd: io.cwd, env: io.env, flags: configFlags(flags) });
        } catch (error) {
          if (!isComicError(error)) throw error;
          return show(task, record(configFailure(error)));
        }
        const config = state.config;
        // Every server and the fallback are asked at once; the tasks below wait for their answers.
        for (const server of config.servers) state.servers.set(server.name, probeComfy(server, config.timeouts.connect));
        if (config.fallback) state.fallback = probeFallback(config.fallback, config.timeouts.connect);
        show(task, record(configCheck(config)));
      },
    },
    {
      title: 'Templates',
      skip: () => !configured(),
      task: async (_, task) => {
        const registry = await loadTemplateRegistry({ dirs: [...state.config!.templates], strict: false });
        state.templates = registry.ids().map((id) => registry.get(id));
        show(task, record(templatesCheck(state.templates, registry.problems)));
      },
    },
    {
      title: 'ComfyUI servers',
      skip: () => !configured(),
      task: (_, task) =>
        task.newListr(
          [...state.servers].map(([name, pending]) => ({
            title: name,
            task: async (_ctx, sub) => {
              const probe = await pending;
              // A server that is down matters most when it is the only hope: wait for the others to say.
              const others = probe.ok ? [] : await Promise.all([...state.servers].filter(([n]) => n !== name).map(([, p]) => p));
              state.probed.push(probe);
              const required = state.config!.backend === 'comfyui' && !others.some((o) => o.ok);
              show(sub, record(serverCheck(probe, required)));
            },
          })),
          { concurrent: true, exitOnError: false },
        ),
    },
    {
      title: 'Templates on each server',
      skip: () => (!configured() ? true : state.probed.some((p) => p.ok) ? false : 'Templates on each server: no ComfyUI server answers'),
      task: (_, task) => {
        // All at once (it is quick and local), so each server's finding can say whether another server covers for it.
        for (const probe of state.probed.filter(isUp)) state.templateProblems.set(probe.server.name, templateProblemsOn(probe, state.templates));
        return task.newListr(
          state.probed.filter(isUp).map((probe) => ({
            title: probe.server.name,
            task: (_ctx, sub) => show(sub, record(serverTemplatesCheck(probe, state.templateProblems))),
          })),
          { exitOnError: false },
        );
      },
    },
    {
      title: 'SD API fallback',
      skip: () => !configured(),
      task: async (_, task) => {
        state.fallbackProbe = await state.fallback;
        show(task, record(fallbackCheck(state.config!, state.fallbackProbe)));
      },
    },
    {
      title: 'Output and cache folders',
      skip: () => !configured(),
      task: async (_, task) => {
        const config = state.config!;
        const output = folderCheck('output', await probeFolder(config.output));
        const cache = folderCheck('cache', await probeFolder(config.cache));
        record(output);
        record(cache);
        const failed = [output, cache].filter((c) => c.status === 'failed');
        if (failed.length > 0) throw new Error(failed.map(describe).join('\n'));
        task.title = `${output.title}: ${output.message}; ${cache.title}: ${cache.message}`;
      },
    },
    {
      title: 'Free disk',
      skip: () => !configured(),
      task: async (_, task) => {
        show(task, record(diskCheck(await disks([state.config!.output, state.config!.cache]), options.disk ?? DEFAULT_DISK_LIMITS)));
      },
    },
  ];

  const listr = new Listr(tasks, {
    exitOnError: false,
    registerSignalListeners: false,
    renderer: flags.json ? 'silent' : io.stdout.isTTY ? 'default' : 'simple',
    fallbackRenderer: 'simple',
    rendererOptions: { logger: new ListrLogger({ processOutput: new ProcessOutput(io.stdout as NodeJS.WriteStream, io.stderr as NodeJS.WriteStream) }) },
  });
  await listr.run();

  const final = state.config
    ? verdict({ config: state.config, checks: state.checks, servers: state.probed, templateProblems: state.templateProblems, fallback: state.fallbackProbe })
    : { ...state.checks[0]!, id: 'generate', title: 'Ready for comic generate', message: `comic generate cannot run: ${state.checks[0]!.message}` };
  const exitCode = verdictExitCode(final);
  if (flags.json) {
    io.stdout.write(`${JSON.stringify({ schema: 'comic.doctor/1', ok: exitCode === 0, exitCode, checks: [...state.checks, final] }, null, 2)}\n`);
  } else {
    io.stdout.write(`\n${final.status === 'failed' ? '✖' : final.status === 'warning' ? '⚠' : '✔'} ${final.message}\n`);
    if (final.status === 'failed') io.stdout.write(`  error code ${final.code ?? 'INTERNAL'} (docs/errors.md)${final.fix ? `\n  → ${final.fix}` : ''}\n`);
    for (const warning of state.checks.filter((c) => c.status === 'warning')) io.stdout.write(`⚠ ${warning.title}: ${warning.message}${warning.fix ? `\n  → ${warning.fix}` : ''}\n`);
  }
  return exitCode;
}

const isUp = (probe: ComfyProbe): probe is Extract<ComfyProbe, { ok: true }> => probe.ok;

type TaskLike = { title: string; skip(message?: string): void };

/** Shows a finding on its task: the title says what was found; a failure fails the task with what to do. */
function show(task: TaskLike, check: CheckResult): void {
  switch (check.status) {
    case 'ok':
      task.title = `${check.title}: ${check.message}`;
      return;
    case 'warning':
      task.title = `${check.title}: ⚠ ${check.message.split('\n')[0]}`;
      return;
    case 'skipped':
      return task.skip(`${check.title}: ${check.message}`);
    case 'failed':
      throw new Error(describe(check));
  }
}

function describe(check: CheckResult): string {
  return `${check.title}: ${check.message}${check.code ? ` (${check.code})` : ''}${check.fix ? `\n→ ${check.fix}` : ''}`;
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

