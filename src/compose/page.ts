/**
 * A finished page: white canvas, panels fitted into their boxes, borders, lettering on top.
 * Pure sharp (libvips + librsvg) and plain buffers: no canvas or other native dependency.
 */
import { ComicError } from '../errors.js';
import type { ComicMeta, Page } from '../script/model.js';
import { type DetailMap, measureDetail } from './detail.js';
import { fitPanel, type FitOptions, type FittedImage } from './fit.js';
import { type LetteredBox, letterPage, type LocatePath } from './lettering/index.js';
import { letteringMetrics } from './lettering/metrics.js';
import { inset } from './lettering/place.js';
import { encodeRgbPng } from './png.js';
import { blendRgba, blit, cssColour, renderSvgTile, strokeRectInside, whiteCanvas } from './raster.js';
import type { ComposedPage, PageLayout, PageStyle, PanelBox, Rect } from './types.js';

export interface ComposePageInput {
  readonly page: Page;
  readonly layout: PageLayout;
  /** The rendered image of each panel (a file path or the encoded bytes), by panel id (`<page>-<n>`). */
  readonly panelImages: ReadonlyMap<string, string | Buffer>;
  readonly style?: PageStyle;
  readonly comicMeta: Pick<ComicMeta, 'direction' | 'language' | 'format' | 'seed'>;
  /** How each panel fills its box; default cover, centred. */
  readonly fit?: (panelId: string) => FitOptions;
  /**
   * The script's file:line:column of a path (`Comic.locate`), for the lettering's warnings;
   * without it they name the path (`pages[0].panels[1].dialogue[2]`).
   */
  readonly locate?: LocatePath;
  /**
   * The art alone: panels and borders, no lettering (the vector PDF draws the lettering over
   * it, and the lettering-free PDF for translators is made of it). Default false.
   */
  readonly artOnly?: boolean;
}

/** A composed page whose lettering boxes also say what they letter. */
export interface DetailedPage extends ComposedPage {
  readonly lettering: readonly LetteredBox[];
  readonly drawings: readonly string[];
}

const DEFAULT_FIT: FitOptions = { mode: 'cover' };

/** The page as an 8-bit RGB PNG of the canvas size, tagged with the format's dpi. */
export async function composePage(input: ComposePageInput): Promise<Buffer> {
  return (await composePageDetailed(input)).png;
}

/**
 * The page plus where its lettering went and what a reader may notice.
 *
 * Decoding and fitting the panels and compressing the page each take about as long as the
 * other; they overlap: a strip of rows is compressed as soon as everything painted over it
 * is down, while lower panels are still being fitted.
 */
export async function composePageDetailed(input: ComposePageInput): Promise<DetailedPage> {
  const { page, layout, comicMeta } = input;
  const canvas = whiteCanvas(layout.canvas.width, layout.canvas.height);
  const border = awaitedLater(cssColour(layout.border.color));

  // Panels are started first; each is measured for the lettering as soon as it is fitted.
  const fitting = layout.panels.map((box) => awaitedLater(fitBox(input, box)));
  const panels: Painted[] = [];
  layout.panels.forEach((box, i) => {
    panels.push(
      paintAfter(panels, box, async () => {
        const fitted = await fitting[i]!;
        blit(canvas, fitted.data, fitted.width, fitted.height, box.x, box.y);
        // Borders sit inside each box, so the gutters between boxes stay exactly the layout's.
        if (box.bordered && layout.border.width > 0) strokeRectInside(canvas, box, layout.border.width, await border);
      }),
    );
  });

  // Balloons go where the fitted art is quietest, so the lettering waits for the panels.
  const lettering =
    input.artOnly === true
      ? { items: [], boxes: [], warnings: [] }
      : letterPage(page, layout, comicMeta, input.style, input.locate, await panelDetails(layout.panels, fitting));
  const stroke = letteringMetrics(input.style?.lettering, comicMeta.format.dpi, comicMeta.language).line;
  const tiles: Painted[] = [];
  for (const item of lettering.items) {
    // Tiles leave room for the outline's stroke around each shape's bounds.
    const rect = inset(item.box.extent, -(2 * stroke + 2));
    const rendering = awaitedLater(renderSvgTile(item.svg, rect));
    // Lettering goes over the art under it, and over earlier lettering, in drawing order.
    tiles.push(
      paintAfter([...panels, ...tiles], rect, async () => {
        const tile = await rendering;
        if (tile) blendRgba(canvas, tile.data, tile.width, tile.height, tile.left, tile.top);
      }),
    );
  }
  const painting = [...panels, ...tiles];

  const [png] = await Promise.all([
    encodeRgbPng(canvas.data, canvas.width, canvas.height, {
      compression: 'fast',
      dpi: comicMeta.format.dpi,
      rowsReady: (top, bottom) => settled(painting.filter((p) => overlapsRows(p.rect, top, bottom))),
    }),
    settled(painting),
  ]);
  return { png, layout, lettering: lettering.boxes, warnings: lettering.warnings, drawings: lettering.items.map((item) => item.svg) };
}

/**
 * How busy each panel's fitted art is, by panel id, measured as each panel is fitted. A
 * panel that fails to fit has none here: its error comes from painting it.
 */
async function panelDetails(boxes: readonly PanelBox[], fitting: readonly Promise<FittedImage>[]): Promise<Map<string, DetailMap>> {
  const measured = await Promise.all(
    boxes.map((box, i) =>
      fitting[i]!.then(
        (f) => [box.panelId, measureDetail(f.data, f.width, f.height, f.channels)] as const,
        () => null,
      ),
    ),
  );
  return new Map(measured.filter((entry) => entry !== null));
}

/** The panel's image fitted to its box; errors name the page and panel. */
function fitBox(input: ComposePageInput, box: PanelBox): Promise<FittedImage> {
  const { page } = input;
  const image = input.panelImages.get(box.panelId);
  if (image === undefined) {
    return Promise.reject(
      new ComicError('PANEL_IMAGE_INVALID', `page ${page.number}: no image for panel ${box.panelId}`, {
        hint: 'render the page\'s panels first (comic generate)',
      }),
    );
  }
  return fitPanel(image, box, input.fit?.(box.panelId) ?? DEFAULT_FIT).catch((cause: unknown) => {
    if (!(cause instanceof ComicError)) throw cause;
    throw new ComicError(cause.code, `page ${page.number}, panel ${box.panelId}: ${cause.message}`, { hint: cause.hint, cause });
  });
}

/**
 * `promise`, marked as handled: it is awaited once the paints before it are done, and a
 * rejection meanwhile must not count as unhandled (which ends a Node process).
 */
function awaitedLater<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/** A paint operation on the canvas: where it paints and when it is done. */
interface Painted {
  readonly rect: Rect;
  readonly done: Promise<void>;
}

/**
 * Paints once every earlier operation overlapping `area` is done, so overlaps keep their
 * order. The painted rows and columns are `area`'s rounded out, hence the pixel of margin.
 */
function paintAfter(earlier: readonly Painted[], area: Rect, paint: () => Promise<void>): Painted {
  const rect = inset(area, -1);
  const under = earlier.filter((other) => overlaps(other.rect, rect));
  // Handled now: a panel that fails may do so before the page awaits its paints (the
  // lettering waits for every panel's fit first); the page still fails with its error.
  return { rect, done: awaitedLater(settled(under).then(paint)) };
}

async function settled(painted: readonly Painted[]): Promise<void> {
  await Promise.all(painted.map((p) => p.done));
}

function overlaps(a: Rect, b: Rect): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

function overlapsRows(r: Rect, top: number, bottom: number): boolean {
  return r.y < bottom && top < r.y + r.height;
}
