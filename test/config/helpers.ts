import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach } from 'vitest';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';

/**
 * A sandbox per test: `home` stands in for the home directory (the project search stops
 * there, so nothing above the temp dir is ever read) and `userDir` holds user settings.
 * Removed after each test.
 */
export interface Sandbox {
  readonly root: string;
  readonly home: string;
  readonly userDir: string;
  /** An environment with HOME and COMIC_USER_CONFIG_DIR pointing into the sandbox. */
  env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** Writes `text` to `path` (relative to home), creating folders. Returns the absolute path. */
  write(path: string, text: string): Promise<string>;
  /** Runs the CLI in-process with cwd (relative to home) and env. */
  run(argv: readonly string[], options?: { cwd?: string; env?: NodeJS.ProcessEnv }): Promise<{ code: number; stdout: string; stderr: string }>;
}

export function useSandbox(): () => Promise<Sandbox> {
  const roots: string[] = [];
  afterEach(async () => {
    await Promise.all(roots.splice(0).map((root) => rm(root, { recursive: true, force: true })));
  });
  return async () => {
    const root = await mkdtemp(join(tmpdir(), 'comic-config-test-'));
    roots.push(root);
    const home = join(root, 'home');
    const userDir = join(root, 'user-settings');
    await mkdir(home, { recursive: true });
    const env = (extra: NodeJS.ProcessEnv = {}) => ({ HOME: home, COMIC_USER_CONFIG_DIR: userDir, ...extra });
    return {
      root,
      home,
      userDir,
      env,
      async write(path, text) {
        const full = join(home, path);
        await mkdir(dirname(full), { recursive: true });
        await writeFile(full, text);
        return full;
      },
      async run(argv, options = {}) {
        const io = memoryIO({ env: options.env ?? env(), cwd: join(home, options.cwd ?? '.') });
        const code = await main(['node', 'comic', ...argv], io.io);
        return { code, stdout: io.stdout(), stderr: io.stderr() };
      },
    };
  };
}

/** Runs `fn` and returns what it threw (failing the test if it did not throw). */
export async function caught(fn: () => unknown): Promise<Error & Record<string, unknown>> {
  try {
    await fn();
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected an error, but none was thrown');
}
