import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SETTING_KEYS, loadConfig } from '../../src/config/index.js';
import { useSandbox } from './helpers.js';

const sandbox = useSandbox();

const userFile = (userDir: string) => join(userDir, 'config.json');

describe('comic config list', () => {
  it('shows every setting with its value and source', async () => {
    const box = await sandbox();
    const project = await box.write('p/comic.config.yaml', 'backend: draft\ntimeouts: { connect: 5s }\n');
    const run = await box.run(['config', 'list'], { cwd: 'p', env: box.env({ COMIC_OUTPUT: 'renders' }) });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`project config: ${project}`);
    expect(run.stdout).toContain(`user settings:  ${userFile(box.userDir)}`);
    expect(run.stdout).toMatch(new RegExp(`^backend +draft +\\(project ${project}\\)$`, 'm'));
    expect(run.stdout).toMatch(new RegExp(`^output +${join(box.home, 'p/renders')} +\\(env COMIC_OUTPUT\\)$`, 'm'));
    expect(run.stdout).toMatch(/^timeouts\.connect +5s +\(project /m);
    expect(run.stdout).toMatch(/^timeouts\.queue +30m +\(default\)$/m);
    expect(run.stdout).toMatch(/^servers +\[\{"url":"http:\/\/127\.0\.0\.1:8188".*\(default\)$/m);
  });

  it('--json gives files and, per setting, value and source', async () => {
    const box = await sandbox();
    const run = await box.run(['config', 'list', '--json'], { env: box.env({ COMIC_BACKEND: 'sdapi' }) });
    expect(run.code).toBe(0);
    const parsed = JSON.parse(run.stdout) as { files: unknown; settings: Record<string, { value: unknown; source: unknown }> };
    expect(parsed.files).toEqual({ project: null, user: userFile(box.userDir) });
    expect(parsed.settings.backend).toEqual({ value: 'sdapi', source: { kind: 'env', variable: 'COMIC_BACKEND' } });
    expect(parsed.settings['timeouts.connect']).toEqual({ value: 30_000, source: { kind: 'default' } });
    expect(Object.keys(parsed.settings)).toEqual([...SETTING_KEYS]);
    expect(parsed.settings['limits.imageBytes']).toEqual({ value: 256 * 1024 * 1024, source: { kind: 'default' } });
  });

  it('fails with exit 2 and the file position when the project config is invalid', async () => {
    const box = await sandbox();
    const file = await box.write('comic.config.yaml', 'outptu: o\n');
    const run = await box.run(['config', 'list']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      `comic: ${file}:1:1: unknown key "outptu" (did you mean "output"?) (CONFIG_INVALID)\n  hint: fix the configuration and run again; docs/config.md lists every key\n`,
    );
  });

  it('--config reads the named file', async () => {
    const box = await sandbox();
    const file = await box.write('ci/comic.ci.yaml', 'backend: draft\n');
    const run = await box.run(['config', 'list', '--json', '--config', 'ci/comic.ci.yaml']);
    expect((JSON.parse(run.stdout) as { files: { project: string } }).files.project).toBe(file);
  });
});

describe('comic config get', () => {
  it('prints a single value plainly', async () => {
    const box = await sandbox();
    await box.write('comic.config.yaml', 'backend: sdapi\nfallback: http://sd:7860\ntimeouts: { start: 90s }\n');
    expect((await box.run(['config', 'get', 'backend'])).stdout).toBe('sdapi\n');
    expect((await box.run(['config', 'get', 'fallback.url'])).stdout).toBe('http://sd:7860\n');
    expect((await box.run(['config', 'get', 'timeouts.start'])).stdout).toBe('90s\n');
    expect((await box.run(['config', 'get', 'servers.0.name'])).stdout).toBe('127.0.0.1:8188\n');
    expect((await box.run(['config', 'get', 'output'])).stdout).toBe(`${join(box.home, 'out')}\n`);
  });

  it('prints a group as JSON, and --json gives the sources', async () => {
    const box = await sandbox();
    const file = await box.write('comic.config.yaml', 'timeouts: { start: 90s }\n');
    const group = await box.run(['config', 'get', 'timeouts']);
    expect(JSON.parse(group.stdout)).toEqual({ connect: 30_000, queue: 1_800_000, start: 90_000, nodeSilence: 600_000, reconnect: 10_000, request: 120_000, download: 120_000, render: 1_800_000 });
    expect((await box.run(['config', 'get', 'limits.jsonBytes'])).stdout).toBe('64MiB\n');
    const json = await box.run(['config', 'get', 'timeouts.start', '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ key: 'timeouts.start', value: 90_000, sources: { 'timeouts.start': { kind: 'project', file } } });
  });

  it('an unknown key is a usage error with a suggestion', async () => {
    const box = await sandbox();
    const run = await box.run(['config', 'get', 'backnd']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown setting "backnd" (did you mean "backend"?) (USAGE)');
    expect((await box.run(['config', 'get', 'servers.7.url'])).code).toBe(2);
  });
});

describe('comic config set / unset', () => {
  it('writes user settings that loadConfig then uses, with the user file as source', async () => {
    const box = await sandbox();
    const set = await box.run(['config', 'set', 'backend', 'draft']);
    expect(set.code).toBe(0);
    expect(set.stdout).toBe(`set backend = "draft" in ${userFile(box.userDir)}\n`);
    expect(JSON.parse(await readFile(userFile(box.userDir), 'utf8'))).toEqual({ backend: 'draft' });
    const config = await loadConfig({ cwd: box.home, env: box.env() });
    expect(config.backend).toBe('draft');
    expect(config.sources.backend).toEqual({ kind: 'user', file: userFile(box.userDir) });
  });

  it('takes lists as several values or one JSON array', async () => {
    const box = await sandbox();
    expect((await box.run(['config', 'set', 'servers', 'http://a:8188', 'http://b:8188/'])).code).toBe(0);
    expect((await box.run(['config', 'set', 'exports', '["pdf","cbz"]'])).code).toBe(0);
    const config = await loadConfig({ cwd: box.home, env: box.env() });
    expect(config.servers.map((server) => server.url)).toEqual(['http://a:8188', 'http://b:8188']);
    expect(config.exports).toEqual(['pdf', 'cbz']);
  });

  it('accepts a server as a JSON object with its settings', async () => {
    const box = await sandbox();
    const run = await box.run(['config', 'set', 'servers', '{"url": "https://gpu.example", "name": "gpu", "maxConcurrent": 4}']);
    expect(run.code).toBe(0);
    const config = await loadConfig({ cwd: box.home, env: box.env() });
    expect(config.servers[0]).toMatchObject({ url: 'https://gpu.example', name: 'gpu', maxConcurrent: 4 });
  });

  it('stores folders absolute, resolved against the working directory', async () => {
    const box = await sandbox();
    await box.run(['config', 'set', 'cache', '../shared/cache'], { cwd: 'work' });
    expect(JSON.parse(await readFile(userFile(box.userDir), 'utf8'))).toEqual({ cache: join(box.home, 'shared/cache') });
  });

  it('sets nested keys, numbers and durations', async () => {
    const box = await sandbox();
    for (const argv of [
      ['fallback.url', 'http://sd:7860'],
      ['timeouts.connect', '2500'],
      ['timeouts.queue', '2h'],
      ['serve.port', '9000'],
      ['freeMemory', '{"every": 10}'],
    ]) {
      expect((await box.run(['config', 'set', ...argv])).code, argv.join(' ')).toBe(0);
    }
    const config = await loadConfig({ cwd: box.home, env: box.env() });
    expect(config.fallback?.url).toBe('http://sd:7860');
    expect(config.timeouts.connect).toBe(2500);
    expect(config.timeouts.queue).toBe(7_200_000);
    expect(config.serve.port).toBe(9000);
    expect(config.freeMemory).toEqual({ kind: 'every-n-jobs', every: 10 });
  });

  it('validates the value before writing anything', async () => {
    const box = await sandbox();
    await box.run(['config', 'set', 'backend', 'sdapi']);
    for (const argv of [
      ['backend', 'comfy'],
      ['servers', 'ftp://gpu'],
      ['timeouts.start', 'soon'],
      ['freeMemory', '{"every": 0}'],
      ['exports', 'png', 'gif'],
    ]) {
      const run = await box.run(['config', 'set', ...argv]);
      expect(run.code, argv.join(' ')).toBe(2);
      expect(run.stderr).toContain('(CONFIG_INVALID)');
    }
    expect(JSON.parse(await readFile(userFile(box.userDir), 'utf8'))).toEqual({ backend: 'sdapi' });
  });

  it('rejects unknown keys with a suggestion, and scalar keys given several values', async () => {
    const box = await sandbox();
    const unknown = await box.run(['config', 'set', 'outptu', 'o']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('"outptu" cannot be set (did you mean "output"?) (USAGE)');
    const two = await box.run(['config', 'set', 'backend', 'draft', 'sdapi']);
    expect(two.code).toBe(2);
    expect(two.stderr).toContain('backend takes one value, got 2');
  });

  it('notes when a higher tier overrides the value just set', async () => {
    const box = await sandbox();
    const project = await box.write('comic.config.yaml', 'backend: sdapi\n');
    const run = await box.run(['config', 'set', 'backend', 'draft']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(`note: backend here comes from project ${project}, which takes precedence over user settings\n`);
  });

  it('unset removes a key, and says so when it was not set', async () => {
    const box = await sandbox();
    await box.run(['config', 'set', 'backend', 'draft']);
    await box.run(['config', 'set', 'output', '/renders']);
    const removed = await box.run(['config', 'unset', 'backend']);
    expect(removed.stdout).toBe(`removed backend from ${userFile(box.userDir)}\n`);
    expect(JSON.parse(await readFile(userFile(box.userDir), 'utf8'))).toEqual({ output: '/renders' });
    const again = await box.run(['config', 'unset', 'backend']);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(`backend was not set in ${userFile(box.userDir)}\n`);
    expect((await box.run(['config', 'unset', 'bakend'])).stderr).toContain('did you mean "backend"?');
  });

  it('without any user folder, set explains how to get one', async () => {
    const box = await sandbox();
    const run = await box.run(['config', 'set', 'backend', 'draft'], { env: {} });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('COMIC_USER_CONFIG_DIR');
  });
});

describe('comic config path', () => {
  it('shows the project config found and the user settings file', async () => {
    const box = await sandbox();
    const project = await box.write('p/.comicrc.yaml', 'backend: draft\n');
    const run = await box.run(['config', 'path'], { cwd: 'p/deeper' });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`project: ${project}\nuser:    ${userFile(box.userDir)} (not created yet)\n`);
    const json = await box.run(['config', 'path', '--json'], { cwd: 'p' });
    expect(JSON.parse(json.stdout)).toEqual({ project, user: userFile(box.userDir), userExists: false });
  });

  it('says when there is no project config', async () => {
    const box = await sandbox();
    await box.run(['config', 'set', 'backend', 'draft']);
    const run = await box.run(['config', 'path']);
    expect(run.stdout).toBe(`project: (none found)\nuser:    ${userFile(box.userDir)}\n`);
  });

  it('still shows the files when the project config has schema errors', async () => {
    const box = await sandbox();
    const project = await box.write('comic.config.yaml', 'backend: nope\n');
    const run = await box.run(['config', 'path']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(project);
  });
});
