import { Command, CommanderError } from 'commander';
import { ComicError, ExitCode, isComicError } from '../errors.js';
import { processIO, type CliContext, type CliIO } from './io.js';
import { commands } from './commands/index.js';
import { version } from './version.js';

/** Builds the commander program; every command module adds itself through `commands`. */
export function buildProgram(ctx: CliContext): Command {
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
  for (const register of commands) register(program, ctx);
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
  const program = buildProgram(ctx);
  try {
    await program.parseAsync([...argv]);
    return exitCode;
  } catch (error) {
    return reportError(error, io);
  }
}

export function reportError(error: unknown, io: CliIO): number {
  if (error instanceof CommanderError) {
    // --help and --version end through here too, with exit code 0.
    return error.exitCode === 0 ? ExitCode.ok : ExitCode.invalidInput;
  }
  if (isComicError(error)) {
    io.stderr.write(formatComicError(error));
    return error.exitCode;
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  io.stderr.write(`comic: internal error (INTERNAL): ${message}\nPlease report this with the command you ran.\n`);
  return ExitCode.jobsFailed;
}

export function formatComicError(error: ComicError): string {
  const where = error.location ? `${error.location.file}:${error.location.line}:${error.location.column}: ` : '';
  const hint = error.hint ? `\n  hint: ${error.hint}` : '';
  return `comic: ${where}${error.message} (${error.code})${hint}\n`;
}
