/**
 * The typed comic model: what a valid script means, after defaults are applied and ids are
 * checked. Everything downstream (plan, render, compose) reads this, never the YAML.
 *
 * Every entity keeps its `path` in the YAML document; `Comic.locate(path)` turns any path
 * (down to a single param) into file:line:column, so later layers can point at the exact
 * place in the script that asked for something.
 */
import type { SourceLocation } from '../errors.js';

/** A path into the YAML document, e.g. ['pages', 0, 'panels', 2, 'prompt']. */
export type YamlPath = readonly (string | number)[];

export type ReadingDirection = 'ltr' | 'rtl';
export type TrimPreset = 'us-comic' | 'manga-b6' | 'a4' | 'webtoon';
export type DialogueKind = 'speech' | 'thought' | 'whisper' | 'shout';
/** A side of a panel: where an off-panel speaker is. */
export type PanelSide = 'left' | 'right' | 'top' | 'bottom';

/** `bleed`: the panel's edges that lie on the live area's border run to the canvas edge (no border). */
export type PanelFrame = 'border' | 'borderless' | 'bleed';

/** The frames of a page, in pixels; unset values take the compositor's defaults (scaled with the dpi). */
export interface FrameStyle {
  readonly gutter?: number;
  readonly borderWidth?: number;
  /** A CSS colour. */
  readonly borderColor?: string;
}
export type AuthorRole = 'writer' | 'penciller' | 'inker' | 'colorist' | 'letterer' | 'cover-artist' | 'editor' | 'translator' | 'artist';

/** `panel` or `panel@^2`: an id and an optional semver range, resolved by the template manager. */
export interface TemplateRef {
  readonly id: string;
  /** A semver range, or null for "the newest version". */
  readonly range: string | null;
}

/** Template parameter values as written in the script (checked later against the manifest). */
export type Params = Readonly<Record<string, unknown>>;

/** Page geometry, all lengths in pixels at `dpi`. */
export interface PageFormat {
  readonly preset: TrimPreset | 'custom';
  /** Trim size. */
  readonly width: number;
  readonly height: number;
  readonly dpi: number;
  /** Extra image beyond the trim on every side. */
  readonly bleed: number;
  /** Safe area inset from the trim on every side; lettering stays inside it. */
  readonly margin: number;
}

export interface Author {
  readonly name: string;
  readonly role: AuthorRole;
}

/** What ComicInfo.xml says about the book besides the title, series, issue and credits; each absent unless the script gives it. */
export interface BookInfo {
  readonly summary?: string;
  /** The series' volume number. */
  readonly volume?: number;
  /** How many issues the series has. */
  readonly count?: number;
  readonly year?: number;
  readonly month?: number;
  readonly day?: number;
  readonly publisher?: string;
  readonly genres?: readonly string[];
  /** Free-form keywords (ComicInfo v2.1 `Tags`). */
  readonly tags?: readonly string[];
  /** A web page for the book. */
  readonly web?: string;
  readonly storyArc?: string;
  /** One of ComicInfo's age ratings (schema.ts AGE_RATINGS). */
  readonly ageRating?: string;
  /** The barcode number, EAN-13 / ISBN-13 and the like (ComicInfo v2.1 `GTIN`), as the script writes it. */
  readonly gtin?: string;
}

export interface ComicMeta {
  readonly title: string;
  readonly series: string | null;
  readonly issue: number | null;
  /** For comic readers (ComicInfo.xml); absent in metas built before it existed. */
  readonly book?: BookInfo;
  readonly authors: readonly Author[];
  /** BCP 47 tag, e.g. "en", "ja". */
  readonly language: string;
  /** Style prompt shared by every image. */
  readonly style: string;
  readonly negative: string;
  /** Base seed; every job derives its own from it and its job id. */
  readonly seed: number;
  readonly direction: ReadingDirection;
  readonly format: PageFormat;
}

/** A template with the parameters a job passes to it (script defaults merged in). */
export interface TemplateUse {
  readonly template: TemplateRef;
  /** An explicit seed from the script, or null to derive one. */
  readonly seed: number | null;
  readonly params: Params;
  /** Where each of `params` is written (the entity's own params, or the script's `defaults`), for errors. */
  readonly paramPaths?: Readonly<Record<string, YamlPath>>;
}

export interface Character {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  /** Absolute path of a user-supplied reference image; when set, no sheet is rendered. */
  readonly reference: string | null;
  /** The reference sheet to render, or null when `reference` is given or `sheet: false`. */
  readonly sheet: TemplateUse | null;
  readonly path: YamlPath;
}

export interface Background {
  readonly id: string;
  readonly prompt: string;
  /** Absolute path of a user-supplied image; when set, nothing is rendered for it. */
  readonly reference: string | null;
  readonly render: TemplateUse | null;
  readonly path: YamlPath;
}

export interface DialogueLine {
  /** A character id. */
  readonly who: string;
  readonly text: string;
  readonly kind: DialogueKind;
  /** Where the tail points, as fractions of the panel (null: at the speaker's place among the panel's characters). */
  readonly tail: { readonly x: number; readonly y: number } | null;
  /** The speaker is outside the panel, on this side: the tail runs to that edge (unset or null: drawn in the panel). */
  readonly offPanel?: PanelSide | null;
  readonly path: YamlPath;
}

export interface Sfx {
  readonly text: string;
  /** Where on the panel: top-left … bottom-right, center; null lets the letterer choose. */
  readonly at: string | null;
  readonly path: YamlPath;
}

/** Rows of panels (`2-1-2`), a named preset, or explicit cells in page fractions. */
export type LayoutSpec =
  | { readonly kind: 'rows'; readonly rows: readonly number[]; readonly heights: readonly number[] | null }
  | { readonly kind: 'preset'; readonly name: string }
  | { readonly kind: 'cells'; readonly cells: readonly { x: number; y: number; w: number; h: number }[] };

export interface Panel {
  /** `<page>-<n>`, both 1-based: the id used in job ids (`panel:3-2`). */
  readonly id: string;
  /** 1-based page number. */
  readonly page: number;
  /** 1-based position on the page, in script order (the n of the id). */
  readonly index: number;
  readonly render: TemplateUse;
  readonly prompt: string;
  /** Character ids, in script order. */
  readonly characters: readonly string[];
  readonly pose: string | null;
  readonly camera: string | null;
  /** A background id. */
  readonly background: string | null;
  readonly frame: PanelFrame;
  readonly dialogue: readonly DialogueLine[];
  readonly caption: string | null;
  readonly sfx: readonly Sfx[];
  readonly path: YamlPath;
}

export interface Page {
  /** 1-based page number. */
  readonly number: number;
  readonly layout: LayoutSpec;
  /** The script marks it as the cover (`cover: true`): ComicInfo.xml's FrontCover, the EPUB's cover. */
  readonly cover?: boolean;
  /** From the script's `defaults.page`. */
  readonly frames: FrameStyle;
  readonly panels: readonly Panel[];
  readonly path: YamlPath;
}

export interface Comic {
  /** Absolute path of the script file. */
  readonly file: string;
  readonly meta: ComicMeta;
  readonly characters: readonly Character[];
  readonly backgrounds: readonly Background[];
  readonly pages: readonly Page[];
  /** The file:line:column of any path in the script (the nearest existing node); `key` points at a mapping key. */
  locate(path: YamlPath, at?: 'key' | 'value'): SourceLocation;
}
