/**
 * A finished page: white canvas, panels fitted into their boxes, borders, lettering on top.
 * Pure sharp (libvips + librsvg) and plain buffers: no canvas or other native dependency.
 */
import { ComicError } from '../errors.js';
import type { ComicMeta, Page } from '../script/model.js';
import { fitPanel, type FitOptions } from './fit.js';
import { resolveLayoutStyle } from './layout.js';
import { letterPage } from './lettering/index.js';
import { letteringMetrics } from './lettering/metrics.js';
import { inset } from './lettering/place.js';
import { blendRgba, blit, cssColour, encodePng, renderSvgTile, strokeRectInside, whiteCanvas } from './raster.js';
import type { ComposedPage, PageLayout, PageStyle } from './types.js';

export interface ComposePageInput {
  readonly page: Page;
  readonly layout: PageLayout;
  /** The rendered image of each panel (a file path or the encoded bytes), by panel id (`<page>-<n>`). */
  readonly panelImages: ReadonlyMap<string, string | Buffer>;
  readonly style?: PageStyle;
  readonly comicMeta: Pick<ComicMeta, 'direction' | 'language' | 'format'>;
  /** How each panel fills its box; default cover, centred. */
  readonly fit?: (panelId: string) => FitOptions;
  /**
   * zlib level of the PNG. 2 is the default: on textured art it is several times faster
   * than 6 for files under a tenth larger (see docs/benchmarks.md, compose).
   */
  readonly pngCompression?: number;
}

const DEFAULT_FIT: FitOptions = { mode: 'cover' };

/** The page as an 8-bit RGB PNG of the canvas size. */
export async function composePage(input: ComposePageInput): Promise<Buffer> {
  return (await composePageDetailed(input)).png;
}

/** The page plus where its lettering went and what a reader may notice. */
export async function composePageDetailed(input: ComposePageInput): Promise<ComposedPage> {
  const { page, layout, comicMeta } = input;
  const { borderWidth, borderColor } = resolveLayoutStyle(input.style, comicMeta.format.dpi);
  const lettering = letterPage(page, layout, comicMeta, input.style);
  const stroke = letteringMetrics(input.style?.lettering, comicMeta.format.dpi, comicMeta.language).line;

  // Decode and fit every panel, and rasterise every piece of lettering, concurrently.
  const [panels, tiles, border] = await Promise.all([
    Promise.all(
      layout.panels.map(async (box) => {
        const image = input.panelImages.get(box.panelId);
        if (image === undefined) {
          throw new ComicError('PANEL_IMAGE_INVALID', `page ${page.number}: no image for panel ${box.panelId}`, {
            hint: 'render the page\'s panels first (comic generate)',
          });
        }
        return { box, fitted: await fitPanel(image, box, input.fit?.(box.panelId) ?? DEFAULT_FIT) };
      }),
    ),
    // Tiles leave room for the outline's stroke around each shape's bounds.
    Promise.all(lettering.items.map((item) => renderSvgTile(item.svg, inset(item.box.extent, -(2 * stroke + 2))))),
    cssColour(borderColor),
  ]);

  const canvas = whiteCanvas(layout.canvas.width, layout.canvas.height);
  for (const { box, fitted } of panels) {
    blit(canvas, fitted.data, fitted.width, fitted.height, box.x, box.y);
    // Borders sit inside each box, so the gutters between boxes stay exactly the layout's.
    if (!box.bleeds && borderWidth > 0) strokeRectInside(canvas, box, borderWidth, border);
  }
  for (const tile of tiles) if (tile) blendRgba(canvas, tile.data, tile.width, tile.height, tile.left, tile.top);

  const png = await encodePng(canvas, input.pngCompression ?? 1);
  return { png, layout, lettering: lettering.boxes, warnings: lettering.warnings };
}
