/**
 * A `comic worker` whose own work folder turns read-only mid-run (a full or failing disk on
 * that GPU box): its failure is its own, not the coordinator's DISK_FULL or
 * FOLDER_NOT_WRITABLE (which would stop the whole run). It takes no more jobs, another worker
 * renders them, and `comic generate --queue` finishes with 0. Coordinator, workers and
 * emulator are all processes of their own.
 */
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_AVAILABLE, startRedis, type RedisInstance } from '../distributed/helpers.js';
import { readOnlyFolders } from '../run/read-only.js';
import { killEmulators, runComic, startEmulator, writeExample } from '../support/process.js';

let dir: string;
let redis: RedisInstance | null = null;
const children: ReturnType<typeof runComic>[] = [];
const readOnly = readOnlyFolders();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'comic-worker-disk-'));
});
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  readOnly.restoreAll();
  await killEmulators();
  await redis?.stop();
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Resolves once the child's stdout has printed something matching `pattern`; the text so far. */
function printed(child: ReturnType<typeof runComic>, pattern: RegExp): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (pattern.test(text)) resolve(text);
    });
  });
}

describe.skipIf(!REDIS_AVAILABLE)("a worker whose own folder stops taking writes", { timeout: 120_000 }, () => {
  it('gives its job back as its own failure and pauses; another worker renders it, and the run ends with 0', async (ctx) => {
    redis = await startRedis();
    const comfy = await startEmulator('comfyui', ['--step-ms', '5']);
    const script = join(dir, 'comic.yaml');
    await writeExample(script);
    const worker = (name: string, env: Record<string, string> = {}) =>
      runComic(['worker', '--queue', redis!.url, '--server', comfy.url, '--no-fallback', '--concurrency', '1', '--name', name], { env });

    // gpu-full's temporary folder (where it puts what it renders) is locked once it is made.
    const tmpFull = join(dir, 'tmp-full');
    await mkdir(tmpFull);
    const full = worker('gpu-full', { TMPDIR: tmpFull });
    children.push(full);
    const fullLog = printed(full, /taking no jobs until its folder takes files again/);
    await printed(full, /taking jobs from/);
    const work = (await readdir(tmpFull)).find((name) => name.startsWith('comic-worker-'));
    expect(work).toBeDefined();
    const locked = readOnly.make(join(tmpFull, work!));
    if (locked.skip) return ctx.skip(locked.skip);

    const coordinator = runComic(['generate', script, '--queue', redis.url, '--json', '--out', join(dir, 'out'), '--cache', join(dir, 'cache')]);
    children.push(coordinator);
    const said = await fullLog;
    expect(said).toMatch(/fail {4}\S+ \S+: worker gpu-full cannot write what it renders: .*\(SERVER_ERROR\); back to the queue for another try/);
    const room = worker('gpu-room');
    children.push(room);

    const run = await coordinator;
    expect(run.exitCode, String(run.stderr)).toBe(0);
    expect(`${run.stdout}${run.stderr}`).not.toMatch(/DISK_FULL|FOLDER_NOT_WRITABLE|\n\s+at /);
    const report = JSON.parse(await readFile(join(dir, 'out', 'report.json'), 'utf8')) as { jobs: { kind: string; status: string; server: string | null }[] };
    const images = report.jobs.filter((j) => ['character', 'background', 'panel'].includes(j.kind));
    expect(images.length).toBeGreaterThan(10);
    for (const job of images) expect(job).toMatchObject({ status: 'done', server: expect.stringMatching(/^gpu-room\//) });
  });
});
