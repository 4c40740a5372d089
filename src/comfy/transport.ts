/**
 * HTTP to one ComfyUI server: auth on every request, same-origin redirects only (a
 * credential never follows a redirect to another origin), a total deadline on every call
 * (never restarted by a byte, so a server that drips cannot hold us), answers read as
 * streams within a byte cap, and failures turned into ComicErrors that name the server and
 * route but never a credential.
 */
import type { z } from 'zod';
import { ComicError } from '../errors.js';
import { BodyTooLarge, formatBytes, readTextCapped, readTextPrefix } from '../util/bounded-body.js';
import { authHeaders, endpointOf, hasCredentials, routeUrl, type Endpoint } from './endpoint.js';
import { cancelledError, deadline, expiredByDeadline, type Deadline } from '../util/signals.js';
import { DEFAULT_LIMITS, DEFAULT_TIMEOUTS, type Limits, type ServerOptions } from './types.js';

export type Method = 'GET' | 'POST';

export interface RequestOptions {
  readonly signal: AbortSignal;
  readonly query?: Readonly<Record<string, string>>;
  /** Sent as application/json. */
  readonly json?: unknown;
  /** Sent as multipart/form-data. */
  readonly form?: FormData;
  /** Overrides the transport's request budget (e.g. /object_info can be slow). */
  readonly timeoutMs?: number;
}

/** Byte caps, and the total deadline of one download (GET /view, retries included). */
export interface TransportLimits extends Limits {
  readonly downloadMs: number;
}

const MAX_REDIRECTS = 5;
/** Of an error answer only a snippet is shown: the rest is never read. */
const ERROR_BODY_BYTES = 64 * 1024;

export class Transport {
  readonly endpoint: Endpoint;
  readonly limits: TransportLimits;
  readonly #requestMs: number;

  constructor(
    readonly server: ServerOptions,
    requestMs: number,
    limits: Partial<TransportLimits> = {},
  ) {
    this.endpoint = endpointOf(server);
    this.#requestMs = requestMs;
    this.limits = {
      imageBytes: limits.imageBytes ?? DEFAULT_LIMITS.imageBytes,
      jsonBytes: limits.jsonBytes ?? DEFAULT_LIMITS.jsonBytes,
      downloadMs: limits.downloadMs ?? DEFAULT_TIMEOUTS.download,
    };
  }

  get label(): string {
    return this.endpoint.label;
  }

  /** The total deadline of one request and its whole answer. */
  get requestMs(): number {
    return this.#requestMs;
  }

  /** A request whose JSON answer is checked against `schema`; `accept` lists the statuses that carry it. */
  async json<S extends z.ZodType>(method: Method, route: string, schema: S, options: RequestOptions, accept: readonly number[] = [200]): Promise<z.output<S>> {
    const { response, status, text } = await this.#text(method, route, options);
    if (!accept.includes(status)) throw this.statusError(method, route, status, text);
    return this.parse(method, route, schema, text, response.headers.get('content-type'));
  }

  /** For routes that answer 200 with an empty body (/queue, /interrupt, /free): never parsed. */
  async send(method: Method, route: string, options: RequestOptions): Promise<void> {
    const { status, text } = await this.#text(method, route, options);
    if (status < 200 || status >= 300) throw this.statusError(method, route, status, text);
  }

  /** Status and raw text, for routes whose error answers carry meaning (POST /prompt's 400). */
  async text(method: Method, route: string, options: RequestOptions): Promise<{ status: number; text: string }> {
    const { status, text } = await this.#text(method, route, options);
    return { status, text };
  }

  /**
   * A streamed answer (GET /view): resolves once a 200 has arrived, with the response whose
   * body the caller reads (within its own cap). The returned deadline is total, from the
   * request to the last byte (`timeoutMs`, default the download budget): dispose it when done.
   */
  async stream(route: string, options: RequestOptions): Promise<{ response: Response; budget: Deadline }> {
    const budget = deadline(options.signal, options.timeoutMs ?? this.limits.downloadMs);
    try {
      const response = await this.#fetch('GET', route, options, budget);
      if (response.status !== 200) {
        const text = await readTextPrefix(response, ERROR_BODY_BYTES).catch(() => '');
        throw this.statusError('GET', route, response.status, text);
      }
      return { response, budget };
    } catch (error) {
      budget.dispose();
      throw this.#mapAbort(error, 'GET', route, options.signal, budget);
    }
  }

  /** The error for an answer longer than its cap: names the server, the route and the setting to raise. */
  tooLarge(method: Method, route: string, error: BodyTooLarge, setting: string, what = 'an answer'): ComicError {
    const declared = error.declared !== null && error.declared > error.limit ? ` (it declared ${formatBytes(error.declared)})` : '';
    return new ComicError('SERVER_PROTOCOL', `server ${this.label} answered ${method} ${apiRoute(route)} with ${what} larger than ${formatBytes(error.limit)}${declared}; it was not read further`, {
      hint: `a ComfyUI server does not send that much; if this one really does, raise ${setting} in comic.config.yaml`,
    });
  }

  parse<S extends z.ZodType>(method: Method, route: string, schema: S, text: string, contentType: string | null = null): z.output<S> {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      const type = contentType === null ? '' : ` (${contentType.split(';')[0]})`;
      throw this.protocolError(method, route, `malformed JSON${type}: ${snippet(text)}`);
    }
    const result = schema.safeParse(value);
    if (!result.success) {
      const issue = result.error.issues[0];
      const where = issue === undefined || issue.path.length === 0 ? '' : ` at ${issue.path.join('.')}`;
      throw this.protocolError(method, route, `an unexpected answer${where}: ${issue?.message ?? 'invalid'}`);
    }
    return result.data;
  }

  protocolError(method: Method, route: string, what: string): ComicError {
    return new ComicError('SERVER_PROTOCOL', `server ${this.label} answered ${method} ${apiRoute(route)} with ${what}`, {
      hint: 'check that the URL points at a ComfyUI server (not a proxy login page) and that it is a supported version',
    });
  }

  statusError(method: Method, route: string, status: number, text: string): ComicError {
    const body = text.trim() === '' ? '' : `: ${snippet(text)}`;
    return new ComicError('SERVER_ERROR', `server ${this.label} answered ${method} ${apiRoute(route)} with HTTP ${status}${body}`);
  }

  async #text(method: Method, route: string, options: RequestOptions): Promise<{ response: Response; status: number; text: string }> {
    const budget = deadline(options.signal, options.timeoutMs ?? this.#requestMs);
    try {
      const response = await this.#fetch(method, route, options, budget);
      let text: string;
      try {
        text = await readTextCapped(response, this.limits.jsonBytes);
      } catch (error) {
        if (!(error instanceof BodyTooLarge)) throw error;
        throw this.tooLarge(method, route, error, 'limits.jsonBytes');
      }
      return { response, status: response.status, text };
    } catch (error) {
      throw this.#mapAbort(error, method, route, options.signal, budget);
    } finally {
      budget.dispose();
    }
  }

  async #fetch(method: Method, route: string, options: RequestOptions, budget: Deadline): Promise<Response> {
    let url = routeUrl(this.endpoint, this.server, route, options.query);
    let currentMethod: string = method;
    let body: string | FormData | undefined = options.json !== undefined ? JSON.stringify(options.json) : options.form;
    const headers = authHeaders(this.server);
    if (options.json !== undefined) headers['content-type'] = 'application/json';
    for (let hop = 0; ; hop++) {
      let response: Response;
      try {
        response = await fetch(url, { method: currentMethod, headers, body, redirect: 'manual', signal: budget.signal });
      } catch (error) {
        if (budget.signal.aborted) throw error;
        throw new ComicError('SERVER_UNREACHABLE', `server ${this.label} did not answer ${method} ${apiRoute(route)} (${networkReason(error)})`, {
          hint: 'check that ComfyUI is running and reachable at that address',
          cause: error,
        });
      }
      if (response.status === 401 || response.status === 403) {
        await response.body?.cancel();
        throw new ComicError('SERVER_AUTH', `server ${this.label} refused ${method} ${apiRoute(route)} with HTTP ${response.status}`, {
          hint: 'check the auth settings for this server (token, user/password or extra headers)',
        });
      }
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || location === null) return response;
      await response.body?.cancel();
      if (hop >= MAX_REDIRECTS) throw this.protocolError(method, route, `more than ${MAX_REDIRECTS} redirects`);
      const next = new URL(location, url);
      if (next.origin !== this.endpoint.origin && hasCredentials(this.server)) {
        // A proxy sending us to a login page elsewhere: following would hand our credentials to another origin.
        throw new ComicError('SERVER_AUTH', `server ${this.label} redirected ${method} ${apiRoute(route)} to another origin (${next.origin}); our credentials are not sent there`, {
          hint: 'point the server URL at the final address, or fix the proxy (a redirect usually means a login page)',
        });
      }
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && currentMethod === 'POST')) {
        currentMethod = 'GET';
        body = undefined;
        delete headers['content-type'];
      }
      url = next;
    }
  }

  #mapAbort(error: unknown, method: Method, route: string, caller: AbortSignal, budget: Deadline): unknown {
    // A caller's own deadline running out is a silent server too, not a cancellation.
    if (caller.aborted && !expiredByDeadline(caller)) return cancelledError(`${method} ${apiRoute(route)} on ${this.label}`);
    if (budget.expired() || expiredByDeadline(caller)) {
      return new ComicError('SERVER_UNREACHABLE', `server ${this.label} did not answer ${method} ${apiRoute(route)} in time`, {
        hint: 'the server may be overloaded or stuck; timeouts are set under `timeouts` in comic.config.yaml',
      });
    }
    if (error instanceof ComicError) return error;
    return new ComicError('SERVER_UNREACHABLE', `server ${this.label}: ${method} ${apiRoute(route)} failed (${networkReason(error)})`, { cause: error });
  }
}

function apiRoute(route: string): string {
  return `/api${route.split('?')[0]}`;
}

/** The low-level reason (ECONNREFUSED, socket hang up, …) without any URL in it. */
function networkReason(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code = (cause as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return cause instanceof Error ? cause.message.replace(/\bhttps?:\/\/\S+/g, '<url>') : String(cause);
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return JSON.stringify(flat.length > 120 ? `${flat.slice(0, 120)}…` : flat);
}
