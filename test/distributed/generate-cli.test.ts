/** `comic generate --queue URL`: the command itself, rendering on a worker over a real Redis. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryIO } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import type { RunReport } from '../../src/run/report.js';
import { loadTemplateRegistry } from '../../src/templates/index.js';
import { Cluster, REDIS_AVAILABLE, startRedis, type RedisInstance } from './helpers.js';

const SCRIPT = `comic:
  title: Queued
  format: { width: 400, height: 600, dpi: 72, bleed: 0, margin: 10px }
pages:
  - layout: 2
    panels:
      - { prompt: a gull on a post }
      - { prompt: a quiet harbour }
`;

describe.skipIf(!REDIS_AVAILABLE)('comic generate --queue', () => {
  let redis: RedisInstance;
  let dir: string;
  beforeAll(async () => {
    redis = await startRedis({ password: 'hunter2-redis' });
    dir = await mkdtemp(join(tmpdir(), 'comic-queue-cli-'));
    await writeFile(join(dir, 'comic.yaml'), SCRIPT);
  });
  afterAll(async () => {
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('renders every image on the queue worker and composes the pages here; the password is never printed', async () => {
    const url = redis.url.replace('redis://', 'redis://:hunter2-redis@');
    const cluster = new Cluster(redis, await loadTemplateRegistry({ dirs: [] }), url);
    try {
      await cluster.worker('gpu-a');
      const io = memoryIO({ cwd: dir, env: {} });
      const code = await main(['node', 'comic', 'generate', 'comic.yaml', '--queue', url, '--out', 'out', '--cache', 'cache', '--json'], io.io);
      expect(code, io.stderr()).toBe(0);
      const report = JSON.parse(await readFile(join(dir, 'out', 'report.json'), 'utf8')) as RunReport;
      expect(report.totals).toMatchObject({ failed: 0, skipped: 0 });
      expect(cluster.ledger.finished.size).toBe(2); // both panels, each rendered once, on the worker
      expect(`${io.stdout()}${io.stderr()}`).not.toContain('hunter2-redis');
    } finally {
      await cluster.close();
    }
  });
});
