/**
 * The commands: `comic worker` as a real process (takes jobs, logs them, stops cleanly on
 * SIGINT), `comic queue status|drain|clean`, queue URLs with a password (never printed) and
 * the errors for a missing queue, a wrong password and an unreachable Redis.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { memoryIO } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import type { RenderRequest } from '../../src/backends/types.js';
import { loadTemplateRegistry, type TemplateRegistry } from '../../src/templates/index.js';
import { sha256 } from '../../src/util/hash.js';
import { Cluster, EVENTUALLY, REDIS_AVAILABLE, startRedis, type RedisInstance } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PASSWORD = 's3cret-pw!';

let redis: RedisInstance;
let templates: TemplateRegistry;
let dir: string;
let cluster: Cluster;
let db = 0;
let url: string;

beforeAll(async () => {
  if (!REDIS_AVAILABLE) return;
  redis = await startRedis({ password: PASSWORD });
  templates = await loadTemplateRegistry({ dirs: [] });
});
afterAll(async () => {
  await redis?.stop();
});
beforeEach(async () => {
  db = (db % 15) + 1;
  url = `redis://:${encodeURIComponent(PASSWORD)}@127.0.0.1:${redis.port}/${db}`;
  cluster = new Cluster(redis, templates, url);
  dir = await mkdtemp(join(tmpdir(), 'comic-queue-cli-'));
});
afterEach(async () => {
  await cluster.close();
  await rm(dir, { recursive: true, force: true });
});

function request(n: number): RenderRequest {
  return {
    jobId: `panel:1-${n}`,
    key: sha256(`cli panel ${n}`),
    template: templates.get('panel'),
    params: { positive: `panel ${n}`, negative: '', seed: n, width: 32, height: 32 },
    inputs: [],
    shot: { title: `Panel 1-${n}`, summary: `panel ${n}`, subjects: [], camera: null, pose: null, dialogue: null },
    outputPath: join(dir, `out-${n}.png`),
  };
}

const noEvents = () => ({ signal: new AbortController().signal, onEvent: () => undefined });

async function comic(args: string[], env: NodeJS.ProcessEnv = {}) {
  const io = memoryIO({ env, cwd: dir });
  const code = await main(['node', 'comic', ...args], io.io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

/** Queues jobs no worker takes (none runs), for status and drain. */
async function queueWithoutWorkers(n: number): Promise<Promise<unknown>[]> {
  const coordinator = cluster.coordinator();
  const pending = Array.from({ length: n }, (_, i) => coordinator.render(request(100 + i), noEvents()).catch((e: unknown) => e));
  await expect.poll(async () => (await comic(['queue', 'status', '--json', '--queue', url])).stdout, EVENTUALLY).toContain(`"waiting": ${n}`);
  return pending;
}

describe.skipIf(!REDIS_AVAILABLE)('comic worker and comic queue', () => {
  it('comic worker takes jobs as a process of its own, logs them, and stops cleanly on SIGINT', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '-e', "import('./src/cli/main.ts').then(async (m) => { process.exitCode = await m.main(['node', 'comic', ...process.argv.slice(1)]); })", 'worker', '--backend', 'draft', '--name', 'cli-box', '--concurrency', '1'],
      { cwd: ROOT, env: { ...process.env, COMIC_REDIS_URL: url, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await expect.poll(() => out, EVENTUALLY).toContain('worker cli-box: taking jobs from redis://:***@127.0.0.1');
      const result = await cluster.coordinator().render(request(1), noEvents());
      expect(result).toMatchObject({ backend: 'draft', server: 'cli-box' });
      await expect.poll(() => out, EVENTUALLY).toMatch(/done {4}panel:1-1 [0-9a-f]{12} on draft in /);
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(err).toContain('finishing the jobs in hand');
      expect(out + err).not.toContain(PASSWORD);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('comic queue status shows counts and the connected workers by name, as text and JSON', async () => {
    await cluster.worker('gpu-a');
    await cluster.worker('gpu-b');
    await cluster.coordinator().render(request(2), noEvents());
    const json = await comic(['queue', 'status', '--json', '--queue', url]);
    expect(json.code).toBe(0);
    const status = JSON.parse(json.stdout) as { schema: string; counts: Record<string, number>; workers: { name: string }[]; url: string };
    expect(status).toMatchObject({ schema: 'comic.queue-status/1', counts: { completed: 1, waiting: 0, active: 0, failed: 0 } });
    expect(status.workers.map((w) => w.name)).toEqual(['gpu-a', 'gpu-b']);
    expect(status.url).toBe(`redis://:***@127.0.0.1:${redis.port}/${db}`);
    const text = await comic(['queue', 'status'], { COMIC_REDIS_URL: url });
    expect(text.stdout).toMatch(/jobs: 0 waiting, 0 prioritized, 0 delayed, 0 active, 1 completed, 0 failed/);
    expect(text.stdout).toMatch(/workers \(2\):\n {2}gpu-a from 127\.0\.0\.1:\d+/);
    expect(json.stdout + text.stdout).not.toContain(PASSWORD);
  });

  it('comic queue drain removes the jobs nobody has taken; the coordinator notices they are gone', async () => {
    const pending = await queueWithoutWorkers(3);
    const drained = await comic(['queue', 'drain', '--queue', url]);
    expect(drained).toMatchObject({ code: 0, stdout: `removed 3 waiting jobs from redis://:***@127.0.0.1:${redis.port}/${db}\n` });
    // The coordinator queues them again (it still needs them); a worker then renders them.
    await cluster.worker('gpu-a');
    const results = await Promise.all(pending);
    expect(results.every((r) => (r as { backend?: string }).backend === 'draft')).toBe(true);
  });

  it('comic queue clean removes finished job records; their images stay in the store', async () => {
    await cluster.worker('gpu-a');
    await cluster.coordinator().render(request(3), noEvents());
    const cleaned = await comic(['queue', 'clean', '--queue', url, '--only', 'completed']);
    expect(cleaned).toMatchObject({ code: 0, stdout: expect.stringContaining('removed 1 completed job record(s)') });
    const status = JSON.parse((await comic(['queue', 'status', '--json', '--queue', url])).stdout) as { counts: Record<string, number> };
    expect(status.counts.completed).toBe(0);
    await cluster.coordinator().render({ ...request(3), outputPath: join(dir, 'again.png') }, noEvents());
    expect(cluster.ledger.started.get(request(3).key)).toBe(1);
  });

  it('a wrong password is QUEUE_UNREACHABLE (exit 3) and the password given is never printed', async () => {
    const wrong = `redis://:not-${PASSWORD}@127.0.0.1:${redis.port}/${db}`;
    const result = await comic(['queue', 'status', '--queue', wrong]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('(QUEUE_UNREACHABLE)');
    expect(result.stderr).toMatch(/WRONGPASS|invalid password|NOAUTH/);
    expect(result.stderr).toContain('hint: check the user and password');
    expect(result.stderr).not.toContain(`not-${PASSWORD}`);
  });

  it('commands without a queue say how to give one; bad URLs are usage errors', async () => {
    expect(await comic(['worker', '--backend', 'draft'])).toMatchObject({ code: 2, stderr: expect.stringContaining('comic worker needs a queue: --queue redis://host:6379/0, or COMIC_REDIS_URL') });
    expect(await comic(['queue', 'status'])).toMatchObject({ code: 2, stderr: expect.stringContaining('COMIC_REDIS_URL') });
    expect(await comic(['queue', 'status', '--queue', 'http://x:1/0'])).toMatchObject({ code: 2, stderr: expect.stringContaining('must use redis:// or rediss://') });
    const leaky = await comic(['queue', 'status', '--queue', `redis://:${PASSWORD}@host/0?bogus=1`]);
    expect(leaky).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown parameter "bogus"') });
    expect(leaky.stderr).not.toContain(PASSWORD);
  });
});
