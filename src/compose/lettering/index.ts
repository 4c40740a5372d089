/**
 * Letters a whole page: every panel's caption, balloons and sound effects, as one SVG
 * fragments in canvas pixels, plus the boxes they occupy (for tests and the webtoon slicer).
 *
 * Two passes: each panel letters what it can inside itself and its gutters; what no panel
 * could hold is then placed on the page, clear of all the lettering already there. Nothing
 * is left out.
 */
import { formatLocation, type SourceLocation } from '../../errors.js';
import type { ComicMeta, Page, YamlPath } from '../../script/model.js';
import type { DetailMap } from '../detail.js';
import { resolveLayoutStyle } from '../layout.js';
import type { PageLayout, PageStyle } from '../types.js';
import { letteringMetrics } from './metrics.js';
import { inset, intersect } from './place.js';
import { type LetteredBox, letterPanel, type PendingLettering, type PlacedLettering, scriptPath } from './panel.js';

export type { LetteredBox } from './panel.js';

export interface PageLettering {
  /** Each piece of lettering with its SVG (canvas coordinates), in drawing order. */
  readonly items: readonly PlacedLettering[];
  readonly boxes: readonly LetteredBox[];
  readonly warnings: readonly string[];
}

/** `seed`: the comic's, from which sound effects take their tilt, size and shade. */
export type LetteringMeta = Pick<ComicMeta, 'direction' | 'language' | 'format' | 'seed'>;

/** Turns a script path into its file:line:column (Comic.locate); without it, warnings show the path. */
export type LocatePath = (path: YamlPath) => SourceLocation;

/**
 * `details`: how busy each panel's fitted art is, by panel id (`measureDetail`); balloons go
 * where it is quietest. Without it every place is as quiet (the art is not known).
 */
export function letterPage(
  page: Page,
  layout: PageLayout,
  meta: LetteringMeta,
  style?: PageStyle,
  locate?: LocatePath,
  details?: ReadonlyMap<string, DetailMap>,
): PageLettering {
  const metrics = letteringMetrics(style?.lettering, meta.format.dpi, meta.language);
  const { gutter } = resolveLayoutStyle(style ?? page.frames, meta.format.dpi);
  const position = (path: YamlPath) => (locate ? formatLocation(locate(path)) : scriptPath(path));
  const items: PlacedLettering[] = [];
  /** Warnings by panel, so that those of the page's pass stay with their panel's. */
  const warnings = new Map<string, string[]>();
  const pending: PendingLettering[] = [];
  page.panels.forEach((panel, i) => {
    const box = layout.panels[i];
    if (box === undefined) return;
    // Lettering stays off the border and inside the safe area (a bleeding panel runs past it).
    const area = intersect(inset(box, (box.bordered ? layout.border.width : 0) + metrics.pad), layout.safe);
    // What does not fit may cover the border and most of the gutter, never the next panel.
    const overflow = intersect(inset(box, -Math.max(0, gutter - metrics.gap)), layout.safe);
    const detail = details?.get(panel.id);
    const others = items.map((it) => it.box.extent);
    const lettered = letterPanel({ panel, box, area, overflow, others, position, direction: meta.direction, seed: meta.seed, metrics, ...(detail ? { detail } : {}) });
    items.push(...lettered.items);
    warnings.set(panel.id, [...lettered.warnings]);
    pending.push(...lettered.pending);
  });
  for (const item of pending) {
    const { placed, warnings: said } = item.place(layout.safe, items.map((it) => it.box.extent));
    if (placed) items.push(placed);
    warnings.get(item.panelId)?.push(...said);
  }
  return { items, boxes: items.map((it) => it.box), warnings: [...warnings.values()].flat() };
}
