/**
 * Issue 16, "secrets in files", distributed: a queue URL with a password
 * (redis://:password@host) and a worker whose ComfyUI echoes its bearer token (and escape
 * sequences) in a node's failure message. The worker (`comic worker` as a process of its own)
 * masks what it lets out: its log lines, and the failure it writes to Redis, which the
 * coordinator reports and `comic queue status` prints. Neither the Redis password nor the
 * worker's token, in any form, appears in stdout, stderr, the coordinator's error, or any file
 * under the store and user config folders; the password is never written to the user config.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryIO } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import type { RenderRequest } from '../../src/backends/types.js';
import { parseQueueUrl } from '../../src/distributed/target.js';
import { loadTemplateRegistry, type TemplateRegistry } from '../../src/templates/index.js';
import { sha256 } from '../../src/util/hash.js';
import { mask } from '../../src/util/redact.js';
import { startComfyEmulator, type ComfyEmulator } from '../fakes/comfyui/index.js';
import { ESC, FORMS, startHostileComfy, TOKEN, type HostileComfy } from '../support/hostile-comfy.js';
import { Cluster, EVENTUALLY, REDIS_AVAILABLE, startRedis, type RedisInstance } from './helpers.js';
import { filesUnder } from '../support/files.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Characters URL-encoding changes, so the raw and the encoded form differ. */
const PASSWORD = 'r3dis pw/+x';
const PASSWORD_FORMS = [PASSWORD, encodeURIComponent(PASSWORD), JSON.stringify(PASSWORD).slice(1, -1)];

let redis: RedisInstance;
let templates: TemplateRegistry;
let emulator: ComfyEmulator;
let hostile: HostileComfy;
let dir: string;
let url: string;

beforeAll(async () => {
  if (!REDIS_AVAILABLE) return;
  redis = await startRedis({ password: PASSWORD });
  templates = await loadTemplateRegistry({ dirs: [] });
  emulator = await startComfyEmulator({ stepMs: 1 });
  hostile = await startHostileComfy(emulator);
  dir = await mkdtemp(join(tmpdir(), 'comic-queue-secrets-'));
  url = `redis://:${encodeURIComponent(PASSWORD)}@127.0.0.1:${redis.port}/3?store=${encodeURIComponent(join(dir, 'store'))}`;
});
afterAll(async () => {
  await hostile?.close();
  await emulator?.close();
  await redis?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function expectClean(texts: readonly [string, string][]): void {
  for (const [where, text] of texts) {
    for (const form of [...FORMS.bearer, ...PASSWORD_FORMS]) expect(text.includes(form), `${JSON.stringify(form)} in ${where}:\n${text.slice(0, 3000)}`).toBe(false);
    expect(text.includes(ESC), `ESC in ${where}:\n${text.slice(0, 3000)}`).toBe(false);
  }
}

function request(n: number): RenderRequest {
  return {
    jobId: `panel:9-${n}`,
    key: sha256(`secrets panel ${n}`),
    template: templates.get('panel'),
    params: { positive: `panel ${n}`, negative: '', seed: n, width: 512, height: 512 },
    inputs: [],
    shot: { title: `Panel 9-${n}`, summary: `panel ${n}`, subjects: [], camera: null, pose: null, dialogue: null },
    outputPath: join(dir, `out-${n}.png`),
  };
}

describe.skipIf(!REDIS_AVAILABLE)('a queue URL with a password, a worker whose server echoes its token', () => {
  it('a parsed queue URL makes its password masked everywhere in the process, in every form', () => {
    parseQueueUrl(url, dir);
    for (const form of PASSWORD_FORMS) expect(mask(`redis said: ${form}.`)).toBe('redis said: ***.');
  });

  it('worker log, Redis failure, coordinator error, queue status, files: no password, no token, no escape', { timeout: 90_000 }, async () => {
    hostile.mode = 'exception-message';
    emulator.faults.failNode = 'KSampler';
    const userDir = join(dir, 'user-config');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        "import('./src/cli/main.ts').then(async (m) => { process.exitCode = await m.main(['node', 'comic', ...process.argv.slice(1)]); })",
        'worker',
        '--queue',
        url,
        '--server',
        hostile.url,
        '--no-fallback',
        '--name',
        'echo-box',
        '--concurrency',
        '1',
      ],
      { cwd: ROOT, env: { ...process.env, COMFYUI_TOKEN: TOKEN, COMIC_USER_CONFIG_DIR: userDir, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const cluster = new Cluster(redis, templates, url);
    try {
      await expect.poll(() => out, { ...EVENTUALLY, timeout: 30_000 }).toContain('worker echo-box: taking jobs from redis://:***@127.0.0.1');
      const failure = await cluster
        .coordinator()
        .render(request(1), { signal: new AbortController().signal, onEvent: () => undefined })
        .then(
          () => null,
          (e: unknown) => e as Error,
        );
      expect(failure).not.toBeNull();
      // The node's failure reached the coordinator, masked by the worker (this process never knew the token).
      expect(failure!.message).toMatch(/failed on purpose: denied for Bearer \*\*\*/);
      await expect.poll(() => out, EVENTUALLY).toMatch(/fail {4}panel:9-1 [0-9a-f]{12}: .*\*\*\*/);
      const status = memoryIO({ cwd: dir, env: { COMIC_USER_CONFIG_DIR: userDir } });
      expect(await main(['node', 'comic', 'queue', 'status', '--queue', url], status.io)).toBe(0);
      expect(status.stdout()).toContain('latest failures:');
      const json = memoryIO({ cwd: dir, env: { COMIC_USER_CONFIG_DIR: userDir } });
      expect(await main(['node', 'comic', 'queue', 'status', '--json', '--queue', url], json.io)).toBe(0);
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      const texts: [string, string][] = [
        ['worker stdout', out],
        ['worker stderr', err],
        ['coordinator error', `${failure!.message}\n${(failure as { hint?: string }).hint ?? ''}`],
        ['queue status', status.stdout() + status.stderr()],
        ['queue status --json', json.stdout() + json.stderr()],
      ];
      for (const file of await filesUnder(dir)) texts.push([file, (await readFile(file)).toString('latin1')]);
      expectClean(texts);
    } finally {
      child.kill('SIGKILL');
      emulator.faults.failNode = null;
      await cluster.close();
    }
  });
});
