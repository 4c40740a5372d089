/**
 * The product as users run it: the built `bin/comic.js` as a child process, the emulators in
 * processes of their own (killed by pid), and a loopback TCP proxy that cuts connections while
 * the server behind it stays up. Acceptance tests use these; in-process `main()` stays for
 * unit tests, since it cannot see the event loop, signals, pipes or exit codes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type Options, type ResultPromise } from 'execa';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const bin = join(root, 'bin', 'comic.js');

/** User settings of our own: a developer's `comic config set` never leaks into a test. */
const userConfigDir = mkdtempSync(join(tmpdir(), 'comic-user-'));
const baseEnv = { NO_COLOR: '1', COMIC_USER_CONFIG_DIR: userConfigDir };

export interface EmulatorProcess {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Everything it printed so far. */
  output(): string;
  /** Kills its whole process group (SIGKILL by default: a crash, not a shutdown). */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const running = new Set<EmulatorProcess>();

/**
 * Starts `npm run fake-comfyui` or `fake-sdapi` (their main.ts, through tsx) on a port (0: any
 * free one) and resolves once it listens. The process leads its own group, so a kill takes
 * tsx's child with it.
 */
export function startEmulator(kind: 'comfyui' | 'sdapi', args: readonly string[] = [], port = 0): Promise<EmulatorProcess> {
  const main = join(root, 'test', 'fakes', kind, 'main.ts');
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', main, '--port', String(port), ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  const collect = (chunk: Buffer): void => void (output += chunk.toString());
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const onData = (): void => {
      const url = /(http:\/\/127\.0\.0\.1:(\d+))/.exec(output);
      if (url === null) return;
      child.stdout!.off('data', onData);
      child.off('exit', onEarlyExit);
      const emulator: EmulatorProcess = {
        url: url[1]!,
        port: Number(url[2]),
        pid: child.pid!,
        output: () => output,
        async kill(signal = 'SIGKILL') {
          running.delete(emulator);
          if (child.exitCode !== null || child.signalCode !== null) return;
          try {
            process.kill(-child.pid!, signal);
          } catch {
            return; // already gone
          }
          await exited;
        },
      };
      running.add(emulator);
      resolve(emulator);
    };
    const onEarlyExit = (code: number | null): void => reject(new Error(`fake-${kind} exited (${code}) before listening:\n${output}`));
    child.stdout!.on('data', onData);
    child.once('exit', onEarlyExit);
  });
}

/** Kills every emulator still running (for afterEach/afterAll). */
export async function killEmulators(): Promise<void> {
  await Promise.all([...running].map((e) => e.kill()));
}

/** Runs `node bin/comic.js ...args`; never rejects, the result carries the exit code. */
export function runComic(args: readonly string[], options: Options = {}): ResultPromise<Options> {
  return execa(process.execPath, [bin, ...args], {
    cwd: root,
    reject: false,
    timeout: 120_000,
    // Never inherit a developer's servers, keys or terminal settings.
    extendEnv: true,
    stdin: 'ignore',
    ...options,
    env: { ...baseEnv, ...options.env },
  } as Options) as ResultPromise<Options>;
}

export interface TerminalRun {
  readonly exitCode: number | null;
  /** What the terminal showed (escape sequences included). */
  readonly output: string;
}

/**
 * Runs `node bin/comic.js ...args` under a pseudo-terminal (util-linux `script`), so the CLI
 * sees a TTY and draws its dashboard; `script -e` exits with the command's own code.
 */
export async function runComicInTerminal(args: readonly string[], options: { cwd?: string; env?: Record<string, string>; timeout?: number } = {}): Promise<TerminalRun> {
  const command = [process.execPath, bin, ...args].map(shellQuote).join(' ');
  const result = await execa('script', ['-qfec', command, '/dev/null'], {
    cwd: options.cwd ?? root,
    reject: false,
    timeout: options.timeout ?? 120_000,
    // CI=true (as CI runs the suite) would turn the dashboard off: a terminal user has none.
    env: { ...baseEnv, NO_COLOR: undefined, CI: undefined, GITHUB_ACTIONS: undefined, TERM: 'xterm-256color', COLUMNS: '100', LINES: '30', ...options.env },
    extendEnv: true,
    stdin: 'ignore',
  });
  return { exitCode: result.exitCode ?? null, output: String(result.stdout) + String(result.stderr) };
}

function shellQuote(word: string): string {
  return /^[\w./:=@-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * A loopback TCP proxy in front of a server: `cut()` drops every open connection, `refuse()`
 * drops new ones at once (the server stays up behind it, as with a broken network).
 */
export interface TcpProxy {
  readonly url: string;
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  cut(): void;
  refuse(on: boolean): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let refusing = false;
  let accepted = 0;
  const server: Server = createServer((client) => {
    accepted++;
    if (refusing) return void client.destroy();
    const upstream = connect(targetPort, '127.0.0.1');
    open.add(client);
    open.add(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const cut = (): void => {
    for (const socket of [...open]) socket.destroy();
    open.clear();
  };
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get accepted() {
      return accepted;
    },
    cut,
    refuse(on) {
      refusing = on;
      if (on) cut();
    },
    close() {
      cut();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** How many jobs `comic plan` makes of a script: what a run's report and totals must count. */
export async function plannedJobs(script: string): Promise<number> {
  const plan = await runComic(['plan', script, '--json']);
  if (plan.exitCode !== 0) throw new Error(`comic plan ${script} failed:\n${String(plan.stderr)}`);
  return (JSON.parse(String(plan.stdout)) as { counts: { total: number } }).counts.total;
}

/** Writes the example comic at screen resolution to `path`: the same jobs as shipped, light pages. */
export async function writeExample(path: string): Promise<string> {
  const example = await readFile(join(root, 'examples', 'lighthouse.yaml'), 'utf8');
  if (!example.includes('dpi: 300')) throw new Error('examples/lighthouse.yaml no longer says dpi: 300; update writeExample');
  await writeFile(path, example.replace('dpi: 300', 'dpi: 72'));
  return path;
}
