/**
 * Fitting a rendered panel image into its box without distorting it: `cover` fills the box
 * and crops around a focal point, `contain` shows the whole image on white.
 */
import sharp, { type Sharp } from 'sharp';
import { ComicError } from '../errors.js';

export type FitMode = 'cover' | 'contain';

export interface FitOptions {
  readonly mode: FitMode;
  /** The point of the image to keep in view when cropping, as fractions (default the centre). */
  readonly focus?: { readonly x: number; readonly y: number };
}

/** Raw 8-bit RGB pixels of exactly the box's size. */
export interface FittedImage {
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
  readonly channels: 3;
}

const WHITE = { r: 255, g: 255, b: 255 };

export async function fitPanel(
  image: string | Buffer,
  box: { readonly width: number; readonly height: number },
  options: FitOptions,
): Promise<FittedImage> {
  const width = Math.round(box.width);
  const height = Math.round(box.height);
  try {
    const source = sharp(image, { failOn: 'error' }).autoOrient();
    let pipeline: Sharp;
    if (options.mode === 'contain') {
      pipeline = source.resize(width, height, { fit: 'contain', background: WHITE });
    } else {
      const meta = await sharp(image).metadata();
      const upright = (meta.orientation ?? 1) >= 5;
      const iw = (upright ? meta.height : meta.width) ?? width;
      const ih = (upright ? meta.width : meta.height) ?? height;
      // One scale for both axes (never distort); the rounding error stays under half a pixel.
      const scale = Math.max(width / iw, height / ih);
      const rw = Math.max(width, Math.round(iw * scale));
      const rh = Math.max(height, Math.round(ih * scale));
      const fx = clamp01(options.focus?.x ?? 0.5);
      const fy = clamp01(options.focus?.y ?? 0.5);
      const left = Math.min(rw - width, Math.max(0, Math.round(fx * rw - width / 2)));
      const top = Math.min(rh - height, Math.max(0, Math.round(fy * rh - height / 2)));
      // Renders are usually enlarged a little to their box: Mitchell is as clean as Lanczos
      // there at three quarters of the cost; shrinking keeps Lanczos' sharpness.
      const kernel = scale > 1 ? 'mitchell' : 'lanczos3';
      pipeline = source.resize(rw, rh, { fit: 'fill', kernel }).extract({ left, top, width, height });
    }
    const { data, info } = await pipeline.flatten({ background: WHITE }).toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
    if (info.width !== width || info.height !== height || info.channels !== 3) {
      throw new Error(`fitted to ${info.width}×${info.height}×${info.channels}, expected ${width}×${height}×3`);
    }
    return { data, width, height, channels: 3 };
  } catch (cause) {
    const name = typeof image === 'string' ? image : 'an in-memory image';
    throw new ComicError('PANEL_IMAGE_INVALID', `cannot fit ${name} into a ${width}×${height} panel: ${(cause as Error).message}`, {
      hint: 'the cached panel image may be damaged; render that panel again with --force',
      cause,
    });
  }
}

function clamp01(v: number): number {
  return Math.min(1, Math.max(0, v));
}
