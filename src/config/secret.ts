import { inspect } from 'node:util';

const MASK = '***';

/**
 * A credential from configuration (header value, token, password, API key). Every way of
 * turning it into text — String(), template literals, JSON.stringify, util.inspect,
 * console.log — prints "***"; only `reveal()` gives the value, so a secret can travel
 * through config objects, logs and error messages without leaking.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The real value: call this only where it is sent to a server. */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return MASK;
  }

  toJSON(): string {
    return MASK;
  }

  [Symbol.toPrimitive](): string {
    return MASK;
  }

  [inspect.custom](): string {
    return MASK;
  }
}

/**
 * Replaces every occurrence of a secret's value in `text` with "***", also in its
 * URL-encoded form (a query token inside a URL). For messages and logs that come from
 * elsewhere (a server's error body, an exception from a library) that may echo a
 * credential back. `ResolvedConfig.secrets` lists every secret of a configuration,
 * including the encoded `user:password` of each Basic auth.
 */
export function redact(text: string, secrets: Iterable<Secret>): string {
  const needles = new Set<string>();
  for (const secret of secrets) {
    const value = secret.reveal();
    if (value === '') continue;
    needles.add(value);
    needles.add(encodeURIComponent(value));
  }
  // Longest first, so a secret that contains another is masked whole.
  let result = text;
  for (const needle of [...needles].sort((a, b) => b.length - a.length)) {
    result = result.split(needle).join(MASK);
  }
  return result;
}
