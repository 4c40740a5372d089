import { readFile, readdir, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { packageRoot, scaffoldProject } from '../../src/config/scaffold.js';
import { loadScript } from '../../src/script/index.js';
import { caught, useSandbox } from './helpers.js';

const sandbox = useSandbox();
const root = packageRoot();

describe('comic init', () => {
  it('scaffolds comic.config.yaml and comic.yaml from the package, in a new folder', async () => {
    const box = await sandbox();
    const run = await box.run(['init', 'my-comic']);
    expect(run.code).toBe(0);
    const dir = join(box.home, 'my-comic');
    expect(run.stdout).toContain(`created ${join(dir, 'comic.config.yaml')}\ncreated ${join(dir, 'comic.yaml')}\n`);
    expect(run.stdout).toContain('comic validate my-comic/comic.yaml');
    expect(await readFile(join(dir, 'comic.config.yaml'), 'utf8')).toBe(await readFile(join(root, 'comic.config.yaml'), 'utf8'));
    expect(await readFile(join(dir, 'comic.yaml'), 'utf8')).toBe(await readFile(join(root, 'examples/lighthouse.yaml'), 'utf8'));
    // Atomic writes leave no temp files behind.
    expect((await readdir(dir)).sort()).toEqual(['comic.config.yaml', 'comic.yaml']);
  });

  it('defaults to the working directory', async () => {
    const box = await sandbox();
    const run = await box.run(['init'], { cwd: 'here' });
    expect(run.code).toBe(0);
    expect((await readdir(join(box.home, 'here'))).sort()).toEqual(['comic.config.yaml', 'comic.yaml']);
    expect(run.stdout).toContain('comic validate comic.yaml');
  });

  it('the scaffolded config loads with no environment set, and the starter script validates', async () => {
    const box = await sandbox();
    await box.run(['init', 'p']);
    const dir = join(box.home, 'p');
    const config = await loadConfig({ cwd: dir, env: box.env() });
    expect(config.files.project).toBe(join(dir, 'comic.config.yaml'));
    expect(config.output).toBe(join(dir, 'out'));
    expect(config.sources.output).toEqual({ kind: 'project', file: join(dir, 'comic.config.yaml') });
    const comic = await loadScript(join(dir, 'comic.yaml'));
    expect(comic.pages.length).toBeGreaterThan(0);
  });

  it('refuses to overwrite, lists every existing file, and writes nothing', async () => {
    const box = await sandbox();
    const dir = join(box.home, 'p');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'comic.yaml'), 'my script\n');
    const run = await box.run(['init', 'p']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`not overwriting existing files: ${join(dir, 'comic.yaml')} (FILE_EXISTS)`);
    expect(run.stderr).toContain('--force');
    expect(await readdir(dir)).toEqual(['comic.yaml']);
    expect(await readFile(join(dir, 'comic.yaml'), 'utf8')).toBe('my script\n');

    await box.run(['init', 'p', '--force']);
    const again = await box.run(['init', 'p']);
    expect(again.stderr).toContain(`${join(dir, 'comic.config.yaml')}, ${join(dir, 'comic.yaml')}`);
  });

  it('--force replaces existing files', async () => {
    const box = await sandbox();
    await box.write('p/comic.config.yaml', 'backend: draft\n');
    const run = await box.run(['init', 'p', '--force']);
    expect(run.code).toBe(0);
    expect(await readFile(join(box.home, 'p/comic.config.yaml'), 'utf8')).toBe(await readFile(join(root, 'comic.config.yaml'), 'utf8'));
  });

  it('names the missing original when the package is incomplete', async () => {
    const box = await sandbox();
    const fakeRoot = join(box.root, 'pkg');
    await mkdir(fakeRoot, { recursive: true });
    await writeFile(join(fakeRoot, 'comic.config.yaml'), '{}\n');
    const error = await caught(() => scaffoldProject({ dir: join(box.home, 'p'), force: false, from: fakeRoot }));
    expect(error.code).toBe('INTERNAL');
    expect(error.message).toContain('examples/lighthouse.yaml is missing');
  });
});
