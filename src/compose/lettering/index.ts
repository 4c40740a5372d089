/**
 * Letters a whole page: every panel's caption, balloons and sound effects, as one SVG
 * fragments in canvas pixels, plus the boxes they occupy (for tests and the webtoon slicer).
 */
import type { ComicMeta, Page } from '../../script/model.js';
import type { LetteringBox, PageLayout, PageStyle } from '../types.js';
import { letteringMetrics } from './metrics.js';
import { inset, intersect } from './place.js';
import { letterPanel, type PlacedLettering } from './panel.js';

export interface PageLettering {
  /** Each piece of lettering with its SVG (canvas coordinates), in drawing order. */
  readonly items: readonly PlacedLettering[];
  readonly boxes: readonly LetteringBox[];
  readonly warnings: readonly string[];
}

export type LetteringMeta = Pick<ComicMeta, 'direction' | 'language' | 'format'>;

export function letterPage(page: Page, layout: PageLayout, meta: LetteringMeta, style?: PageStyle): PageLettering {
  const metrics = letteringMetrics(style?.lettering, meta.format.dpi, meta.language);
  const items: PlacedLettering[] = [];
  const boxes: LetteringBox[] = [];
  const warnings: string[] = [];
  page.panels.forEach((panel, i) => {
    const box = layout.panels[i];
    if (box === undefined) return;
    // Lettering stays off the border and inside the safe area (a bleeding panel runs past it).
    const area = intersect(inset(box, (box.bordered ? layout.border.width : 0) + metrics.pad), layout.safe);
    const lettered = letterPanel({ panel, box, area, direction: meta.direction, metrics });
    for (const item of lettered.items) {
      items.push(item);
      boxes.push(item.box);
    }
    warnings.push(...lettered.warnings);
  });
  return { items, boxes, warnings };
}
