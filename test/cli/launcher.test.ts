/**
 * bin/comic.js, the file users run: it starts the compiled CLI (dist/, built by `npm ci`), and
 * refuses an older Node up front rather than failing mid-run.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { version } from '../../src/cli/version.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'bin', 'comic.js');

describe('bin/comic.js', () => {
  it('runs the built CLI', async () => {
    const { stdout, exitCode } = await execa(process.execPath, [bin, '--version'], { reject: false });
    expect({ stdout, exitCode }).toEqual({ stdout: version, exitCode: 0 });
  });

  it('refuses a Node older than 20.15 with exit code 2, saying which it found', async () => {
    const { stderr, stdout, exitCode } = await execa(process.execPath, ['--import', join(root, 'test/cli/fixtures/old-node.mjs'), bin, '--version'], { reject: false });
    expect(exitCode).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('needs Node.js 20.15 or newer; this is v20.9.0');
  });
});
