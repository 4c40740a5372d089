import { writeFile, mkdir } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, type ConfigFlags, type ValueSource } from '../../src/config/index.js';
import { useSandbox, type Sandbox } from './helpers.js';

const sandbox = useSandbox();

type TierName = 'flag' | 'env' | 'project' | 'user';
const TIERS: readonly TierName[] = ['flag', 'env', 'project', 'user'];

async function writeUser(box: Sandbox, data: unknown): Promise<string> {
  await mkdir(box.userDir, { recursive: true });
  const file = join(box.userDir, 'config.json');
  await writeFile(file, JSON.stringify(data));
  return file;
}

/** Sets `output` in the given tiers, each to a folder named after the tier, then loads. */
async function loadWithOutputIn(tiers: readonly TierName[]) {
  const box = await sandbox();
  const cwd = join(box.home, 'p');
  const env = box.env(tiers.includes('env') ? { COMIC_OUTPUT: 'from-env' } : {});
  const flags: ConfigFlags = tiers.includes('flag') ? { output: 'from-flag' } : {};
  const projectFile = join(cwd, 'comic.config.yaml');
  await box.write('p/comic.config.yaml', tiers.includes('project') ? 'output: from-project\n' : '{}\n');
  const userFile = join(box.userDir, 'config.json');
  if (tiers.includes('user')) await writeUser(box, { output: '/abs/from-user' });
  const config = await loadConfig({ cwd, env, flags });
  const expected: Record<TierName, { output: string; source: ValueSource }> = {
    flag: { output: join(cwd, 'from-flag'), source: { kind: 'flag', flag: '--out' } },
    env: { output: join(cwd, 'from-env'), source: { kind: 'env', variable: 'COMIC_OUTPUT' } },
    project: { output: join(cwd, 'from-project'), source: { kind: 'project', file: projectFile } },
    user: { output: '/abs/from-user', source: { kind: 'user', file: userFile } },
  };
  return { config, expected };
}

describe('precedence: flags > environment > project config > user settings > defaults', () => {
  const pairs = TIERS.flatMap((higher, i) => TIERS.slice(i + 1).map((lower) => [higher, lower] as const));

  it.each(pairs)('%s wins over %s', async (higher, lower) => {
    const { config, expected } = await loadWithOutputIn([higher, lower]);
    expect(config.output).toBe(expected[higher].output);
    expect(config.sources.output).toEqual(expected[higher].source);
  });

  it.each(TIERS)('%s alone beats the default', async (tier) => {
    const { config, expected } = await loadWithOutputIn([tier]);
    expect(config.output).toBe(expected[tier].output);
    expect(config.sources.output).toEqual(expected[tier].source);
  });

  it('all four: the flag wins', async () => {
    const { config, expected } = await loadWithOutputIn(TIERS);
    expect(config.sources.output).toEqual(expected.flag.source);
  });

  it('servers: --server > COMFYUI_URL > project > user', async () => {
    const box = await sandbox();
    await box.write('p/comic.config.yaml', 'servers: [http://project:8188]\n');
    await writeUser(box, { servers: ['http://user:8188'] });
    const cwd = join(box.home, 'p');
    const base = { cwd, env: box.env({ COMFYUI_URL: 'http://env-a:8188, http://env-b:8188' }) };
    const withFlag = await loadConfig({ ...base, flags: { servers: ['http://flag:8188'] } });
    expect(withFlag.servers.map((s) => s.url)).toEqual(['http://flag:8188']);
    expect(withFlag.sources.servers).toEqual({ kind: 'flag', flag: '--server' });
    const withEnv = await loadConfig(base);
    expect(withEnv.servers.map((s) => s.name)).toEqual(['env-a:8188', 'env-b:8188']);
    const withProject = await loadConfig({ cwd, env: box.env() });
    expect(withProject.servers.map((s) => s.url)).toEqual(['http://project:8188']);
    await box.write('p/comic.config.yaml', '{}\n');
    const withUser = await loadConfig({ cwd, env: box.env() });
    expect(withUser.servers.map((s) => s.url)).toEqual(['http://user:8188']);
  });

  it('--no-fallback beats COMIC_FALLBACK_URL and the project fallback', async () => {
    const box = await sandbox();
    await box.write('p/comic.config.yaml', 'fallback: { url: http://sd:7860 }\n');
    const cwd = join(box.home, 'p');
    const env = box.env({ COMIC_FALLBACK_URL: 'http://env-sd:7860' });
    expect((await loadConfig({ cwd, env })).fallback?.url).toBe('http://env-sd:7860');
    const off = await loadConfig({ cwd, env, flags: { fallback: false } });
    expect(off.fallback).toBeNull();
    expect(off.sources.fallback).toEqual({ kind: 'flag', flag: '--no-fallback' });
    const other = await loadConfig({ cwd, env, flags: { fallback: 'https://flag-sd' } });
    expect(other.fallback?.url).toBe('https://flag-sd');
  });

  it('a setting is replaced whole: a higher fallback URL does not inherit the lower one\'s credentials', async () => {
    const box = await sandbox();
    await box.write('p/comic.config.yaml', 'fallback: { url: http://sd:7860, auth: { basic: { user: me, password: pw } } }\n');
    const config = await loadConfig({ cwd: join(box.home, 'p'), env: box.env({ COMIC_FALLBACK_URL: 'http://other:7860' }) });
    expect(config.fallback).toEqual({ url: 'http://other:7860', auth: { kind: 'none' } });
  });

  it('timeouts and serve settings take their source key by key', async () => {
    const box = await sandbox();
    const project = await box.write('p/comic.config.yaml', 'timeouts: { connect: 3s }\n');
    const user = await writeUser(box, { timeouts: { connect: '1s', queue: '1h' } });
    const config = await loadConfig({ cwd: join(box.home, 'p'), env: box.env(), flags: { port: 0 } });
    expect(config.timeouts).toEqual({ connect: 3000, queue: 3_600_000, start: 600_000, nodeSilence: 600_000, reconnect: 10_000, request: 120_000, download: 120_000, render: 1_800_000 });
    expect(config.sources['timeouts.connect']).toEqual({ kind: 'project', file: project });
    expect(config.sources['timeouts.queue']).toEqual({ kind: 'user', file: user });
    expect(config.sources['timeouts.start']).toEqual({ kind: 'default' });
    expect(config.serve.port).toBe(0);
    expect(config.sources['serve.port']).toEqual({ kind: 'flag', flag: '--port' });
  });

  it('relative folders: project ones against the file\'s folder, env and flag ones against the working directory', async () => {
    const box = await sandbox();
    await box.write('p/comic.config.yaml', 'cache: ../shared-cache\ntemplates: [tpl, /abs/tpl]\ncomfyui: { launch: { command: python, cwd: ../ComfyUI } }\n');
    const cwd = join(box.home, 'p/sub');
    const config = await loadConfig({ cwd, env: box.env({ COMIC_TEMPLATES: ['a', 'b'].join(delimiter) }), flags: { output: 'o' } });
    expect(config.cache).toBe(join(box.home, 'shared-cache'));
    expect(config.templates).toEqual([join(cwd, 'a'), join(cwd, 'b')]);
    expect(config.output).toBe(join(cwd, 'o'));
    expect(config.comfyui.launch).toMatchObject({ command: 'python', args: [], cwd: join(box.home, 'ComfyUI') });
    const fromFile = await loadConfig({ cwd, env: box.env() });
    expect(fromFile.templates).toEqual([join(box.home, 'p/tpl'), '/abs/tpl']);
  });

  it('relative folders in user settings resolve against the settings folder', async () => {
    const box = await sandbox();
    await writeUser(box, { cache: 'cache' });
    const config = await loadConfig({ cwd: box.home, env: box.env() });
    expect(config.cache).toBe(join(box.userDir, 'cache'));
  });

  it('empty environment variables count as unset', async () => {
    const box = await sandbox();
    await box.write('comic.config.yaml', 'backend: draft\n');
    const config = await loadConfig({ cwd: box.home, env: box.env({ COMIC_BACKEND: '', COMFYUI_URL: ' ' }) });
    expect(config.backend).toBe('draft');
    expect(config.sources.servers).toEqual({ kind: 'default' });
  });

  it('COMIC_BACKEND, COMIC_CACHE and COMIC_API_KEYS are read', async () => {
    const box = await sandbox();
    const config = await loadConfig({ cwd: box.home, env: box.env({ COMIC_BACKEND: 'sdapi', COMIC_CACHE: 'c', COMIC_API_KEYS: 'k1, k2' }) });
    expect(config.backend).toBe('sdapi');
    expect(config.cache).toBe(join(box.home, 'c'));
    expect(config.serve.apiKeys.map((key) => key.reveal())).toEqual(['k1', 'k2']);
    expect(config.sources['serve.apiKeys']).toEqual({ kind: 'env', variable: 'COMIC_API_KEYS' });
  });

  it('--export and --backend flags are validated and applied', async () => {
    const box = await sandbox();
    const config = await loadConfig({ cwd: box.home, env: box.env(), flags: { exports: ['pdf', 'cbz', 'pdf'], backend: 'draft' } });
    expect(config.exports).toEqual(['pdf', 'cbz']);
    expect(config.backend).toBe('draft');
  });
});

describe('COMFYUI_TOKEN', () => {
  it('is sent as a bearer token to servers from COMFYUI_URL, --server and the default', async () => {
    const box = await sandbox();
    const env = box.env({ COMFYUI_TOKEN: 'tok' });
    const fromEnv = await loadConfig({ cwd: box.home, env: { ...env, COMFYUI_URL: 'http://a:1' } });
    const fromFlag = await loadConfig({ cwd: box.home, env, flags: { servers: ['http://b:2'] } });
    const byDefault = await loadConfig({ cwd: box.home, env });
    for (const config of [fromEnv, fromFlag, byDefault]) {
      const auth = config.servers[0]?.auth;
      expect(auth?.kind === 'bearer' && auth.token.reveal()).toBe('tok');
    }
  });

  it('is not given to servers from a config file, which name their own credentials', async () => {
    const box = await sandbox();
    await box.write('comic.config.yaml', 'servers:\n  - http://a:1\n  - { url: "http://b:2", auth: { bearer: "${COMFYUI_TOKEN}" } }\n');
    const config = await loadConfig({ cwd: box.home, env: box.env({ COMFYUI_TOKEN: 'tok' }) });
    expect(config.servers[0]?.auth).toEqual({ kind: 'none' });
    expect(config.servers[1]?.auth.kind).toBe('bearer');
  });

  it('gives way to user:password@ in a URL, which becomes Basic auth and leaves the URL', async () => {
    const box = await sandbox();
    const config = await loadConfig({ cwd: box.home, env: box.env({ COMFYUI_TOKEN: 'tok', COMFYUI_URL: 'https://me:p%40ss@gpu.example:8443/comfy/' }) });
    const server = config.servers[0];
    expect(server?.url).toBe('https://gpu.example:8443/comfy');
    expect(server?.name).toBe('gpu.example:8443');
    expect(server?.auth.kind === 'basic' && [server.auth.user, server.auth.password.reveal()]).toEqual(['me', 'p@ss']);
  });
});
