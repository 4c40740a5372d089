/**
 * What a command may touch of the outside world. main() gets the real process; tests pass
 * their own, so commands run in-process with captured output.
 */
import { maskSecrets } from '../util/redact.js';

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

/**
 * The real process, with stdout and stderr made closed-safe: `comic cache ls | head -1` or a
 * terminal that went away must not crash a command (or abort a run whose results are files).
 */
export function processIO(): CliIO {
  return { stdout: safeProcessStream('stdout'), stderr: safeProcessStream('stderr'), env: process.env, cwd: process.cwd() };
}

/** A stream whose reader may be gone: writes after that are dropped, never an error. */
export interface ClosedSafe {
  /** True once the reader went away (EPIPE and the like): nothing written arrives any more. */
  readonly closed: boolean;
  /**
   * Hands every write to `to` instead (null: writes go to the stream again). Writes that `to`
   * itself makes reach the stream. The dashboard uses this to print stderr lines above its
   * frame instead of through it.
   */
  divert(to: ((text: string) => void) | null): void;
}

/** The errors that mean "nobody reads this any more", not "this command is broken". */
const READER_GONE = new Set(['EPIPE', 'ECONNRESET', 'EIO', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END']);

/** The closed-safe face of `stream`, if it has one. */
export function closedSafeOf(stream: NodeJS.WritableStream): ClosedSafe | null {
  const safe = stream as Partial<ClosedSafe>;
  return typeof safe.divert === 'function' ? (safe as ClosedSafe) : null;
}

type Chunk = string | Uint8Array;
type WriteCallback = (error?: Error | null) => void;

/**
 * Wraps `stream` so that the error of a reader gone away is swallowed (once: the stream is then
 * marked closed) and later writes are dropped. The wrapper is the stream in every other way
 * (isTTY, columns, rows, events), so ink can draw on it. An error of another kind (a full disk)
 * also closes it, and is told once through `onOtherError`.
 */
export function closedSafe<T extends NodeJS.WritableStream>(stream: T, onOtherError: (error: NodeJS.ErrnoException) => void = () => {}, clean: (text: string) => string = (text) => text): T & ClosedSafe {
  let closed = false;
  let diversion: ((text: string) => void) | null = null;
  let diverting = false;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (closed) return;
    closed = true;
    if (!READER_GONE.has(error.code ?? '')) onOtherError(error);
  });
  // Destroyed by someone else counts too: a write would only fail with ERR_STREAM_DESTROYED.
  const gone = (): boolean => closed || (stream as { destroyed?: boolean }).destroyed === true;
  const divert = (to: ((text: string) => void) | null): void => void (diversion = to);

  function write(raw: Chunk, encoding?: BufferEncoding | WriteCallback, callback?: WriteCallback): boolean {
    const done = typeof encoding === 'function' ? encoding : callback;
    const chunk = typeof raw === 'string' ? clean(raw) : raw;
    if (diversion !== null && !diverting) {
      diverting = true;
      try {
        diversion(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      } finally {
        diverting = false;
      }
    } else if (!gone()) {
      return typeof encoding === 'function' || encoding === undefined ? stream.write(chunk, done) : stream.write(chunk as string, encoding, done);
    }
    // Callers may wait for this (ink does before it resolves its exit): it always comes.
    if (done) process.nextTick(done);
    return true;
  }

  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(stream, {
    get(target, key) {
      if (key === 'write') return write;
      if (key === 'closed') return gone();
      if (key === 'divert') return divert;
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      // Stream methods run on the stream itself (its internal state is not on the proxy).
      if (!bound.has(key)) bound.set(key, (value as (...args: unknown[]) => unknown).bind(target));
      return bound.get(key);
    },
  }) as T & ClosedSafe;
}

const safeStreams: Partial<Record<'stdout' | 'stderr', NodeJS.WriteStream & ClosedSafe>> = {};

/** One wrapper per process stream, however often processIO() is called. */
function safeProcessStream(name: 'stdout' | 'stderr'): NodeJS.WriteStream & ClosedSafe {
  const other = name === 'stdout' ? 'stderr' : 'stdout';
  const lost = (error: NodeJS.ErrnoException): void => {
    const sibling = safeProcessStream(other);
    if (!sibling.closed) sibling.write(`comic: cannot write to ${name} (${error.code ?? error.message}); its output is lost\n`);
  };
  // Every remembered secret is masked here too, whatever wrote it: the net under the
  // commands' own masking (which also escapes server text; this cannot: ink draws with
  // escape sequences of its own).
  return (safeStreams[name] ??= closedSafe(process[name], lost, maskSecrets));
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
