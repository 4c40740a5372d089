/**
 * A small client for the AUTOMATIC1111-compatible Stable Diffusion API (`/sdapi/v1/*`, also
 * served by Forge and SD.Next). The API is synchronous and globally serialised: a
 * generation request stays open until the image is done, and progress is global, so we
 * tag our request with `force_task_id` and only trust progress whose `current_task` is ours.
 */
import { ComicError } from '../errors.js';
import { BodyTooLarge, formatBytes, readTextCapped } from '../util/bounded-body.js';

export type SdApiAuth = { readonly kind: 'basic'; readonly user: string; readonly password: string } | { readonly kind: 'bearer'; readonly token: string } | null;

export interface SdApiServer {
  readonly url: string;
  readonly auth: SdApiAuth;
}

export interface SdGenerationResponse {
  readonly images: readonly string[];
  readonly info: SdInfo;
}

/** The fields of `info` we read (the server sends it as a JSON string). */
export interface SdInfo {
  readonly seed?: number;
  readonly width?: number;
  readonly height?: number;
  readonly sampler_name?: string;
  readonly sd_model_name?: string;
  readonly index_of_first_image?: number;
  readonly infotexts?: readonly string[];
}

export interface SdProgress {
  readonly progress: number;
  readonly state: { readonly sampling_step: number; readonly sampling_steps: number; readonly interrupted: boolean };
  readonly current_task: string | null;
}

export interface SdModel {
  readonly title: string;
  readonly model_name: string;
  readonly filename: string;
}

/**
 * Byte caps and total deadlines on what the server sends (the ComfyUI client's defaults).
 * A generation request stays open while the image renders: its answer must start within
 * `renderMs` (a server that takes the request and never answers ends with JOB_TIMEOUT,
 * naming the server and `timeouts.render`), and once it starts its body must be in within
 * `downloadMs`. Every other request, answer included, gets `requestMs`.
 */
export interface SdApiClientOptions {
  /** One decoded image. */
  readonly imageBytes?: number;
  /** One JSON answer; a generation answer (images in base64) may be 2 × imageBytes larger. */
  readonly jsonBytes?: number;
  readonly requestMs?: number;
  readonly downloadMs?: number;
  /** A generation, from sending it to the first byte of its answer. */
  readonly renderMs?: number;
}

const DEFAULTS: Required<SdApiClientOptions> = {
  imageBytes: 256 * 1024 * 1024,
  jsonBytes: 64 * 1024 * 1024,
  requestMs: 120_000,
  downloadMs: 120_000,
  renderMs: 30 * 60_000,
};

export class SdApiClient {
  readonly #options: Required<SdApiClientOptions>;

  constructor(
    readonly server: SdApiServer,
    options: SdApiClientOptions = {},
  ) {
    this.#options = {
      imageBytes: options.imageBytes ?? DEFAULTS.imageBytes,
      jsonBytes: options.jsonBytes ?? DEFAULTS.jsonBytes,
      requestMs: options.requestMs ?? DEFAULTS.requestMs,
      downloadMs: options.downloadMs ?? DEFAULTS.downloadMs,
      renderMs: options.renderMs ?? DEFAULTS.renderMs,
    };
  }

  txt2img(body: Record<string, unknown>, signal: AbortSignal): Promise<SdGenerationResponse> {
    return this.#generate('/sdapi/v1/txt2img', body, signal);
  }

  img2img(body: Record<string, unknown>, signal: AbortSignal): Promise<SdGenerationResponse> {
    return this.#generate('/sdapi/v1/img2img', body, signal);
  }

  progress(signal: AbortSignal): Promise<SdProgress> {
    return this.#json('GET', '/sdapi/v1/progress?skip_current_image=true', undefined, signal) as Promise<SdProgress>;
  }

  async interrupt(signal: AbortSignal): Promise<void> {
    await this.#json('POST', '/sdapi/v1/interrupt', {}, signal);
  }

  sdModels(signal: AbortSignal): Promise<SdModel[]> {
    return this.#json('GET', '/sdapi/v1/sd-models', undefined, signal) as Promise<SdModel[]>;
  }

  async samplers(signal: AbortSignal): Promise<string[]> {
    const list = (await this.#json('GET', '/sdapi/v1/samplers', undefined, signal)) as { name: string }[];
    return list.map((s) => s.name);
  }

  /** Schedulers exist from A1111 1.9 on; older servers answer 404, which we read as "none". */
  async schedulers(signal: AbortSignal): Promise<string[] | null> {
    try {
      const list = (await this.#json('GET', '/sdapi/v1/schedulers', undefined, signal)) as { name: string }[];
      return list.map((s) => s.name);
    } catch (error) {
      if (error instanceof ComicError && /HTTP 404/.test(error.message)) return null;
      throw error;
    }
  }

  async #generate(route: string, body: Record<string, unknown>, signal: AbortSignal): Promise<SdGenerationResponse> {
    const raw = (await this.#json('POST', route, body, signal, true)) as { images?: unknown; info?: unknown };
    if (!Array.isArray(raw.images) || !raw.images.every((i) => typeof i === 'string')) {
      throw this.#protocol(route, 'the response has no `images` list of base64 strings');
    }
    // base64: 4 characters per 3 bytes.
    const oversized = (raw.images as string[]).find((i) => Math.floor((i.length * 3) / 4) > this.#options.imageBytes);
    if (oversized !== undefined) {
      throw new ComicError('SERVER_PROTOCOL', `Stable Diffusion API at ${this.server.url} answered POST ${route} with an image larger than ${formatBytes(this.#options.imageBytes)}`, {
        hint: 'raise limits.imageBytes in comic.config.yaml if this server really makes images that large',
      });
    }
    let info: SdInfo = {};
    if (typeof raw.info === 'string') {
      try {
        info = JSON.parse(raw.info) as SdInfo;
      } catch {
        throw this.#protocol(route, '`info` is not a JSON string');
      }
    }
    return { images: raw.images as string[], info };
  }

  async #json(method: 'GET' | 'POST', route: string, body: unknown, signal: AbortSignal, generation = false): Promise<unknown> {
    // Relative to the base URL, so a server mounted under a path prefix keeps its prefix.
    const url = new URL(route.replace(/^\//, ''), withSlash(this.server.url));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    // Sent up front: the exception middleware may drop WWW-Authenticate, so there is no challenge to answer.
    if (this.server.auth?.kind === 'basic') {
      headers.authorization = `Basic ${Buffer.from(`${this.server.auth.user}:${this.server.auth.password}`).toString('base64')}`;
    } else if (this.server.auth?.kind === 'bearer') {
      headers.authorization = `Bearer ${this.server.auth.token}`;
    }
    const { requestMs, downloadMs, renderMs, jsonBytes, imageBytes } = this.#options;
    // A total deadline (never restarted by a byte): for the whole request; for a render, one
    // until its answer starts (the render itself), then another for the answer's body.
    const timer = new Deadline(signal, generation ? renderMs : requestMs);
    try {
      let response: Response;
      try {
        response = await fetch(url, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: timer.signal,
          redirect: 'error', // never replay credentials to wherever a redirect points
        });
      } catch (error) {
        if (signal.aborted) throw signal.reason ?? error;
        if (timer.expired && generation) throw this.#renderLate(method, route, timer.ms);
        if (timer.expired) throw this.#late(method, route, timer.ms);
        throw new ComicError('SERVER_UNREACHABLE', `Stable Diffusion API at ${this.server.url} did not answer ${method} ${route}: ${causeText(error)}`, {
          hint: 'is the server running with --api (or --nowebui)?',
          cause: error,
        });
      }
      if (generation) timer.arm(downloadMs);
      let text: string;
      try {
        text = await readTextCapped(response, generation ? jsonBytes + 2 * imageBytes : jsonBytes);
      } catch (error) {
        if (signal.aborted) throw signal.reason ?? error;
        if (timer.expired) throw this.#late(method, route, timer.ms);
        if (error instanceof BodyTooLarge) {
          throw new ComicError('SERVER_PROTOCOL', `Stable Diffusion API at ${this.server.url} answered ${method} ${route} with more than ${formatBytes(error.limit)}; it was not read further`, {
            hint: `raise limits.${generation ? 'imageBytes' : 'jsonBytes'} in comic.config.yaml if this server really sends that much`,
          });
        }
        throw new ComicError('SERVER_UNREACHABLE', `Stable Diffusion API at ${this.server.url}: the answer to ${method} ${route} broke off (${causeText(error)})`, { cause: error });
      }
      if (response.status === 401 || response.status === 403) {
        throw new ComicError('SERVER_AUTH', `Stable Diffusion API at ${this.server.url} rejected our credentials (HTTP ${response.status})`, {
          hint: 'set fallback.auth in comic.config.yaml to the --api-auth user and password',
        });
      }
      if (!response.ok) {
        const detail = errorDetail(text);
        const code = response.status >= 500 ? 'SERVER_UNREACHABLE' : 'JOB_FAILED';
        throw new ComicError(code, `Stable Diffusion API at ${this.server.url}: ${method} ${route} failed with HTTP ${response.status}${detail ? `: ${detail}` : ''}`);
      }
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw this.#protocol(route, 'the body is not valid JSON');
      }
    } finally {
      timer.dispose();
    }
  }

  #late(method: string, route: string, ms: number): ComicError {
    return new ComicError('SERVER_UNREACHABLE', `Stable Diffusion API at ${this.server.url} did not answer ${method} ${route} in time (${formatMs(ms)})`, {
      hint: 'the server may be overloaded or stuck; timeouts.request and timeouts.download in comic.config.yaml set how long we wait',
    });
  }

  #renderLate(method: string, route: string, ms: number): ComicError {
    return new ComicError('JOB_TIMEOUT', `Stable Diffusion API at ${this.server.url} did not answer ${method} ${route} within ${formatMs(ms)} (timeouts.render)`, {
      hint: 'the server took the render and never answered (stuck or overloaded); raise timeouts.render in comic.config.yaml if its renders really take that long',
    });
  }

  #protocol(route: string, what: string): ComicError {
    return new ComicError('SERVER_PROTOCOL', `Stable Diffusion API at ${this.server.url} answered ${route} with something unexpected: ${what}`);
  }
}

/** A total deadline under the caller's signal, armed now or later (`arm`); always disposed. */
class Deadline {
  readonly #controller = new AbortController();
  readonly #onAbort = (): void => this.#controller.abort(this.parent.reason);
  #timer: NodeJS.Timeout | undefined;
  expired = false;
  ms = 0;

  constructor(
    private readonly parent: AbortSignal,
    ms: number | null,
  ) {
    if (parent.aborted) this.#controller.abort(parent.reason);
    else parent.addEventListener('abort', this.#onAbort, { once: true });
    if (ms !== null) this.arm(ms);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Starts the deadline over at `ms` from now (a new phase: the render's answer after the render). */
  arm(ms: number): void {
    if (this.#controller.signal.aborted) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.ms = ms;
    this.#timer = setTimeout(() => {
      this.expired = true;
      this.#controller.abort(new Error(`no answer within ${ms} ms`));
    }, ms);
    this.#timer.unref();
  }

  dispose(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.parent.removeEventListener('abort', this.#onAbort);
  }
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

function causeText(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

/** A1111 errors are `{error, detail, body, errors}`; FastAPI's own are `{detail: [{loc, msg}]}`. */
function errorDetail(text: string): string {
  try {
    const body = JSON.parse(text) as { detail?: unknown; error?: unknown };
    if (typeof body.detail === 'string') return body.detail;
    if (Array.isArray(body.detail)) {
      return body.detail.map((d: { loc?: unknown[]; msg?: string }) => `${(d.loc ?? []).join('.')}: ${d.msg ?? ''}`).join('; ');
    }
    if (typeof body.error === 'string') return body.error;
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.slice(0, 200);
}
