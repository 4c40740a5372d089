/** Valid scripts: the model they become (defaults, units, presets, templates, sheets, layouts). */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComicError } from '../../src/errors.js';
import { loadScript, parseScript, ScriptError, type Comic } from '../../src/script/index.js';
import { MINIMAL } from './helpers.js';

const parse = (text: string, options: { baseDir?: string; checkFiles?: boolean } = {}): Comic =>
  parseScript(text, { file: 'test.yaml', checkFiles: false, ...options });

const withFormat = (format: string) => MINIMAL.replace('  title: Test\n', `  title: Test\n  format: ${format}\n`);

describe('defaults', () => {
  it('gives panels showing a character with an image the reference template, others the plain one', () => {
    const script = `${MINIMAL}      - prompt: three
        background: lamp-room
`.replace('  - layout: 2\n', '  - layout: 3\n');
    const panels = parse(script).pages[0]!.panels;
    expect(panels.map((p) => p.render.template.id)).toEqual(['panel-ref', 'panel-ref', 'panel']);
    const noSheet = parse(script.replace('mara: { description: keeper }', 'mara: { description: keeper, sheet: false }'));
    expect(noSheet.pages[0]!.panels.map((p) => p.render.template.id)).toEqual(['panel', 'panel', 'panel']);
    const chosen = parse(script.replace('pages:\n', 'defaults:\n  panel: { template: panel-sd15 }\npages:\n'));
    expect(chosen.pages[0]!.panels.map((p) => p.render.template.id)).toEqual(['panel-sd15', 'panel-sd15', 'panel-sd15']);
  });

  it('fills in every default of a minimal script', () => {
    const comic = parse(MINIMAL);
    expect(comic.file).toBe(resolve('test.yaml'));
    expect(comic.meta).toEqual({
      title: 'Test',
      series: null,
      issue: null,
      authors: [],
      language: 'en',
      style: '',
      negative: '',
      seed: 0,
      direction: 'ltr',
      // us-comic: 6.625 × 10.25 in at 300 dpi, bleed 0.125 in (37.5 → 38 px), margin 0.25 in.
      format: { preset: 'us-comic', width: 1988, height: 3075, dpi: 300, bleed: 38, margin: 75 },
    });
    const [panel] = comic.pages[0]!.panels;
    // It shows mara, who gets a sheet: the default is the template that takes the sheet as reference.
    expect(panel!.render).toEqual({ template: { id: 'panel-ref', range: null }, seed: null, params: {}, paramPaths: {} });
    expect(panel!.dialogue).toEqual([]);
    expect(comic.pages[0]!.panels[1]!.dialogue[0]!.kind).toBe('speech');
  });

  it('reads authors, series, issue, direction and canonicalizes the language tag', () => {
    const text = MINIMAL.replace(
      '  title: Test\n',
      '  title: Test\n  series: Grey Coast\n  issue: 2\n  authors: [Ines, { name: Tom, role: inker }, { name: Ada }]\n  language: EN-us\n  direction: rtl\n  seed: 9007199254740991\n',
    );
    const { meta } = parse(text);
    expect(meta.series).toBe('Grey Coast');
    expect(meta.issue).toBe(2);
    expect(meta.authors).toEqual([
      { name: 'Ines', role: 'writer' },
      { name: 'Tom', role: 'inker' },
      { name: 'Ada', role: 'writer' },
    ]);
    expect(meta.language).toBe('en-US');
    expect(meta.direction).toBe('rtl');
    expect(meta.seed).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe('page formats', () => {
  it.each([
    // 128 × 182 mm at 300 dpi: 1511.8 × 2149.6 → 1512 × 2150.
    ['{ trim: manga-b6 }', { preset: 'manga-b6', width: 1512, height: 2150, dpi: 300, bleed: 38, margin: 75 }],
    // 210 × 297 mm at 300 dpi: 2480.3 × 3507.9 → 2480 × 3508.
    ['{ trim: a4 }', { preset: 'a4', width: 2480, height: 3508, dpi: 300, bleed: 38, margin: 75 }],
    ['{ trim: webtoon }', { preset: 'webtoon', width: 800, height: 2560, dpi: 96, bleed: 0, margin: 40 }],
    // Presets scale with dpi.
    ['{ trim: us-comic, dpi: 600 }', { preset: 'us-comic', width: 3975, height: 6150, dpi: 600, bleed: 75, margin: 150 }],
    // width/height override a preset's size; the preset still decides the rest.
    ['{ trim: webtoon, height: 1280 }', { preset: 'webtoon', width: 800, height: 1280, dpi: 96, bleed: 0, margin: 40 }],
  ])('resolves %s', (format, expected) => {
    expect(parse(withFormat(format)).meta.format).toEqual(expected);
  });

  it('converts every unit to pixels at the dpi', () => {
    const format = parse(withFormat('{ width: 6in, height: 254mm, dpi: 200, bleed: 9pt, margin: 40px }')).meta.format;
    // 6 in × 200 = 1200; 254 mm = 10 in → 2000; 9 pt = 1/8 in → 25; 40px stays 40.
    expect(format).toEqual({ preset: 'custom', width: 1200, height: 2000, dpi: 200, bleed: 25, margin: 40 });
    expect(parse(withFormat('{ width: 1000, height: 1500, bleed: 0, margin: 1.5cm }')).meta.format).toEqual({
      preset: 'custom',
      width: 1000,
      height: 1500,
      dpi: 300,
      bleed: 0,
      margin: 177, // 1.5 cm at 300 dpi = 177.17
    });
  });
});

describe('frames', () => {
  it('reads defaults.page in pixels at the dpi for every page, and each panel\'s frame', () => {
    const text = MINIMAL.replace('  title: Test\n', '  title: Test\n  format: { trim: us-comic, dpi: 200 }\ndefaults:\n  page: { gutter: 0.25in, border: { width: 3pt, color: "#204060" } }\n').replace(
      '      - prompt: two\n',
      '      - prompt: two\n        frame: bleed\n',
    );
    const comic = parse(text);
    // 0.25 in × 200 = 50; 3 pt = 1/24 in → 8.33 → 8.
    expect(comic.pages.map((p) => p.frames)).toEqual([{ gutter: 50, borderWidth: 8, borderColor: '#204060' }]);
    expect(comic.pages[0]!.panels.map((p) => p.frame)).toEqual(['border', 'bleed']);
    expect(parse(MINIMAL).pages[0]!.frames).toEqual({});
  });
});

describe('templates', () => {
  it('parses template references with version ranges and merges script defaults', () => {
    const text = MINIMAL.replace(
      'characters:\n',
      'defaults:\n  panel: { template: panel-hq@~1.2, params: { steps: 20, cfg: 7 } }\n  background: { params: { steps: 12 } }\ncharacters:\n',
    ).replace('      - prompt: two\n', '      - prompt: two\n        template: panel@^2\n        seed: 5\n        params: { cfg: 5, lora: [ink, 0.6] }\n');
    const comic = parse(text);
    const [first, second] = comic.pages[0]!.panels;
    const fromDefaults = (kind: string, name: string) => ['defaults', kind, 'params', name];
    expect(first!.render).toEqual({
      template: { id: 'panel-hq', range: '~1.2' },
      seed: null,
      params: { steps: 20, cfg: 7 },
      paramPaths: { steps: fromDefaults('panel', 'steps'), cfg: fromDefaults('panel', 'cfg') },
    });
    // Where each param is written: the panel's own over the defaults it overrides.
    expect(second!.render).toEqual({
      template: { id: 'panel', range: '^2' },
      seed: 5,
      params: { steps: 20, cfg: 5, lora: ['ink', 0.6] },
      paramPaths: { steps: fromDefaults('panel', 'steps'), cfg: [...second!.path, 'params', 'cfg'], lora: [...second!.path, 'params', 'lora'] },
    });
    expect(comic.backgrounds[0]!.render).toEqual({ template: { id: 'background', range: null }, seed: null, params: { steps: 12 }, paramPaths: { steps: fromDefaults('background', 'steps') } });
  });
});

describe('character sheets and references', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'comic-script-'));
    await mkdir(join(dir, 'refs'));
    await writeFile(join(dir, 'refs', 'tobias.png'), 'not really a png; only its existence is checked');
    await writeFile(join(dir, 'harbor.webp'), '');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const cast = `comic: { title: Cast }
defaults:
  sheet: { template: turnaround, params: { views: 3 } }
characters:
  mara: { description: keeper }
  tobias: { name: Old Tobias, description: ghost, reference: refs/tobias.png, sheet: { seed: 1 } }
  kuro: { description: cat, sheet: false }
  ezra: { description: sailor, sheet: { template: character-sheet@1.x, seed: 42, params: { views: 5 } } }
backgrounds:
  harbor: { prompt: harbor, reference: harbor.webp }
  sea: { prompt: open sea, seed: 3 }
pages:
  - layout: 1
    panels:
      - prompt: everyone
        characters: [mara, tobias, kuro, ezra]
        background: harbor
  - panels:
      - { prompt: sea, background: sea }
`;

  it('gives a sheet to every character without a reference or sheet: false', () => {
    const comic = parse(cast, { baseDir: dir, checkFiles: true });
    const byId = Object.fromEntries(comic.characters.map((c) => [c.id, c]));
    expect(byId.mara).toMatchObject({ name: 'mara', reference: null, sheet: { template: { id: 'turnaround', range: null }, seed: null, params: { views: 3 } } });
    expect(byId.tobias).toMatchObject({ name: 'Old Tobias', reference: join(dir, 'refs', 'tobias.png'), sheet: null });
    expect(byId.kuro).toMatchObject({ reference: null, sheet: null });
    expect(byId.ezra!.sheet).toEqual({ template: { id: 'character-sheet', range: '1.x' }, seed: 42, params: { views: 5 }, paramPaths: { views: ['characters', 'ezra', 'sheet', 'params', 'views'] } });
    expect(byId.mara!.path).toEqual(['characters', 'mara']);
  });

  it('renders a background only when it has no reference image', () => {
    const comic = parse(cast, { baseDir: dir, checkFiles: true });
    expect(comic.backgrounds).toEqual([
      { id: 'harbor', prompt: 'harbor', reference: join(dir, 'harbor.webp'), render: null, path: ['backgrounds', 'harbor'] },
      { id: 'sea', prompt: 'open sea', reference: null, render: { template: { id: 'background', range: null }, seed: 3, params: {}, paramPaths: {} }, path: ['backgrounds', 'sea'] },
    ]);
  });

  it('loads a script from disk relative to cwd, with references relative to the script', async () => {
    await writeFile(join(dir, 'cast.yaml'), cast);
    const comic = await loadScript('cast.yaml', { cwd: dir });
    expect(comic.file).toBe(join(dir, 'cast.yaml'));
    expect(comic.characters.find((c) => c.id === 'tobias')!.reference).toBe(join(dir, 'refs', 'tobias.png'));
  });

  it('fails with SCRIPT_NOT_FOUND for a missing file, and SCRIPT_INVALID for a bad one', async () => {
    await expect(loadScript('missing.yaml', { cwd: dir })).rejects.toMatchObject({ code: 'SCRIPT_NOT_FOUND' });
    await expect(loadScript('.', { cwd: dir })).rejects.toBeInstanceOf(ComicError);
    await writeFile(join(dir, 'bad.yaml'), 'comic: {}\n');
    await expect(loadScript('bad.yaml', { cwd: dir })).rejects.toBeInstanceOf(ScriptError);
  });
});

describe('pages, panels and layouts', () => {
  const text = `comic: { title: Layouts }
characters: { mara: { description: d } }
pages:
  - layout: 3
    panels: [{ prompt: a, characters: [mara] }, { prompt: b }, { prompt: c }]
  - panels: [{ prompt: a }, { prompt: b }]
  - layout: grid-2x2
    panels: [{ prompt: a }, { prompt: b }, { prompt: c }, { prompt: d }]
  - layout: { rows: [1, 2], heights: [2, 1] }
    panels: [{ prompt: a }, { prompt: b }, { prompt: c }]
  - layout: { cells: [{ x: 0, y: 0, w: 1, h: 0.5 }, { x: 0.25, y: 0.5, w: 0.5, h: 0.5 }] }
    panels:
      - prompt: a
        sfx: BOOM
      - prompt: b
        caption: Later.
        pose: sitting
        camera: wide
        sfx: [KRAK, { text: BAM, at: top-left }]
        dialogue: [{ who: mara, text: "Hi, you.", kind: shout }, { who: mara, text: psst, tail: { x: 0.1, y: 0.9 } }]
`;

  it('turns every layout form into the model', () => {
    const layouts = parse(text).pages.map((p) => p.layout);
    expect(layouts).toEqual([
      { kind: 'rows', rows: [3], heights: null },
      { kind: 'rows', rows: [1, 1], heights: null }, // no layout: one panel per row
      { kind: 'preset', name: 'grid-2x2' },
      { kind: 'rows', rows: [1, 2], heights: [2, 1] },
      { kind: 'cells', cells: [{ x: 0, y: 0, w: 1, h: 0.5 }, { x: 0.25, y: 0.5, w: 0.5, h: 0.5 }] },
    ]);
  });

  it('numbers pages and panels from 1 and keeps every field with its path', () => {
    const comic = parse(text);
    const page = comic.pages[4]!;
    expect(page.number).toBe(5);
    expect(page.path).toEqual(['pages', 4]);
    const [first, second] = page.panels;
    expect(first).toMatchObject({ id: '5-1', page: 5, index: 1, sfx: [{ text: 'BOOM', at: null, path: ['pages', 4, 'panels', 0, 'sfx'] }] });
    expect(second).toMatchObject({
      id: '5-2',
      page: 5,
      index: 2,
      prompt: 'b',
      caption: 'Later.',
      pose: 'sitting',
      camera: 'wide',
      background: null,
      characters: [],
      sfx: [
        { text: 'KRAK', at: null, path: ['pages', 4, 'panels', 1, 'sfx', 0] },
        { text: 'BAM', at: 'top-left', path: ['pages', 4, 'panels', 1, 'sfx', 1] },
      ],
      dialogue: [
        { who: 'mara', text: 'Hi, you.', kind: 'shout', tail: null, path: ['pages', 4, 'panels', 1, 'dialogue', 0] },
        { who: 'mara', text: 'psst', kind: 'speech', tail: { x: 0.1, y: 0.9 }, path: ['pages', 4, 'panels', 1, 'dialogue', 1] },
      ],
      path: ['pages', 4, 'panels', 1],
    });
  });

  it('locates any path, down to a single value, and the nearest node for missing ones', () => {
    const comic = parse(text);
    expect(comic.locate(['pages', 4, 'panels', 1, 'caption'])).toEqual({ file: 'test.yaml', line: 16, column: 18 });
    expect(comic.locate(['pages', 4, 'panels', 1, 'sfx', 1, 'at'])).toEqual({ file: 'test.yaml', line: 19, column: 38 });
    expect(comic.locate(['characters', 'mara'])).toEqual({ file: 'test.yaml', line: 2, column: 21 });
    // A panel without `background`: its own position.
    expect(comic.locate(['pages', 0, 'panels', 1, 'background'])).toEqual({ file: 'test.yaml', line: 5, column: 49 });
    expect(comic.locate([])).toEqual({ file: 'test.yaml', line: 1, column: 1 });
  });
});

describe('the examples', () => {
  it.each(['lighthouse.yaml', 'manga-rtl.yaml'])('%s is valid', async (name) => {
    const comic = await loadScript(join('examples', name));
    expect(comic.pages.length).toBeGreaterThan(1);
  });

  it('the lighthouse has what the README promises: 2 sheets, 2 backgrounds, 4 pages, ~14 panels, every dialogue kind', async () => {
    const comic = await loadScript('examples/lighthouse.yaml');
    expect(comic.meta.title).toBe('The Last Lighthouse');
    expect(comic.characters.filter((c) => c.sheet !== null)).toHaveLength(2);
    expect(comic.backgrounds).toHaveLength(2);
    expect(comic.pages).toHaveLength(4);
    const panels = comic.pages.flatMap((p) => p.panels);
    expect(panels).toHaveLength(14);
    expect(new Set(panels.flatMap((p) => p.dialogue.map((d) => d.kind)))).toEqual(new Set(['speech', 'thought', 'whisper', 'shout']));
    expect(panels.some((p) => p.caption)).toBe(true);
    expect(panels.some((p) => p.sfx.length > 0)).toBe(true);
    expect(new Set(comic.pages.map((p) => p.layout.kind))).toEqual(new Set(['preset', 'rows', 'cells']));
  });

  it('the manga reads right to left on B6', async () => {
    const comic = await loadScript('examples/manga-rtl.yaml');
    expect(comic.meta.direction).toBe('rtl');
    expect(comic.meta.format.preset).toBe('manga-b6');
    expect(comic.pages).toHaveLength(2);
  });
});
