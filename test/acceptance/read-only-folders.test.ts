/**
 * A folder the run cannot write is found before any GPU work (issue 16), through the built
 * CLI: a read-only `--out` or `--cache` is exit 2 (FOLDER_NOT_WRITABLE) naming the folder,
 * with no stack trace, and the ComfyUI emulator is never sent a prompt. A cache that turns
 * read-only mid-run stops the run at the first image it cannot take (exit 2), and the re-run
 * adopts what the stopped one sent.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readOnlyFolders } from '../run/read-only.js';
import { killEmulators, runComic, startEmulator, writeExample } from '../support/process.js';

let dir: string;
const readOnly = readOnlyFolders();
let script: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'comic-read-only-'));
  script = join(dir, 'comic.yaml');
  await writeExample(script);
});
afterEach(async () => {
  readOnly.restoreAll();
  await killEmulators();
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const readOnlyFolder = (name: string) => readOnly.make(join(dir, name));

describe('read-only folders, as users meet them', { timeout: 120_000 }, () => {
  it('--out read-only: exit 2 at once, naming the folder, nothing rendered', async (ctx) => {
    const out = await readOnlyFolder('out-ro');
    if (out.skip) return ctx.skip(out.skip);
    const run = await runComic(['generate', script, '--backend', 'draft', '--out', out.path, '--cache', join(dir, 'cache-a'), '--plain']);
    const stderr = String(run.stderr);
    expect(run.exitCode).toBe(2);
    expect(stderr).toContain(`the output folder ${out.path} is not writable`);
    expect(stderr).toContain('(FOLDER_NOT_WRITABLE)');
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(String(run.stdout)).not.toMatch(/\bdone\b.*panel:/);
  });

  it('the cache turned read-only mid-run: the run stops at once naming it, nothing rendered again, and the re-run finishes', async (ctx) => {
    const cache = join(dir, 'cache-mid');
    const out = join(dir, 'out-mid');
    const comfy = await startEmulator('comfyui', ['--step-ms', '10']);
    const run = runComic(['generate', script, '--server', comfy.url, '--no-fallback', '--out', out, '--cache', cache, '--plain']);
    // Once the first image is in, the disk goes read-only under the run.
    let stdout = '';
    run.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    while (!/\bdone\s+\S+/.test(stdout)) await new Promise((r) => setTimeout(r, 20));
    const locked = readOnly.make(join(cache, 'staging'));
    if (locked.skip) {
      run.kill('SIGKILL');
      return ctx.skip(locked.skip);
    }
    const result = await run;
    const output = `${result.stdout}${result.stderr}`;
    expect(result.exitCode, output).toBe(2);
    expect(String(result.stderr)).toMatch(/comic: the run stopped: the download of .* the folder .*\/staging is not writable .*\(FOLDER_NOT_WRITABLE\)/);
    expect(output).toContain(join(cache, 'staging'));
    expect(output).toContain('make the folder writable');
    expect(output).not.toMatch(/SERVER_(UNREACHABLE|PROTOCOL|ERROR)|retry/);
    expect(String(result.stderr)).not.toMatch(/\n\s+at /);
    expect(await readFile(join(out, 'report.md'), 'utf8')).toMatch(/\*\*Stopped \(FOLDER_NOT_WRITABLE\):\*\* the run stopped: the download of /);
    const sent = async () => Object.keys((await (await fetch(`${comfy.url}/history`)).json()) as Record<string, unknown>).length;
    // Stopped with what was in flight, not after rendering the other dozen images for nothing.
    expect(await sent()).toBeLessThanOrEqual(5);

    readOnly.restoreAll();
    const again = await runComic(['generate', script, '--server', comfy.url, '--no-fallback', '--out', out, '--cache', cache, '--plain']);
    expect(again.exitCode, String(again.stderr)).toBe(0);
    // The prompts the stopped run sent were adopted: over both runs, one per image.
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as { jobs: { kind: string }[] };
    const images = report.jobs.filter((j) => ['character', 'background', 'panel'].includes(j.kind)).length;
    expect(images).toBeGreaterThan(10);
    expect(await sent()).toBe(images);
  });

  it('--cache read-only with ComfyUI: exit 2 naming the cache, not a server error, and no prompt sent', async (ctx) => {
    const cache = await readOnlyFolder('cache-ro');
    if (cache.skip) return ctx.skip(cache.skip);
    const comfy = await startEmulator('comfyui');
    const run = await runComic(['generate', script, '--server', comfy.url, '--no-fallback', '--out', join(dir, 'out-b'), '--cache', cache.path, '--plain']);
    const stderr = String(run.stderr);
    expect(run.exitCode).toBe(2);
    expect(stderr).toContain(`the cache folder ${cache.path} is not writable`);
    expect(stderr).toContain('(FOLDER_NOT_WRITABLE)');
    expect(`${run.stdout}${stderr}`).not.toMatch(/SERVER_(UNREACHABLE|PROTOCOL)/);
    expect(stderr).not.toMatch(/\n\s+at /);
    const history = (await (await fetch(`${comfy.url}/history`)).json()) as Record<string, unknown>;
    expect(Object.keys(history)).toEqual([]);
  });
});
