/**
 * Pages, formats and panel images for the compose tests, goldens and benchmarks.
 * Everything is built in code, deterministic, and small.
 */
import sharp from 'sharp';
import type { ExportPage } from '../../src/compose/export/types.js';
import type { ComicMeta, DialogueKind, FrameStyle, LayoutSpec, Page, PageFormat, Panel, PanelFrame, PanelSide, ReadingDirection, Sfx } from '../../src/script/model.js';

export const US_COMIC: PageFormat = { preset: 'us-comic', width: 1988, height: 3075, dpi: 300, bleed: 38, margin: 75 };

/** A small format for fast pixel tests and goldens (about a quarter of us-comic at 100 dpi). */
export const SMALL: PageFormat = { preset: 'custom', width: 663, height: 1025, dpi: 100, bleed: 13, margin: 25 };

export function meta(format: PageFormat, direction: ReadingDirection = 'ltr', overrides: Partial<ComicMeta> = {}): ComicMeta {
  return {
    title: 'The Last Lighthouse',
    series: 'Lighthouse Tales',
    issue: 3,
    authors: [
      { name: 'Ada Writer', role: 'writer' },
      { name: 'Ben Pencil', role: 'penciller' },
      { name: 'Cy Letters', role: 'letterer' },
    ],
    language: 'en',
    style: 'ink and watercolor',
    negative: '',
    seed: 1234,
    direction,
    format,
    ...overrides,
  };
}

export interface PanelSpec {
  readonly characters?: readonly string[];
  readonly dialogue?: readonly { who: string; text: string; kind?: DialogueKind; tail?: { x: number; y: number }; offPanel?: PanelSide }[];
  readonly caption?: string;
  readonly sfx?: readonly { text: string; at?: string }[];
  readonly frame?: PanelFrame;
}

export function page(number: number, layout: LayoutSpec, panels: readonly PanelSpec[], frames: FrameStyle = {}): Page {
  return {
    number,
    layout,
    frames,
    path: ['pages', number - 1],
    panels: panels.map((spec, i): Panel => {
      const path = ['pages', number - 1, 'panels', i];
      return {
        id: `${number}-${i + 1}`,
        page: number,
        index: i + 1,
        render: { template: { id: 'panel', range: null }, seed: null, params: {} },
        prompt: `panel ${i + 1}`,
        characters: spec.characters ?? [],
        pose: null,
        camera: null,
        background: null,
        frame: spec.frame ?? 'border',
        dialogue: (spec.dialogue ?? []).map((d, j) => ({ who: d.who, text: d.text, kind: d.kind ?? 'speech', tail: d.tail ?? null, offPanel: d.offPanel ?? null, path: [...path, 'dialogue', j] })),
        caption: spec.caption ?? null,
        sfx: (spec.sfx ?? []).map((s, j): Sfx => ({ text: s.text, at: s.at ?? null, path: [...path, 'sfx', j] })),
        path,
      };
    }),
  };
}

export const rows = (...r: number[]): LayoutSpec => ({ kind: 'rows', rows: r, heights: null });

/** A lettered six-panel page with every kind of lettering (the benchmark and a golden). */
export function letteredSixPanelPage(number = 1): Page {
  return page(number, rows(2, 1, 3), [
    {
      characters: ['mara', 'tom'],
      caption: 'Night three of the storm.',
      dialogue: [
        { who: 'mara', text: 'Who lit the lamp?' },
        { who: 'tom', text: 'Nobody has been up there since the keeper left.' },
      ],
    },
    { characters: ['mara'], dialogue: [{ who: 'mara', text: 'Then who is singing?', kind: 'whisper' }], sfx: [{ text: 'Kraak', at: 'bottom-right' }] },
    {
      characters: ['tom', 'mara'],
      dialogue: [
        { who: 'tom', text: 'Mara, wait!', kind: 'shout' },
        { who: 'mara', text: 'I have to know.' },
      ],
      sfx: [{ text: 'Boom' }],
    },
    { characters: ['mara'], dialogue: [{ who: 'mara', text: 'Please be the wind... please be the wind.', kind: 'thought' }] },
    { characters: [], caption: 'Up the stairs, one hundred and twelve steps.' },
    { characters: ['keeper'], dialogue: [{ who: 'keeper', text: 'You took your time.' }, { who: 'mara', text: 'Grandpa?!' }] },
  ]);
}

/** A flat-coloured panel image with a darker diagonal, so position and crop are visible. */
export async function panelImage(width: number, height: number, hue: number): Promise<Buffer> {
  const c = hsl(hue, 0.55, 0.62);
  const d = hsl(hue, 0.55, 0.38);
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<rect width="100%" height="100%" fill="${c}"/>` +
    `<path d="M0 ${height} L${width} ${height * 0.55} L${width} ${height} Z" fill="${d}"/></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

export const PANEL_HUES = [200, 20, 120, 280, 50, 330, 170, 90, 240];

export function hsl(h: number, s: number, l: number): string {
  const k = (n: number) => (n + h / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => Math.round(255 * (l - a * Math.max(-1, Math.min(k(n) - 3, Math.min(9 - k(n), 1)))));
  return `#${[f(0), f(8), f(4)].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

/** One image per panel of `p`, each the panel's aspect at a modest size. */
export async function panelImages(p: Page, sizes: readonly { width: number; height: number }[]): Promise<Map<string, Buffer>> {
  const entries = await Promise.all(
    p.panels.map(async (panel, i) => {
      const box = sizes[i]!;
      const scale = 512 / Math.max(box.width, box.height);
      const image = await panelImage(Math.max(8, Math.round(box.width * scale)), Math.max(8, Math.round(box.height * scale)), PANEL_HUES[i % PANEL_HUES.length]!);
      return [panel.id, image] as const;
    }),
  );
  return new Map(entries);
}

/**
 * A page's lettered lines in the order a reader takes them, which the PDF's text layer keeps:
 * panel by panel, the caption, then the balloons as lettered, then the sound effects.
 */
export function readingLines(page: ExportPage): string[] {
  const rank = (kind: string) => (kind === 'caption' ? 0 : kind === 'sfx' ? 2 : 1);
  return page.layout.panels.flatMap((panel) =>
    page.lettering
      .filter((b) => b.panelId === panel.panelId)
      .sort((a, b) => rank(a.kind) - rank(b.kind))
      .flatMap((b) => b.lines ?? []),
  );
}
