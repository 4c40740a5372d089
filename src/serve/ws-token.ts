/**
 * The API key of a WebSocket as a subprotocol. Browsers cannot set headers on a WebSocket,
 * and a `?token=` query ends up in histories and proxy logs; the `Sec-WebSocket-Protocol`
 * header is neither. A client offers two protocols, `comic` and `comic-key.<key>` (the key
 * percent-encoded, since a protocol name may only hold token characters); the server picks
 * `comic`, so the key is never echoed back.
 */

/** The protocol the server selects; a client that offers a key must offer this one too. */
export const WS_PROTOCOL = 'comic';
const KEY_PREFIX = 'comic-key.';

/**
 * A key as it travels in a protocol name: every byte outside RFC 3986's unreserved set as
 * %XX. For the usual keys (hex, base64) this is encodeURIComponent's form, which the log's
 * masking step already knows.
 */
export function protocolEncoded(key: string): string {
  return encodeURIComponent(key).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The protocol name that carries `key`. */
export function keyProtocol(key: string): string {
  return KEY_PREFIX + protocolEncoded(key);
}

/** The key offered in a `Sec-WebSocket-Protocol` header, or null. */
export function protocolKey(header: string | string[] | undefined): string | null {
  const offered = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((p) => p.trim());
  const entry = offered.find((p) => p.startsWith(KEY_PREFIX));
  if (entry === undefined) return null;
  try {
    const key = decodeURIComponent(entry.slice(KEY_PREFIX.length));
    return key === '' ? null : key;
  } catch {
    return null; // not percent-encoding: no key
  }
}

/** The protocol to answer with: `comic` when offered, else none (plain clients offer none). */
export function selectProtocol(offered: ReadonlySet<string>): string | false {
  return offered.has(WS_PROTOCOL) ? WS_PROTOCOL : false;
}
