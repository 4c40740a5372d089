/**
 * The webtoon strip: every page's trim area scaled to one width and stacked top to bottom,
 * then cut into images no taller than a limit. A cut never goes through lettering; it goes
 * in a gutter (or between pages) when one is in reach, else through art.
 */
import sharp from 'sharp';
import { safeJoin, writeFileAtomic } from '../../util/fs.js';
import { encodeRgbPng } from '../png.js';
import { blit, whiteCanvas } from '../raster.js';
import type { LetteringBox, PageLayout } from '../types.js';
import { type ExportContext, type ExportedFile, pageFileStem } from './types.js';

export interface WebtoonOptions {
  /** Strip width in px (default 800). */
  readonly width?: number;
  /** Tallest slice in px (default 1280). */
  readonly maxHeight?: number;
}

export interface WebtoonPlan {
  readonly width: number;
  readonly height: number;
  /** Where each page sits in the strip and how much it was scaled. */
  readonly pages: readonly { readonly top: number; readonly height: number; readonly scale: number }[];
  /** Lettering in strip pixels, [top, bottom): no cut falls strictly inside one. */
  readonly lettering: readonly { readonly top: number; readonly bottom: number }[];
  /** Slice boundaries, from 0 to height. */
  readonly cuts: readonly number[];
  /** Cuts that had to go through lettering (a piece of lettering taller than a slice). */
  readonly forced: readonly number[];
}

/** Slices shorter than this are avoided when a cut can be placed lower. */
const MIN_SLICE_FRACTION = 0.35;

export function planWebtoon(
  pages: readonly { readonly layout: PageLayout; readonly lettering: readonly LetteringBox[] }[],
  options: WebtoonOptions = {},
): WebtoonPlan {
  const width = options.width ?? 800;
  const maxHeight = options.maxHeight ?? 1280;
  const placed: { top: number; height: number; scale: number }[] = [];
  const lettering: { top: number; bottom: number }[] = [];
  const panels: { top: number; bottom: number }[] = [];
  let top = 0;
  for (const { layout, lettering: boxes } of pages) {
    const { trim } = layout;
    const scale = width / trim.width;
    const height = Math.round(trim.height * scale);
    const toStrip = (y: number) => top + Math.min(height, Math.max(0, (y - trim.y) * scale));
    for (const b of boxes) lettering.push({ top: Math.floor(toStrip(b.extent.y)), bottom: Math.ceil(toStrip(b.extent.y + b.extent.height)) });
    for (const p of layout.panels) panels.push({ top: Math.floor(toStrip(p.y)), bottom: Math.ceil(toStrip(p.y + p.height)) });
    placed.push({ top, height, scale });
    top += height;
  }
  const total = top;

  // For each row boundary y (a cut between rows y-1 and y): may it be cut, is it a gutter?
  const blocked = new Uint8Array(total + 1);
  const inArt = new Uint8Array(total + 1);
  for (const l of lettering) blocked.fill(1, Math.max(0, l.top + 1), Math.min(total, l.bottom));
  for (const p of panels) inArt.fill(1, Math.max(0, p.top + 1), Math.min(total, p.bottom));

  const cuts = [0];
  const forced: number[] = [];
  let start = 0;
  while (total - start > maxHeight) {
    const limit = start + maxHeight;
    const lowest = start + Math.max(1, Math.floor(maxHeight * MIN_SLICE_FRACTION));
    const pick = (ok: (y: number) => boolean, from: number): number | null => {
      for (let y = limit; y > from; y--) if (ok(y)) return y;
      return null;
    };
    const free = (y: number) => blocked[y] === 0;
    let cut =
      pick((y) => free(y) && inArt[y] === 0, lowest) ??
      pick(free, lowest) ??
      pick((y) => free(y) && inArt[y] === 0, start) ??
      pick(free, start);
    if (cut === null) {
      cut = limit;
      forced.push(cut);
    }
    cuts.push(cut);
    start = cut;
  }
  cuts.push(total);
  return { width, height: total, pages: placed, lettering, cuts, forced };
}

export async function exportWebtoon(ctx: ExportContext, options: WebtoonOptions = {}): Promise<ExportedFile[]> {
  const plan = planWebtoon(ctx.pages, options);
  const files: ExportedFile[] = [];
  // Slices run top to bottom, so only the pages under the current slice are kept decoded.
  const scaled = new Map<number, Buffer>();
  const pageStrip = async (index: number): Promise<Buffer> => {
    let pixels = scaled.get(index);
    if (pixels === undefined) {
      const page = ctx.pages[index]!;
      const { trim } = page.layout;
      pixels = await sharp(await page.png())
        .extract({ left: trim.x, top: trim.y, width: trim.width, height: trim.height })
        .resize(plan.width, plan.pages[index]!.height, { fit: 'fill' })
        .removeAlpha()
        .raw()
        .toBuffer();
      scaled.set(index, pixels);
    }
    return pixels;
  };

  for (let s = 0; s + 1 < plan.cuts.length; s++) {
    const from = plan.cuts[s]!;
    const to = plan.cuts[s + 1]!;
    const slice = whiteCanvas(plan.width, to - from);
    for (let i = 0; i < plan.pages.length; i++) {
      const page = plan.pages[i]!;
      if (page.top + page.height <= from || page.top >= to) {
        if (page.top + page.height <= from) scaled.delete(i);
        continue;
      }
      blit(slice, await pageStrip(i), plan.width, page.height, 0, page.top - from);
    }
    const bytes = await encodeRgbPng(slice.data, slice.width, slice.height, { compression: 'small' });
    const path = safeJoin(ctx.outDir, 'webtoon', `${pageFileStem(s + 1)}.png`);
    await writeFileAtomic(path, bytes);
    files.push({ kind: 'webtoon', path, bytes: bytes.length });
  }
  return files;
}
