/**
 * Stand-in pictures: real PNGs whose pixels are a pure function of the generation inputs,
 * so tests can compare bytes. A gradient and three discs come from a hash of the inputs;
 * unfinished sampling (interrupt, skip, live previews) overlays latent-sized noise; an init
 * image is blended in, tinting the result as img2img would.
 */
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { seededRandom } from '../../../src/compose/random.js';
import { httpException } from './api-error.js';
import { withTextChunk } from './png-text.js';

export interface RgbImage {
  readonly width: number;
  readonly height: number;
  /** width × height × 3 bytes, row-major RGB. */
  readonly pixels: Buffer;
}

export interface PictureSpec {
  readonly width: number;
  readonly height: number;
  /** Everything that decides the picture (prompt, seed, size, sampler…), as one string. */
  readonly key: string;
  /** Share of sampling done, 0..1; below 1 the picture is still noisy. */
  readonly completed: number;
  /** An init image already resized to width × height, and how strongly it shows through. */
  readonly init: { readonly image: RgbImage; readonly weight: number } | null;
}

/** SD latents are 1/8 of the image size; the noise of unfinished pictures has that grain. */
const LATENT_SCALE = 8;

export function renderPicture(spec: PictureSpec): RgbImage {
  const { width, height } = spec;
  const digest = createHash('sha256').update(spec.key).digest();
  const byte = (i: number): number => digest[i] ?? 0;
  const random = seededRandom(digest.readUInt32LE(8));
  const colorA = [byte(0), byte(1), byte(2)];
  const colorB = [byte(3), byte(4), byte(5)];
  const dirX = (byte(6) - 127.5) / 127.5;
  const dirY = (byte(7) - 127.5) / 127.5;
  const discs = Array.from({ length: 3 }, () => ({
    cx: random() * width,
    cy: random() * height,
    r2: ((0.1 + random() * 0.25) * Math.min(width, height)) ** 2,
    color: [random() * 255, random() * 255, random() * 255],
  }));
  const noise = spec.completed < 1 ? latentNoise(spec, digest.readUInt32LE(12)) : null;
  const pixels = Buffer.alloc(width * height * 3);
  const color = [0, 0, 0];
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const t = Math.min(1, Math.max(0, (x / width - 0.5) * dirX + (y / height - 0.5) * dirY + 0.5));
      for (let c = 0; c < 3; c += 1) color[c] = (colorA[c] ?? 0) * (1 - t) + (colorB[c] ?? 0) * t;
      for (const disc of discs) {
        if ((x - disc.cx) ** 2 + (y - disc.cy) ** 2 < disc.r2) {
          for (let c = 0; c < 3; c += 1) color[c] = (color[c] ?? 0) * 0.2 + (disc.color[c] ?? 0) * 0.8;
        }
      }
      const offset = (y * width + x) * 3;
      for (let c = 0; c < 3; c += 1) {
        let value = color[c] ?? 0;
        if (noise) {
          const cell = (Math.floor(y / LATENT_SCALE) * noise.columns + Math.floor(x / LATENT_SCALE)) * 3 + c;
          value = value * spec.completed + (noise.values[cell] ?? 0) * (1 - spec.completed);
        }
        if (spec.init) value = value * (1 - spec.init.weight) + (spec.init.image.pixels[offset + c] ?? 0) * spec.init.weight;
        pixels[offset + c] = Math.round(value);
      }
    }
  }
  return { width, height, pixels };
}

function latentNoise(spec: PictureSpec, seed: number): { columns: number; values: Float64Array } {
  const columns = Math.ceil(spec.width / LATENT_SCALE);
  const rows = Math.ceil(spec.height / LATENT_SCALE);
  const random = seededRandom(seed);
  const values = new Float64Array(columns * rows * 3);
  for (let i = 0; i < values.length; i += 1) values[i] = random() * 255;
  return { columns, values };
}

/** PNG bytes, with the infotext in a "parameters" text chunk when given (opts.enable_pnginfo). */
export async function encodePng(image: RgbImage, parameters: string | null): Promise<Buffer> {
  const png = await sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: 3 } })
    .png()
    .toBuffer();
  return parameters === null ? png : withTextChunk(png, 'parameters', parameters);
}

/**
 * images.image_grid with n_rows = -1: rows = floor(sqrt(n)), lowered until it divides n;
 * cells are the first image's size.
 */
export function composeGrid(images: readonly RgbImage[]): RgbImage {
  const firstImage = images[0];
  if (firstImage === undefined) throw new Error('a grid needs at least one image');
  let rows = Math.floor(Math.sqrt(images.length));
  while (images.length % rows !== 0) rows -= 1;
  const cols = Math.ceil(images.length / rows);
  const { width: cellW, height: cellH } = firstImage;
  const width = cellW * cols;
  const pixels = Buffer.alloc(width * cellH * rows * 3);
  images.forEach((image, index) => {
    const left = (index % cols) * cellW;
    const top = Math.floor(index / cols) * cellH;
    for (let y = 0; y < Math.min(cellH, image.height); y += 1) {
      const source = image.pixels.subarray(y * image.width * 3, (y * image.width + Math.min(cellW, image.width)) * 3);
      source.copy(pixels, ((top + y) * width + left) * 3);
    }
  });
  return { width, height: cellH * rows, pixels };
}

/** resize_mode: 0 just resize, 1 crop and resize, 2 resize and fill, 3 latent upscale (a plain resize here). */
export type ResizeMode = 0 | 1 | 2 | 3;

/**
 * decode_base64_to_image plus the img2img resize: bare base64 or a data: URL, flattened on
 * white as the webui does with transparent inputs, fitted to width × height.
 * http(s) URLs fail as they do on an offline webui (its local-request check cannot resolve them).
 */
export async function decodeInitImage(
  encoded: string,
  width: number,
  height: number,
  resizeMode: ResizeMode,
): Promise<RgbImage> {
  if (encoded.startsWith('http://') || encoded.startsWith('https://')) {
    throw httpException(500, 'Request to local resource not allowed');
  }
  const base64 = encoded.startsWith('data:image/') ? (encoded.split(';')[1]?.split(',')[1] ?? '') : encoded;
  try {
    const source = sharp(Buffer.from(base64, 'base64')).flatten({ background: '#ffffff' });
    let fill = { r: 255, g: 255, b: 255 };
    if (resizeMode === 2) {
      const [r, g, b] = (await source.clone().stats()).channels;
      fill = { r: Math.round(r?.mean ?? 255), g: Math.round(g?.mean ?? 255), b: Math.round(b?.mean ?? 255) };
    }
    const fit = resizeMode === 1 ? 'cover' : resizeMode === 2 ? 'contain' : 'fill';
    const { data, info } = await source
      .resize(width, height, { fit, background: fill })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`expected 3 channels, got ${info.channels}`);
    return { width, height, pixels: data };
  } catch {
    throw httpException(500, 'Invalid encoded image');
  }
}
