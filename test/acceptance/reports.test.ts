/**
 * Reports tell the whole story, for the process a user runs (the built bin/comic.js as a
 * child process, the ComfyUI emulator in a process of its own): every job of the plan is in
 * report.json with its status, also when no backend got ready or the run was cancelled;
 * report.md and the last line of output say what happened and what to do next; lettering
 * warnings reach report.json and report.md, also on a rerun served from the cache.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/net.js';
import { killEmulators, plannedJobs, root, runComic, runComicInTerminal, startEmulator, writeExample } from '../support/process.js';

/** The words the CLI uses (src/progress/format.ts), spelled out: the test is the user's view. */
const RESUME = 'run the same command again to resume';
const OVERFULL = join(root, 'test', 'fixtures', 'overfull-lettering.yaml');
/** Jobs in the example's plan (read from `comic plan`). */
let LIGHTHOUSE_JOBS = 0;

interface Job {
  readonly id: string;
  readonly status: string;
  readonly reason: string | null;
  readonly error: { readonly code: string; readonly message: string } | null;
}
interface Report {
  readonly exitCode: number;
  readonly stopped: { readonly code: string; readonly message: string } | null;
  readonly next: string | null;
  readonly totals: Record<string, number>;
  readonly warnings: readonly { readonly job: string | null; readonly message: string }[];
  readonly jobs: readonly Job[];
}
interface JsonLine {
  readonly schema: string;
  readonly type?: string;
  readonly [key: string]: unknown;
}

let dir: string;
let script: string;
let config: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'comic-reports-'));
  script = join(dir, 'lighthouse.yaml');
  // The example at screen resolution: the same jobs, faster pages.
  await writeExample(script);
  LIGHTHOUSE_JOBS = await plannedJobs(script);
  // A short reconnect grace keeps the dead-server case quick; users get the default.
  config = join(dir, 'comic.config.yaml');
  await writeFile(config, 'timeouts: { reconnect: 1500ms }\n');
});
afterEach(killEmulators);
afterAll(() => rm(dir, { recursive: true, force: true }));

let runs = 0;
function folders(): { out: string; cache: string; args: string[] } {
  const n = ++runs;
  const out = join(dir, `out-${n}`);
  const cache = join(dir, `cache-${n}`);
  return { out, cache, args: ['--out', out, '--cache', cache] };
}

const readReport = async (out: string) => JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as Report;
const readMarkdown = (out: string) => readFile(join(out, 'report.md'), 'utf8');
const jsonLines = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as JsonLine);

describe('no backend gets ready', { timeout: 90_000 }, () => {
  it('dead server, no fallback: exit 3, NO_BACKEND on stderr, every job not run with the reason', async () => {
    const port = await freePort();
    const { out, args } = folders();
    const run = await runComic(['generate', script, '--server', `http://127.0.0.1:${port}`, '--no-fallback', '--config', config, '--json', ...args]);
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toContain('(NO_BACKEND)');

    const report = await readReport(out);
    expect(report.jobs).toHaveLength(LIGHTHOUSE_JOBS);
    expect(report.totals).toMatchObject({ jobs: LIGHTHOUSE_JOBS, 'not-run': LIGHTHOUSE_JOBS, done: 0, cached: 0 });
    expect(report.stopped).toMatchObject({ code: 'NO_BACKEND' });
    expect(report.stopped!.message).toContain(`127.0.0.1:${port}`);
    for (const job of report.jobs) {
      expect(job.status, job.id).toBe('not-run');
      expect(job.error).toEqual({ code: 'NO_BACKEND', message: report.stopped!.message });
      expect(job.reason).toBe(report.stopped!.message);
    }
    // What to do next: start a server or configure a fallback, in the report and on the last line.
    expect(report.next).toMatch(/start ComfyUI.*--server URL.*fallback/);
    const md = await readMarkdown(out);
    expect(md).toContain('**No job ran (NO_BACKEND):**');
    expect(md).toContain(`**Next:** ${report.next}.`);
    // Every job in the table of what was not done, the long reason said once above it.
    expect(md.match(/\| not-run \| NO_BACKEND \(see above\) \|/g)).toHaveLength(LIGHTHOUSE_JOBS);
    const last = jsonLines(String(run.stdout)).at(-1);
    expect(last).toMatchObject({ schema: 'comic.summary/1', exitCode: 3, total: LIGHTHOUSE_JOBS, notRun: LIGHTHOUSE_JOBS, next: report.next, error: { code: 'NO_BACKEND' } });
  });
});

describe.each(['--json', '--plain'] as const)('a run cancelled by SIGINT part-way (%s)', (mode) => {
  it('exit 130; report.json has every job, report.md and the last line say cancelled and how to resume', { timeout: 120_000 }, async () => {
    const comfy = await startEmulator('comfyui', ['--step-ms', '40']);
    const { out, args } = folders();
    const child = runComic(['generate', script, '--server', comfy.url, '--no-fallback', mode, ...args]);
    // One signal only, once the first job is done: a second Ctrl-C would mean "quit at once".
    const firstDone = mode === '--json' ? /"type":"job-done"/ : /^\d\d:\d\d:\d\d done /m;
    let seen = '';
    let sent = false;
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (!sent && firstDone.test(seen)) sent = child.kill('SIGINT');
    });
    const run = await child;
    expect(sent).toBe(true);
    expect(run.exitCode, String(run.stderr)).toBe(130);

    const report = await readReport(out);
    expect(report.jobs).toHaveLength(LIGHTHOUSE_JOBS);
    expect(report.totals.jobs).toBe(LIGHTHOUSE_JOBS);
    const by = (status: string) => report.jobs.filter((j) => j.status === status);
    expect(by('done').length).toBeGreaterThanOrEqual(1);
    expect(by('not-run').length).toBeGreaterThanOrEqual(1); // pages and exports at least
    // Every job is accounted for, and none of them as failed or skipped: a cancel is neither.
    expect(by('done').length + by('cached').length + by('cancelled').length + by('not-run').length).toBe(LIGHTHOUSE_JOBS);
    for (const job of [...by('cancelled'), ...by('not-run')]) expect(job.error?.code, job.id).toBe('CANCELLED');
    expect(report).toMatchObject({ exitCode: 130, stopped: { code: 'CANCELLED' } });
    expect(report.next).toContain(RESUME);

    const md = await readMarkdown(out);
    expect(md).toMatch(/^\*\*Cancelled\*\*/m);
    expect(md).toContain(`**Next:** ${report.next}`);

    const lines = String(run.stdout).trimEnd().split('\n');
    if (mode === '--json') {
      const last = JSON.parse(lines.at(-1)!) as JsonLine;
      expect(last).toMatchObject({ schema: 'comic.summary/1', exitCode: 130, cancelled: by('cancelled').length, notRun: by('not-run').length, error: { code: 'CANCELLED' } });
      expect(last.next).toContain(RESUME);
    } else {
      expect(lines.at(-2)).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d cancelled ${LIGHTHOUSE_JOBS} jobs in \\S+: .*\\d+ not run \\(exit code 130\\)$`));
      expect(lines.at(-1)).toContain(`→ ${RESUME}`);
    }
  });
});

describe('lettering warnings', { timeout: 90_000 }, () => {
  it('are in report.json and report.md on the first run, and on a rerun served from the cache (dashboard too)', async () => {
    const { out, args } = folders();
    const first = await runComic(['generate', OVERFULL, '--backend', 'draft', '--json', ...args]);
    expect(first.exitCode, String(first.stderr)).toBe(0);
    const report = await readReport(out);
    const expected = [
      { job: 'page:1', message: expect.stringMatching(/^panel 1-1: the speech "This line goes on .*" does not fit in the panel/) },
      { job: 'page:1', message: expect.stringContaining('panel 1-2: no lettering font has a glyph for "𓀀" (U+13000); it is drawn as an empty box') },
    ];
    expect(report.warnings).toEqual(expected);
    const md = await readMarkdown(out);
    expect(md).toContain('## Warnings');
    expect(md).toMatch(/^- page:1: panel 1-1: the speech ".*" does not fit in the panel/m);
    expect(md).toContain('- page:1: panel 1-2: no lettering font has a glyph for "𓀀" (U+13000); it is drawn as an empty box');
    expect(jsonLines(String(first.stdout)).at(-1)).toMatchObject({ schema: 'comic.summary/1', warnings: 2 });

    // Same folders: everything comes from the cache, the warnings with it.
    const again = await runComic(['generate', OVERFULL, '--backend', 'draft', '--json', ...args]);
    expect(again.exitCode).toBe(0);
    const lines = jsonLines(String(again.stdout));
    expect(lines.at(-1)).toMatchObject({ done: 0, cached: 6, warnings: 2 });
    expect(lines.filter((l) => l.type === 'warning').map((l) => l.job)).toEqual(['page:1', 'page:1']);
    const rerun = await readReport(out);
    expect(rerun.jobs.find((j) => j.id === 'page:1')?.status).toBe('cached');
    expect(rerun.warnings).toEqual(expected);
    expect(await readMarkdown(out)).toContain('- page:1: panel 1-2: no lettering font has a glyph for "𓀀" (U+13000); it is drawn as an empty box');

    // Under the dashboard, the count it shows is the count report.json holds.
    const terminal = await runComicInTerminal(['generate', OVERFULL, '--backend', 'draft', ...args]);
    expect(terminal.exitCode).toBe(0);
    expect(terminal.output).toContain('2 warnings (see report.md)');
    expect((await readReport(out)).warnings).toHaveLength(2);
  });
});
