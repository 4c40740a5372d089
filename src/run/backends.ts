/**
 * Chooses and builds the backend a run renders with, from the resolved configuration:
 * ComfyUI (the pool of configured servers) with the SD API behind it as the fallback, or
 * one of them alone, or the local draft backend.
 */
import type { ComfyPreviews, FallbackConfig, ResolvedConfig } from '../config/index.js';
import type { PreviewMethod } from '../comfy/index.js';
import type { SdApiServer } from '../sdapi/client.js';
import { ComfyBackend } from '../backends/comfyui/backend.js';
import { DraftBackend } from '../backends/draft/backend.js';
import { FallbackBackend } from '../backends/fallback.js';
import { SdApiBackend } from '../backends/sdapi/backend.js';
import type { Backend } from '../backends/types.js';
import { ComicError } from '../errors.js';
import type { EventBus } from '../progress/events.js';

export interface BackendDefaults {
  /**
   * `comfyui.previews` when no config file or user setting sets it: `comic serve` asks for
   * `auto` (its studio page is for watching renders); without one, the default `server`.
   */
  readonly previews?: ComfyPreviews;
}

export function createBackend(config: ResolvedConfig, bus: EventBus, defaults: BackendDefaults = {}): Backend {
  switch (config.backend) {
    case 'draft':
      return new DraftBackend();
    case 'sdapi': {
      if (!config.fallback) {
        throw new ComicError('CONFIG_INVALID', 'backend sdapi needs the Stable Diffusion API URL', {
          hint: 'pass --fallback URL, set fallback.url in comic.config.yaml, or COMIC_FALLBACK_URL',
        });
      }
      return sdApi(config);
    }
    case 'comfyui': {
      const comfy = new ComfyBackend({
        servers: config.servers,
        pool: { timeouts: config.timeouts, freeMemory: config.freeMemory, limits: config.limits, ...previewOption(comfyPreviews(config, defaults)) },
        // Facts about servers rather than one image: up/down and VRAM readings.
        onEvent: (event) => {
          if (event.type === 'server' || event.type === 'vram') bus.emit(event);
        },
      });
      if (!config.fallback) return comfy;
      return new FallbackBackend(comfy, sdApi(config), (change) => bus.emit({ type: 'fallback', ...change }));
    }
  }
}

/** The `comfyui.previews` this backend uses: the configured one, or the caller's default when nothing set it. */
export function comfyPreviews(config: ResolvedConfig, defaults: BackendDefaults = {}): ComfyPreviews {
  const configured = config.sources['comfyui.previews'].kind !== 'default';
  return configured || defaults.previews === undefined ? config.comfyui.previews : defaults.previews;
}

/** `server`: no preview_method in the prompts (the server's --preview-method decides). */
function previewOption(previews: ComfyPreviews): { previewMethod?: PreviewMethod } {
  return previews === 'server' ? {} : { previewMethod: previews };
}

function sdApi(config: ResolvedConfig): SdApiBackend {
  const { limits, timeouts } = config;
  return new SdApiBackend({
    server: sdApiServer(config.fallback!),
    client: { imageBytes: limits.imageBytes, jsonBytes: limits.jsonBytes, requestMs: timeouts.request, downloadMs: timeouts.download, renderMs: timeouts.render },
  });
}

/** The SD API client's view of the configured fallback (credentials revealed only here, where they are sent). */
export function sdApiServer(fallback: FallbackConfig): SdApiServer {
  const { auth } = fallback;
  if (auth.kind === 'basic') return { url: fallback.url, auth: { kind: 'basic', user: auth.user, password: auth.password.reveal() } };
  if (auth.kind === 'bearer') return { url: fallback.url, auth: { kind: 'bearer', token: auth.token.reveal() } };
  return { url: fallback.url, auth: null };
}
