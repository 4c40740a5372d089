/**
 * Where a distributed queue lives, from the URL users give (`--queue` or COMIC_REDIS_URL):
 * `redis[s]://[user:password@]host[:port][/db][?queue=NAME&store=DIR]`. The password is kept
 * in a Secret and the URL is only ever printed without it, so it cannot reach a log.
 */
import { resolve } from 'node:path';
import type { RedisOptions } from 'ioredis';
import { Secret, redact } from '../config/index.js';
import { ComicError } from '../errors.js';
import { rememberSecrets } from '../util/redact.js';

export interface QueueTarget {
  /** The URL as it may be printed: no password, no query. */
  readonly display: string;
  /** The BullMQ queue (one per project): `?queue=NAME`, default "comic". */
  readonly queue: string;
  /** A shared folder for inputs and results (`?store=DIR` or `--store`), or null to keep them in Redis. */
  readonly storeDir: string | null;
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly tls: boolean;
  readonly username: string | null;
  readonly password: Secret | null;
  /** For `redact()` on messages that come from the Redis client. */
  readonly secrets: readonly Secret[];
}

export const DEFAULT_QUEUE = 'comic';
export const QUEUE_URL_ENV = 'COMIC_REDIS_URL';
const QUEUE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const QUERY_KEYS = new Set(['queue', 'store']);

/**
 * The queue URL of a command: the flag's value, or COMIC_REDIS_URL when the flag is given
 * without one (or not at all, for commands that need a queue). Null when there is none.
 */
export function queueUrlFrom(flag: string | boolean | undefined, env: NodeJS.ProcessEnv): string | null {
  if (typeof flag === 'string' && flag.trim() !== '') return flag.trim();
  const fromEnv = env[QUEUE_URL_ENV]?.trim();
  return fromEnv ? fromEnv : null;
}

/** Parses a queue URL; relative store folders are taken from `cwd`. Throws USAGE naming what is wrong. */
export function parseQueueUrl(text: string, cwd: string = process.cwd()): QueueTarget {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    // The text may hold a password: say what is expected instead of echoing it.
    throw usage('the queue URL is not a valid URL');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw usage(`the queue URL must use redis:// or rediss:// (TLS), not ${url.protocol.replace(/:$/, '')}://`);
  }
  if (url.hostname === '') throw usage('the queue URL has no host');
  const path = url.pathname.replace(/^\/+/, '');
  if (path !== '' && !/^\d{1,2}$/.test(path)) throw usage(`the queue URL's path must be a database number such as /0, not /${path}`);
  for (const key of url.searchParams.keys()) {
    if (!QUERY_KEYS.has(key)) throw usage(`the queue URL has an unknown parameter "${key}"; it takes queue=NAME and store=DIR`);
  }
  const queue = url.searchParams.get('queue') ?? DEFAULT_QUEUE;
  if (!QUEUE_NAME.test(queue)) throw usage(`queue name ${JSON.stringify(queue)} must be letters, digits, dot, dash or underscore (at most 64)`);
  const store = url.searchParams.get('store');

  const username = url.username === '' ? null : decodeURIComponent(url.username);
  const password = url.password === '' ? null : new Secret(decodeURIComponent(url.password));
  // Masked from here on in every text this process lets out (stdout, stderr, reports, Redis
  // messages of ours), in every form: raw, URL-encoded as the URL carried it, JSON-escaped.
  if (password !== null) rememberSecrets([password, url.password]);
  const tls = url.protocol === 'rediss:';
  const port = url.port === '' ? 6379 : Number(url.port);
  const db = path === '' ? 0 : Number(path);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const auth = username !== null ? `${encodeURIComponent(username)}${password ? ':***' : ''}@` : password ? ':***@' : '';
  return {
    display: `${url.protocol}//${auth}${url.hostname}:${port}/${db}${queue === DEFAULT_QUEUE ? '' : ` (queue ${queue})`}`,
    queue,
    storeDir: store === null || store === '' ? null : resolve(cwd, store),
    host,
    port,
    db,
    tls,
    username,
    password,
    secrets: password ? [password] : [],
  };
}

/** A copy of the target whose results go to `dir` (the worker's `--store`). */
export function withStore(target: QueueTarget, dir: string | null, cwd: string = process.cwd()): QueueTarget {
  return dir === null ? target : { ...target, storeDir: resolve(cwd, dir) };
}

/** ioredis options for the target; `maxRetriesPerRequest: null` is what BullMQ requires. */
export function redisOptions(target: QueueTarget, connectionName: string): RedisOptions {
  return {
    host: target.host,
    port: target.port,
    db: target.db,
    ...(target.username !== null && { username: target.username }),
    ...(target.password !== null && { password: target.password.reveal() }),
    ...(target.tls && { tls: { servername: target.host } }),
    connectionName,
    maxRetriesPerRequest: null,
    // Reconnect with a capped backoff: a Redis restart pauses the run instead of failing it.
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 6), 5000),
  };
}

/** Masks the target's password in text that came from elsewhere (a Redis client's error). */
export function redactTarget(target: QueueTarget, text: string): string {
  return redact(text, target.secrets);
}

function usage(message: string): ComicError {
  return new ComicError('USAGE', message, {
    hint: 'write it as redis://[user:password@]host:6379/0 (or rediss:// for TLS), optionally with ?queue=NAME&store=DIR',
  });
}
