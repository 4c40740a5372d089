/**
 * Fuzzed run manifests (`.comic/run.jsonl`): a file damaged by a crash, a full disk or a
 * hand edit never stops a rerun. RunManifest.open reads whatever is there; what it hands
 * back is well formed (the run uses `output` and `at` as text), or the job is simply not
 * recorded; and what the rerun appends after a torn last line is read back.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { RunManifest, type ManifestEntry, type SentEntry } from '../../src/run/manifest.js';
import { CaseCounter, fuzzOptions, mutateJson, oddValue, textMutation, valueMutation } from './mutate.js';

/** The documented minimum per run of the suite (docs/testing.md, "Fuzzing"). */
const MIN_MANIFESTS = 300;

const JOBS = ['character:mara', 'background:lamp-room', 'panel:1-1', 'panel:1-2', 'page:1', 'export:pdf'];
const finished = (job: string, i: number): ManifestEntry => ({
  job,
  key: `key-${i}`,
  status: i % 2 ? 'done' : 'cached',
  output: `/out/${job.replace(':', '-')}.png`,
  backend: 'comfyui',
  server: 'gpu-1',
  at: '2026-12-04T19:00:00.000Z',
});
const sent = (job: string, i: number): SentEntry => ({ job, key: `key-${i}`, sent: { server: 'gpu-1', promptId: `prompt-${i}` }, at: '2026-12-04T18:59:00.000Z' });
/** The lines a real run writes. */
const REAL_LINES = JOBS.flatMap((job, i) => [JSON.stringify(sent(job, i)), JSON.stringify(finished(job, i))]);

const counter = new CaseCounter();
const cpuAtStart = process.cpuUsage();
const work = mkdtempSync(join(tmpdir(), 'comic-fuzz-manifests-'));
let caseNumber = 0;

/** One line of a damaged manifest. */
const line = fc.oneof(
  { weight: 3, arbitrary: fc.nat({ max: REAL_LINES.length - 1 }).map((i) => REAL_LINES[i]!) },
  { weight: 3, arbitrary: fc.tuple(fc.nat({ max: REAL_LINES.length - 1 }), fc.array(valueMutation, { minLength: 1, maxLength: 3 })).map(([i, m]) => mutateJson(JSON.parse(REAL_LINES[i]!), m, false).text.replaceAll('\n', ' ')) },
  { weight: 2, arbitrary: fc.tuple(fc.nat({ max: REAL_LINES.length - 1 }), fc.array(textMutation, { minLength: 1, maxLength: 2 })).map(([i, m]) => m.reduce((t, f) => f(t), REAL_LINES[i]!)) },
  { weight: 1, arbitrary: oddValue.map((v) => JSON.stringify(v) ?? 'undefined') },
  { weight: 1, arbitrary: fc.constantFrom('', '{', 'null', '[]', '"job"', '{"job": "panel:1-1", "key": "key-2", "sent": null}', `{"job": "page:1", "key": "key-4", "at": {"toString": 1}, "output": "/x", "status": "done"}`, `{"job": ${'['.repeat(50_000)}${']'.repeat(50_000)}}`, '\u0000'.repeat(100)) },
);

/** Checks a manifest read back from `text` (plus `bytes`, for invalid UTF-8). */
async function checkManifest(text: string | Buffer): Promise<void> {
  counter.add('manifests');
  const path = join(work, `run-${caseNumber++}.jsonl`);
  writeFileSync(path, text);
  try {
    const manifest = await RunManifest.open(path);
    for (const [i, job] of JOBS.entries()) {
      const entry = manifest.finished(job, `key-${i}`);
      if (entry !== null) {
        expect(entry).toMatchObject({ job, key: `key-${i}` });
        expect(typeof entry.output).toBe('string');
        expect(typeof entry.at).toBe('string');
        expect(['done', 'cached']).toContain(entry.status);
        expect(Number.isNaN(Date.parse(entry.at)) || Date.parse(entry.at) > 0).toBe(true);
      }
      for (const prompt of manifest.sent(job, `key-${i}`)) {
        expect(typeof prompt.server).toBe('string');
        expect(typeof prompt.promptId).toBe('string');
      }
    }
    for (const entry of manifest.entries()) expect(typeof entry.output).toBe('string');
    // The rerun goes on recording: its lines are read back, whatever the file ended with.
    await manifest.record(finished('page:9', 9));
    await manifest.close();
    const again = await RunManifest.open(path);
    expect(again.finished('page:9', 'key-9')?.output).toBe('/out/page-9.png');
    await again.close();
  } finally {
    rmSync(path, { force: true });
  }
}

describe('fuzzed run manifests', () => {
  it('damaged lines, torn ends, invalid UTF-8', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(line, { minLength: 0, maxLength: 12 }), fc.boolean(), fc.nat(), async (lines, newlineAtEnd, cut) => {
        const text = lines.join('\n') + (newlineAtEnd ? '\n' : '');
        // Sometimes torn mid-line, as a crash mid-append leaves it.
        await checkManifest(cut % 4 === 0 ? text.slice(0, cut % (text.length + 1)) : text);
      }),
      fuzzOptions(MIN_MANIFESTS, 21),
    );
    for (const bytes of [Buffer.from([0xff, 0xfe, 0x00, 0x7b]), Buffer.concat([Buffer.from(REAL_LINES[1]!), Buffer.from([0x0a, 0xc3, 0x28, 0x0a])]), Buffer.alloc(0)]) {
      await checkManifest(bytes);
    }
  });

  it('regressions: a line of the wrong shape records nothing; an append after a torn line is kept', async () => {
    const path = join(work, 'regressions.jsonl');
    const wrong = [
      '{"job": "page:1", "key": "k", "status": "done", "output": 7, "at": "2026-12-04T19:00:00.000Z"}',
      '{"job": "page:2", "key": "k", "status": "done", "output": "/x", "at": {"toString": 1}}',
      '{"job": "page:3", "key": "k", "status": "lost", "output": "/x", "at": "2026-12-04T19:00:00.000Z"}',
      '{"job": "page:4", "key": "k", "sent": {"server": "gpu", "promptId": 5}}',
    ];
    writeFileSync(path, `${wrong.join('\n')}\n{"job": "page:5", "ke`);
    const manifest = await RunManifest.open(path);
    expect(manifest.entries()).toEqual([]);
    expect(manifest.sent('page:4', 'k')).toEqual([]);
    await manifest.record(finished('page:5', 5));
    await manifest.close();
    const again = await RunManifest.open(path);
    expect(again.finished('page:5', 'key-5')?.output).toBe('/out/page-5.png');
    await again.close();
  });

  it('one manifest line of 2 MB among real ones', async () => {
    await checkManifest([REAL_LINES[0], `{"job": "panel:1-1", "key": "${'k'.repeat(2_000_000)}"}`, ...REAL_LINES.slice(1)].join('\n'));
  });
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  expect(counter.get('manifests')).toBeGreaterThanOrEqual(MIN_MANIFESTS);
  console.log(`fuzz: ${counter.get('manifests')} run manifests, ${cpuSeconds()} s of CPU`);
});

function cpuSeconds(): string {
  const cpu = process.cpuUsage(cpuAtStart);
  return ((cpu.user + cpu.system) / 1e6).toFixed(1);
}
