import { Command, CommanderError } from 'commander';
import { ComicError, ExitCode, isComicError } from '../errors.js';
import { processIO, type CliContext, type CliIO } from './io.js';
import { commands } from './commands/index.js';
import { version } from './version.js';
import { mask } from '../util/redact.js';

/**
 * Builds the commander program for `argv`. Only the command being run is loaded (see
 * CommandEntry.load); the others appear in `comic --help` by name and summary alone.
 */
export async function buildProgram(ctx: CliContext, argv: readonly string[] = []): Promise<Command> {
  const { io } = ctx;
  const program = new Command('comic')
    .description('Turn a YAML comic script into finished, lettered comic pages rendered through ComfyUI.')
    .version(version, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .exitOverride();
  const wanted = invokedCommand(argv);
  for (const entry of commands) {
    if (wanted === null || entry.name === wanted) (await entry.load())(program, ctx);
    else program.command(entry.name).summary(entry.summary);
    program.commands.at(-1)?.summary(entry.summary);
  }
  // Subcommands inherit the output and exit behaviour of the root.
  for (const sub of program.commands) {
    sub.configureOutput(program.configureOutput()).exitOverride();
  }
  return program;
}

/**
 * Runs the CLI and resolves to the exit code; it never calls process.exit itself, so tests
 * can run commands in-process and the launcher decides when the process ends.
 */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  let exitCode: number = ExitCode.ok;
  const ctx: CliContext = { io, setExitCode: (code) => (exitCode = code) };
  // A command owns the process until it has an answer. Between a socket closing and a
  // reconnect timer or fallback taking over, nothing else may be holding the event loop
  // open, and Node would end the process with exit 13 (an unsettled top-level await).
  const hold = setInterval(() => {}, 1 << 30);
  try {
    const program = await buildProgram(ctx, argv);
    await program.parseAsync([...argv]);
    return exitCode;
  } catch (error) {
    return reportError(error, io);
  } finally {
    clearInterval(hold);
  }
}

/**
 * The command `argv` runs (`comic help X` counts as X), or null to load every command when
 * it cannot tell (a typo gets commander's suggestion from the full list).
 */
function invokedCommand(argv: readonly string[]): string | null {
  const words = argv.slice(2).filter((a) => !a.startsWith('-'));
  const name = words[0] === 'help' ? words[1] : words[0];
  if (name === undefined) return '';
  return commands.some((c) => c.name === name) ? name : null;
}

export function reportError(error: unknown, io: CliIO): number {
  if (error instanceof CommanderError) {
    // --help and --version end through here too, with exit code 0.
    return error.exitCode === 0 ? ExitCode.ok : ExitCode.invalidInput;
  }
  if (isComicError(error)) {
    io.stderr.write(mask(formatComicError(error)));
    return error.exitCode;
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  // Masked like every text that leaves the process: secrets of the loaded configuration, control characters.
  io.stderr.write(mask(`comic: internal error (INTERNAL): ${message}\nPlease report this with the command you ran.\n`));
  return ExitCode.jobsFailed;
}

export function formatComicError(error: ComicError): string {
  const where = error.location ? `${error.location.file}:${error.location.line}:${error.location.column}: ` : '';
  const hint = error.hint ? `\n  hint: ${error.hint}` : '';
  return `comic: ${where}${error.message} (${error.code})${hint}\n`;
}
