/**
 * `comic plan` end to end, in-process: the real script parser, config, built-in template
 * registry and layout, on scripts written to a temporary folder.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryIO } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import type { PlanJson } from '../../src/graph/index.js';

const SCRIPT = `comic:
  title: The Last Lighthouse
  style: ink and watercolor graphic novel, muted palette
  negative: blurry, extra fingers, watermark
  format: { trim: us-comic, dpi: 300, bleed: 0.125in }
  seed: 1234
characters:
  mara:
    name: Mara
    description: young lighthouse keeper, red raincoat, short black hair, freckles
    sheet: { template: character-sheet, seed: 42 }
  tom:
    name: Tom
    description: old fisherman, grey beard
    reference: refs/tom.png
backgrounds:
  lamp-room: { prompt: "lamp room at the top of a lighthouse, brass lens, storm outside" }
pages:
  - layout: 2-1
    panels:
      - prompt: Mara climbs the spiral stairs, lantern in hand
        characters: [mara]
        pose: climbing, looking up
        background: lamp-room
        camera: low angle
        dialogue:
          - { who: mara, text: Who lit the lamp? }
      - prompt: Tom waits at the top
        characters: [tom, mara]
        background: lamp-room
      - prompt: The lens turns
        background: lamp-room
        params: { steps: 40, cfg: 5 }
`;

/** The same comic with every mapping's keys in another order. */
const REORDERED = `pages:
  - panels:
      - camera: low angle
        dialogue:
          - { text: Who lit the lamp?, who: mara }
        background: lamp-room
        pose: climbing, looking up
        characters: [mara]
        prompt: Mara climbs the spiral stairs, lantern in hand
      - background: lamp-room
        characters: [tom, mara]
        prompt: Tom waits at the top
      - params: { cfg: 5, steps: 40 }
        background: lamp-room
        prompt: The lens turns
    layout: 2-1
backgrounds:
  lamp-room: { prompt: "lamp room at the top of a lighthouse, brass lens, storm outside" }
characters:
  tom:
    reference: refs/tom.png
    description: old fisherman, grey beard
    name: Tom
  mara:
    sheet: { seed: 42, template: character-sheet }
    description: young lighthouse keeper, red raincoat, short black hair, freckles
    name: Mara
comic:
  seed: 1234
  format: { bleed: 0.125in, dpi: 300, trim: us-comic }
  negative: blurry, extra fingers, watermark
  style: ink and watercolor graphic novel, muted palette
  title: The Last Lighthouse
`;

let root: string;

async function project(name: string, script: string, tomBytes = 'tom png bytes'): Promise<string> {
  const dir = join(root, name);
  await mkdir(join(dir, 'refs'), { recursive: true });
  await writeFile(join(dir, 'comic.yaml'), script);
  await writeFile(join(dir, 'refs', 'tom.png'), tomBytes);
  return dir;
}

async function plan(cwd: string, ...args: string[]) {
  const cli = memoryIO({ cwd, env: {} });
  const code = await main(['node', 'comic', 'plan', ...args], cli.io);
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}

async function planJson(cwd: string, ...args: string[]): Promise<PlanJson> {
  const result = await plan(cwd, 'comic.yaml', '--json', ...args);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as PlanJson;
}

const keys = (json: PlanJson) => json.jobs.map((j) => [j.id, j.key]);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'comic-plan-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('comic plan', () => {
  it('prints the tree with counts, sheets, backgrounds, pages with panels and exports', async () => {
    const dir = await project('tree', SCRIPT);
    const { code, stdout } = await plan(dir, 'comic.yaml', '--export', 'pdf,cbz');
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    // No SDXL panel template takes a background image, so the plate is not rendered at all.
    expect(lines[0]).toBe('The Last Lighthouse: 7 jobs: 1 character sheet, 3 panels, 1 page, 2 exports');
    expect(stdout).not.toContain('background:lamp-room');
    expect(stdout).toMatch(/^ {2}character:mara {2}character-sheet@\S+ {2}\d+×\d+ {2}seed 42 {2}key [0-9a-f]{12}$/m);
    // panel-ref (the default for panels showing characters with images) takes one reference: the first character's.
    expect(stdout).toMatch(/^ {2}├─ panel:1-1 .* ← character:mara$/m);
    expect(stdout).toMatch(/^ {2}├─ panel:1-2 .* ← character tom \(user image\)$/m);
    expect(stdout).toMatch(/^ {2}export:cbz +key [0-9a-f]{12} {2}← 1 page$/m);
  });

  it('--json lists every job with deps, seed, key, template and size, the same on every run', async () => {
    const dir = await project('json', SCRIPT);
    const first = await planJson(dir, '--export', 'pdf', '--export', 'cbz');
    expect(first.schema).toBe('comic.plan/1');
    expect(first.counts).toEqual({ character: 1, background: 0, panel: 3, page: 1, export: 2, total: 7 });
    for (const job of first.jobs) {
      expect(job.key).toMatch(/^[0-9a-f]{64}$/);
      if (job.kind === 'page' || job.kind === 'export') continue;
      expect(job.seed).toEqual(expect.any(Number));
      expect(job.template?.digest).toMatch(/^[0-9a-f]{64}$/);
      expect(job.size!.width % 8).toBe(0);
    }
    const byId = Object.fromEntries(first.jobs.map((j) => [j.id, j]));
    expect(byId['panel:1-1']!.deps).toEqual(['character:mara']);
    expect(byId['panel:1-2']!.deps).toEqual([]); // its one reference is tom's own image file
    expect(byId['panel:1-3']!.deps).toEqual([]); // the plain panel template takes no reference
    expect(byId['panel:1-3']!.params).toMatchObject({ steps: 40, cfg: 5 });
    expect(byId['export:pdf']!.deps).toEqual(['page:1']);
    expect(keys(await planJson(dir, '--export', 'pdf,cbz'))).toEqual(keys(first));
  });

  it('with defaults.family: flux2 every character and the background are inputs of the panel', async () => {
    const dir = await project('flux2', SCRIPT.replace('template: character-sheet, ', '').replace('pages:\n', 'defaults:\n  family: flux2\npages:\n'));
    const json = await planJson(dir, '--export', 'pdf');
    expect(json.counts).toMatchObject({ character: 1, background: 1, panel: 3 });
    const byId = Object.fromEntries(json.jobs.map((j) => [j.id, j]));
    expect(byId['character:mara']!.template?.id).toBe('character-sheet-flux2');
    expect(byId['background:lamp-room']!.template?.id).toBe('background-flux2');
    // Tom (his own image) then Mara (her sheet) then the background, in the panel's order.
    expect(byId['panel:1-2']!.template?.id).toBe('panel-flux2');
    expect(byId['panel:1-2']!.deps).toEqual(['character:mara', 'background:lamp-room']);
    expect(byId['panel:1-2']!.references).toEqual([
      expect.objectContaining({ role: 'character', subject: 'tom' }),
      expect.objectContaining({ role: 'character', subject: 'mara', job: 'character:mara' }),
      expect.objectContaining({ role: 'background', subject: 'lamp-room', job: 'background:lamp-room' }),
    ]);
    expect(byId['panel:1-1']!.deps).toEqual(['character:mara', 'background:lamp-room']);
    expect(byId['panel:1-3']!.deps).toEqual(['background:lamp-room']);
    // The prompt names each reference the way Flux.2 reads them.
    expect(byId['panel:1-2']!.prompt?.positive).toContain('Tom: old fisherman, grey beard (the character in image 1)');
    expect(byId['panel:1-2']!.prompt?.positive).toContain('(the character in image 2)');
    expect(byId['panel:1-2']!.prompt?.positive).toContain('storm outside (the setting in image 3)');
    const tree = await plan(dir, 'comic.yaml', '--export', 'pdf');
    expect(tree.stdout).toMatch(/panel:1-2 .* ← character tom \(user image\), character:mara, background:lamp-room$/m);
  });

  it('gives the same keys for a script with its keys re-ordered, in another folder', async () => {
    const a = await planJson(await project('a', SCRIPT));
    const b = await planJson(await project('elsewhere/b', REORDERED));
    expect(keys(b)).toEqual(keys(a));
    // A reference image counts by its bytes.
    const c = await planJson(await project('c', SCRIPT, 'other bytes'));
    const changed = c.jobs.filter((j, i) => j.key !== a.jobs[i]!.key).map((j) => j.id);
    // The default exports (pdf, cbz) are made from the page, so they change with it.
    expect(changed).toEqual(['panel:1-2', 'page:1', 'export:pdf', 'export:cbz']);
  });

  it('--dot emits a Graphviz digraph', async () => {
    const { code, stdout } = await plan(await project('dot', SCRIPT), 'comic.yaml', '--dot');
    expect(code).toBe(0);
    expect(stdout.startsWith('digraph "The Last Lighthouse" {')).toBe(true);
    expect(stdout).toContain('"character:mara" -> "panel:1-1";');
  });

  it('reports script problems with file:line:column and exits 2', async () => {
    const broken = SCRIPT.replace('characters: [mara]', 'characters: [marra]').replace('template: character-sheet', 'template: charcter-sheet');
    const { code, stdout, stderr } = await plan(await project('broken', broken), 'comic.yaml');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/comic\.yaml:\d+:\d+: .*marra/);
    expect(stderr).toMatch(/comic\.yaml:\d+:\d+: .*charcter-sheet/);
  });

  it('refuses --json with --dot and an unknown export, exit 2', async () => {
    const dir = await project('usage', SCRIPT);
    expect((await plan(dir, 'comic.yaml', '--json', '--dot')).code).toBe(2);
    const unknown = await plan(dir, 'comic.yaml', '--export', 'mobi');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('mobi');
  });
});
