import { describe, expect, it } from 'vitest';
import { characterTokens, planComic, PromptBuilder, type ImageJob, type PanelPromptInput, type PromptStyle } from '../../src/graph/index.js';

const panelPrompts = (s: PromptStyle, panel: PanelPromptInput, negative: string | null) => new PromptBuilder(s).panel(panel, negative);
import { buildComic, context, panel, sampleSpec } from './fixtures.js';

const style = { style: 'ink and watercolor graphic novel, muted palette.', negative: 'blurry, watermark' };
const mara = { name: 'Mara', description: 'young lighthouse keeper,\n  red raincoat, short black hair.' };

describe('prompt builder', () => {
  it('writes style, prompt, characters, pose, camera and background in order, normalised', () => {
    const prompts = panelPrompts(
      style,
      { prompt: 'Mara climbs the stairs. ', characters: [mara], pose: 'climbing', camera: 'low angle', background: 'lamp room' },
      null,
    );
    expect(prompts.positive).toBe(
      'ink and watercolor graphic novel, muted palette. Mara climbs the stairs. ' +
        'Mara: young lighthouse keeper, red raincoat, short black hair. pose: climbing. camera: low angle. background: lamp room',
    );
    expect(prompts.negative).toBe('blurry, watermark, speech bubble, text, lettering');
  });

  it('leaves out empty segments and appends the template negative', () => {
    const prompts = panelPrompts({ style: '', negative: '' }, { prompt: 'A ship', characters: [], pose: '  ', camera: null, background: null }, 'lowres');
    expect(prompts).toEqual({ positive: 'A ship', negative: 'speech bubble, text, lettering, lowres' });
  });

  it('writes a character identically in its sheet and in panels', () => {
    const tokens = characterTokens(mara);
    expect(tokens).toBe('Mara: young lighthouse keeper, red raincoat, short black hair');
    expect(new PromptBuilder(style).sheet(mara, null).positive).toContain(`. character reference sheet. ${tokens}. turnaround, front view`);
    expect(new PromptBuilder(style).background('lamp room', null).positive).toBe(
      'ink and watercolor graphic novel, muted palette. lamp room. empty scene, no people, wide establishing shot',
    );
  });

  it('gives one character in two poses prompts that share its tokens and reference and differ in pose', () => {
    const spec = sampleSpec();
    spec.pages[1]!.panels = [
      panel('Mara at the window', { characters: ['mara'], pose: 'standing, hands on the glass' }),
      panel('Mara at the window', { characters: ['mara'], pose: 'sitting, head in hands' }),
    ];
    const graph = planComic(buildComic(spec), context());
    const [a, b] = ['panel:2-1', 'panel:2-2'].map((id) => graph.get(id) as ImageJob);
    const tokens = characterTokens(spec.characters[0]!);
    expect(a!.request.positive).toContain(tokens);
    expect(b!.request.positive).toContain(tokens);
    expect(a!.request.positive.replace('standing, hands on the glass', 'X')).toBe(b!.request.positive.replace('sitting, head in hands', 'X'));
    expect(a!.request.references).toEqual(b!.request.references);
    expect(a!.request.references).toEqual([{ source: 'job', role: 'character', subject: 'mara', job: 'character:mara' }]);
  });
});

describe('negative prompts', () => {
  it('keep each tag once, first spelling first', () => {
    const prompts = panelPrompts({ style: '', negative: 'Text, blurry,, watermark' }, { prompt: 'x', characters: [], pose: null, camera: null, background: null }, 'blurry, lowres');
    expect(prompts.negative).toBe('Text, blurry, watermark, speech bubble, lettering, lowres');
  });
});
