/**
 * The dashboard in a real terminal: scripts/tmux-check.sh runs `comic generate` on the
 * example with the draft backend in a detached tmux session and prints the pane, which must
 * show the summary the dashboard leaves behind. Skipped where tmux is not installed (or
 * should `generate` ever be missing from src/cli/commands/index.ts).
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { commands } from '../../src/cli/commands/index.js';

const hasTmux = (() => {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const hasGenerate = commands.some((c) => c.name === 'generate');

describe.skipIf(!hasTmux || !hasGenerate)('scripts/tmux-check.sh', () => {
  it('shows the dashboard summary in a real terminal', { timeout: 240_000 }, async () => {
    const { stdout } = await promisify(execFile)('bash', ['scripts/tmux-check.sh'], {
      // The sources, not dist/: dist may be older than the code under test.
      env: { ...process.env, COMIC_FROM_SOURCE: '1', TIMEOUT_S: '200', COLUMNS_TMUX: '100', ROWS_TMUX: '30' },
    });
    const pane = stdout.split('\n').filter((line) => line.trim() !== '');
    // The dashboard is redrawn in place and finally replaced by its summary: no frame is left behind.
    expect(pane.filter((line) => line.startsWith('comic · '))).toEqual([]);
    expect(pane.at(-1)).toMatch(/^✔ comic finished: (\d+) jobs in \S+: \1 rendered, 0 cached \(exit code 0\)$/);
  });
});
