/**
 * What made an image is part of what it is (issue 15, first point): a draft storyboard never
 * satisfies a ComfyUI run, the SD API fallback's images are rendered on ComfyUI once it is
 * back (unless kept), pages and exports follow their panels, and `--dry-run` predicts
 * exactly what the run then does. In-process CLI against emulated servers on loopback.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import type { RunReport } from '../../src/run/report.js';
import { startComfyEmulator, type ComfyEmulator } from '../fakes/comfyui/index.js';
import { startSdApiEmulator, type SdApiEmulator } from '../fakes/sdapi/index.js';

const root = resolve(import.meta.dirname, '../..');
let dir: string;
let emulators: (ComfyEmulator | SdApiEmulator)[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'comic-e2e-provenance-'));
  const example = await readFile(join(root, 'examples', 'lighthouse.yaml'), 'utf8');
  expect(example).toContain('dpi: 300');
  await writeFile(join(dir, 'comic.yaml'), example.replace('dpi: 300', 'dpi: 72'));
  // A dead server counts as down after a short reconnect grace (users get 10 s).
  await writeFile(join(dir, 'comic.config.yaml'), 'timeouts: { reconnect: 1s }\n');
});
afterEach(async () => {
  await Promise.all(emulators.map((e) => e.close()));
  emulators = [];
  await rm(dir, { recursive: true, force: true });
});

async function comfy(): Promise<ComfyEmulator> {
  const emulator = await startComfyEmulator({ stepMs: 1 });
  emulators.push(emulator);
  return emulator;
}

async function sdapi(): Promise<SdApiEmulator> {
  const emulator = await startSdApiEmulator({ stepMs: 1 });
  emulators.push(emulator);
  return emulator;
}

/** A URL where no server answers. */
async function deadUrl(): Promise<string> {
  const dead = await startComfyEmulator({ stepMs: 1 });
  const url = dead.url;
  await dead.close();
  return url;
}

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const sink = (into: string[]) =>
    ({
      write(chunk: string | Uint8Array) {
        into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
        return true;
      },
    }) as unknown as NodeJS.WritableStream;
  const io: CliIO = { stdout: sink(out), stderr: sink(err), env: {}, cwd: dir };
  const code = await main(['node', 'comic', 'generate', 'comic.yaml', '--out', 'out', '--cache', 'cache', ...args], io);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

async function run(args: string[]) {
  const result = await cli([...args, '--plain']);
  const report = JSON.parse(await readFile(join(dir, 'out', 'report.json'), 'utf8')) as RunReport;
  return { ...result, report };
}

type Status = 'render' | 'cached';

/** What `--dry-run --json` says each job would do. */
async function dryRun(args: string[]): Promise<Record<string, Status>> {
  const { code, stdout } = await cli([...args, '--dry-run', '--json']);
  expect(code).toBe(0);
  const { jobs } = JSON.parse(stdout) as { jobs: { job: string; cached: boolean }[] };
  return Object.fromEntries(jobs.map((j) => [j.job, j.cached ? 'cached' : 'render']));
}

/** What the run did with each job, in the dry run's terms. */
const did = (report: RunReport): Record<string, Status> =>
  Object.fromEntries(report.jobs.map((j) => [j.id, j.status === 'cached' ? 'cached' : 'render']));
const executions = (e: ComfyEmulator) => [...e.prompts.values()].reduce((n, p) => n + p.executions, 0);
const images = (report: RunReport) => report.jobs.filter((j) => !['page', 'export'].includes(j.kind));
const kinds = (report: RunReport, status: string) => report.jobs.filter((j) => j.status === status).map((j) => j.kind);

describe('what made an image is part of what it is', () => {
  it('a ComfyUI run after a draft run renders every image on ComfyUI, composes every page and export again; dry-run agrees', async () => {
    const draft = await run(['--backend', 'draft']);
    expect(draft.code).toBe(0);
    expect(new Set(images(draft.report).map((j) => j.backend))).toEqual(new Set(['draft']));

    const server = await comfy();
    const args = ['--server', server.url, '--no-fallback'];
    const predicted = await dryRun(args);
    expect(Object.values(predicted).every((s) => s === 'render')).toBe(true);

    const real = await run(args);
    expect(real.code).toBe(0);
    expect(real.report.totals).toMatchObject({ failed: 0, skipped: 0, cached: 0 });
    expect(did(real.report)).toEqual(predicted);
    // Every image on ComfyUI, each exactly once.
    expect(images(real.report).every((j) => j.status === 'done' && j.backend === 'comfyui')).toBe(true);
    expect(executions(server)).toBe(images(real.report).length);

    // A plain rerun is all cached, as the dry run says.
    const again = await dryRun(args);
    expect(Object.values(again).every((s) => s === 'cached')).toBe(true);
    const rerun = await run(args);
    expect(did(rerun.report)).toEqual(again);
    expect(executions(server)).toBe(images(real.report).length);

    // A real render satisfies a draft run (same content, better art; no GPU work is thrown away).
    const preview = await dryRun(['--backend', 'draft']);
    const previewRun = await run(['--backend', 'draft']);
    expect(did(previewRun.report)).toEqual(preview);
    expect(images(previewRun.report).every((j) => j.status === 'cached' && j.backend === 'comfyui')).toBe(true);
  }, 120_000);

  it('a ComfyUI run after a fallback run renders the fallback images on ComfyUI; dry-run agrees', async () => {
    const sd = await sdapi();
    const fallback = await run(['--server', await deadUrl(), '--fallback', sd.url]);
    expect(fallback.code).toBe(0);
    expect(fallback.report.fallback).toMatchObject({ from: 'comfyui', to: 'sdapi' });
    expect(images(fallback.report).every((j) => j.backend === 'sdapi')).toBe(true);

    const server = await comfy();
    const args = ['--server', server.url, '--fallback', sd.url];
    const predicted = await dryRun(args);
    expect(Object.values(predicted).every((s) => s === 'render')).toBe(true);
    const back = await run(args);
    expect(back.code).toBe(0);
    expect(back.report.fallback).toBeNull();
    expect(did(back.report)).toEqual(predicted);
    expect(images(back.report).every((j) => j.status === 'done' && j.backend === 'comfyui')).toBe(true);
    expect(executions(server)).toBe(images(back.report).length);

    // Now they are ComfyUI's: a rerun keeps them.
    const again = await dryRun(args);
    const rerun = await run(args);
    expect(did(rerun.report)).toEqual(again);
    expect(kinds(rerun.report, 'done')).toEqual([]);
  }, 120_000);

  it('--keep-fallback (or keepFallback in the config) keeps the fallback images; dry-run agrees', async () => {
    const sd = await sdapi();
    const fallback = await run(['--server', await deadUrl(), '--fallback', sd.url]);
    expect(fallback.code).toBe(0);
    const server = await comfy();
    const args = ['--server', server.url, '--fallback', sd.url, '--keep-fallback'];

    const predicted = await dryRun(args);
    expect(Object.values(predicted).every((s) => s === 'cached')).toBe(true);
    const kept = await run(args);
    expect(kept.code).toBe(0);
    expect(did(kept.report)).toEqual(predicted);
    expect(images(kept.report).every((j) => j.status === 'cached' && j.backend === 'sdapi')).toBe(true);
    expect(executions(server)).toBe(0);

    // The config key does the same.
    await writeFile(join(dir, 'comic.config.yaml'), 'timeouts: { reconnect: 1s }\nkeepFallback: true\n');
    const byConfig = await run(['--server', server.url, '--fallback', sd.url]);
    expect(kinds(byConfig.report, 'done')).toEqual([]);
    expect(executions(server)).toBe(0);
  }, 120_000);

  it('a fallback run that is still falling back keeps the fallback images it has', async () => {
    const sd = await sdapi();
    const url = await deadUrl();
    const first = await run(['--server', url, '--fallback', sd.url]);
    expect(first.code).toBe(0);
    const second = await run(['--server', url, '--fallback', sd.url]);
    expect(second.code).toBe(0);
    expect(kinds(second.report, 'done')).toEqual([]);
  }, 120_000);

  it('pages and exports follow their panels: only what was a draft is made again', async () => {
    expect((await run(['--backend', 'draft'])).code).toBe(0);
    const server = await comfy();
    const args = ['--server', server.url, '--no-fallback'];
    // Page 2 and what it needs are rendered on ComfyUI; the other pages stay storyboards.
    expect((await run([...args, '--only', 'page:2'])).code).toBe(0);

    const text = await cli([...args, '--dry-run']);
    expect(text.stdout).toMatch(/render {2}panel:1-1 {2}\(the cached image is a draft storyboard\)/);
    expect(text.stdout).toMatch(/cached  panel:2-1\n/);

    const predicted = await dryRun(args);
    const after = await run(args);
    expect(after.code).toBe(0);
    expect(did(after.report)).toEqual(predicted);
    const status = Object.fromEntries(after.report.jobs.map((j) => [j.id, j.status]));
    expect(status).toMatchObject({ 'panel:1-1': 'done', 'panel:2-1': 'cached', 'page:1': 'done', 'page:2': 'cached', 'page:3': 'done' });
    expect(after.report.jobs.filter((j) => j.kind === 'export').every((j) => j.status === 'done')).toBe(true);
    expect(images(after.report).every((j) => j.backend === 'comfyui')).toBe(true);
  }, 120_000);

  it('an output folder sharing the cache gets the images rendered again for another one', async () => {
    const inA = ['--out', 'outA'];
    expect((await cli([...inA, '--backend', 'draft', '--plain'])).code).toBe(0);
    const server = await comfy();
    expect((await run(['--server', server.url, '--no-fallback'])).code).toBe(0);
    // The draft run into outA now serves ComfyUI's images, and writes them there.
    expect((await cli([...inA, '--backend', 'draft', '--plain'])).code).toBe(0);
    const report = JSON.parse(await readFile(join(dir, 'outA', 'report.json'), 'utf8')) as RunReport;
    const panel = report.jobs.find((j) => j.id === 'panel:1-1')!;
    expect(panel).toMatchObject({ status: 'cached', backend: 'comfyui' });
    const real = JSON.parse(await readFile(join(dir, 'out', 'report.json'), 'utf8')) as RunReport;
    const realPanel = real.jobs.find((j) => j.id === 'panel:1-1')!;
    expect(await readFile(panel.output!)).toEqual(await readFile(realPanel.output!));
    const page = (r: RunReport) => r.jobs.find((j) => j.id === 'page:1')!.output!;
    expect(await readFile(page(report))).toEqual(await readFile(page(real)));
  }, 120_000);
});
