/**
 * `comic doctor` as users run it: the built bin/comic.js as a child process, piped (no
 * terminal: doctor's plain lines) and under a pseudo-terminal (listr2's redrawn task list),
 * against emulators in processes of their own. Its verdict is the same either way: each
 * check's line (✔ ok, ⚠ warning, ✖ failed, ↓ skipped), the final verdict, and the exit code,
 * which is non-zero exactly when some check failed.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/net.js';
import { killEmulators, runComic, runComicInTerminal, startEmulator, startTcpProxy } from '../support/process.js';

let dir: string;

beforeAll(async () => {
  // A folder of its own: the repository's comic.config.yaml must not be read.
  dir = await mkdtemp(join(tmpdir(), 'comic-doctor-acceptance-'));
});
afterEach(killEmulators);
afterAll(() => rm(dir, { recursive: true, force: true }));

const ICONS = ['✔', '⚠', '✖', '↓'];

/**
 * The verdict lines of doctor's output, however it was drawn: each line that starts with a
 * verdict icon, with the lines indented under it (a wrapped line, a fix) joined on, spaces
 * normalised. A terminal redraws its frame while checks run, so a finished line is there
 * once per frame: each is kept once, in the order first seen. Spinner and waiting lines
 * carry no verdict and are left out.
 */
function verdictLines(output: string): string[] {
  // eslint-disable-next-line no-control-regex
  const text = output.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
  const entries: string[][] = [];
  let current: string[] | null = null;
  for (const line of text.split('\n')) {
    if (ICONS.some((icon) => line.startsWith(`${icon} `))) entries.push((current = [line]));
    else if (current !== null && /^\s+\S/.test(line)) current.push(line);
    else current = null;
  }
  return [...new Set(entries.map((entry) => entry.join(' ').replace(/\s+/g, ' ').trim()))];
}

/** `text` as a literal inside a RegExp. */
const literal = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

interface Doctor {
  readonly exitCode: number | null;
  readonly lines: string[];
  readonly output: string;
}

/** doctor with `args`, piped and in a terminal at once. */
async function doctorBothWays(args: string[]): Promise<{ piped: Doctor; terminal: Doctor }> {
  const [piped, terminal] = await Promise.all([
    runComic(['doctor', ...args], { cwd: dir }),
    runComicInTerminal(['doctor', ...args], { cwd: dir }),
  ]);
  const pipedOutput = `${String(piped.stdout)}${String(piped.stderr)}`;
  return {
    piped: { exitCode: piped.exitCode ?? null, lines: verdictLines(pipedOutput), output: pipedOutput },
    terminal: { exitCode: terminal.exitCode, lines: verdictLines(terminal.output), output: terminal.output },
  };
}

/**
 * A line as compared between two runs: the free space on the disk is measured by each run,
 * and the rest of the suite writes to the same disk meanwhile, so its figure is masked.
 */
const steady = (line: string): string => (/^. Free disk: /.test(line) ? line.replace(/\d+(\.\d+)? [KMGT]?i?B\b/g, '… B') : line);

/** A verdict line's icon and what it is about (the text before its first `: `), for runs whose reasons may differ. */
const shape = (line: string): string => line.split(': ')[0]!;

/**
 * The same lines and exit code on a terminal and off it, and the exit code non-zero exactly
 * when a line says ✖. `sameReasons: false` compares each line's icon and subject only.
 */
function expectSameVerdict({ piped, terminal }: { piped: Doctor; terminal: Doctor }, { sameReasons = true } = {}): void {
  if (sameReasons) expect(terminal.lines.map(steady), `terminal output:\n${terminal.output}`).toEqual(piped.lines.map(steady));
  else expect(terminal.lines.map(shape), `terminal output:\n${terminal.output}`).toEqual(piped.lines.map(shape));
  expect(terminal.exitCode).toBe(piped.exitCode);
  expect(piped.exitCode !== 0, piped.output).toBe(piped.lines.some((line) => line.startsWith('✖ ')));
  // A check line never says ✔ over a warning or a failure.
  expect(piped.lines.filter((line) => /^✔ .*(⚠|✖)/.test(line))).toEqual([]);
}

async function deadServerUrl(): Promise<string> {
  const comfy = await startEmulator('comfyui');
  await comfy.kill('SIGKILL');
  return comfy.url;
}

describe('comic doctor on a terminal and off it', { timeout: 120_000 }, () => {
  it('the only server dead: the server check fails (✖) both ways, with the same lines and exit 3', async () => {
    const url = await deadServerUrl();
    const host = new URL(url).host;
    const runs = await doctorBothWays(['--server', url, '--no-fallback']);
    for (const run of [runs.piped, runs.terminal]) {
      expect(run.exitCode, run.output).toBe(3);
      expect(run.lines, run.output).toContainEqual(expect.stringMatching(new RegExp(`^✖ ${literal(host)}: server "${literal(host)}" \\(${literal(url)}\\) did not answer GET /api/system_stats`)));
      // Nothing that mentions the server says it is fine.
      expect(run.lines.filter((line) => line.startsWith('✔ ') && line.includes(host))).toEqual([]);
      expect(run.lines, run.output).toContainEqual(expect.stringMatching(/^✖ comic generate cannot run: no ComfyUI server answers/));
    }
    expectSameVerdict(runs);
  });

  it('a server that answers: ✔ with its ComfyUI version from /system_stats, the same both ways', async () => {
    const comfy = await startEmulator('comfyui');
    const stats = (await (await fetch(`${comfy.url}/system_stats`)).json()) as { system: { comfyui_version: string } };
    const version = stats.system.comfyui_version;
    const runs = await doctorBothWays(['--server', comfy.url]);
    for (const run of [runs.piped, runs.terminal]) {
      expect(run.lines, run.output).toContainEqual(expect.stringMatching(new RegExp(`^✔ 127\\.0\\.0\\.1:${comfy.port} up, ComfyUI ${literal(version)}(,|$)`)));
      expect(run.exitCode, run.output).toBe(0);
    }
    expectSameVerdict(runs);
  });

  it('no SD API fallback configured: a warning (⚠), not a ✔ with ⚠ in its text; exit 0', async () => {
    const comfy = await startEmulator('comfyui');
    const runs = await doctorBothWays(['--server', comfy.url]);
    for (const run of [runs.piped, runs.terminal]) {
      expect(run.lines, run.output).toContainEqual(expect.stringMatching(/^⚠ SD API fallback: none configured/));
      expect(run.lines.filter((line) => line.startsWith('✔ SD API fallback'))).toEqual([]);
      expect(run.exitCode, run.output).toBe(0);
    }
    expectSameVerdict(runs);
  });

  it('the only server dead but the SD API fallback answers: the server is a warning, not a failure; exit 0', async () => {
    const [url, sd] = await Promise.all([deadServerUrl(), startEmulator('sdapi')]);
    const host = new URL(url).host;
    const runs = await doctorBothWays(['--server', url, '--fallback', sd.url]);
    for (const run of [runs.piped, runs.terminal]) {
      expect(run.lines, run.output).toContainEqual(expect.stringMatching(new RegExp(`^⚠ ${literal(host)}: server "${literal(host)}"`)));
      expect(run.lines, run.output).toContainEqual(expect.stringMatching(/^⚠ comic generate can run, but no ComfyUI server answers, so it will use the SD API fallback/));
      expect(run.exitCode, run.output).toBe(0);
    }
    expectSameVerdict(runs);
  });

  it('one of two servers dead: that one is a warning, the other ✔; exit 0', async () => {
    const [url, comfy] = await Promise.all([deadServerUrl(), startEmulator('comfyui')]);
    const runs = await doctorBothWays(['--server', url, '--server', comfy.url, '--no-fallback']);
    for (const run of [runs.piped, runs.terminal]) {
      expect(run.lines, run.output).toContainEqual(expect.stringMatching(new RegExp(`^⚠ ${literal(new URL(url).host)}: server`)));
      expect(run.lines, run.output).toContainEqual(expect.stringMatching(new RegExp(`^✔ 127\\.0\\.0\\.1:${comfy.port} up, ComfyUI `)));
      expect(run.exitCode, run.output).toBe(0);
    }
    expectSameVerdict(runs);
  });
});

describe('comic doctor owns the process until it has an answer', { timeout: 120_000 }, () => {
  let silent: Server;
  let silentPort: number;
  const held = new Set<Socket>();
  /** A short connect timeout keeps the tests quick; the default is what users get. */
  const config = (): string => join(dir, 'short-timeouts.yaml');

  beforeAll(async () => {
    // Accepts connections and never answers: doctor must wait for its connect timeout.
    silent = createServer((socket) => void held.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentPort = (silent.address() as { port: number }).port;
    await writeFile(config(), 'timeouts: { connect: 1500ms }\n');
  });
  afterAll(async () => {
    for (const socket of held) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('nothing listening: exit 3 with the verdict printed (not exit 13, not silent)', async () => {
    const port = await freePort();
    const run = await runComic(['doctor', '--server', `http://127.0.0.1:${port}`, '--no-fallback'], { cwd: dir });
    expect(run.exitCode, String(run.all ?? run.stdout)).toBe(3);
    expect(String(run.stdout)).toContain('✖ comic generate cannot run: no ComfyUI server answers');
    expect(String(run.stdout)).toContain('error code NO_BACKEND');
    expect(String(run.stderr)).toBe('');
  });

  it('a server that never answers: doctor waits for its connect timeout, then exit 3 with the reason', async () => {
    const started = Date.now();
    const runs = await doctorBothWays(['--server', `http://127.0.0.1:${silentPort}`, '--no-fallback', '--config', config()]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
    for (const run of [runs.piped, runs.terminal]) {
      expect(run.exitCode, run.output).toBe(3);
      expect(run.lines, run.output).toContainEqual(expect.stringMatching(new RegExp(`^✖ 127\\.0\\.0\\.1:${silentPort}: .*did not answer GET /api/system_stats in time`)));
    }
    expectSameVerdict(runs);
  });

  it('every connection dropped by a proxy while the server stays up: doctor waits for an answer, exit 3 with the reason', async () => {
    const comfy = await startEmulator('comfyui');
    const proxy = await startTcpProxy(comfy.port);
    try {
      proxy.refuse(true);
      // A connection reset as it opens sometimes leaves Node's fetch waiting with nothing that
      // holds the process open: without the keep-alive, the process would end with exit 13
      // right after the first lines. With it, the reset or the connect timeout is told.
      const runs = await doctorBothWays(['--server', proxy.url, '--no-fallback', '--config', config()]);
      for (const run of [runs.piped, runs.terminal]) {
        expect(run.exitCode, run.output).toBe(3);
        expect(run.lines, run.output).toContainEqual(expect.stringMatching(new RegExp(`^✖ 127\\.0\\.0\\.1:${proxy.port}: server .*did not answer GET /api/system_stats`)));
        expect(run.lines, run.output).toContainEqual(expect.stringMatching(/^✖ comic generate cannot run: no ComfyUI server answers/));
      }
      expect(proxy.accepted).toBeGreaterThan(0);
      // Whether the reset or the timeout is what a run sees is up to Node's fetch: the verdicts are the same.
      expectSameVerdict(runs, { sameReasons: false });
    } finally {
      await proxy.close();
    }
  });
});
