/**
 * `comic generate` end to end against emulated ComfyUI and SD API servers on loopback:
 * the acceptance of issue 6. Real sockets, real PNGs, real files on disk.
 */
import { execa } from 'execa';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import type { RunReport } from '../../src/run/report.js';
import { PROFILE_NAMES, startComfyEmulator, type ComfyEmulator, type ProfileName } from '../fakes/comfyui/index.js';
import { startSdApiEmulator, type SdApiEmulator } from '../fakes/sdapi/index.js';

const root = resolve(import.meta.dirname, '../..');
let dir: string;
let emulators: (ComfyEmulator | SdApiEmulator)[] = [];
/** The ComfyUI version the emulators of the current case play (describe.each below). */
let profile: ProfileName = '0.28';

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'comic-e2e-comfy-'));
  // The example at 100 dpi: the same jobs, lighter pages to compose.
  const example = await readFile(join(root, 'examples', 'lighthouse.yaml'), 'utf8');
  await writeFile(join(dir, 'comic.yaml'), example.replace('dpi: 300', 'dpi: 100'));
  // A dead server counts as down after a short reconnect grace (users get 10 s).
  await writeFile(join(dir, 'comic.config.yaml'), 'timeouts: { reconnect: 1s }\n');
});
afterEach(async () => {
  await Promise.all(emulators.map((e) => e.close()));
  emulators = [];
  await rm(dir, { recursive: true, force: true });
});

async function comfy(stepMs = 1): Promise<ComfyEmulator> {
  const emulator = await startComfyEmulator({ stepMs, profile });
  emulators.push(emulator);
  return emulator;
}

/** Runs the CLI in-process; `onLine` sees every stdout line as it is written. */
async function run(args: string[], onLine: (line: string) => void = () => {}) {
  const out: string[] = [];
  const err: string[] = [];
  const sink = (into: string[], watch: boolean) =>
    ({
      write(chunk: string | Uint8Array) {
        const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
        into.push(text);
        if (watch) for (const line of text.split('\n')) if (line) onLine(line);
        return true;
      },
    }) as unknown as NodeJS.WritableStream;
  const io: CliIO = { stdout: sink(out, true), stderr: sink(err, false), env: {}, cwd: dir };
  const code = await main(['node', 'comic', 'generate', 'comic.yaml', '--out', 'out', '--cache', 'cache', ...args], io);
  const report = JSON.parse(await readFile(join(dir, 'out', 'report.json'), 'utf8')) as RunReport;
  return { code, stdout: out.join(''), stderr: err.join(''), report };
}

const statuses = (report: RunReport) => Object.fromEntries(report.jobs.map((j) => [j.id, j.status]));
const executions = (e: ComfyEmulator) => [...e.prompts.values()].reduce((n, p) => n + p.executions, 0);

async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/**
 * On both emulator profiles (ComfyUI 0.8.0 and 0.28.0). The SD API fallback and no-backend
 * cases do not depend on the ComfyUI version and run on 0.28 only (`latestOnly`), to keep the
 * suite's runtime in check.
 */
describe.each(PROFILE_NAMES)('generate on emulated servers (ComfyUI %s profile)', (name) => {
  const latestOnly = name === '0.28' ? it : it.skip;
  beforeEach(() => {
    profile = name;
  });

  it('renders the example comic through two ComfyUI servers', async () => {
    const [a, b] = [await comfy(), await comfy()];
    const { code, report } = await run(['--server', a.url, '--server', b.url, '--no-fallback', '--json']);
    expect(code).toBe(0);
    // Every job of the plan (backgrounds no template takes are not planned at all).
    expect(report.totals).toMatchObject({ failed: 0, skipped: 0, jobs: report.jobs.length });
    expect(report.jobs.map((j) => j.status).every((s) => s === 'done')).toBe(true);
    expect(executions(a)).toBeGreaterThan(0);
    expect(executions(b)).toBeGreaterThan(0);
    // Each image job ran exactly once across the two servers.
    const images = report.jobs.filter((j) => !['page', 'export'].includes(j.kind));
    expect(executions(a) + executions(b)).toBe(images.length);
    expect(new Set(images.map((j) => j.backend))).toEqual(new Set(['comfyui']));
    // VRAM before and after the batch, per server, for spotting leaks across runs.
    expect(Object.keys(report.vram).sort()).toEqual([a.url, b.url].map((u) => u.replace('http://', '')).sort());
    for (const reading of Object.values(report.vram)) expect(reading.after.total).toBeGreaterThan(0);
    const page = await sharp(join(dir, 'out', 'pages', '001.png')).metadata();
    // us-comic trim 6.625 × 10.25 in at 100 dpi, plus 0.125 in bleed on each side.
    expect([page.width, page.height]).toEqual([663 + 2 * 13, 1025 + 2 * 13]);

    // Edit one panel's prompt: exactly that panel and its page are rendered again.
    const script = await readFile(join(dir, 'comic.yaml'), 'utf8');
    await writeFile(join(dir, 'comic.yaml'), script.replace('the radio set crackles', 'the radio set hisses'));
    const before = executions(a) + executions(b);
    const again = await run(['--server', a.url, '--server', b.url, '--no-fallback']);
    expect(again.code).toBe(0);
    expect(executions(a) + executions(b) - before).toBe(1);
    const rendered = again.report.jobs.filter((j) => j.status === 'done').map((j) => j.id);
    expect(rendered).toEqual(['panel:1-3', 'page:1', 'export:pdf', 'export:cbz']);
  });

  latestOnly('falls back to the SD API when ComfyUI is down before the run, and says why', async () => {
    const dead = await comfy();
    const url = dead.url;
    await dead.close();
    const sd = await startSdApiEmulator({ stepMs: 1 });
    emulators.push(sd);
    const { code, stderr, stdout, report } = await run(['--server', url, '--fallback', sd.url, '--plain']);
    expect(code).toBe(0);
    expect(report.fallback).toMatchObject({ from: 'comfyui', to: 'sdapi' });
    expect(report.fallback!.reason).toContain(url.replace('http://', ''));
    expect(`${stdout}${stderr}`).toMatch(/fall(ing)? ?back|fallback/i);
    const images = report.jobs.filter((j) => !['page', 'export'].includes(j.kind));
    expect(images.every((j) => j.backend === 'sdapi' && j.server === sd.url)).toBe(true);
    expect(sd.requests.length).toBe(images.length);
  });

  latestOnly('falls back mid-run when the only ComfyUI server dies; images say where they came from', async () => {
    const server = await comfy(5);
    const sd = await startSdApiEmulator({ stepMs: 1 });
    emulators.push(sd);
    let done = 0;
    const { code, report } = await run(['--server', server.url, '--fallback', sd.url, '--json'], (line) => {
      if (line.includes('"type":"job-done"') && line.includes('"backend":"comfyui"') && ++done === 3) void server.kill();
    });
    expect(code).toBe(0);
    expect(report.fallback).not.toBeNull();
    const backends = new Set(report.jobs.filter((j) => j.status === 'done' && j.kind !== 'page' && j.kind !== 'export').map((j) => j.backend));
    expect(backends).toEqual(new Set(['comfyui', 'sdapi']));
    expect(report.totals.failed).toBe(0);
  });

  latestOnly('exits 3 and lists what it tried when no backend answers', async () => {
    const dead = await comfy();
    const url = dead.url;
    await dead.close();
    const out: string[] = [];
    const io: CliIO = {
      stdout: { write: (s: string) => (out.push(s), true) } as unknown as NodeJS.WritableStream,
      stderr: { write: (s: string) => (out.push(s), true) } as unknown as NodeJS.WritableStream,
      env: {},
      cwd: dir,
    };
    const code = await main(['node', 'comic', 'generate', 'comic.yaml', '--server', url, '--fallback', 'http://127.0.0.1:9', '--plain'], io);
    expect(code).toBe(3);
    expect(out.join('')).toContain('NO_BACKEND');
    expect(out.join('')).toContain('127.0.0.1:9');
  });

  describe.each(['SIGINT', 'SIGKILL'] as const)('killed with %s mid-run', (signal) => {
    it('resumes: the rerun renders only what was not finished, and no partial file is left', { timeout: 90_000 }, async () => {
      const server = await comfy(10);
      // tsx resolved from the repo: the child runs in the temporary project folder.
      const args = ['--import', import.meta.resolve('tsx'), join(root, 'test', 'e2e', 'cli.ts'), 'generate', 'comic.yaml', '--out', 'out', '--cache', 'cache', '--server', server.url, '--no-fallback', '--json'];
      const child = execa(process.execPath, args, { cwd: dir, reject: false, env: { ...process.env, CI: 'true' }, extendEnv: false });
      const finished: string[] = [];
      let sent = false;
      // Keep reading after the signal: the process may still report what it finished.
      // Exactly one signal: a second Ctrl-C means "quit at once".
      for await (const line of child.iterable()) {
        const event = JSON.parse(String(line)) as { type: string; job?: string };
        if (event.type === 'job-done') finished.push(event.job!);
        if (finished.length === 4 && !sent) sent = child.kill(signal);
      }
      const first = await child;
      expect(first.exitCode ?? first.signal, first.stderr).toBe(signal === 'SIGINT' ? 130 : 'SIGKILL');
      // A cancelled run still closes its JSON stream with exactly one summary line.
      if (signal === 'SIGINT') expect(JSON.parse(String(first.stdout).trim().split('\n').at(-1)!)).toMatchObject({ schema: 'comic.summary/1', exitCode: 130 });
      const queue = async () => (await (await fetch(`${server.url}/api/queue`)).json()) as { queue_running: [number, string][]; queue_pending: [number, string][] };
      const queued = async () => {
        const q = await queue();
        return q.queue_running.length + q.queue_pending.length;
      };
      if (signal === 'SIGINT') {
        // Ctrl-C leaves nothing of ours waiting, and what was running was interrupted, not finished.
        const q = await queue();
        expect(q.queue_pending).toEqual([]);
        for (const [, id] of q.queue_running) {
          while ((await queued()) > 0) await new Promise((r) => setTimeout(r, 20));
          const history = (await (await fetch(`${server.url}/api/history/${id}`)).json()) as Record<string, { status: { messages: [string][] } }>;
          expect(history[id]!.status.messages.map(([type]) => type)).toContain('execution_interrupted');
        }
      }
      // A killed process cannot dequeue what it submitted: let the server finish it first.
      while ((await queued()) > 0) await new Promise((r) => setTimeout(r, 50));
      const beforeRerun = executions(server);
      const { code, report } = await run(['--server', server.url, '--no-fallback', '--json']);
      expect(code).toBe(0);
      const s = statuses(report);
      for (const job of finished) expect(s[job]).toBe('cached');
      expect(Object.values(s).every((x) => x === 'done' || x === 'cached')).toBe(true);
      // The rerun took over what the first run had sent (the manifest records each prompt
      // before it goes out): those finished while nobody watched and are collected from
      // history, so the rerun executes fewer prompts than it reports done.
      const renderedNow = report.jobs.filter((j) => j.status === 'done' && j.backend === 'comfyui').length;
      expect(executions(server) - beforeRerun).toBeLessThanOrEqual(renderedNow);
      const images = report.jobs.filter((j) => j.kind === 'character' || j.kind === 'background' || j.kind === 'panel').length;
      // Killed: nothing withdrew its prompts, and every image ran exactly once in all. Ctrl-C:
      // the interrupted prompt runs once more.
      if (signal === 'SIGKILL') expect(executions(server)).toBe(images);
      const files = await filesUnder(join(dir, 'out'));
      expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
      for (const png of files.filter((f) => f.endsWith('.png'))) await sharp(png).stats(); // each decodes whole
    });
  });
});
