/**
 * The README's exit-code table, held by the built CLI as a child process: what a shell script
 * (`comic generate && upload`) or a CI job actually sees. Exit 3 (no backend) is held in
 * servers.test.ts, where servers die; cancelling with SIGINT in reports.test.ts.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killEmulators, plannedJobs, runComic, startEmulator, writeExample } from '../support/process.js';

let dir: string;
let script: string;
let jobs: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'comic-exit-'));
  script = join(dir, 'comic.yaml');
  await writeExample(script);
  jobs = await plannedJobs(script);
});
afterEach(killEmulators);
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('exit codes, as the README documents them', { timeout: 120_000 }, () => {
  it('0: every job done (the README\'s first command, on the draft backend)', async () => {
    const run = await runComic(['generate', script, '--backend', 'draft', '--out', join(dir, 'out-0'), '--cache', join(dir, 'cache-0'), '--plain']);
    expect(run.exitCode).toBe(0);
    expect(String(run.stdout)).toContain(`${jobs} jobs`);
  });

  it('1: some jobs failed, the others finished (compose with images not rendered yet)', async () => {
    const run = await runComic(['compose', script, '--out', join(dir, 'out-1'), '--cache', join(dir, 'cache-1'), '--plain']);
    expect(run.exitCode).toBe(1);
    expect(`${run.stdout}${run.stderr}`).toContain('NOT_CACHED');
    expect(String(run.stderr)).not.toMatch(/\n\s+at /);
  });

  it('2: invalid input, with file:line:column and no stack trace', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'comic:\n  title: Broken\npages:\n  - layout: 2-1\n    panels: nope\n');
    const run = await runComic(['validate', bad]);
    expect(run.exitCode).toBe(2);
    expect(String(run.stderr)).toMatch(new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+:\\d+`));
    expect(String(run.stderr)).not.toMatch(/\n\s+at /);
  });

  it('2: an unknown option is a usage error', async () => {
    const run = await runComic(['generate', script, '--no-such-flag']);
    expect(run.exitCode).toBe(2);
  });

  it('130: SIGTERM (as CI sends it) cancels, says how to resume, and the re-run finishes with 0', async () => {
    const comfy = await startEmulator('comfyui', ['--step-ms', '40']);
    const args = ['generate', script, '--server', comfy.url, '--no-fallback', '--plain', '--out', join(dir, 'out-130'), '--cache', join(dir, 'cache-130')];
    const child = runComic(args);
    await new Promise<void>((resolve) => {
      let seen = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (/ done /.test(seen)) resolve();
      });
    });
    child.kill('SIGTERM');
    const run = await child;
    expect(run.exitCode).toBe(130);
    expect(`${run.stdout}${run.stderr}`).toMatch(/run the same command again/);
    const report = JSON.parse(await readFile(join(dir, 'out-130', 'report.json'), 'utf8')) as { jobs: unknown[] };
    expect(report.jobs).toHaveLength(jobs);
    const again = await runComic(args);
    expect(again.exitCode).toBe(0);
  });
});
