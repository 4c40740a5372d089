/** `comic compose` (pages from cached images, no backend) and `comic cache ls|prune|clear`. */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { memoryIO } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';

const SCRIPT = (caption: string) => `comic:
  title: Tiny
  format: { width: 400, height: 600, dpi: 72, bleed: 0, margin: 10px }
pages:
  - layout: 2
    panels:
      - { prompt: a gull on a post, caption: "${caption}" }
      - { prompt: a quiet harbour }
`;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'comic-compose-'));
  await writeFile(join(dir, 'comic.yaml'), SCRIPT('Dawn.'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function comic(...args: string[]) {
  const io = memoryIO({ cwd: dir, env: {} });
  const code = await main(['node', 'comic', ...args], io.io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

describe('comic compose', () => {
  it('re-letters pages from cached panels with no backend at all', async () => {
    expect((await comic('generate', 'comic.yaml', '--backend', 'draft', '--out', 'out', '--cache', 'cache', '--plain')).code).toBe(0);
    await writeFile(join(dir, 'comic.yaml'), SCRIPT('Dusk, the same day.'));
    const { code, stdout } = await comic('compose', 'comic.yaml', '--out', 'out', '--cache', 'cache', '--json');
    expect(code).toBe(0);
    const events = stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; job?: string });
    expect(events.filter((e) => e.type === 'job-done').map((e) => e.job)).toEqual(['page:1', 'export:pdf', 'export:cbz']);
    expect(events.filter((e) => e.type === 'job-cached').map((e) => e.job).sort()).toEqual(['panel:1-1', 'panel:1-2']);
  });

  it('says which images are missing, skips their pages, exits 1', async () => {
    const { code, stderr, stdout } = await comic('compose', 'comic.yaml', '--out', 'out', '--cache', 'cache', '--plain');
    expect(code).toBe(1);
    expect(`${stdout}${stderr}`).toContain('NOT_CACHED');
    expect(`${stdout}${stderr}`).toMatch(/panel:1-1 has not been rendered yet/);
  });
});

describe('comic cache', () => {
  it('lists, prunes what no script uses, and clears', async () => {
    await comic('generate', 'comic.yaml', '--backend', 'draft', '--out', 'out', '--cache', 'cache', '--plain');
    const listed = await comic('cache', 'ls', '--cache', 'cache', '--json');
    const entries = listed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { job: string });
    expect(entries.map((e) => e.job).sort()).toEqual(['page:1', 'panel:1-1', 'panel:1-2']);

    // After an edit, the old page is no longer used by the script: prune removes just it.
    await writeFile(join(dir, 'comic.yaml'), SCRIPT('Later.'));
    const pruned = await comic('cache', 'prune', 'comic.yaml', '--cache', 'cache');
    expect(pruned.stderr).toMatch(/removed 1 entries/);
    expect((await comic('cache', 'prune', '--older-than', '7d', '--cache', 'cache')).stderr).toMatch(/removed 0 entries/);
    expect((await comic('cache', 'prune', '--older-than', 'soon', '--cache', 'cache')).code).toBe(2);

    await comic('cache', 'clear', '--cache', 'cache');
    expect(await readdir(dir)).not.toContain('cache');
  });
});
