/**
 * A run killed mid-flight (SIGKILL: no cleanup at all) leaves prompts queued and running on
 * ComfyUI. The re-run takes them over from the run manifest instead of sending them again,
 * so no image costs GPU time twice. The built CLI as a process, the emulator as another.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killEmulators, runComic, startEmulator, writeExample } from '../support/process.js';

let dir: string;
let script: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'comic-resume-'));
  script = join(dir, 'comic.yaml');
  await writeExample(script);
});
afterEach(killEmulators);
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('a re-run after SIGKILL', { timeout: 120_000 }, () => {
  it('adopts the prompts the killed run left on the server: every image rendered exactly once', async () => {
    const comfy = await startEmulator('comfyui', ['--step-ms', '60']);
    const args = ['generate', script, '--server', comfy.url, '--no-fallback', '--json', '--out', join(dir, 'out'), '--cache', join(dir, 'cache')];
    const first = runComic(args);
    // Killed once the server holds prompts of ours, queued and running, and some are done.
    let seen = '';
    await new Promise<void>((resolve) => {
      first.stdout!.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if ((seen.match(/"type":"job-done"/g) ?? []).length >= 2 && (seen.match(/"type":"job-queued"/g) ?? []).length >= 5) resolve();
      });
    });
    first.kill('SIGKILL');
    await first.catch(() => undefined);
    const left = (await (await fetch(`${comfy.url}/queue`)).json()) as { queue_running: unknown[]; queue_pending: unknown[] };
    expect(left.queue_running.length + left.queue_pending.length).toBeGreaterThan(0);

    const second = await runComic(args);
    expect(second.exitCode, String(second.stdout).split('\n').filter((l) => /failed|summary/.test(l)).join('\n') + String(second.stderr)).toBe(0);
    const report = JSON.parse(await readFile(join(dir, 'out', 'report.json'), 'utf8')) as { jobs: { id: string; kind: string }[] };
    const images = report.jobs.filter((j) => ['character', 'background', 'panel'].includes(j.kind)).length;
    // One history entry per prompt id: a prompt sent again under a new id would add one.
    const history = (await (await fetch(`${comfy.url}/history`)).json()) as Record<string, { status: { status_str: string } }>;
    expect(Object.keys(history)).toHaveLength(images);
    expect(Object.values(history).every((h) => h.status.status_str === 'success')).toBe(true);
  });
});
