/**
 * The dashboard's last frame, checked on the built CLI in a pseudo-terminal: when a run ends
 * (finished, cancelled with Ctrl-C, or NO_BACKEND) the frame is replaced by the summary, and
 * what the terminal finally shows holds no line of the running frame. Lines the run writes on
 * stderr meanwhile ("cancelling…") land above the frame, not through it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeExample } from '../support/process.js';
import { screenLines, startComicInTerminal } from '../support/terminal.js';

let dir: string;
let script: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'comic-dashboard-'));
  script = await writeExample(join(dir, 'comic.yaml'));
});

afterAll(() => rm(dir, { recursive: true, force: true }));

const SIZE = { rows: 30, columns: 100 };
let runs = 0;
const folders = (): string[] => {
  runs++;
  return ['--out', join(dir, `out${runs}`), '--cache', join(dir, `cache${runs}`)];
};

/** Lines only a running frame has: its header (`comic · comic.yaml · draft · 1.2s`) and the overall bar. */
const RUNNING = /^comic · |\d+\/\d+ jobs · /;
/** A running frame in the raw output (before later output erased it). */
const RUNNING_RAW = /\d+\/\d+ jobs · /;

/** What the terminal shows at the end, and where the summary (`✔ comic …` / `✖ comic …`) is. */
function finalScreen(output: string) {
  const lines = screenLines(output);
  const summary = lines.findIndex((line) => /^[✔✖] comic /.test(line));
  return { lines, summary, running: lines.filter((line) => RUNNING.test(line)) };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('the dashboard in a terminal', { timeout: 120_000 }, () => {
  it('a finished run: the summary replaces the frame', async () => {
    const session = startComicInTerminal(['generate', script, '--backend', 'draft', ...folders()], { size: SIZE });
    const { exitCode, output } = await session.done();
    const screen = finalScreen(output);
    expect(exitCode, screen.lines.join('\n')).toBe(0);
    expect(output).toMatch(RUNNING_RAW); // a frame was drawn, and then replaced
    expect(screen.running, screen.lines.join('\n')).toEqual([]);
    expect(screen.summary).toBe(0);
  });

  it('a run cancelled with Ctrl-C: "cancelling" above, then the summary, no stale header', async () => {
    const session = startComicInTerminal(['generate', script, '--backend', 'draft', ...folders()], { size: SIZE });
    await session.waitFor(/[1-9]\d*\/\d+ jobs/);
    session.type('\u0003');
    const { exitCode, output } = await session.done();
    const screen = finalScreen(output);
    expect(exitCode, screen.lines.join('\n')).toBe(130);
    expect(screen.running, screen.lines.join('\n')).toEqual([]);
    const cancelling = screen.lines.findIndex((line) => line.startsWith('comic: cancelling'));
    expect(cancelling, screen.lines.join('\n')).toBeGreaterThanOrEqual(0);
    expect(screen.summary).toBeGreaterThan(cancelling);
  });

  it('a run that ends with NO_BACKEND: the summary replaces the frame, the reason follows it', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const session = startComicInTerminal(['generate', script, '--server', dead, '--no-fallback', ...folders()], { size: SIZE });
    const { exitCode, output } = await session.done();
    const screen = finalScreen(output);
    expect(exitCode, screen.lines.join('\n')).toBe(3);
    expect(screen.running, screen.lines.join('\n')).toEqual([]);
    expect(screen.summary).toBe(0);
    expect(screen.lines.slice(1).join('\n')).toContain('NO_BACKEND');
  });

  it('a terminal that reports no size: frames are redrawn in place, the scrollback is never cleared', async () => {
    const session = startComicInTerminal(['generate', script, '--backend', 'draft', ...folders()]);
    const { exitCode, output } = await session.done();
    const screen = finalScreen(output);
    expect(exitCode, screen.lines.join('\n')).toBe(0);
    expect(output).toMatch(RUNNING_RAW);
    // ESC[3J erases the user's scrollback: what ink does when it takes a frame for a full screen.
    expect(output).not.toContain('\u001B[3J');
    expect(screen.running).toEqual([]);
  });
});
