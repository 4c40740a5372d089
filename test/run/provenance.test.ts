/**
 * The provenance rules a cache lookup applies (src/run/provenance.ts), one by one: which
 * backend's images a run may be served, how dependents follow what they were made from, old
 * entries without a record, and when an export is older than its pages.
 */
import { describe, expect, it } from 'vitest';
import type { BackendName } from '../../src/backends/types.js';
import type { Job } from '../../src/graph/index.js';
import type { CacheMeta, MadeBy } from '../../src/run/cache.js';
import { exportStale, madeNow, refusal, stampOf, stampOfMade } from '../../src/run/provenance.js';

const panel = { kind: 'panel', id: 'panel:1-1', deps: ['character:mara'] } as unknown as Job;
const sheet = { kind: 'character', id: 'character:mara', deps: [] } as unknown as Job;
const page = { kind: 'page', id: 'page:1', deps: ['panel:1-1'] } as unknown as Job;

function meta(backend: CacheMeta['backend'], made?: MadeBy): CacheMeta {
  return {
    key: 'k'.repeat(64),
    jobId: 'x',
    backend,
    server: null,
    seed: null,
    template: null,
    params: {},
    createdAt: '2026-01-01T00:00:00.000Z',
    timings: { queuedMs: 0, runMs: 0 },
    dropped: [],
    detail: null,
    ...(made && { made }),
  };
}

const none = new Map<string, { stamp: string }>();
const policy = (backend: BackendName, keepFallback = false) => ({ backend, keepFallback });
const made = (backend: MadeBy['backend'], fallback = false, from: Record<string, string> = {}): MadeBy => ({ backend, fallback, from });

describe('which runs a cached image is served to', () => {
  it('a draft never satisfies a ComfyUI or SD API run; it does a draft run and compose', () => {
    const draft = meta('draft', made('draft'));
    expect(refusal(sheet, draft, policy('comfyui'), none)).toBe('draft');
    expect(refusal(sheet, draft, policy('sdapi'), none)).toBe('draft');
    expect(refusal(sheet, draft, policy('comfyui', true), none)).toBe('draft');
    expect(refusal(sheet, draft, policy('draft'), none)).toBeNull();
    expect(refusal(sheet, draft, policy('cache'), none)).toBeNull();
  });

  it('a real render satisfies every run, a draft one too', () => {
    for (const run of ['comfyui', 'sdapi', 'draft', 'cache'] as const) {
      expect(refusal(sheet, meta('comfyui', made('comfyui')), policy(run), none)).toBeNull();
      expect(refusal(sheet, meta('sdapi', made('sdapi')), policy(run), none)).toBeNull();
    }
  });

  it("the fallback's images are rendered again by a ComfyUI run that is not falling back, unless kept", () => {
    const fallback = meta('sdapi', made('sdapi', true));
    expect(refusal(sheet, fallback, policy('comfyui'), none)).toBe('fallback');
    expect(refusal(sheet, fallback, policy('comfyui', true), none)).toBeNull();
    // A run that has fallen back itself ('sdapi' is then its backend), or chose the SD API.
    expect(refusal(sheet, fallback, policy('sdapi'), none)).toBeNull();
    expect(refusal(sheet, fallback, policy('draft'), none)).toBeNull();
  });

  it('entries written before provenance: by their backend; SD API ones count as the fallback, old pages are composed again for real runs', () => {
    expect(refusal(sheet, meta('draft'), policy('comfyui'), none)).toBe('draft');
    expect(refusal(sheet, meta('comfyui'), policy('comfyui'), none)).toBeNull();
    expect(refusal(sheet, meta('sdapi'), policy('comfyui'), none)).toBe('fallback');
    expect(refusal(panel, meta('comfyui'), policy('comfyui'), new Map([['character:mara', { stamp: 'a' }]]))).toBeNull();
    expect(refusal(page, meta('compose'), policy('comfyui'), new Map([['panel:1-1', { stamp: 'a' }]]))).toBe('inputs');
    expect(refusal(page, meta('compose'), policy('draft'), new Map([['panel:1-1', { stamp: 'a' }]]))).toBeNull();
  });
});

describe('what is made from other jobs follows them', () => {
  it('a page is served only while its panels are what it was composed from', () => {
    const draftPanel = stampOf(meta('draft', made('draft', false, { 'character:mara': 's' })));
    const realPanel = stampOf(meta('comfyui', made('comfyui', false, { 'character:mara': 's' })));
    expect(draftPanel).not.toBe(realPanel);
    const composed = meta('compose', made('compose', false, { 'panel:1-1': draftPanel }));
    expect(refusal(page, composed, policy('draft'), new Map([['panel:1-1', { stamp: draftPanel }]]))).toBeNull();
    expect(refusal(page, composed, policy('comfyui'), new Map([['panel:1-1', { stamp: realPanel }]]))).toBe('inputs');
    // Even a draft run composes again once the panel is a real render.
    expect(refusal(page, composed, policy('draft'), new Map([['panel:1-1', { stamp: realPanel }]]))).toBe('inputs');
  });

  it('stamps are transitive: a panel rendered from another sheet has another stamp', () => {
    const a = stampOfMade(madeNow(panel, 'comfyui', false, new Map([['character:mara', { stamp: 'fallback-sheet' }]])));
    const b = stampOfMade(madeNow(panel, 'comfyui', false, new Map([['character:mara', { stamp: 'comfy-sheet' }]])));
    expect(a).not.toBe(b);
    // Same maker, same inputs: the same stamp (a re-render of a pruned entry changes nothing downstream).
    expect(stampOfMade(madeNow(panel, 'comfyui', false, new Map([['character:mara', { stamp: 'comfy-sheet' }]])))).toBe(b);
  });

  it('an export is older than its pages when one was written after it, or is not there', () => {
    const at = '2026-01-01T00:00:10.000Z';
    expect(exportStale(at, ['2026-01-01T00:00:09.000Z', '2026-01-01T00:00:10.000Z'])).toBe(false);
    expect(exportStale(at, ['2026-01-01T00:00:09.000Z', '2026-01-01T00:00:11.000Z'])).toBe(true);
    expect(exportStale(at, ['2026-01-01T00:00:09.000Z', null])).toBe(true);
  });
});
