/**
 * Bad scripts: each problem is reported at its exact line:column with a message a user can
 * act on (and a suggestion where one makes sense).
 */
import { describe, expect, it } from 'vitest';
import { parseScript, ScriptError } from '../../src/script/index.js';
import { errorsOf, lines, diagnose } from './helpers.js';

const ONE_PANEL_PAGE = `pages:
  - panels:
      - prompt: p
`;

describe('YAML syntax', () => {
  it('reports an unclosed quote where the YAML reader gives up', () => {
    expect(errorsOf('comic:\n  title: "The Last\npages: []\n')).toEqual(['4:1 YAML: Missing closing "quote']);
  });

  it('reports tab indentation at the tab', () => {
    expect(errorsOf('comic:\n\ttitle: x\n')).toEqual(['2:1 YAML: Tabs are not allowed as indentation']);
  });

  it('reports a second document', () => {
    expect(errorsOf(`comic: { title: x }\n${ONE_PANEL_PAGE}---\ncomic: { title: y }\n`)).toEqual([
      '5:1 YAML: Source contains multiple documents; please use YAML.parseAllDocuments()',
    ]);
  });

  it('reports an unknown alias at the alias', () => {
    expect(errorsOf(`comic: { title: *name }\n${ONE_PANEL_PAGE}`)).toEqual([
      '1:10 comic.title: expected text, got nothing (an empty value)',
      "1:17 unknown alias '*name' | define the anchor '&name' before using it",
    ]);
  });

  it('reports an empty file as a missing mapping at 1:1', () => {
    expect(errorsOf('')).toEqual(['1:1 expected a mapping (key: value), got nothing (an empty value)']);
  });
});

describe('types and keys', () => {
  it('says what a wrongly typed value is, and to quote numbers meant as text', () => {
    expect(errorsOf(`comic:\n  title: 1984\n${ONE_PANEL_PAGE}`)).toEqual([
      '2:10 comic.title: expected text, got the number 1984 | YAML read this as a number; put it in quotes: "1984"',
    ]);
  });

  it('reports a list where a mapping belongs', () => {
    expect(errorsOf(`comic: [The Last Lighthouse]\n${ONE_PANEL_PAGE}`)).toEqual(['1:8 comic: expected a mapping (key: value), got a list']);
  });

  it('points at an unknown top-level key and suggests the right one', () => {
    expect(errorsOf(`comic: { title: x }\ncharcters: {}\n${ONE_PANEL_PAGE}`)).toEqual([
      "2:1 unknown key 'charcters' | did you mean 'characters'?",
    ]);
  });

  it("points at ComicInfo's `number:` under comic and suggests 'issue'", () => {
    // Not a typo of 'issue' (no spelling suggestion would find it): ComicInfo.xml's name for it.
    expect(errorsOf(`comic:\n  title: x\n  number: 3\n${ONE_PANEL_PAGE}`)).toEqual(["3:3 comic: unknown key 'number' | did you mean 'issue'?"]);
    expect(errorsOf(`comic: { title: x, Number: 3 }\n${ONE_PANEL_PAGE}`)).toEqual(["1:20 comic: unknown key 'Number' | did you mean 'issue'?"]);
    expect(errorsOf(`comic:\n  title: x\n  LanguageISO: fr\n${ONE_PANEL_PAGE}`)).toEqual(["3:3 comic: unknown key 'LanguageISO' | did you mean 'language'?"]);
    // Only under comic: a panel has no issue to suggest.
    expect(errorsOf(`comic: { title: x }\npages:\n  - panels:\n      - prompt: p\n        number: 2\n`)).toEqual([
      expect.stringMatching(/^5:9 pages\[0\]\.panels\[0\]: unknown key 'number' \| allowed keys: /),
    ]);
  });

  it('points at an unknown panel key and suggests the right one', () => {
    expect(errorsOf(`comic: { title: x }\npages:\n  - panels:\n      - prompt: p\n        camra: low angle\n`)).toEqual([
      "5:9 pages[0].panels[0]: unknown key 'camra' | did you mean 'camera'?",
    ]);
  });

  it('explains a comma that split a flow mapping', () => {
    const text = `comic: { title: x }\ncharacters: { mara: { description: d } }\npages:\n  - panels:\n      - prompt: p\n        characters: [mara]\n        dialogue:\n          - { who: mara, text: Well, maybe }\n`;
    expect(errorsOf(text)).toEqual([
      `8:38 pages[0].panels[0].dialogue[0]: unknown key 'maybe' | inside { … } a comma ends a value; put text that has commas in quotes: text: "Well, maybe"`,
    ]);
  });

  it('points a missing required key at the block that lacks it', () => {
    expect(errorsOf(`comic:\n  series: Grey Coast\n${ONE_PANEL_PAGE}`)).toEqual(["1:1 comic: missing required key 'title'"]);
    expect(errorsOf(`comic: { title: x }\npages:\n  - panels:\n      - camera: wide\n`)).toEqual([
      "4:9 pages[0].panels[0]: missing required key 'prompt'",
    ]);
  });

  it('suggests the nearest value of a closed set', () => {
    const text = `comic: { title: x }\ncharacters: { mara: { description: d } }\npages:\n  - panels:\n      - prompt: p\n        characters: [mara]\n        dialogue:\n          - { who: mara, text: hm, kind: thougth }\n`;
    expect(errorsOf(text)).toEqual([
      `8:42 pages[0].panels[0].dialogue[0].kind: expected one of "speech", "thought", "whisper", "shout"; got the text "thougth" | did you mean 'thought'?`,
    ]);
  });

  it('rejects a tail anchor outside the panel, or without both coordinates', () => {
    const text = `comic: { title: x }\ncharacters: { mara: { description: d } }\npages:\n  - panels:\n      - prompt: p\n        characters: [mara]\n        dialogue:\n          - { who: mara, text: hm, tail: { x: 1.5, y: 0.5 } }\n          - { who: mara, text: hm, tail: { x: 0.5 } }\n`;
    expect(errorsOf(text)).toEqual([
      '8:47 pages[0].panels[0].dialogue[0].tail.x: must be a panel fraction from 0 to 1',
      "9:36 pages[0].panels[0].dialogue[1].tail: missing required key 'y'",
    ]);
  });

  it('rejects an unknown panel frame and a border colour that is not one', () => {
    const text = `comic: { title: x }\ndefaults:\n  page: { border: { color: "rgb(1,2" } }\npages:\n  - panels:\n      - prompt: p\n        frame: bled\n`;
    expect(errorsOf(text)).toEqual([
      '3:28 defaults.page.border.color: expected a colour: #rgb, #rrggbb or a CSS colour name',
      `7:16 pages[0].panels[0].frame: expected one of "border", "borderless", "bleed"; got the text "bled" | did you mean 'bleed'?`,
    ]);
  });

  it('rejects a colour name the renderer does not know (it would draw black), suggesting the nearest', () => {
    expect(errorsOf(`comic: { title: x }\ndefaults:\n  page: { border: { color: navvy } }\npages:\n  - panels:\n      - prompt: p\n`)).toEqual([
      "3:28 defaults.page.border.color: expected a colour: #rgb, #rrggbb or a CSS colour name | did you mean 'navy'?",
    ]);
    expect(errorsOf(`comic: { title: x }\ndefaults:\n  page: { border: { color: DarkSlateGray } }\npages:\n  - panels:\n      - prompt: p\n`)).toEqual([]);
  });

  it('rejects an sfx position outside the nine places', () => {
    expect(errorsOf(`comic: { title: x }\npages:\n  - panels:\n      - prompt: p\n        sfx: [{ text: BAM, at: middle }]\n`)).toEqual([
      `5:32 pages[0].panels[0].sfx[0].at: expected one of "top-left", "top", "top-right", "left", "center", "right", "bottom-left", "bottom", "bottom-right"; got the text "middle" | use one of: 'top-left', 'top', 'top-right', 'left', 'center', 'right', 'bottom-left', 'bottom', 'bottom-right'`,
    ]);
  });

  it('rejects a language that is not a BCP 47 tag', () => {
    expect(errorsOf(`comic: { title: x, language: english please }\n${ONE_PANEL_PAGE}`)).toEqual([
      `1:30 comic.language: 'english please' is not a language tag | use a BCP 47 tag such as "en", "fr" or "ja"`,
    ]);
  });
});

describe('ids', () => {
  const cast = `comic: { title: x }\ncharacters:\n  mara: { description: keeper }\n  tobias: { description: old keeper }\nbackgrounds:\n  lamp-room: { prompt: lamp room }\n`;

  it('reports an unknown character in a panel with the nearest id', () => {
    expect(errorsOf(`${cast}pages:\n  - panels:\n      - prompt: p\n        characters: [mara, tobais]\n`)).toEqual([
      "10:28 pages[0].panels[0].characters[1]: unknown character 'tobais' | did you mean 'tobias'?",
    ]);
  });

  it('reports an unknown dialogue speaker with the nearest id', () => {
    expect(errorsOf(`${cast}pages:\n  - panels:\n      - prompt: p\n        characters: [mara]\n        dialogue: [{ who: marra, text: hi }]\n`)).toEqual([
      "11:27 pages[0].panels[0].dialogue[0].who: unknown character 'marra' | did you mean 'mara'?",
    ]);
  });

  it('reports an unknown background with the nearest id', () => {
    expect(errorsOf(`${cast}pages:\n  - panels:\n      - prompt: p\n        background: lamp-rom\n`)).toEqual([
      "10:21 pages[0].panels[0].background: unknown background 'lamp-rom' | did you mean 'lamp-room'?",
    ]);
  });

  it('says where to define an id that is nowhere near a known one', () => {
    expect(errorsOf(`comic: { title: x }\npages:\n  - panels:\n      - prompt: p\n        characters: [zed]\n`)).toEqual([
      "5:22 pages[0].panels[0].characters[0]: unknown character 'zed' | define 'zed' under characters:",
    ]);
  });

  it('reports a duplicate character id at the second definition, naming the first', () => {
    const text = `comic: { title: x }\ncharacters:\n  mara: { description: keeper }\n  mara: { description: twin }\n${ONE_PANEL_PAGE}`;
    expect(errorsOf(text)).toEqual([
      "4:3 duplicate character id 'mara' (first defined on line 3) | each key may appear once in a mapping; rename or remove one of them",
    ]);
  });

  it('reports a duplicate key inside a panel', () => {
    expect(errorsOf(`comic: { title: x }\npages:\n  - panels:\n      - prompt: p\n        prompt: q\n`)).toEqual([
      "5:9 duplicate key 'prompt' (first defined on line 4) | each key may appear once in a mapping; rename or remove one of them",
    ]);
  });

  it('rejects ids that cannot name jobs and files', () => {
    expect(errorsOf(`comic: { title: x }\ncharacters:\n  Mara Lee: { description: d }\n${ONE_PANEL_PAGE}`)).toEqual([
      "3:3 characters: character id 'Mara Lee' may only use letters, digits, '-' and '_' (it names jobs and files)",
    ]);
  });

  it('rejects a character listed twice in one panel', () => {
    expect(errorsOf(`${cast}pages:\n  - panels:\n      - prompt: p\n        characters: [mara, mara]\n`)).toEqual([
      "10:28 pages[0].panels[0].characters[1]: character 'mara' is listed twice",
    ]);
  });
});

describe('templates', () => {
  const installed = ['panel', 'character-sheet', 'background', 'panel-inpaint'];

  it('reports an unknown template id with the nearest installed one', () => {
    expect(errorsOf(`comic: { title: x }\npages:\n  - panels:\n      - prompt: p\n        template: panle@^1\n`, { templateIds: installed })).toEqual([
      "5:19 pages[0].panels[0].template: unknown template 'panle' | did you mean 'panel'?",
    ]);
  });

  it('reports a built-in default template that is not installed, once, at its first user', () => {
    const text = `comic: { title: x }\npages:\n  - layout: 2\n    panels:\n      - prompt: p\n      - prompt: q\n`;
    expect(errorsOf(text, { templateIds: ['character-sheet'] })).toEqual([
      "5:9 pages[0].panels[0]: uses the default panel template 'panel', which is not installed | install a 'panel' template, or set defaults.panel.template",
    ]);
  });

  it('checks template ids in defaults, sheets and backgrounds', () => {
    const text = `comic: { title: x }\ndefaults:\n  panel: { template: pannel }\ncharacters:\n  mara: { description: d, sheet: { template: charsheet } }\nbackgrounds:\n  sea: { prompt: sea, template: backdrop }\npages:\n  - panels:\n      - { prompt: p, characters: [mara], background: sea }\n`;
    expect(errorsOf(text, { templateIds: installed })).toEqual([
      "3:22 defaults.panel.template: unknown template 'pannel' | did you mean 'panel'?",
      "5:46 characters.mara.sheet.template: unknown template 'charsheet' | installed templates: 'panel', 'character-sheet', 'background', 'panel-inpaint'",
      "7:33 backgrounds.sea.template: unknown template 'backdrop' | installed templates: 'panel', 'character-sheet', 'background', 'panel-inpaint'",
    ]);
  });

  it('rejects a version range that is not semver', () => {
    expect(errorsOf(`comic: { title: x }\npages:\n  - panels:\n      - prompt: p\n        template: panel@^^2\n`)).toEqual([
      `5:19 pages[0].panels[0].template: '^^2' in 'panel@^^2' is not a semver version range | use a range such as "^2", "~1.4", ">=1.2 <3" or an exact "1.0.0"`,
    ]);
  });

  it('rejects a template reference without an id', () => {
    expect(errorsOf(`comic: { title: x }\npages:\n  - panels:\n      - prompt: p\n        template: "@2"\n`)).toEqual([
      `5:19 pages[0].panels[0].template: '@2' is not a template reference | write a template id such as "panel", optionally with a version range: "panel@^2"`,
    ]);
  });
});

describe('pages and layouts', () => {
  it('rejects a script without pages', () => {
    expect(errorsOf('comic: { title: x }\npages: []\n')).toEqual(['2:8 pages: the script has no pages; add at least one page with panels']);
  });

  it('rejects a page without panels', () => {
    expect(errorsOf('comic: { title: x }\npages:\n  - layout: splash\n    panels: []\n')).toEqual(['4:13 pages[0].panels: a page needs at least one panel']);
  });

  it('rejects an empty page entry and a page with no panels key', () => {
    expect(errorsOf('comic: { title: x }\npages:\n  -\n  - layout: splash\n')).toEqual([
      '3:4 pages[0]: expected a mapping (key: value), got nothing (an empty value)',
      "4:5 pages[1]: missing required key 'panels'",
    ]);
  });

  it('says both numbers when the panel count does not match the layout', () => {
    const text = 'comic: { title: x }\npages:\n  - layout: 2-1-2\n    panels:\n      - prompt: a\n      - prompt: b\n      - prompt: c\n      - prompt: d\n';
    expect(errorsOf(text)).toEqual([
      `3:13 pages[0].layout: layout '2-1-2' has 5 cells but page 1 has 4 panels | add or remove panels, or use a layout with 4 cells: "2-2", 'big-top', 'widescreen', 'four-koma', 'grid-2x2'`,
    ]);
  });

  it('suggests the nearest preset for an unknown layout name', () => {
    expect(errorsOf('comic: { title: x }\npages:\n  - layout: nine-grd\n    panels: [{ prompt: p }]\n')).toEqual([
      "3:13 pages[0].layout: unknown layout 'nine-grd' | did you mean 'nine-grid'?",
    ]);
  });

  it('rejects a row without panels in a row code', () => {
    expect(errorsOf('comic: { title: x }\npages:\n  - layout: 2-0-1\n    panels: [{ prompt: p }]\n')).toEqual([
      "3:13 pages[0].layout: layout '2-0-1': row 2 has 0 panels; each row needs 1 to 12",
    ]);
  });

  it('rejects cells that run off the page and heights that do not match rows', () => {
    const text = 'comic: { title: x }\npages:\n  - layout: { cells: [{ x: 0.5, y: 0, w: 0.75, h: 1 }] }\n    panels: [{ prompt: p }]\n  - layout: { rows: [1, 1], heights: [1] }\n    panels: [{ prompt: p }, { prompt: q }]\n';
    expect(errorsOf(text)).toEqual([
      '3:42 pages[0].layout.cells[0].w: x + w is 1.25; the cell runs off the page (at most 1)',
      '5:38 pages[1].layout.heights: 1 height for 2 rows; give one height per row',
    ]);
  });
});

describe('format and lengths', () => {
  it('rejects negative and zero sizes', () => {
    expect(errorsOf(`comic:\n  title: x\n  format: { width: -100, height: 0, bleed: -3mm }\n${ONE_PANEL_PAGE}`)).toEqual([
      '3:20 comic.format.width: must be greater than zero, not -100',
      '3:34 comic.format.height: must be greater than zero, not 0',
      '3:44 comic.format.bleed: must not be negative, not -3mm',
    ]);
  });

  it('rejects unknown units and text that is no length', () => {
    expect(errorsOf(`comic:\n  title: x\n  format: { trim: a4, bleed: 3furlongs, margin: wide }\n${ONE_PANEL_PAGE}`)).toEqual([
      "3:30 comic.format.bleed: unknown unit 'furlongs' in '3furlongs'; use one of px, in, mm, cm, pt",
      `3:49 comic.format.margin: 'wide' is not a length; write a number with a unit, such as "0.125in", "3mm", "36pt" or "40px"`,
    ]);
  });

  it('suggests the trim preset meant', () => {
    expect(errorsOf(`comic:\n  title: x\n  format: { trim: us-comics }\n${ONE_PANEL_PAGE}`)).toEqual([
      `3:19 comic.format.trim: expected one of "us-comic", "manga-b6", "a4", "webtoon"; got the text "us-comics" | did you mean 'us-comic'?`,
    ]);
  });

  it('asks for both width and height of a custom size', () => {
    expect(errorsOf(`comic:\n  title: x\n  format: { width: 6in }\n${ONE_PANEL_PAGE}`)).toEqual([
      "3:3 comic.format.height: a custom page size needs both width and height | or name a trim preset: us-comic, manga-b6, a4, webtoon",
    ]);
  });

  it('rejects margins that leave no safe area', () => {
    expect(errorsOf(`comic:\n  title: x\n  format: { width: 2in, height: 3in, margin: 1in }\n${ONE_PANEL_PAGE}`)).toEqual([
      '3:46 comic.format.margin: a margin of 300 pixels on each side leaves no safe area on a 600×900 page',
    ]);
  });
});

describe('seeds', () => {
  it('rejects seeds outside 0 … 2^53 − 1 and seeds that are not whole numbers', () => {
    const text = `comic:\n  title: x\n  seed: 9007199254740992\npages:\n  - panels:\n      - { prompt: p, seed: -1 }\n      - { prompt: q, seed: 1.5 }\n`;
    expect(errorsOf(text.replace('  - panels:', '  - layout: 2\n    panels:'))).toEqual([
      '3:9 comic.seed: a seed must be a whole number from 0 to 9007199254740991',
      '7:28 pages[0].panels[0].seed: a seed must be a whole number from 0 to 9007199254740991',
      '8:28 pages[0].panels[1].seed: a seed must be a whole number from 0 to 9007199254740991',
    ]);
  });
});

describe('reference images', () => {
  it('reports a reference image that does not exist, relative to the script folder', () => {
    const text = `comic: { title: x }\ncharacters:\n  mara: { description: d, reference: refs/mara.png }\n${ONE_PANEL_PAGE}`;
    expect(errorsOf(text, { checkFiles: true, baseDir: '/nonexistent/comic' })).toEqual([
      "3:38 characters.mara.reference: reference image 'refs/mara.png' not found | looked for /nonexistent/comic/refs/mara.png; paths are relative to the script's folder",
    ]);
  });

  it('rejects a reference that is not an image file type', () => {
    const text = `comic: { title: x }\nbackgrounds:\n  sea: { prompt: sea, reference: sea.psd }\n${ONE_PANEL_PAGE}`;
    expect(errorsOf(text)).toEqual(["3:34 backgrounds.sea.reference: reference image 'sea.psd' must be a .png, .jpg, .jpeg, .webp file"]);
  });
});

describe('several problems at once', () => {
  const text = [
    'comic:',
    '  titel: The Last Lighthouse',
    '  direction: up',
    'characters:',
    '  mara: { description: keeper }',
    'pages:',
    '  - layout: 1-1',
    '    panels:',
    '      - prompt: p',
    '        characters: [mra]',
    '        sfx: [{ text: BAM, at: top }]',
    '  - panels: []',
    '',
  ].join('\n');

  it('reports every problem, sorted by position', () => {
    expect(errorsOf(text)).toEqual([
      "1:1 comic: missing required key 'title'",
      "2:3 comic: unknown key 'titel' | did you mean 'title'?",
      `3:14 comic.direction: expected one of "ltr", "rtl"; got the text "up" | use one of: 'ltr', 'rtl'`,
      `7:13 pages[0].layout: layout '1-1' has 2 cells but page 1 has 1 panel | add or remove panels, or use a layout with 1 cell: "1", 'splash'`,
      "10:22 pages[0].panels[0].characters[0]: unknown character 'mra' | did you mean 'mara'?",
      '12:13 pages[1].panels: a page needs at least one panel',
    ]);
  });

  it('throws one ScriptError whose message lists them as file:line:column lines', () => {
    let caught: unknown;
    try {
      parseScript(text, { file: 'story.yaml', checkFiles: false });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ScriptError);
    const error = caught as ScriptError;
    expect(error.code).toBe('SCRIPT_INVALID');
    expect(error.exitCode).toBe(2);
    // Six errors, and the warning that 'mara' appears in no panel (the panel says 'mra').
    expect(error.diagnostics).toHaveLength(7);
    expect(error.diagnostics.filter((d) => d.severity === 'warning')).toHaveLength(1);
    const messageLines = error.message.split('\n');
    expect(messageLines[0]).toBe('story.yaml: 6 problems in the comic script');
    expect(messageLines).toContain("story.yaml:1:1: comic: missing required key 'title'");
    expect(messageLines).toContain("story.yaml:10:22: pages[0].panels[0].characters[0]: unknown character 'mra'");
    expect(messageLines).toContain("  hint: did you mean 'mara'?");
  });
});

describe('warnings', () => {
  it('warns about off-panel speakers, unused entities and ignored sheets, and still builds the comic', () => {
    const text = [
      'comic: { title: x }',
      'characters:',
      '  mara: { description: keeper }',
      '  tobias: { description: old keeper, reference: tobias.png, sheet: { seed: 1 } }',
      '  ghost: { description: unused }',
      'pages:',
      '  - panels:',
      '      - prompt: p',
      '        characters: [tobias]',
      '        dialogue: [{ who: mara, text: hi }]',
      '',
    ].join('\n');
    expect(lines(diagnose(text))).toEqual([
      "4:61 warning characters.tobias.sheet: ignored: a character with a reference image gets no sheet | remove `sheet`, or remove `reference` to render one",
      "5:3 warning characters.ghost: character 'ghost' appears in no panel | remove it, or use it in a panel (it would still be rendered)",
      "10:27 warning pages[0].panels[0].dialogue[0].who: 'mara' speaks but is not drawn in this panel (an off-panel voice) | add 'mara' to this panel's characters to draw them",
    ]);
    expect(() => parseScript(text, { file: 'w.yaml', checkFiles: false })).not.toThrow();
  });

  it('does not warn about a speaker the line itself puts off-panel, and keeps the side', () => {
    const text = [
      'comic: { title: x }',
      'characters:',
      '  mara: { description: keeper }',
      '  tom: { description: fisherman }',
      'pages:',
      '  - panels:',
      '      - prompt: p',
      '        characters: [tom]',
      '        dialogue: [{ who: mara, text: hi, offPanel: left }]',
      '',
    ].join('\n');
    expect(lines(diagnose(text))).toEqual([]);
    expect(parseScript(text, { file: 'o.yaml', checkFiles: false }).pages[0]!.panels[0]!.dialogue[0]!.offPanel).toBe('left');
  });
});
