/**
 * Redis restarted without persistence in the middle of a distributed run: the queue, the
 * stored inputs and results are gone. The coordinator still has everything it needs, so it
 * uploads the inputs again and re-queues what was lost; the run completes.
 */
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EventBus } from '../../src/progress/events.js';
import { RenderCache } from '../../src/run/cache.js';
import { generate } from '../../src/run/generate.js';
import { pageOutputPath } from '../../src/run/outputs.js';
import { prepareScript } from '../../src/run/prepare.js';
import type { PageJob } from '../../src/graph/index.js';
import { loadTemplateRegistry, type TemplateRegistry } from '../../src/templates/index.js';
import { Cluster, REDIS_AVAILABLE, startRedis, type RedisInstance } from './helpers.js';

const SCRIPT = `
comic:
  title: Restart Test
  seed: 5
  format: { width: 400, height: 600, dpi: 72, bleed: 0, margin: 16px }
characters:
  ada: { name: Ada, description: a tall woman in a green coat }
  bo: { name: Bo, description: a short man in a red cap }
  cy: { name: Cy, description: a girl with a yellow umbrella }
pages:
  - layout: 3
    panels:
      - { prompt: Ada waves from a window, characters: [ada] }
      - { prompt: Bo on the stairs, characters: [bo] }
      - { prompt: Cy opens an umbrella, characters: [cy] }
`;

let templates: TemplateRegistry;
let redis: RedisInstance | null = null;
let cluster: Cluster | null = null;
let dir: string;

beforeAll(async () => {
  templates = await loadTemplateRegistry({ dirs: [] });
});
afterEach(async () => {
  await cluster?.close();
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!REDIS_AVAILABLE)('Redis restarted without persistence mid-run', { timeout: 90_000 }, () => {
  it('the coordinator uploads the lost inputs again, re-queues the lost jobs, and the run completes', async () => {
    dir = await mkdtemp(join(tmpdir(), 'comic-redis-restart-'));
    await writeFile(join(dir, 'comic.yaml'), SCRIPT);
    const script = await prepareScript(join(dir, 'comic.yaml'), { cwd: dir, templates, exports: [] });
    redis = await startRedis();
    cluster = new Cluster(redis, templates);
    const { backend } = await cluster.worker('gpu-a', { concurrency: 1 });
    // Held mid-render: the other panels wait in the queue, their sheets (which this worker has
    // not fetched yet) in the store, when Redis restarts empty.
    const held = backend.hold((request) => request.jobId.startsWith('panel:'));
    const bus = new EventBus();
    const run = generate({
      scripts: [script],
      outDir: join(dir, 'out'),
      backend: cluster.coordinator({ pollMs: 200 }),
      templates,
      cache: new RenderCache(join(dir, 'cache')),
      bus,
      signal: new AbortController().signal,
      only: null,
      force: false,
    });
    await held.started;
    const port = redis.port;
    await redis.stop();
    redis = await startRedis({ port });
    held.release();

    const result = await run;
    expect(result.summary).toMatchObject({ ok: true, failed: 0, skipped: 0 });
    const pages = script.graph.jobs.filter((job): job is PageJob => job.kind === 'page');
    for (const page of pages) await access(pageOutputPath(join(dir, 'out'), page));
  });
});
