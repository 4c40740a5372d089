/**
 * Inputs for the compose and export benchmarks: panel images that look like rendered art to
 * the encoders (smooth shapes plus fine grain, at a model's size for the panel's aspect),
 * so PNG and resize costs are realistic rather than those of flat colour.
 */
import sharp from 'sharp';
import type { PanelBox } from '../src/compose/types.js';

/** About one megapixel at the box's aspect, in multiples of 64 (what SDXL-class models get). */
export function renderSize(box: PanelBox): { width: number; height: number } {
  const aspect = box.width / box.height;
  const height = Math.sqrt((1024 * 1024) / aspect);
  const snap = (v: number) => Math.max(64, Math.round(v / 64) * 64);
  return { width: snap(height * aspect), height: snap(height) };
}

export async function artLikeImage(width: number, height: number, hue: number): Promise<Buffer> {
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<defs><linearGradient id="sky" x1="0" y1="0" x2="0.3" y2="1"><stop offset="0" stop-color="hsl(${hue},45%,70%)"/>` +
    `<stop offset="1" stop-color="hsl(${(hue + 40) % 360},50%,30%)"/></linearGradient>` +
    `<radialGradient id="glow"><stop offset="0" stop-color="#fff6d0" stop-opacity="0.9"/><stop offset="1" stop-color="#fff6d0" stop-opacity="0"/></radialGradient></defs>` +
    `<rect width="100%" height="100%" fill="url(#sky)"/>` +
    `<circle cx="${width * 0.7}" cy="${height * 0.3}" r="${width * 0.35}" fill="url(#glow)"/>` +
    `<path d="M0 ${height * 0.75} Q${width * 0.3} ${height * 0.55} ${width * 0.55} ${height * 0.7} T${width} ${height * 0.6} V${height} H0Z" fill="hsl(${(hue + 180) % 360},30%,25%)"/>` +
    `<ellipse cx="${width * 0.35}" cy="${height * 0.55}" rx="${width * 0.08}" ry="${height * 0.22}" fill="hsl(${(hue + 90) % 360},40%,40%)"/></svg>`;
  const base = await sharp(Buffer.from(svg)).raw().toBuffer();
  const grain = await sharp({ create: { width, height, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 6 } } })
    .raw()
    .toBuffer();
  return sharp(base, { raw: { width, height, channels: 3 } })
    .composite([{ input: grain, raw: { width, height, channels: 3 }, blend: 'soft-light' }])
    .removeAlpha()
    .png()
    .toBuffer();
}
