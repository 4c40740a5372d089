/**
 * The studio page of `comic serve`: GET / (HTML), /studio.css and /studio.js. They hold no
 * secret and are the same for everyone, so they are the only routes served without a key;
 * the page asks for one and sends it with its API calls. The Content-Security-Policy lets
 * the page run only its own script and style, talk only to this server (HTTP and WebSocket),
 * and show images only from itself, previews (data:) and fetched files (blob:).
 */
import type { FastifyInstance } from 'fastify';
import { STUDIO_CSS } from './css.js';
import { STUDIO_HTML } from './html.js';
import { STUDIO_JS } from './script.js';

export const STUDIO_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const ASSETS = [
  { url: '/', type: 'text/html; charset=utf-8', body: STUDIO_HTML },
  { url: '/studio.css', type: 'text/css; charset=utf-8', body: STUDIO_CSS },
  { url: '/studio.js', type: 'text/javascript; charset=utf-8', body: STUDIO_JS },
] as const;

/** Paths answered without an API key (the auth hook lets these through). */
export const STUDIO_PATHS: ReadonlySet<string> = new Set(ASSETS.map((asset) => asset.url));

export function registerStudio(app: FastifyInstance): void {
  for (const asset of ASSETS) {
    // Bytes, not a string: the API's masking step rewrites string answers, and these are constant.
    const body = Buffer.from(asset.body, 'utf8');
    app.get(asset.url, async (_request, reply) =>
      reply
        .type(asset.type)
        .header('content-security-policy', STUDIO_CSP)
        .header('referrer-policy', 'no-referrer')
        .header('x-frame-options', 'DENY')
        .header('cross-origin-opener-policy', 'same-origin')
        .header('cache-control', 'no-cache')
        .send(body),
    );
  }
}
