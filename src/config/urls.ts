/**
 * Server URLs as users write them, turned into a clean base URL: http(s) only, credentials
 * taken out (they become Basic auth, so they are never printed with the URL), no query or
 * fragment (tokens go in `auth.query`, which keeps them secret), no trailing slash.
 */
export interface ParsedServerUrl {
  readonly url: string;
  /** host:port, with the scheme's default port when none is written. */
  readonly hostPort: string;
  /** From `user:password@` in the URL. */
  readonly credentials: { readonly user: string; readonly password: string } | null;
}

export type ServerUrlResult = { readonly ok: true; readonly value: ParsedServerUrl } | { readonly ok: false; readonly reason: string };

const DEFAULT_PORT: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443' };

export function parseServerUrl(text: string): ServerUrlResult {
  let parsed: URL;
  try {
    parsed = new URL(text.trim());
  } catch {
    // The text may hold credentials; the caller points at its location instead of echoing it.
    return { ok: false, reason: 'is not a valid URL (expected e.g. http://127.0.0.1:8188)' };
  }
  const defaultPort = DEFAULT_PORT[parsed.protocol];
  if (defaultPort === undefined) {
    return { ok: false, reason: `must use http or https, not ${parsed.protocol.replace(/:$/, '')}` };
  }
  if (parsed.search !== '' || parsed.hash !== '') {
    return {
      ok: false,
      reason: 'must not have a query or fragment; put a token in `auth: { query: { name, value } }` so it stays secret',
    };
  }
  const credentials =
    parsed.username !== '' || parsed.password !== ''
      ? { user: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) }
      : null;
  parsed.username = '';
  parsed.password = '';
  const url = parsed.href.replace(/\/+$/, '');
  return { ok: true, value: { url, hostPort: `${parsed.hostname}:${parsed.port || defaultPort}`, credentials } };
}
