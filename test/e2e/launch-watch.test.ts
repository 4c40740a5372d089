/**
 * `generate` starting a local ComfyUI from `comfyui.launch` (here: the emulator's own
 * command line, as a real child process), and `generate --watch` re-rendering what changed.
 */
import { freePort } from '../support/net.js';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import type { RunReport } from '../../src/run/report.js';
import { watchAndRun } from '../../src/run/watch.js';

const root = resolve(import.meta.dirname, '../..');
const SCRIPT = (prompt: string) => `comic:
  title: Tiny
  format: { width: 400, height: 600, dpi: 72, bleed: 0, margin: 10px }
pages:
  - layout: 2
    panels:
      - { prompt: "${prompt}" }
      - { prompt: a quiet harbour }
`;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'comic-launch-'));
  await writeFile(join(dir, 'comic.yaml'), SCRIPT('a gull on a post'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function captureIO(onText: (text: string) => void = () => {}): { io: CliIO; text: () => string } {
  const all: string[] = [];
  const sink = {
    write(chunk: string | Uint8Array) {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
      all.push(text);
      onText(text);
      return true;
    },
  } as unknown as NodeJS.WritableStream;
  return { io: { stdout: sink, stderr: sink, env: {}, cwd: dir }, text: () => all.join('') };
}


const answers = async (url: string) => fetch(`${url}/api/system_stats`).then(() => true, () => false);
const report = async () => JSON.parse(await readFile(join(dir, 'out', 'report.json'), 'utf8')) as RunReport;

describe('comfyui.launch', () => {
  it('starts a local ComfyUI that is not up, renders on it, and stops it at the end', { timeout: 60_000 }, async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const args = ['--import', import.meta.resolve('tsx'), join(root, 'test/fakes/comfyui/main.ts'), '--port', String(port), '--step-ms', '1'];
    await writeFile(
      join(dir, 'comic.config.yaml'),
      `servers: [{ url: "${url}" }]\noutput: out\ncache: cache\ncomfyui:\n  launch:\n    command: ${JSON.stringify(process.execPath)}\n    args: ${JSON.stringify(args)}\n`,
    );
    expect(await answers(url)).toBe(false);
    const { io, text } = captureIO();
    const code = await main(['node', 'comic', 'generate', 'comic.yaml', '--no-fallback', '--plain'], io);
    expect(code, text()).toBe(0);
    expect(text()).toContain(`no ComfyUI at ${url}; starting`);
    expect((await report()).jobs.filter((j) => j.kind === 'panel').every((j) => j.backend === 'comfyui')).toBe(true);
    expect(await answers(url)).toBe(false); // we stopped what we started
  });
});

describe('--watch', () => {
  it('re-renders only what changed when the script is saved, until Ctrl-C', { timeout: 60_000 }, async () => {
    let finished = 0;
    let onFinish: () => void = () => {};
    const { io, text } = captureIO((chunk) => {
      if (chunk.includes('watching for changes')) {
        finished++;
        onFinish();
      }
    });
    const nextFinish = () =>
      new Promise<void>((r, reject) => {
        onFinish = r;
        setTimeout(() => reject(new Error(`no rerun; output so far:\n${text()}`)), 20_000).unref();
      });
    const first = nextFinish();
    const running = main(['node', 'comic', 'generate', 'comic.yaml', '--backend', 'draft', '--out', 'out', '--cache', 'cache', '--plain', '--watch'], io);
    await first;
    expect((await report()).totals.done).toBeGreaterThan(0);
    const second = nextFinish();
    await writeFile(join(dir, 'comic.yaml'), SCRIPT('a gull takes off'));
    await second;
    const rerun = await report();
    expect(rerun.jobs.filter((j) => j.status === 'done').map((j) => j.id)).toEqual(['panel:1-1', 'page:1', 'export:pdf', 'export:cbz']);
    process.emit('SIGINT');
    expect(await running).toBe(130);
    expect(finished).toBe(2);
    expect(text()).toContain('comic.yaml changed; re-planning');
  });

  it('debounces a burst of saves into one rerun, and reports a broken script without stopping', async () => {
    const controller = new AbortController();
    const runs: number[] = [];
    const { io, text } = captureIO();
    const file = join(dir, 'comic.yaml');
    let fail = false;
    const watching = watchAndRun({ files: [file], dirs: [], io, signal: controller.signal, debounceMs: 50 }, async () => {
      runs.push(Date.now());
      if (fail) throw new Error('comic.yaml:3:5: something is wrong');
      return 0;
    });
    await new Promise((r) => setTimeout(r, 100));
    for (let i = 0; i < 5; i++) await writeFile(file, SCRIPT(`burst ${i}`));
    await new Promise((r) => setTimeout(r, 400));
    expect(runs).toHaveLength(2); // the first run, then one for the burst
    fail = true;
    await writeFile(file, 'broken: [');
    await new Promise((r) => setTimeout(r, 400));
    expect(text()).toContain('comic.yaml:3:5: something is wrong');
    controller.abort();
    expect(await watching).toBe(1);
  });
});
