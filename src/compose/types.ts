/**
 * The contract between page layout and its users. The planner asks for a page's layout to
 * size each panel's render at plan time; the compositor draws the same rectangles. The
 * compositor knows nothing of ComfyUI: it gets panel images as files.
 */
import type { FrameStyle } from '../script/model.js';

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
  /** Drawn with the page's border: not for borderless or bleeding panels. */
  readonly bordered: boolean;
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
  /** Drawn inside each bordered panel's box. */
  readonly border: { readonly width: number; readonly color: string };
}

/**
 * How panels are framed: the script's `defaults.page` (FrameStyle), in pixels at the
 * format's dpi; an unset field takes a default chosen at 300 dpi and scaled with the dpi
 * (gutter 36 px, border 6 px).
 */
export type LayoutStyle = FrameStyle;

/** How text is lettered; unset fields take the defaults in docs/lettering.md. */
export interface LetteringStyle {
  /** The one text size of the comic, in points (converted with the format's dpi). Default 9. */
  readonly fontSizePt?: number;
  /** Letter dialogue and captions in capitals, as comics traditionally are. Default true. */
  readonly uppercase?: boolean;
  /** Speech balloons as ovals or rounded rectangles. Default 'oval'. */
  readonly balloonShape?: 'oval' | 'rounded';
  /** CSS colours. */
  readonly captionFill?: string;
  readonly sfxFill?: string;
}

/** Everything that styles a page: the layout's framing and the lettering. */
export interface PageStyle extends LayoutStyle {
  readonly lettering?: LetteringStyle;
}

export type LetteringKind = 'speech' | 'thought' | 'whisper' | 'shout' | 'caption' | 'sfx';

/** One lettered element as placed on the page (canvas pixels). */
export interface LetteringBox extends Rect {
  readonly panelId: string;
  readonly kind: LetteringKind;
  /** The bounds of the element with its tail or trail: nothing may cut through this. */
  readonly extent: Rect;
}

/** A composed page with what the exporters need to know about it. */
export interface ComposedPage {
  /** The page as an 8-bit RGB PNG of the canvas size. */
  readonly png: Buffer;
  readonly layout: PageLayout;
  /** Balloons, captions and SFX in drawing order. */
  readonly lettering: readonly LetteringBox[];
  /** Things a reader may notice (text shrunk to fit, glyphs the fonts lack), one sentence each. */
  readonly warnings: readonly string[];
  /**
   * How each piece of lettering is drawn, parallel to `lettering`: the SVG fragment (canvas
   * pixels) rasterised onto the page, in the vocabulary the vector PDF redraws
   * (src/compose/export/vector.ts). Absent on pages from before it was kept.
   */
  readonly drawings?: readonly string[];
}
