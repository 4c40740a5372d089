/**
 * The contract between page layout and its users. The planner asks for a page's layout to
 * size each panel's render at plan time; the compositor draws the same rectangles. The
 * compositor knows nothing of ComfyUI: it gets panel images as files.
 */

/** A rectangle in page pixels; the origin is the top-left corner of the bleed canvas. */
export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface PanelBox extends Rect {
  /** The panel id (`<page>-<n>`), as in Panel.id. */
  readonly panelId: string;
  /** Position in reading order (0-based): right-to-left pages mirror it. */
  readonly readingOrder: number;
  /** Panels that bleed run past the trim to the canvas edge. */
  readonly bleeds: boolean;
}

export interface PageLayout {
  /** The whole canvas: trim plus bleed on every side. */
  readonly canvas: { readonly width: number; readonly height: number };
  /** The trim box inside the canvas. */
  readonly trim: Rect;
  /** The safe area inside the trim (lettering stays in it). */
  readonly safe: Rect;
  /** One box per panel, in the order of Page.panels. */
  readonly panels: readonly PanelBox[];
}
