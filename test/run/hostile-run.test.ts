/**
 * `comic generate` (in process, through main()) against an emulated ComfyUI that turns
 * hostile (faults.hostile): the run ends with a clear error and no stack trace, in bounded
 * time, having read a bounded number of bytes; nothing is written outside the output and
 * cache folders; no staging file is left; nothing broken enters the cache, and a broken entry
 * already there is dropped and rendered again, with a warning.
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { RenderCache } from '../../src/run/cache.js';
import type { RunReport } from '../../src/run/report.js';
import { startComfyEmulator, type ComfyEmulator } from '../fakes/comfyui/index.js';
import { truncated } from '../fakes/comfyui/hostile.js';

const MiB = 1024 * 1024;
const SCRIPT = `
comic:
  title: Hostile Shores
  seed: 11
  format: { width: 400, height: 600, dpi: 72, bleed: 0, margin: 20px }
pages:
  - layout: 2
    panels:
      - { prompt: a rock in a grey sea }
      - { prompt: an empty harbour at dawn }
`;
// Short budgets keep the tests quick; the defaults (2 min, 256 MiB, 64 MiB) are what users get.
const CONFIG = 'timeouts: { reconnect: 1500ms, download: 1s }\nlimits: { imageBytes: 1MiB, jsonBytes: 2MiB }\n';

let dir: string;
let emulator: ComfyEmulator;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'comic-hostile-'));
  await writeFile(join(dir, 'comic.yaml'), SCRIPT);
  await writeFile(join(dir, 'comic.config.yaml'), CONFIG);
  emulator = await startComfyEmulator({ stepMs: 1 });
});
afterEach(async () => {
  await emulator.close();
  await rm(dir, { recursive: true, force: true });
});

async function run(extra: string[] = []) {
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
  const started = Date.now();
  const code = await main(['node', 'comic', 'generate', 'comic.yaml', '--out', 'out', '--cache', 'cache', '--server', emulator.url, '--no-fallback', '--export', 'png', '--plain', ...extra], io);
  const report = await readFile(join(dir, 'out', 'report.json'), 'utf8').then((text) => JSON.parse(text) as RunReport, () => null);
  return { code, stdout: out.join(''), stderr: err.join(''), report, ms: Date.now() - started };
}

const statuses = (report: RunReport | null) => Object.fromEntries((report?.jobs ?? []).map((j) => [j.id, j.status]));
const executions = (): number => [...emulator.prompts.values()].reduce((n, p) => n + p.executions, 0);

/** Every file under the test folder, relative to it, with its size. */
async function files(): Promise<{ path: string; bytes: number }[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return Promise.all(
    entries.filter((e) => e.isFile()).map(async (e) => ({ path: relative(dir, join(e.parentPath, e.name)), bytes: (await stat(join(e.parentPath, e.name))).size })),
  );
}

/** Only the inputs, the output folder and the cache: nothing else was written. */
async function expectOnlyOutputAndCache(): Promise<void> {
  const stray = (await files()).map((f) => f.path).filter((p) => !/^(out|cache)[/\\]/.test(p) && p !== 'comic.yaml' && p !== 'comic.config.yaml');
  expect(stray).toEqual([]);
}

const stagingFiles = async (): Promise<string[]> => (await readdir(join(dir, 'cache', 'staging')).catch(() => [] as string[])).sort();

async function cachedKeys(): Promise<string[]> {
  const keys: string[] = [];
  for await (const entry of new RenderCache(join(dir, 'cache')).entries()) keys.push(entry.key);
  return keys;
}

function expectNoStackTrace(text: string): void {
  expect(text).not.toMatch(/\n\s+at /);
}

describe('a truncated PNG (a good header, half its data)', () => {
  it('never becomes done or cached: the run fails clearly, and the next run against a healthy server renders everything', async () => {
    emulator.faults.hostile.push({ kind: 'truncated-png' });
    const first = await run();
    expect(first.code).toBe(1);
    expect(statuses(first.report)).toMatchObject({ 'panel:1-1': 'failed', 'panel:1-2': 'failed', 'page:1': 'skipped' });
    const failed = first.report!.jobs.find((j) => j.id === 'panel:1-1')!;
    expect(failed.error).toMatchObject({ code: 'SERVER_PROTOCOL' });
    expect(failed.error!.message).toMatch(/which is not a readable image: it does not decode \((.*read error|its data is cut short or damaged\))/);
    expectNoStackTrace(first.stderr);
    expect(executions()).toBe(2); // a broken image is not a reason to render it again on the same server
    expect(await cachedKeys()).toEqual([]); // nothing poisoned
    expect(await stagingFiles()).toEqual([]);
    await expectOnlyOutputAndCache();

    emulator.faults.hostile.length = 0;
    const second = await run();
    expect(second.code).toBe(0);
    expect(statuses(second.report)).toMatchObject({ 'panel:1-1': 'done', 'panel:1-2': 'done', 'page:1': 'done' });
    const panel = await sharp(join(dir, 'out', 'panels', '1-1.png')).raw().toBuffer({ resolveWithObject: true });
    expect(panel.info.width).toBeGreaterThan(0);
  });

  it('a cache entry cut short after the fact (a poisoned cache) is dropped with a warning and rendered again', async () => {
    const first = await run();
    expect(first.code).toBe(0);
    const cache = new RenderCache(join(dir, 'cache'));
    const key = first.report!.jobs.find((j) => j.id === 'panel:1-2')!.key;
    await writeFile(cache.imagePath(key), truncated(await readFile(cache.imagePath(key))));
    const before = executions();

    const second = await run();
    expect(second.code).toBe(0);
    expect(statuses(second.report)).toMatchObject({ 'panel:1-1': 'cached', 'panel:1-2': 'done', 'page:1': 'cached' });
    expect(executions() - before).toBe(1);
    expect(second.report!.warnings).toContainEqual({
      job: 'panel:1-2',
      message: expect.stringMatching(/^the cached image of panel:1-2 \([0-9a-f]{12}\) was dropped and is rendered again: it does not decode \((.*read error|its data is cut short or damaged\))/),
    });
    expect(second.stdout + second.stderr).toMatch(/dropped and is rendered again/);
    await sharp(cache.imagePath(key)).raw().toBuffer(); // whole again
    await sharp(join(dir, 'out', 'panels', '1-2.png')).raw().toBuffer();
  });
});

describe('unbounded answers', () => {
  it('an oversized /view: a clear error naming server and route, bounded bytes, no file over the cap, staging empty', async () => {
    emulator.faults.hostile.push({ kind: 'oversized-view', bytes: 256 * MiB });
    const result = await run();
    if (process.env.SHOW_HOSTILE) console.log(result.stdout, result.stderr);
    expect(result.code).toBe(1);
    const failed = result.report!.jobs.filter((j) => j.status === 'failed');
    expect(failed.map((j) => j.id).sort()).toEqual(['panel:1-1', 'panel:1-2']);
    for (const job of failed) {
      expect(job.error!.code).toBe('SERVER_PROTOCOL');
      expect(job.error!.message).toContain(`(${emulator.url}) answered GET /api/view with`);
      expect(job.error!.message).toContain('a file larger than 1 MiB; it was not read further');
    }
    expect(result.stdout + result.stderr).toContain('answered GET /api/view with');
    expectNoStackTrace(result.stderr);
    // Each panel was rendered once; its download was cut off, not retried, not rendered again.
    expect(executions()).toBe(2);
    expect(emulator.faults.hostileHits['oversized-view']).toBe(2);
    expect(emulator.faults.hostileBytesSent).toBeLessThan(2 * 32 * MiB);
    expect((await files()).filter((f) => f.bytes > MiB)).toEqual([]);
    expect(await stagingFiles()).toEqual([]);
    await expectOnlyOutputAndCache();
  });

  it('a /view that never answers: each panel rendered once, the run ends at timeouts.download', async () => {
    emulator.faults.hostile.push({ kind: 'silent-view' });
    const result = await run();
    expect(result.code).toBe(1);
    const failed = result.report!.jobs.filter((j) => j.status === 'failed');
    expect(failed).toHaveLength(2);
    for (const job of failed) expect(job.error!.message).toMatch(/did not deliver .* \(GET \/api\/view\) within 1 s \(timeouts\.download\)/);
    expect(executions()).toBe(2);
    expect(emulator.prompts.size).toBe(2);
    expect(result.ms).toBeLessThan(60_000);
    expect(await stagingFiles()).toEqual([]);
    await expectOnlyOutputAndCache();
  });

  it('a huge /object_info: no server comes up, NO_BACKEND naming the route and limits.jsonBytes', async () => {
    emulator.faults.hostile.push({ kind: 'huge-object-info', bytes: 600 * MiB });
    const result = await run();
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('NO_BACKEND');
    expect(result.stderr).toContain(`(${emulator.url}) answered GET /api/object_info with an answer larger than 2 MiB`);
    expectNoStackTrace(result.stderr);
    expect(emulator.faults.hostileBytesSent).toBeLessThan(64 * MiB);
    await expectOnlyOutputAndCache();
  });
});

describe('staging files', () => {
  it('a run sweeps those of dead processes at its start, and leaves those of live ones', async () => {
    const staging = join(dir, 'cache', 'staging');
    const key = 'ab'.repeat(32);
    const dead = `${key}.4194999.0badc0de.png`; // above Linux's pid_max: no such process
    const deadTemp = `${key}.4194999.0badc0de.png.4194999.12345678.tmp`;
    const live = `${key}.${process.pid}.cafebabe.png`; // ours: a run still going (serve runs several in one process)
    await rm(staging, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(staging, { recursive: true }));
    for (const name of [dead, deadTemp, live]) await writeFile(join(staging, name), Buffer.alloc(4096));
    const result = await run();
    expect(result.code).toBe(0);
    expect(await stagingFiles()).toEqual([live]);
  });
});
