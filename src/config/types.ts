/**
 * The resolved configuration every other layer reads: all values present, directories
 * absolute, durations in milliseconds, credentials wrapped in `Secret`, and for each setting
 * the place its value came from.
 */
import type { Secret } from './secret.js';

export const BACKENDS = ['comfyui', 'sdapi', 'draft'] as const;
export type BackendKind = (typeof BACKENDS)[number];

export const EXPORT_KINDS = ['png', 'pdf', 'pdf-art', 'cbz', 'webtoon', 'epub'] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];
export const PDF_EDITIONS = ['print', 'screen'] as const;
export type PdfEdition = (typeof PDF_EDITIONS)[number];
/** The CBZ's page format (the EPUB always uses JPEG: WebP is not an EPUB 3.2 core media type). */
export const SCREEN_FORMATS = ['webp', 'jpeg'] as const;
export type ScreenFormat = (typeof SCREEN_FORMATS)[number];
/**
 * `comfyui.previews`: the `extra_data.preview_method` sent with every ComfyUI prompt, or
 * `server` to send none (the server's own `--preview-method` decides).
 */
export const COMFYUI_PREVIEWS = ['server', 'auto', 'latent2rgb', 'taesd', 'none'] as const;
export type ComfyPreviews = (typeof COMFYUI_PREVIEWS)[number];

/** How we authenticate to a ComfyUI server (or the proxy in front of it). */
export type ServerAuth =
  | { readonly kind: 'none' }
  /** `Authorization: Bearer <token>` on HTTP requests and the WebSocket handshake. */
  | { readonly kind: 'bearer'; readonly token: Secret }
  /** `Authorization: Basic base64(user:password)`, sent preemptively. */
  | { readonly kind: 'basic'; readonly user: string; readonly password: Secret }
  /** `?<name>=<value>` on every HTTP and WebSocket URL (e.g. ComfyUI-Login's `token`). */
  | { readonly kind: 'query'; readonly name: string; readonly value: Secret };

export interface ServerConfig {
  /** http(s) origin plus an optional base path, no credentials, no query, no trailing slash. */
  readonly url: string;
  /** Unique among the servers; defaults to host:port. */
  readonly name: string;
  /** Prompts in flight on this server (running + queued by us). */
  readonly maxConcurrent: number;
  /** Extra headers for HTTP requests and the WebSocket handshake. */
  readonly headers: Readonly<Record<string, Secret>>;
  readonly auth: ServerAuth;
}

/** The SD API (AUTOMATIC1111) accepts no query-token auth, so that kind is absent here. */
export type FallbackAuth = Exclude<ServerAuth, { readonly kind: 'query' }>;

export interface FallbackConfig {
  readonly url: string;
  readonly auth: FallbackAuth;
}

export type FreeMemoryPolicy =
  | { readonly kind: 'never' }
  | { readonly kind: 'between-scripts' }
  | { readonly kind: 'every-n-jobs'; readonly every: number };

/** Wall-clock silence budgets in milliseconds (issue 4). */
export interface Timeouts {
  /** Connecting to a server (HTTP and WebSocket). */
  readonly connect: number;
  /** A prompt waiting in a server's queue. */
  readonly queue: number;
  /** From "our prompt is next" to its first executing node (model loads happen here). */
  readonly start: number;
  /** Between two events of a running prompt. */
  readonly nodeSilence: number;
  /**
   * How long a server may stay unreachable (reconnecting with backoff) before it counts as
   * down: its jobs then move to another server, the fallback, or fail with NO_BACKEND.
   */
  readonly reconnect: number;
  /**
   * One HTTP request to a server, from sending it to the last byte of its answer (a total
   * deadline, never restarted by a byte). ComfyUI's /object_info gets at least 5 minutes; an
   * SD API render waits up to `render` for its answer, which then gets `download`.
   */
  readonly request: number;
  /** One output download (ComfyUI's /view, retries included), from the request to the last byte. */
  readonly download: number;
  /** One SD API render (txt2img, img2img), from sending it to the first byte of its answer. */
  readonly render: number;
}

/** Byte caps on what a server may send; a longer answer is cut off with an error. */
export interface Limits {
  /** One output image (a /view download, an image from the SD API). */
  readonly imageBytes: number;
  /** One JSON answer (/object_info, /history, …). */
  readonly jsonBytes: number;
}

/** How to start a local ComfyUI when it is not up (issue 6). */
export interface LaunchConfig {
  readonly command: string;
  readonly args: readonly string[];
  /** Absolute. */
  readonly cwd: string;
  /** Added to the inherited environment; values may be credentials, hence Secret. */
  readonly env: Readonly<Record<string, Secret>>;
}

export interface ServeConfig {
  readonly apiKeys: readonly Secret[];
  readonly port: number;
  readonly host: string;
}

/** Every setting that has its own source; `comic config list` shows one line per key. */
export const SETTING_KEYS = [
  'servers',
  'fallback',
  'keepFallback',
  'output',
  'cache',
  'templates',
  'backend',
  'freeMemory',
  'timeouts.connect',
  'timeouts.queue',
  'timeouts.start',
  'timeouts.nodeSilence',
  'timeouts.reconnect',
  'timeouts.request',
  'timeouts.download',
  'timeouts.render',
  'limits.imageBytes',
  'limits.jsonBytes',
  'exports',
  'pdf.edition',
  'screen.format',
  'screen.quality',
  'comfyui.launch',
  'comfyui.previews',
  'serve.apiKeys',
  'serve.port',
  'serve.host',
] as const;
export type SettingKey = (typeof SETTING_KEYS)[number];

/** Where a setting's value came from, highest precedence first. */
export type ValueSource =
  | { readonly kind: 'flag'; readonly flag: string }
  | { readonly kind: 'env'; readonly variable: string }
  | { readonly kind: 'project'; readonly file: string }
  | { readonly kind: 'user'; readonly file: string }
  | { readonly kind: 'default' };

export interface ResolvedConfig {
  /** At least one: the default is the local ComfyUI at http://127.0.0.1:8188. */
  readonly servers: readonly ServerConfig[];
  /** null: no SD API fallback (none configured, or --no-fallback). */
  readonly fallback: FallbackConfig | null;
  /** Images the SD API fallback made stay cached when ComfyUI is back, instead of being rendered there. */
  readonly keepFallback: boolean;
  /** Absolute. */
  readonly output: string;
  /** Absolute. */
  readonly cache: string;
  /** Absolute user template folders, searched before the built-in templates. */
  readonly templates: readonly string[];
  readonly backend: BackendKind;
  readonly freeMemory: FreeMemoryPolicy;
  readonly timeouts: Timeouts;
  readonly limits: Limits;
  readonly exports: readonly ExportKind[];
  /** The PDF's edition: print (CropBox = MediaBox, with the bleed) or screen (CropBox = TrimBox). */
  readonly pdf: { readonly edition: PdfEdition };
  /** The screen editions (CBZ, EPUB): pages cut to the trim box, lossy, under about 2 MB each. */
  readonly screen: { readonly format: ScreenFormat; readonly quality: number };
  /** previews: `server` when nothing says otherwise (`comic serve` then asks for `auto`, see its source). */
  readonly comfyui: { readonly launch: LaunchConfig | null; readonly previews: ComfyPreviews };
  readonly serve: ServeConfig;
  readonly sources: Readonly<Record<SettingKey, ValueSource>>;
  /** The files that were read (user: the settings file, which may not exist yet; null when no user folder is known). */
  readonly files: { readonly project: string | null; readonly user: string | null };
  /** Every credential in this configuration, for `redact()`. */
  readonly secrets: readonly Secret[];
}

/**
 * Command-line values that override configuration. Strings are as typed by the user;
 * loadConfig validates them and reports problems by flag name.
 */
export interface ConfigFlags {
  /** --config FILE: use this file instead of searching for one. */
  readonly configFile?: string;
  /** --server URL (repeatable): replaces the configured servers. */
  readonly servers?: readonly string[];
  /** --out DIR */
  readonly output?: string;
  /** --cache DIR */
  readonly cache?: string;
  /** --backend comfyui|sdapi|draft */
  readonly backend?: string;
  /** --fallback URL, or false for --no-fallback. */
  readonly fallback?: string | false;
  /** --keep-fallback (comic generate) */
  readonly keepFallback?: boolean;
  /** --templates DIR (repeatable) */
  readonly templates?: readonly string[];
  /** --export KIND (repeatable) */
  readonly exports?: readonly string[];
  /** --port N (comic serve) */
  readonly port?: number;
  /** --host H (comic serve) */
  readonly host?: string;
}

/** The flag name each ConfigFlags field stands for, as shown in `config list`. */
export const FLAG_NAMES = {
  configFile: '--config',
  servers: '--server',
  output: '--out',
  cache: '--cache',
  backend: '--backend',
  fallback: '--fallback',
  keepFallback: '--keep-fallback',
  templates: '--templates',
  exports: '--export',
  port: '--port',
  host: '--host',
} as const satisfies Record<keyof ConfigFlags, string>;
