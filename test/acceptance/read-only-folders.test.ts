/**
 * A folder the run cannot write is found before any GPU work (issue 16), through the built
 * CLI: a read-only `--out` or `--cache` is exit 2 (FOLDER_NOT_WRITABLE) naming the folder,
 * with no stack trace, and the ComfyUI emulator is never sent a prompt.
 */
import { mkdtemp, rm } from 'node:fs/promises';
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
