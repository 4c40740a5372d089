/**
 * What a command may touch of the outside world. main() gets the real process; tests pass
 * their own, so commands run in-process with captured output.
 */
export interface CliIO {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

/** What every command gets: the outside world, and a way to end with a code without throwing. */
export interface CliContext {
  readonly io: CliIO;
  /** For outcomes that are not errors of the command itself, e.g. "some jobs failed" (1). */
  setExitCode(code: number): void;
}

export function processIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

/** Collects output in memory, for tests. */
export function memoryIO(options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const sink = (into: string[]) =>
    ({
      write(chunk: string | Uint8Array) {
        into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
        return true;
      },
    }) as unknown as NodeJS.WritableStream;
  const io: CliIO = {
    stdout: sink(out),
    stderr: sink(err),
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
  };
  return { io, stdout: () => out.join(''), stderr: () => err.join('') };
}
