/**
 * Issue 16, "unbounded", as `comic generate --plain` shows it (the built CLI as a child process;
 * the emulators in this process, where the test sets their faults):
 * a ComfyUI `/history` that never answers, a `/view` that hangs once, and an SD API render
 * that never answers (or hangs once). Each ends in bounded time, with a visible retry line and
 * a clear error naming the server, and renders are counted on the emulators: never more than
 * one per image (renders = images when the server recovers).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/run/report.js';
import { startComfyEmulator, type ComfyEmulator } from '../fakes/comfyui/index.js';
import { startSdApiEmulator, type SdApiEmulator } from '../fakes/sdapi/index.js';
import { runComic } from '../support/process.js';

const SCRIPT = `
comic:
  title: Waiting Shores
  seed: 12
  format: { width: 400, height: 600, dpi: 72, bleed: 0, margin: 20px }
pages:
  - layout: 2
    panels:
      - { prompt: a rock in a grey sea }
      - { prompt: an empty harbour at dawn }
`;
const PANELS = 2;
// Short budgets keep the tests quick; the defaults (2 min, 2 min, 30 min) are what users get.
const CONFIG = 'timeouts: { reconnect: 1500ms, request: 600ms, download: 800ms, render: 500ms }\n';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'comic-waits-'));
  await writeFile(join(dir, 'comic.yaml'), SCRIPT);
  await writeFile(join(dir, 'comic.config.yaml'), CONFIG);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function generate(args: string[]) {
  const started = Date.now();
  const cli = await runComic(['generate', 'comic.yaml', '--out', 'out', '--cache', 'cache', '--export', 'png', '--plain', ...args], { cwd: dir });
  const report = await readFile(join(dir, 'out', 'report.json'), 'utf8').then((text) => JSON.parse(text) as RunReport, () => null);
  return { code: cli.exitCode, out: `${String(cli.stdout)}${String(cli.stderr)}`, report, ms: Date.now() - started };
}

const panels = (report: RunReport | null) => (report?.jobs ?? []).filter((j) => j.id.startsWith('panel:'));

describe('ComfyUI', { timeout: 60_000 }, () => {
  let emulator: ComfyEmulator;
  beforeEach(async () => {
    emulator = await startComfyEmulator({ stepMs: 1 });
  });
  afterEach(() => emulator.close());
  const executions = () => [...emulator.prompts.values()].reduce((n, p) => n + p.executions, 0);

  it('a /history that never answers: retry lines, then a clear failure naming the server and route; each panel rendered once', async () => {
    emulator.faults.hostile.push({ kind: 'silent-history' }, { kind: 'silent-jobs' });
    const run = await generate(['--server', emulator.url, '--no-fallback']);
    if (process.env.SHOW_HOSTILE) console.log(run.out, JSON.stringify(run.report?.jobs, null, 1));
    // The server answers its socket but not its status routes: after the retries the pool
    // benches it ("down"), and with no other server the run ends with NO_BACKEND (exit 3).
    expect(run.code).toBe(3);
    expect(run.out).toMatch(/retry +panel:1-1 on 127\.0\.0\.1:\d+ \(attempt 2\): .*finished prompt [0-9a-f-]+ but its outcome could not be read within 0\.6 s \(timeouts\.request\)/);
    expect(run.out).toMatch(/server +127\.0\.0\.1:\d+ down: .*did not answer GET \/api\/(history|jobs)\/[0-9a-f-]+ in time/);
    const failed = panels(run.report);
    expect(failed).toHaveLength(PANELS);
    for (const job of failed) {
      expect(job.status).toBe('failed');
      expect(job.error?.message).toContain(`(${emulator.url}) did not answer GET /api/`);
    }
    // Each retry took the same prompt over; before, each one rendered it again.
    expect(emulator.prompts.size).toBe(PANELS);
    expect(executions()).toBe(PANELS);
    expect(run.ms).toBeLessThan(45_000);
  });

  it('a /view that hangs once: a retry line, the image downloaded again, renders = images', async () => {
    emulator.faults.hostile.push({ kind: 'silent-view', times: 1 });
    const run = await generate(['--server', emulator.url, '--no-fallback']);
    expect(run.code, run.out).toBe(0);
    expect(run.out).toMatch(/retry +panel:1-\d on .*downloading the outputs of prompt [0-9a-f-]+ again \(it is not rendered again\)/);
    expect(panels(run.report).every((j) => j.status === 'done')).toBe(true);
    expect(executions()).toBe(PANELS);
  });

  it('a /view that never answers: the run fails without rendering again; the re-run adopts the prompts and downloads them', async () => {
    emulator.faults.hostile.push({ kind: 'silent-view' });
    const first = await generate(['--server', emulator.url, '--no-fallback']);
    expect(first.code).toBe(1);
    for (const job of panels(first.report)) expect(job.error?.message).toMatch(/did not deliver .* within 0\.8 s \(timeouts\.download\).*\(3 downloads; prompt [0-9a-f-]+ was rendered and is not rendered again\)/s);
    expect(executions()).toBe(PANELS);
    await emulator.faults.reset();
    const second = await generate(['--server', emulator.url, '--no-fallback']);
    expect(second.code, second.out).toBe(0);
    expect(panels(second.report).every((j) => j.status === 'done')).toBe(true);
    // Renders = images, over both runs.
    expect(emulator.prompts.size).toBe(PANELS);
    expect(executions()).toBe(PANELS);
  });
});

describe('the SD API', { timeout: 60_000 }, () => {
  let sd: SdApiEmulator;
  beforeEach(async () => {
    sd = await startSdApiEmulator({ stepMs: 1 });
  });
  afterEach(() => sd.close());
  const renders = () => sd.events.filter((e) => e.kind === 'finished').length;

  it('a txt2img that never answers: a retry line, then JOB_TIMEOUT naming the URL and timeouts.render; bounded time', async () => {
    sd.faults.stall.txt2img = Number.POSITIVE_INFINITY;
    const run = await generate(['--backend', 'sdapi', '--fallback', sd.url]);
    expect(run.code).toBe(1);
    expect(run.out).toMatch(/retry +panel:1-1 on .*\(attempt 2\): Stable Diffusion API at http:\/\/127\.0\.0\.1:\d+ did not answer POST \/sdapi\/v1\/txt2img within 0\.5 s \(timeouts\.render\)/);
    for (const job of panels(run.report)) {
      expect(job.status).toBe('failed');
      expect(job.error).toMatchObject({ code: 'JOB_TIMEOUT', message: expect.stringContaining(`Stable Diffusion API at ${sd.url} did not answer POST /sdapi/v1/txt2img within 0.5 s (timeouts.render), 2 times`) });
    }
    expect(renders()).toBe(0);
    expect(run.ms).toBeLessThan(30_000);
  });

  it('a txt2img that hangs once: one retry, then every panel; renders = images', async () => {
    sd.faults.stall.txt2img = Number.POSITIVE_INFINITY;
    const running = generate(['--backend', 'sdapi', '--fallback', sd.url]);
    await expect.poll(() => sd.requests.length, { timeout: 20_000, interval: 10 }).toBe(1);
    delete sd.faults.stall.txt2img;
    const run = await running;
    expect(run.code, run.out).toBe(0);
    expect(run.out).toMatch(/retry +panel:1-\d/);
    expect(panels(run.report).every((j) => j.status === 'done')).toBe(true);
    expect(renders()).toBe(PANELS);
  });
});
