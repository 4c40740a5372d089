/**
 * What every exporter takes: the composed pages (loaded on demand, so a long comic is never
 * all in memory at once) and the comic's metadata.
 */
import type { ComicMeta } from '../../script/model.js';
import type { LetteringBox, PageLayout } from '../types.js';

export type ExportKind = 'png' | 'pdf' | 'pdf-art' | 'cbz' | 'webtoon' | 'epub';
export const EXPORT_KINDS: readonly ExportKind[] = ['png', 'pdf', 'pdf-art', 'cbz', 'webtoon', 'epub'];

/**
 * A piece of lettering as the exporters see it. The composer's boxes (`LetteredBox`) also
 * carry what they say; the PDF writes that as its text layer. Boxes without it (older
 * cached pages) are only kept clear of by the webtoon slicer.
 */
export interface ExportLettering extends LetteringBox {
  /** The lines as lettered, top to bottom. */
  readonly lines?: readonly string[];
  /** The type size, px. */
  readonly size?: number;
  /** Degrees clockwise about the box's centre (a tilted sound effect); absent: upright. */
  readonly rotation?: number;
  /**
   * Each line by font (as `lines`, one list per line): the runs of text set in one font file
   * each, the primary face, its emphasis face or a fallback such as a Noto Sans JP subset. The
   * PDF's text layer writes each run in its own font at its place; without them (older cached
   * pages) it writes each line in the kind's face.
   */
  readonly runs?: readonly (readonly ExportLineRun[])[];
  /**
   * How it is drawn: the SVG fragment the composer rasterised (canvas pixels). The PDF redraws
   * it as vectors over the page's art; without it (older cached pages) the PDF keeps the
   * raster lettering.
   */
  readonly svg?: string;
}

/** A run of a lettered line in one font (fonts.ts `ShapedRun`), as a cached page may hold it: checked before use. */
export interface ExportLineRun {
  /** Without markup: emphasis (`*word*`) is in the font, not the text. */
  readonly text: string;
  /** The font file: a module path `require.resolve` finds (`@fontsource/comic-neue/files/…`), or an absolute path. */
  readonly file: string;
  /** The instance's weight for a variable font; null for a static one. */
  readonly weight?: number | null;
  readonly emphasis?: boolean;
  /** Where the run starts from the line's start, and its advance, px at the box's size. */
  readonly x: number;
  readonly width: number;
}

export interface ExportPage {
  /** 1-based page number; files are named after it (`pages/003.png`). */
  readonly number: number;
  readonly layout: PageLayout;
  /** Where the lettering is: the webtoon slicer never cuts through it. */
  readonly lettering: readonly ExportLettering[];
  /** The script marks this page as the cover (ComicInfo FrontCover, the EPUB's cover image). */
  readonly cover?: boolean;
  /** The composed page, an 8-bit RGB PNG of the canvas size (composePage's output). */
  readonly png: () => Promise<Buffer>;
  /**
   * The same page without its lettering (panels and borders only), composed on demand: what
   * the vector PDF draws the lettering over and the lettering-free PDF shows. Absent when the
   * panels are not at hand.
   */
  readonly art?: () => Promise<Buffer>;
}

export interface ExportContext {
  /** The output folder: every file is written under it, atomically. */
  readonly outDir: string;
  readonly meta: ComicMeta;
  /** In reading order. */
  readonly pages: readonly ExportPage[];
  /** Base name of the PDF and CBZ; default: the title as a slug. */
  readonly slug?: string;
  /** Character names, for ComicInfo.xml. */
  readonly characters?: readonly string[];
}

export interface ExportedFile {
  readonly kind: ExportKind;
  /** Absolute path. */
  readonly path: string;
  readonly bytes: number;
}

/** `The Last Lighthouse` → `the-last-lighthouse`; never empty. */
export function slugify(title: string): string {
  const slug = title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80)
    .replace(/-+$/, '');
  return slug === '' ? 'comic' : slug;
}

/** `7` → `007`: names sort in page order up to 999 pages, and stay unique past it. */
export function pageFileStem(n: number): string {
  return String(n).padStart(3, '0');
}
