/**
 * The text side of lettering: emphasis markup, the crossbar I, line breaks chosen for the
 * balloon's shape, the fallback font chain (Latin, Japanese, Chinese, Korean, symbols) with
 * one warning per missing character, and sound effects that vary within their style.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { face } from '../../src/compose/fonts.js';
import { computeLayout } from '../../src/compose/layout.js';
import { hyphenator } from '../../src/compose/lettering/hyphenate.js';
import { letterPage } from '../../src/compose/lettering/index.js';
import { sfxLook } from '../../src/compose/lettering/panel.js';
import { naturalMeasure, parseEmphasis, plainText, wrapBlock } from '../../src/compose/lettering/text.js';
import { meta, page, rows, SMALL } from './fixtures.js';

const dialogue = face('dialogue');
const SIZE = 20;
const texts = (lines: readonly { text: string }[]) => lines.map((l) => l.text);
const words = (line: string) => line.split(' ').filter((w) => w.length > 0).length;

/** Dark pixels of an outline rendered on white: > 0 when the glyphs have ink. */
async function ink(path: string, width: number, height: number): Promise<number> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.ceil(width)}" height="${Math.ceil(height)}"><rect width="100%" height="100%" fill="#fff"/><path d="${path}" fill="#000"/></svg>`;
  const { data } = await sharp(Buffer.from(svg)).greyscale().raw().toBuffer({ resolveWithObject: true });
  let dark = 0;
  for (const v of data) if (v < 128) dark++;
  return dark;
}

describe('emphasis markup', () => {
  it('*word* and *a few words* are emphasis; the asterisks are not drawn', () => {
    const parsed = parseEmphasis('I *told* you, *not ever*.');
    expect(parsed.text).toBe('I told you, not ever.');
    expect(parsed.styles).toBe('002222000000222222220'.replace(/2/g, '1'));
  });

  it('\\* is a literal asterisk, and so is a * that opens or closes nothing', () => {
    expect(plainText('5 * 3 = 15')).toBe('5 * 3 = 15');
    expect(plainText('a \\*star\\* sign')).toBe('a *star* sign');
    expect(parseEmphasis('a \\*star\\* sign').styles).not.toContain('1');
    expect(plainText('*unclosed')).toBe('*unclosed');
    expect(plainText('UN*BELIEVABLE*')).toBe('UNBELIEVABLE');
    expect(parseEmphasis('UN*BELIEVABLE*').styles).toBe('001111111111');
  });

  it('is set in the bold italic face and survives wrapping', () => {
    const block = wrapBlock(dialogue, 'I *REALLY TOLD* YOU SO, SAM', SIZE, dialogue.shape('I REALLY', SIZE).width);
    const emphasised = block.lines.flatMap((l) => l.runs.filter((r) => r.emphasis));
    expect(emphasised.map((r) => r.text.trim()).join(' ')).toBe('REALLY TOLD');
    for (const run of emphasised) expect(run.file).toContain('700-italic');
    for (const line of block.lines) for (const run of line.runs.filter((r) => !r.emphasis)) expect(run.file).toContain('700-normal');
    expect(texts(block.lines).join(' ')).not.toContain('*');
  });

  it('survives hyphenation: both halves of a broken emphasised word stay emphasised', () => {
    const word = 'SUPERCALIFRAGILISTICEXPIALIDOCIOUS';
    const measure = dialogue.shape('SUPERCALIFRAG', SIZE).width;
    const block = wrapBlock(dialogue, `A *${word}* DAY`, SIZE, measure, { wider: measure, hyphenate: hyphenator('en'), force: false });
    const broken = block.lines.filter((l) => /[A-Z]-$/.test(l.text));
    expect(broken.length).toBeGreaterThan(0);
    const lettersOf = (l: (typeof block.lines)[number]) => l.runs.filter((r) => r.emphasis).map((r) => r.text).join('');
    expect(block.lines.map(lettersOf).join('').replace(/-/g, '')).toBe(word);
    for (const line of block.lines) if (line.text.includes('DAY')) expect(line.runs.find((r) => r.text.includes('DAY'))!.emphasis).toBe(false);
  });
});

describe('the crossbar I', () => {
  it('is kept for the pronoun in capitals; other capital Is are drawn as a plain stem', () => {
    const block = wrapBlock(dialogue, "I THINK I'M FINE. IT IS, I'LL SAY.", SIZE, 10_000);
    const line = block.lines[0]!;
    const crossbar = dialogue.shape('I', SIZE).glyphs[0]!.id;
    const ids = line.glyphs.map((g) => g.id);
    const indexOfI = [...line.text].flatMap((c, i) => (c === 'I' ? [i] : []));
    // Glyphs map one to one onto these characters (no ligatures in capitals).
    expect(ids.length).toBe(line.text.length);
    const drawn = indexOfI.map((i) => ids[i] === crossbar);
    // I, (TH)I(NK), I'M, (F)I(NE), I(T), I(S), I'LL
    expect(drawn).toEqual([true, false, true, false, false, false, true]);
  });

  it('a stammered pronoun keeps its crossbars; a Roman numeral does not', () => {
    const crossbar = dialogue.shape('I', SIZE).glyphs[0]!.id;
    const line = wrapBlock(dialogue, 'I-I-I SAW WORLD WAR II', SIZE, 10_000).lines[0]!;
    const drawn = [...line.text].flatMap((c, i) => (c === 'I' ? [line.glyphs[i]!.id === crossbar] : []));
    expect(drawn).toEqual([true, true, true, false, false]);
  });

  it('is left alone in mixed-case text', () => {
    const line = wrapBlock(dialogue, 'It is I', SIZE, 10_000).lines[0]!;
    const crossbar = dialogue.shape('I', SIZE).glyphs[0]!.id;
    expect(line.glyphs.filter((g) => g.id === crossbar).length).toBe(2);
  });
});

describe('line breaks chosen for the shape', () => {
  const samples = [
    "DON'T EVEN THINK ABOUT IT.",
    'GET OUT OF MY LIGHTHOUSE AND NEVER COME BACK HERE AGAIN, YOU THIEF!',
    'NOBODY HAS BEEN UP THERE SINCE THE KEEPER LEFT, AND THAT WAS FORTY YEARS AGO.',
    'WHO LIT THE LAMP?',
    'PLEASE BE THE WIND... PLEASE BE THE WIND.',
  ];
  /** The measures the panel tries (lettering/panel.ts): about the natural one, narrower and wider. */
  const measuresOf = (text: string) => [0.75, 1, 1.4].map((f) => f * naturalMeasure(dialogue, text, SIZE, 3.6, 5 * SIZE, 16 * SIZE));

  it('ovals get a diamond, never an hourglass: no inner line is narrower than both its neighbours by much', () => {
    for (const text of samples) {
      for (const measure of measuresOf(text)) {
        const block = wrapBlock(dialogue, text, SIZE, measure);
        const w = block.lines.map((l) => l.width);
        for (let i = 1; i < w.length - 1; i++) {
          const hourglass = w[i]! < Math.min(w[i - 1]!, w[i + 1]!) - SIZE;
          expect(hourglass, `${texts(block.lines).join(' / ')} at ${measure}`).toBe(false);
        }
      }
    }
  });

  it('the old hourglass is gone: "DON\'T EVEN / THINK / ABOUT IT." is not set at any measure', () => {
    for (let measure = 3 * SIZE; measure < 16 * SIZE; measure += SIZE / 2) {
      expect(texts(wrapBlock(dialogue, "DON'T EVEN THINK ABOUT IT.", SIZE, measure).lines)).not.toEqual(["DON'T EVEN", 'THINK', 'ABOUT IT.']);
    }
  });

  it('avoids a one-word last line where the words allow', () => {
    for (const text of samples.filter((t) => words(t) >= 4)) {
      for (const measure of measuresOf(text)) {
        const lines = texts(wrapBlock(dialogue, text, SIZE, measure).lines);
        if (lines.length < 2 || words(lines.at(-1)!) > 1) continue;
        // Alone on the last line only when it could not take the word before it.
        const pair = `${lines.at(-2)!.split(' ').at(-1)} ${lines.at(-1)}`;
        expect(dialogue.shape(pair, SIZE).width, `${lines.join(' / ')} at ${measure}`).toBeGreaterThan(measure);
      }
    }
  });

  it('no line is wider than the measure (but a word wider than it)', () => {
    for (const text of samples) {
      for (const measure of [...measuresOf(text), 4 * SIZE, 7 * SIZE]) {
        for (const line of wrapBlock(dialogue, text, SIZE, measure).lines) {
          if (words(line.text) > 1) expect(line.width, line.text).toBeLessThanOrEqual(measure + 0.01);
        }
      }
    }
  });

  it('an oval puts its longest lines in the middle; a box sets even lines', () => {
    const text = samples[2]!;
    const oval = wrapBlock(dialogue, text, SIZE, 10 * SIZE).lines.map((l) => l.width);
    expect(oval.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...oval.slice(1, -1))).toBeGreaterThan(Math.max(oval[0]!, oval.at(-1)!));
    const box = wrapBlock(face('caption'), text, SIZE, 9 * SIZE, undefined, { shape: 'box' }).lines.map((l) => l.width);
    const body = box.slice(0, -1);
    expect(Math.max(...body) - Math.min(...body)).toBeLessThan(3 * SIZE);
  });

  it('is deterministic', () => {
    const a = texts(wrapBlock(dialogue, samples[1]!, SIZE, 7 * SIZE).lines);
    const b = texts(wrapBlock(face('dialogue'), samples[1]!, SIZE, 7 * SIZE).lines);
    expect(a).toEqual(b);
  });

  it('Japanese and Chinese wrap between characters, never before closing punctuation', () => {
    const block = wrapBlock(face('dialogue', 'ja'), 'きのうの夜、だれかが灯台のランプをつけた。だれだろう？', SIZE, 6 * SIZE);
    const lines = texts(block.lines);
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.join('')).toBe('きのうの夜、だれかが灯台のランプをつけた。だれだろう？');
    for (const line of lines.slice(1)) expect(line[0], lines.join(' / ')).not.toMatch(/[、。？]/);
    for (const line of block.lines) expect(line.width).toBeLessThanOrEqual(6 * SIZE + 0.01);
  });
});

describe('the fallback font chain', () => {
  it('draws ★, Japanese, Chinese and Korean with real glyphs from the Noto fonts', async () => {
    for (const text of ['★', '日本語', '中文', '한국어', 'ΩmegaŁódź']) {
      const line = dialogue.shape(text, 40);
      expect(line.missing, text).toEqual([]);
      for (const run of line.runs.filter((r) => r.text.trim() !== '')) {
        if (/[\p{Script=Han}\p{Script=Hangul}★ΩŁź]/u.test(run.text)) expect(run.file, text).toMatch(/noto-sans/);
      }
      // Every glyph has ink (no empty .notdef).
      for (const g of line.glyphs) {
        const one = { ...line, glyphs: [g] };
        expect(await ink(dialogue.outline(one, 0, 45), line.width + 10, 60), `${text}: glyph ${g.id}`).toBeGreaterThan(20);
      }
    }
  });

  it("orders the CJK fonts by the comic's language (Han characters take its own forms)", () => {
    const file = (language: string) => face('dialogue', language).shape('中', 40).runs[0]!.file;
    expect(file('ja')).toContain('noto-sans-jp');
    expect(file('zh-Hans')).toContain('noto-sans-sc');
    expect(file('zh')).toContain('noto-sans-sc');
    for (const traditional of ['zh-Hant', 'zh-TW', 'zh-Hant-HK', 'zh_MO']) expect(file(traditional), traditional).toContain('noto-sans-tc');
    expect(file('zh-Hans-TW')).toContain('noto-sans-sc');
    expect(file('ko')).toContain('noto-sans-kr');
    expect(file('en')).toContain('noto-sans-jp');
  });

  it('draws Traditional Chinese in its own forms: 骨 differs from the Simplified one', () => {
    const outline = (language: string) => {
      const f = face('dialogue', language);
      return f.outline(f.shape('骨', 40), 0, 40);
    };
    expect(outline('zh-TW')).not.toBe(outline('zh-CN'));
    expect(outline('zh-Hant')).toBe(outline('zh-TW'));
  });

  it("sets the fallback at the face's weight: bold dialogue, regular whisper", async () => {
    const bold = dialogue.shape('日', 60);
    const regular = face('whisper').shape('日', 60);
    expect(bold.runs[0]!.weight).toBe(700);
    expect(regular.runs[0]!.weight).toBe(400);
    const boldInk = await ink(dialogue.outline(bold, 0, 60), 70, 80);
    const regularInk = await ink(face('whisper').outline(regular, 0, 60), 70, 80);
    expect(boldInk).toBeGreaterThan(regularInk * 1.2);
  });

  it('says which characters no font has, and only those', () => {
    expect(dialogue.shape('A\u{E000}B\u{E000}★', 20).missing).toEqual(['\u{E000}']);
  });

  it('warns once per missing character per panel, with every place it is written', () => {
    const p = page(1, rows(2), [
      { characters: ['a'], dialogue: [{ who: 'a', text: 'Star ★ and \u{E000}!' }, { who: 'a', text: 'Again \u{E000} \u{E001}' }], caption: 'Box \u{E000}' },
      { characters: ['b'], dialogue: [{ who: 'b', text: '日本語 中文 한국어' }] },
    ]);
    const layout = computeLayout(p, SMALL, 'ltr');
    const { warnings } = letterPage(p, layout, meta(SMALL));
    const glyphWarnings = warnings.filter((w) => w.includes('glyph'));
    expect(glyphWarnings).toHaveLength(2);
    const e000 = glyphWarnings.find((w) => w.includes('U+E000'))!;
    expect(e000).toContain('panel 1-1');
    for (const at of ['pages[0].panels[0].caption', 'pages[0].panels[0].dialogue[0]', 'pages[0].panels[0].dialogue[1]']) expect(e000).toContain(at);
    expect(glyphWarnings.find((w) => w.includes('U+E001'))).toContain('pages[0].panels[0].dialogue[1]');
  });
});

describe('sound effects vary within their style', () => {
  const twoPanels = page(1, rows(2), [
    { characters: ['a'], dialogue: [{ who: 'a', text: 'What was that?' }], caption: 'Night.', sfx: [{ text: 'Boom' }, { text: 'Boom' }] },
    { characters: [], sfx: [{ text: 'Boom' }] },
  ]);

  it('two identical effects on a page are never stamped at the same size and tilt', () => {
    const layout = computeLayout(twoPanels, SMALL, 'ltr');
    const lettering = letterPage(twoPanels, layout, meta(SMALL));
    const sfx = lettering.items.filter((it) => it.box.kind === 'sfx');
    expect(sfx).toHaveLength(3);
    const stamps = sfx.map((it) => `${it.box.size.toFixed(2)}@${/rotate\(([-\d.]+)/.exec(it.svg)![1]}`);
    expect(new Set(stamps).size).toBe(3);
    const fills = sfx.map((it) => /fill="(#[0-9a-f]{6})"/.exec(it.svg)![1]);
    expect(new Set(fills).size).toBeGreaterThan(1);
  });

  it('is deterministic: the same page letters the same effects', () => {
    const layout = computeLayout(twoPanels, SMALL, 'ltr');
    const a = letterPage(twoPanels, layout, meta(SMALL)).items.map((it) => it.svg);
    const b = letterPage(twoPanels, layout, meta(SMALL)).items.map((it) => it.svg);
    expect(a).toEqual(b);
  });

  it("varies with the comic's seed: another seed stamps them otherwise, the same seed alike", () => {
    const layout = computeLayout(twoPanels, SMALL, 'ltr');
    const stamps = (seed: number) =>
      letterPage(twoPanels, layout, meta(SMALL, 'ltr', { seed }))
        .items.filter((it) => it.box.kind === 'sfx')
        .map((it) => `${it.box.size.toFixed(2)}@${/rotate\(([-\d.]+)/.exec(it.svg)![1]}`);
    expect(stamps(7)).toEqual(stamps(7));
    expect(stamps(7)).not.toEqual(stamps(8));
  });

  it('keeps clear of balloons and captions', () => {
    const layout = computeLayout(twoPanels, SMALL, 'ltr');
    const { boxes } = letterPage(twoPanels, layout, meta(SMALL));
    const text = boxes.filter((b) => b.kind !== 'sfx');
    const overlaps = (a: { x: number; y: number; width: number; height: number }, b: typeof a) =>
      a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
    for (const sfx of boxes.filter((b) => b.kind === 'sfx')) for (const t of text) expect(overlaps(sfx, t.extent), `${sfx.text} over ${t.kind}`).toBe(false);
  });

  it('stays within its style: tilt 4° to 13°, size 85% to 115%, fill near the style colour', () => {
    const looks = Array.from({ length: 200 }, (_, i) => sfxLook(`1-1/pages[0].panels[0].sfx[${i}]/BOOM`, 'ltr', '#ffd21f'));
    for (const look of looks) {
      expect(Math.abs(look.angle)).toBeGreaterThanOrEqual(4);
      expect(Math.abs(look.angle)).toBeLessThanOrEqual(13);
      expect(look.size).toBeGreaterThanOrEqual(0.85);
      expect(look.size).toBeLessThanOrEqual(1.15);
      const n = Number.parseInt(look.fill.slice(1), 16);
      const [r, g, b] = [(n >> 16) & 255, (n >> 8) & 255, n & 255];
      expect(r).toBeGreaterThan(200);
      expect(g).toBeGreaterThan(150);
      expect(b).toBeLessThan(120);
    }
    // Mostly tilted up toward the reading direction, sometimes the other way.
    const up = looks.filter((l) => l.angle < 0).length;
    expect(up).toBeGreaterThan(120);
    expect(up).toBeLessThan(190);
    expect(sfxLook('x', 'ltr', 'tomato').fill).toBe('tomato');
  });
});

describe('captions', () => {
  it('one that nearly fits on a line is set on one (six Japanese characters are not split three and three); a long one still wraps', () => {
    const lines = (text: string, language: string) => {
      const q = page(1, rows(1), [{ caption: text }]);
      return letterPage(q, computeLayout(q, SMALL, 'ltr'), meta(SMALL, 'ltr', { language })).boxes.find((b) => b.kind === 'caption')!.lines;
    };
    expect(lines('嵐の三日目。', 'ja')).toEqual(['嵐の三日目。']);
    expect(lines('Night three.', 'en')).toEqual(['NIGHT THREE.']);
    expect(lines('Night three of the storm, and the lamp is lit again.', 'en').length).toBeGreaterThan(1);
  });
});

describe('what the lettering boxes say about text', () => {
  it('text is as lettered without markup; runs name the font of each part of each line', () => {
    const p = page(1, rows(1), [{ characters: ['a'], dialogue: [{ who: 'a', text: 'I *told* you: 日本語!' }] }]);
    const { boxes } = letterPage(p, computeLayout(p, SMALL, 'ltr'), meta(SMALL));
    const box = boxes.find((b) => b.kind === 'speech')!;
    expect(box.text).toBe('I TOLD YOU: 日本語!');
    expect(box.lines.join(' ')).toBe(box.text);
    const runs = box.runs!.flat();
    expect(runs.map((r) => r.text).join('')).toBe(box.lines.join(''));
    expect(runs.find((r) => r.emphasis)!.text).toBe('TOLD');
    expect(runs.find((r) => r.emphasis)!.file).toBe('@fontsource/comic-neue/files/comic-neue-latin-700-italic.woff2');
    expect(runs.filter((r) => /[日本語]/.test(r.text)).every((r) => r.file.startsWith('@fontsource-variable/noto-sans-jp/files/') && r.weight === 700)).toBe(true);
  });
});
