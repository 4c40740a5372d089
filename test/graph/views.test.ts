import { describe, expect, it } from 'vitest';
import { parseExportList, planComic, planDot, planJson, planTree, PLAN_SCHEMA } from '../../src/graph/index.js';
import { buildComic, context, sampleSpec } from './fixtures.js';

const graph = planComic(buildComic(sampleSpec()), context());

describe('plan views', () => {
  it('JSON lists every job with deps, seed, key, template and size; no paths', () => {
    const json = planJson(graph, 'The Last Lighthouse');
    expect(json.schema).toBe(PLAN_SCHEMA);
    expect(json.counts.total).toBe(json.jobs.length);
    const byId = Object.fromEntries(json.jobs.map((j) => [j.id, j]));
    expect(byId['panel:1-2']).toMatchObject({
      kind: 'panel',
      deps: ['character:mara', 'background:lamp-room'],
      seed: expect.any(Number),
      key: expect.stringMatching(/^[0-9a-f]{64}$/),
      template: { id: 'panel', version: '1.0.0', digest: 'digest-of-panel' },
      size: { width: 832, height: 1280 },
      page: 1,
      references: [
        { role: 'character', subject: 'tom', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
        { role: 'character', subject: 'mara', job: 'character:mara' },
        { role: 'background', subject: 'lamp-room', job: 'background:lamp-room' },
      ],
    });
    expect(byId['page:1']).toMatchObject({ seed: null, template: null, size: null, panels: ['panel:1-1', 'panel:1-2', 'panel:1-3'], target: null });
    expect(byId['export:cbz']).toMatchObject({ target: 'cbz', deps: ['page:1', 'page:2'], page: null });
    const text = JSON.stringify(json);
    expect(text).not.toContain('/home/artist');
    // Every job has every field.
    const fields = Object.keys(json.jobs[0]!).sort();
    for (const job of json.jobs) expect(Object.keys(job).sort()).toEqual(fields);
  });

  it('DOT has one node per job and one edge per dependency', () => {
    const dot = planDot(graph, 'The "Last" Lighthouse');
    expect(dot.startsWith('digraph "The \\"Last\\" Lighthouse" {')).toBe(true);
    const edges = graph.jobs.reduce((n, j) => n + j.deps.length, 0);
    expect(dot.match(/ -> /g)?.length).toBe(edges);
    expect(dot).toContain('"character:mara" -> "panel:1-1";');
    for (const job of graph.jobs) expect(dot).toContain(`"${job.id}" [label=`);
    expect(dot).toContain('subgraph "cluster_page:1"');
  });

  it('the tree shows counts, sections and each page with its panels', () => {
    const tree = planTree(graph, 'The Last Lighthouse');
    const lines = tree.split('\n');
    expect(lines[0]).toBe('The Last Lighthouse: 10 jobs: 1 character sheet, 1 background, 4 panels, 2 pages, 2 exports');
    expect(tree).toMatch(/^character sheets\n {2}character:mara {2}character-sheet@1\.0\.0 {2}1344×896 {2}seed 42 {2}key [0-9a-f]{12}$/m);
    expect(tree).toMatch(/^ {2}├─ panel:1-2 {2}panel@1\.0\.0 {2}832×1280 {2}seed \d+ {2}key [0-9a-f]{12} {2}← character tom \(user image\), character:mara, background:lamp-room$/m);
    expect(tree).toMatch(/^ {2}└─ panel:2-1 /m);
    expect(tree).toMatch(/^ {2}export:pdf +key [0-9a-f]{12} {2}← 2 pages$/m);
    expect(lines.indexOf('pages')).toBeLessThan(lines.indexOf('exports'));
  });
});

describe('parseExportList', () => {
  it('accepts known kinds in any order and png as a no-op', () => {
    expect(parseExportList('webtoon, PDF,png')).toEqual(['pdf', 'webtoon']);
    expect(parseExportList('png')).toEqual([]);
  });
  it('rejects an unknown kind with the list of choices', () => {
    expect(() => parseExportList('pdf,mobi')).toThrow(/unknown export "mobi"/);
  });
});
