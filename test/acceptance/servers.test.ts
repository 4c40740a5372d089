/**
 * Servers that are down, die or drop their connections, met the way users meet them: the
 * built bin/comic.js as a child process, the emulators in processes of their own killed by
 * pid, connections cut by a loopback TCP proxy while the server stays up. In-process main()
 * cannot show these: vitest's own handles keep the event loop alive for it.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/net.js';
import { killEmulators, plannedJobs, runComic, runComicInTerminal, startEmulator, startTcpProxy, writeExample, type EmulatorProcess } from '../support/process.js';

let dir: string;
let script: string;
let config: string;
/** Jobs in the example's plan: every one must appear in a report. */
let jobs: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'comic-servers-'));
  script = join(dir, 'comic.yaml');
  // The example at screen resolution: the same jobs, faster pages.
  await writeExample(script);
  // A short reconnect grace keeps the tests quick; the default (10 s) is what users get.
  config = join(dir, 'comic.config.yaml');
  await writeFile(config, 'timeouts: { reconnect: 1500ms }\n');
  jobs = await plannedJobs(script);
});
afterEach(killEmulators);
afterAll(() => rm(dir, { recursive: true, force: true }));

let runs = 0;
function folders(): string[] {
  const n = ++runs;
  return ['--out', join(dir, `out-${n}`), '--cache', join(dir, `cache-${n}`)];
}

async function report(out: string): Promise<{ totals: { done: number; cached: number; jobs: number; byBackend: Record<string, number> }; jobs: { id: string; status: string }[] }> {
  return JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
}

interface JsonLine {
  readonly schema: string;
  readonly type?: string;
  readonly exitCode?: number;
  readonly [key: string]: unknown;
}

function jsonLines(stdout: string): JsonLine[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as JsonLine);
}

/** Resolves when the child has printed `pattern` on stdout. */
function printed(child: ReturnType<typeof runComic>, pattern: RegExp): Promise<void> {
  return new Promise((resolve) => {
    let seen = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (pattern.test(seen)) resolve();
    });
  });
}

async function queueOf(emulator: EmulatorProcess): Promise<{ running: number; pending: number }> {
  const body = (await (await fetch(`${emulator.url}/queue`)).json()) as { queue_running: unknown[]; queue_pending: unknown[] };
  return { running: body.queue_running.length, pending: body.queue_pending.length };
}

describe('a ComfyUI server that is down at start', { timeout: 120_000 }, () => {
  it('without a fallback: exit 3, NO_BACKEND on stderr, a report of every job (--plain)', async () => {
    const dead = await freePort();
    const [, out, , cache] = folders();
    const run = await runComic(['generate', script, '--server', `http://127.0.0.1:${dead}`, '--no-fallback', '--config', config, '--plain', '--out', out!, '--cache', cache!]);
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toContain('NO_BACKEND');
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const written = await report(out!);
    expect(written.jobs).toHaveLength(jobs);
    expect(written.totals.jobs).toBe(jobs);
  });

  it('without a fallback: exit 3 and a last summary line with exit code 3 (--json)', async () => {
    const dead = await freePort();
    const run = await runComic(['generate', script, '--server', `http://127.0.0.1:${dead}`, '--no-fallback', '--config', config, '--json', ...folders()]);
    expect(run.exitCode).toBe(3);
    const lines = jsonLines(String(run.stdout));
    expect(lines.at(-1)).toMatchObject({ schema: 'comic.summary/1', exitCode: 3 });
    expect(lines.some((l) => l.type === 'server' && l.state === 'down')).toBe(true);
  });

  it('without a fallback, under the dashboard in a terminal: exit 3, the reason on screen', async () => {
    const dead = await freePort();
    const run = await runComicInTerminal(['generate', script, '--server', `http://127.0.0.1:${dead}`, '--no-fallback', '--config', config, ...folders()]);
    expect(run.exitCode).toBe(3);
    expect(run.output).toContain('NO_BACKEND');
  });

  it('with the SD API up: falls back, says so and why, exit 0 (--json)', async () => {
    const dead = await freePort();
    const sd = await startEmulator('sdapi', ['--step-ms', '1']);
    const run = await runComic(['generate', script, '--server', `http://127.0.0.1:${dead}`, '--fallback', sd.url, '--config', config, '--json', ...folders()]);
    expect(run.exitCode).toBe(0);
    const fallback = jsonLines(String(run.stdout)).find((l) => l.type === 'fallback');
    expect(fallback).toMatchObject({ from: 'comfyui', to: 'sdapi' });
    expect(String(fallback?.reason)).toMatch(/127\.0\.0\.1/);
  });
});

describe('a ComfyUI server that dies mid-run', { timeout: 120_000 }, () => {
  it('killed by pid without a fallback: exit 3 after the reconnect grace, every job in the report', async () => {
    const comfy = await startEmulator('comfyui', ['--step-ms', '30']);
    const [, out, , cache] = folders();
    const child = runComic(['generate', script, '--server', comfy.url, '--no-fallback', '--config', config, '--json', '--out', out!, '--cache', cache!]);
    await printed(child, /"type":"job-done"/);
    await comfy.kill('SIGKILL');
    const run = await child;
    expect(run.exitCode).toBe(3);
    const lines = jsonLines(String(run.stdout));
    expect(lines.at(-1)).toMatchObject({ schema: 'comic.summary/1', exitCode: 3 });
    const written = await report(out!);
    expect(written.jobs).toHaveLength(jobs);
    expect(written.jobs.some((j) => j.status === 'done')).toBe(true);
  });

  it('killed by pid under the dashboard: the frame does not freeze, exit 3 (not 0)', async () => {
    const comfy = await startEmulator('comfyui', ['--step-ms', '30']);
    const running = runComicInTerminal(['generate', script, '--server', comfy.url, '--no-fallback', '--config', config, ...folders()]);
    // The terminal output is only read at the end; kill once the server has work.
    await waitFor(async () => (await queueOf(comfy)).running > 0);
    await comfy.kill('SIGKILL');
    const run = await running;
    expect(run.exitCode).toBe(3);
    expect(run.output).toContain('NO_BACKEND');
  });
});

describe('connections cut while the server stays up (a proxy in between)', { timeout: 120_000 }, () => {
  it('a cut shorter than the grace: the run reconnects and finishes on ComfyUI, nothing rendered twice', async () => {
    const comfy = await startEmulator('comfyui', ['--step-ms', '20']);
    const proxy = await startTcpProxy(comfy.port);
    try {
      const [, out, , cache] = folders();
      const child = runComic(['generate', script, '--server', proxy.url, '--no-fallback', '--config', config, '--json', '--out', out!, '--cache', cache!]);
      await printed(child, /"type":"job-done"/);
      proxy.cut();
      const run = await child;
      expect(run.exitCode).toBe(0);
      const written = await report(out!);
      expect(written.totals.done + written.totals.cached).toBe(jobs);
      // Each image was rendered on the server exactly once: the history holds no duplicates.
      const history = (await (await fetch(`${comfy.url}/history`)).json()) as Record<string, unknown>;
      const images = written.jobs.filter((j) => !j.id.startsWith('page') && !j.id.startsWith('export')).length;
      expect(Object.keys(history)).toHaveLength(images);
    } finally {
      await proxy.close();
    }
  });

  it('cut for longer than the grace, SD API up: falls back and finishes; our prompts left on ComfyUI are withdrawn', async () => {
    const comfy = await startEmulator('comfyui', ['--step-ms', '200']);
    const sd = await startEmulator('sdapi', ['--step-ms', '1']);
    const proxy = await startTcpProxy(comfy.port);
    try {
      const [, out, , cache] = folders();
      const child = runComic(['generate', script, '--server', proxy.url, '--fallback', sd.url, '--config', config, '--json', '--out', out!, '--cache', cache!]);
      await waitFor(async () => (await queueOf(comfy)).running > 0);
      proxy.refuse(true);
      // Reachable again once the run has moved to the fallback: the prompts it gave up there must not run on.
      void printed(child, /"type":"fallback"/).then(() => proxy.refuse(false));
      const run = await child;
      expect(run.exitCode).toBe(0);
      expect(jsonLines(String(run.stdout)).some((l) => l.type === 'fallback')).toBe(true);
      // Interrupted at its next step, never left to run to the end for nobody.
      await waitFor(async () => (await queueOf(comfy)).running + (await queueOf(comfy)).pending === 0);
      const history = (await (await fetch(`${comfy.url}/history`)).json()) as Record<string, { status: { status_str: string } }>;
      const succeeded = Object.values(history).filter((h) => h.status.status_str === 'success').length;
      const written = await report(out!);
      expect(succeeded).toBe(written.totals.byBackend?.comfyui ?? 0);
    } finally {
      await proxy.close();
    }
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error('waitFor: condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
