import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunManifest, type ManifestEntry } from '../../src/run/manifest.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'comic-manifest-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const entry = (job: string, key: string): ManifestEntry => ({
  job,
  key,
  status: 'done',
  output: `/out/${job}.png`,
  backend: 'draft',
  server: null,
  at: '2026-11-24T00:00:00.000Z',
});

describe('RunManifest', () => {
  it('reads back what an earlier run recorded, matching job and key', async () => {
    const path = join(dir, 'sub', 'run.jsonl');
    const first = await RunManifest.open(path);
    await first.record(entry('panel:1-1', 'k1'));
    await first.record(entry('panel:1-2', 'k2'));
    const second = await RunManifest.open(path);
    expect(second.finished('panel:1-1', 'k1')?.output).toBe('/out/panel:1-1.png');
    expect(second.finished('panel:1-1', 'changed')).toBeNull();
    expect(second.finished('panel:9-9', 'k1')).toBeNull();
  });

  it('ignores a torn last line left by a crash mid-append', async () => {
    const path = join(dir, 'run.jsonl');
    const m = await RunManifest.open(path);
    await m.record(entry('page:1', 'k'));
    await appendFile(path, '{"job":"page:2","ke');
    const again = await RunManifest.open(path);
    expect(again.entries().map((e) => e.job)).toEqual(['page:1']);
  });
});
