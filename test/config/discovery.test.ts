import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { PROJECT_SEARCH_PLACES, searchDirs } from '../../src/config/project.js';
import { caught, useSandbox } from './helpers.js';

const sandbox = useSandbox();

/** Each supported file form, written so that it sets backend: draft. */
const FORMS: Record<(typeof PROJECT_SEARCH_PLACES)[number], string> = {
  'comic.config.yaml': 'backend: draft\n',
  'comic.config.yml': 'backend: draft\n',
  'comic.config.json': '{ "backend": "draft" }\n',
  'comic.config.js': 'module.exports = { backend: "draft" };\n',
  '.comicrc': 'backend: draft\n',
  '.comicrc.yaml': 'backend: draft\n',
  '.comicrc.yml': 'backend: draft\n',
  '.comicrc.json': '{ "backend": "draft" }\n',
  'package.json': '{ "name": "my-comic", "comic": { "backend": "draft" } }\n',
};

describe('project config discovery', () => {
  it.each(Object.entries(FORMS))('reads %s', async (name, text) => {
    const box = await sandbox();
    const file = await box.write(`project/${name}`, text);
    const config = await loadConfig({ cwd: join(box.home, 'project'), env: box.env() });
    expect(config.backend).toBe('draft');
    expect(config.files.project).toBe(file);
    expect(config.sources.backend).toEqual({ kind: 'project', file });
  });

  it('reads an ESM comic.config.js in a "type": "module" package', async () => {
    const box = await sandbox();
    await box.write('esm/package.json', '{ "type": "module" }');
    const file = await box.write('esm/comic.config.js', 'export default { backend: "sdapi" };\n');
    const config = await loadConfig({ cwd: join(box.home, 'esm'), env: box.env() });
    expect(config.files.project).toBe(file);
    expect(config.backend).toBe('sdapi');
  });

  it('without a home or COMIC_USER_CONFIG_DIR in the environment, there is no user settings layer', async () => {
    const box = await sandbox();
    await box.write('p/comic.config.yaml', 'backend: draft\n');
    const config = await loadConfig({ cwd: join(box.home, 'p'), env: {} });
    expect(config.files.user).toBeNull();
    expect(config.backend).toBe('draft');
  });

  it('searches upward from the working directory', async () => {
    const box = await sandbox();
    const file = await box.write('project/comic.config.yaml', 'backend: sdapi\n');
    await box.write('project/chapters/one/notes.txt', '');
    const config = await loadConfig({ cwd: join(box.home, 'project/chapters/one'), env: box.env() });
    expect(config.files.project).toBe(file);
    expect(config.backend).toBe('sdapi');
  });

  it('takes the nearest config when several folders have one', async () => {
    const box = await sandbox();
    await box.write('project/comic.config.yaml', 'backend: sdapi\n');
    const inner = await box.write('project/sub/.comicrc.json', '{"backend": "draft"}');
    const config = await loadConfig({ cwd: join(box.home, 'project/sub'), env: box.env() });
    expect(config.files.project).toBe(inner);
    expect(config.backend).toBe('draft');
  });

  it('prefers comic.config.yaml over other forms in the same folder', async () => {
    const box = await sandbox();
    const yaml = await box.write('p/comic.config.yaml', 'backend: sdapi\n');
    await box.write('p/.comicrc', 'backend: draft\n');
    await box.write('p/package.json', '{"comic": {"backend": "draft"}}');
    const config = await loadConfig({ cwd: join(box.home, 'p'), env: box.env() });
    expect(config.files.project).toBe(yaml);
  });

  it('skips a package.json without a "comic" key and keeps looking upward', async () => {
    const box = await sandbox();
    const file = await box.write('p/comic.config.yaml', 'backend: sdapi\n');
    await box.write('p/pkg/package.json', '{"name": "unrelated"}');
    const config = await loadConfig({ cwd: join(box.home, 'p/pkg'), env: box.env() });
    expect(config.files.project).toBe(file);
  });

  it('treats an empty config file as found (defaults), not as absent', async () => {
    const box = await sandbox();
    await box.write('p/comic.config.yaml', 'backend: draft\n');
    const empty = await box.write('p/sub/comic.config.yaml', '');
    const config = await loadConfig({ cwd: join(box.home, 'p/sub'), env: box.env() });
    expect(config.files.project).toBe(empty);
    expect(config.backend).toBe('comfyui');
  });

  it('stops at the home directory: a config above home is not read', async () => {
    const box = await sandbox();
    // box.root is the parent of HOME.
    await box.write('../comic.config.yaml', 'backend: draft\n');
    const config = await loadConfig({ cwd: join(box.home, 'project'), env: box.env() });
    expect(config.files.project).toBeNull();
    expect(config.backend).toBe('comfyui');
    expect(searchDirs(join(box.home, 'a/b'), box.env())).toEqual([join(box.home, 'a/b'), join(box.home, 'a'), box.home]);
  });

  it('reads a config in the home directory itself', async () => {
    const box = await sandbox();
    const file = await box.write('.comicrc', 'backend: draft\n');
    const config = await loadConfig({ cwd: join(box.home, 'deep/down'), env: box.env() });
    expect(config.files.project).toBe(file);
  });

  it('searches up to the filesystem root when the working directory is outside home', () => {
    const dirs = searchDirs('/srv/render/job', { HOME: '/home/someone' });
    expect(dirs).toEqual(['/srv/render/job', '/srv/render', '/srv', '/']);
  });

  it('with no config file anywhere, uses defaults relative to the working directory', async () => {
    const box = await sandbox();
    const cwd = join(box.home, 'empty');
    const config = await loadConfig({ cwd, env: box.env() });
    expect(config.files.project).toBeNull();
    expect(config.output).toBe(join(cwd, 'out'));
    expect(config.cache).toBe(join(cwd, '.comic/cache'));
    expect(config.servers).toEqual([
      { url: 'http://127.0.0.1:8188', name: '127.0.0.1:8188', maxConcurrent: 2, headers: {}, auth: { kind: 'none' } },
    ]);
    expect(config.sources.servers).toEqual({ kind: 'default' });
  });

  it('resolves default folders against the project config folder, not the subfolder run from', async () => {
    const box = await sandbox();
    await box.write('p/comic.config.yaml', 'backend: draft\n');
    const config = await loadConfig({ cwd: join(box.home, 'p/chapter'), env: box.env() });
    expect(config.output).toBe(join(box.home, 'p/out'));
  });

  it('--config names the file to use instead of searching', async () => {
    const box = await sandbox();
    await box.write('p/comic.config.yaml', 'backend: sdapi\n');
    const other = await box.write('elsewhere/ci.yaml', 'backend: draft\n');
    const config = await loadConfig({ cwd: join(box.home, 'p'), env: box.env(), flags: { configFile: other } });
    expect(config.files.project).toBe(other);
    expect(config.backend).toBe('draft');
  });

  it('--config with a missing file is a clear error', async () => {
    const box = await sandbox();
    const error = await caught(() => loadConfig({ cwd: box.home, env: box.env(), flags: { configFile: 'nope.yaml' } }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain(join(box.home, 'nope.yaml'));
  });
});
