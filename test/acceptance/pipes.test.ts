/**
 * "A closed stdout is not a crash", checked on the built CLI as a process: its stdout (or
 * stderr) is a pipe whose reader goes away, as with `comic cache ls | head -1`. Listing
 * commands stop quietly with their usual exit code; `generate` stops writing progress and
 * finishes its run, whose results are files. Never a stack trace for EPIPE.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, plannedJobs, root, runComic, writeExample } from '../support/process.js';

let dir: string;
/** The example comic at 72 dpi: the same jobs, light pages. */
let script: string;
let jobs: number;
/** A cache filled by one draft run, so `cache ls` has lines to list. */
let cache: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'comic-pipes-'));
  script = await writeExample(join(dir, 'comic.yaml'));
  jobs = await plannedJobs(script);
  cache = join(dir, 'cache');
  const filled = await runComic(['generate', script, '--backend', 'draft', '--plain', '--out', join(dir, 'filled'), '--cache', cache]);
  expect(filled.exitCode, String(filled.stderr)).toBe(0);
}, 120_000);

afterAll(() => rm(dir, { recursive: true, force: true }));

interface ClosedRun {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The stdout lines read before its reader went away. */
  readonly lines: string[];
  /** stderr as read (up to its closing, if it was closed). */
  readonly stderr: string;
}

/**
 * Runs `node bin/comic.js ...args` with stdout and/or stderr pipes whose reader goes away after
 * that many lines (0: before the command writes anything, so its first write meets EPIPE).
 */
function runWithClosed(args: readonly string[], close: { stdout?: number; stderr?: number }): Promise<ClosedRun> {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', CI: undefined, GITHUB_ACTIONS: undefined },
  });
  const read = (stream: NodeJS.ReadableStream & { destroy(): void }, after: number | undefined): string[] => {
    const lines: string[] = [];
    if (after === 0) {
      stream.destroy();
      return lines;
    }
    let partial = '';
    stream.on('data', (chunk: Buffer) => {
      partial += chunk.toString();
      const complete = partial.split('\n');
      partial = complete.pop()!;
      lines.push(...complete);
      if (after !== undefined && lines.length >= after) {
        lines.length = after;
        stream.destroy();
      }
    });
    stream.on('end', () => void (partial !== '' && lines.push(partial)));
    return lines;
  };
  const lines = read(child.stdout, close.stdout);
  const stderr = read(child.stderr, close.stderr);
  return new Promise((resolve) =>
    child.once('close', (exitCode, signal) => resolve({ exitCode, signal, lines, stderr: stderr.map((line) => `${line}\n`).join('') })),
  );
}

/** No EPIPE, no stack trace, nothing about a write that failed. */
function expectQuiet(stderr: string): void {
  expect(stderr).not.toMatch(/EPIPE|ERR_STREAM_DESTROYED|Unhandled 'error'|\n\s+at /);
}

async function pngs(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true });
  return entries.filter((name) => name.endsWith('.png'));
}

/** What a command writes on stderr by design: `cache ls` totals its listing there. */
const ownStderr = (args: readonly string[]): RegExp => (args[0] === 'cache' ? /^\d+ entries, .+ in .+\n$/ : /^$/);

describe('listing commands, stdout closed', () => {
  const listings = (): [string, string[]][] => [
    ['templates list', ['templates', 'list']],
    ['cache ls', ['cache', 'ls', '--cache', cache]],
    ['config list', ['config', 'list']],
    ['plan', ['plan', script]],
    ['--help', ['--help']],
  ];

  it('stop quietly with exit code 0 when the pipe is closed before their first line', async () => {
    for (const [name, args] of listings()) {
      const run = await runWithClosed(args, { stdout: 0 });
      expectQuiet(run.stderr);
      expect(run.stderr, name).toMatch(ownStderr(args));
      expect({ name, exitCode: run.exitCode, signal: run.signal }).toEqual({ name, exitCode: 0, signal: null });
    }
  }, 60_000);

  it('`comic cache ls | head -1` and `comic plan | head -1` print one line, stay quiet and exit 0', async () => {
    for (const args of [['cache', 'ls', '--cache', cache], ['plan', script]]) {
      const errFile = join(dir, 'head.err');
      const command = `node ${bin} ${args.join(' ')} 2>"$ERR_FILE" | head -n 1; echo "exit:\${PIPESTATUS[0]}"`;
      const result = await execa('bash', ['-c', command], { cwd: root, reject: false, env: { ERR_FILE: errFile, NO_COLOR: '1' } });
      const [first, exit] = String(result.stdout).split('\n');
      const stderr = await readFile(errFile, 'utf8');
      expect(first).not.toBe('');
      expect(exit).toBe('exit:0');
      expectQuiet(stderr);
      expect(stderr).toMatch(ownStderr(args));
    }
  }, 60_000);

  it('keep their usual exit code, and no stack trace, when stderr is closed', async () => {
    // An invalid script: the command's answer is an error on stderr, which nobody reads.
    const run = await runWithClosed(['plan', join(dir, 'missing.yaml')], { stderr: 0 });
    expect({ exitCode: run.exitCode, signal: run.signal }).toEqual({ exitCode: 2, signal: null });
  }, 30_000);
});

describe('generate, progress on a closed pipe', () => {
  for (const mode of ['--json', '--plain'] as const) {
    it(`\`comic generate ${mode} | head -2\` finishes its run: report.json and every page, exit code 0, quiet`, async () => {
      const out = join(dir, `out${mode}`);
      const run = await runWithClosed(['generate', script, '--backend', 'draft', mode, '--out', out, '--cache', join(dir, `cache${mode}`)], { stdout: 2 });
      expect(run.lines, run.stderr).toHaveLength(2);
      if (mode === '--json') for (const line of run.lines) expect(JSON.parse(line)).toMatchObject({ schema: 'comic.event/1' });
      expectQuiet(run.stderr);
      expect({ exitCode: run.exitCode, signal: run.signal }).toEqual({ exitCode: 0, signal: null });
      const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as { totals?: { jobs?: number } };
      expect(report.totals?.jobs).toBe(jobs);
      expect(await pngs(join(out, 'pages'))).toHaveLength(4);
    }, 120_000);
  }

  it('finishes its run when stderr is closed too', async () => {
    const out = join(dir, 'out-stderr');
    const run = await runWithClosed(['generate', script, '--backend', 'draft', '--plain', '--out', out, '--cache', join(dir, 'cache-stderr')], { stdout: 1, stderr: 0 });
    expect({ exitCode: run.exitCode, signal: run.signal }).toEqual({ exitCode: 0, signal: null });
    expect(await pngs(join(out, 'pages'))).toHaveLength(4);
  }, 120_000);
});
