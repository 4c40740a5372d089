/**
 * Where a server's routes live and how we prove who we are: the `/api` prefix under an
 * optional base path, http→ws, auth headers and query tokens. Also the one way a server is
 * named in messages, with no credential in it.
 */
import type { Credential, ServerOptions } from './types.js';

export function reveal(value: Credential): string {
  return typeof value === 'string' ? value : value.reveal();
}

export interface Endpoint {
  /** http(s)://host[:port][/base]/api — no trailing slash, no credentials, no query. */
  readonly apiBase: string;
  /** The same origin as `apiBase`, for the same-origin redirect rule. */
  readonly origin: string;
  /** `"name" (origin/base)`: safe to print. */
  readonly label: string;
}

export function endpointOf(server: ServerOptions): Endpoint {
  const url = new URL(server.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`server ${server.name}: URL must be http or https, not ${url.protocol}`);
  }
  // Credentials never ride in the URL (fetch refuses them, and they would be printed).
  url.username = '';
  url.password = '';
  url.search = '';
  url.hash = '';
  const path = url.pathname.replace(/\/+$/, '');
  const apiPath = path.endsWith('/api') ? path : `${path}/api`;
  return {
    apiBase: `${url.origin}${apiPath}`,
    origin: url.origin,
    label: `"${server.name}" (${url.origin}${path})`,
  };
}

/** Headers for every request and the WebSocket handshake: extra headers, then Authorization. */
export function authHeaders(server: ServerOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(server.headers)) headers[name] = reveal(value);
  const auth = server.auth;
  if (auth.kind === 'bearer') headers['authorization'] = `Bearer ${reveal(auth.token)}`;
  if (auth.kind === 'basic') {
    headers['authorization'] = `Basic ${Buffer.from(`${auth.user}:${reveal(auth.password)}`).toString('base64')}`;
  }
  return headers;
}

/** Whether requests to this server carry anything secret (then cross-origin redirects are refused). */
export function hasCredentials(server: ServerOptions): boolean {
  return server.auth.kind !== 'none' || Object.keys(server.headers).length > 0;
}

/** Builds `apiBase + route` with query parameters and, for query-token auth, the token. */
export function routeUrl(endpoint: Endpoint, server: ServerOptions, route: string, query?: Readonly<Record<string, string>>): URL {
  const url = new URL(`${endpoint.apiBase}${route}`);
  for (const [key, value] of Object.entries(query ?? {})) url.searchParams.set(key, value);
  if (server.auth.kind === 'query') url.searchParams.set(server.auth.name, reveal(server.auth.value));
  return url;
}

/** The WebSocket URL for our clientId (ws/wss follows http/https). */
export function socketUrl(endpoint: Endpoint, server: ServerOptions, clientId: string): string {
  const url = routeUrl(endpoint, server, '/ws', { clientId });
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}
