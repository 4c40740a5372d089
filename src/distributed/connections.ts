/**
 * The Redis connections one participant holds (commands, BullMQ, pub/sub), opened from its
 * target and closed together. The client reconnects on its own with a capped backoff, so a
 * Redis restart pauses the work instead of failing it; its errors are kept (redacted) to
 * explain a failed `ping` instead of being printed by the client.
 */
import { Redis } from 'ioredis';
import { ComicError, isComicError } from '../errors.js';
import { redactTarget, redisOptions, type QueueTarget } from './target.js';

const DEFAULT_CONNECT_MS = 5000;

export class RedisConnections {
  readonly #clients = new Set<Redis>();
  #lastError: string | null = null;

  constructor(
    readonly target: QueueTarget,
    /** Shown in `CLIENT LIST` (and so in `comic queue status`). */
    private readonly name: string,
  ) {}

  /** A new connection; `role` is appended to the connection name. */
  open(role: string): Redis {
    const client = new Redis(redisOptions(this.target, `${this.name}:${role}`.replace(/[^\x21-\x7e]/g, '_')));
    client.on('error', (error: Error) => {
      this.#lastError = redactTarget(this.target, error.message);
    });
    this.#clients.add(client);
    return client;
  }

  /**
   * Resolves when Redis answers PING; rejects with QUEUE_UNREACHABLE (saying why: refused,
   * wrong password, TLS) when it does not within `timeoutMs`, or at once on an auth error.
   */
  async ping(client: Redis, signal: AbortSignal, timeoutMs = DEFAULT_CONNECT_MS): Promise<void> {
    signal.throwIfAborted();
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    let onError: ((error: Error) => void) | undefined;
    try {
      await Promise.race([
        client.ping(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(this.unreachable(`no answer within ${timeoutMs} ms`)), timeoutMs);
          onAbort = () => reject(signal.reason);
          signal.addEventListener('abort', onAbort, { once: true });
          // Credentials are wrong for good: waiting for the timeout would only hide it.
          onError = (error) => {
            if (/NOAUTH|WRONGPASS|NOPERM|invalid password/i.test(error.message)) reject(this.unreachable(error.message));
          };
          client.on('error', onError);
        }),
      ]);
    } catch (error) {
      if (isComicError(error) || signal.aborted) throw error;
      throw this.unreachable(error instanceof Error ? error.message : String(error));
    } finally {
      clearTimeout(timer);
      if (onAbort) signal.removeEventListener('abort', onAbort);
      if (onError) client.off('error', onError);
    }
  }

  /** QUEUE_UNREACHABLE for this target, with the reason redacted. */
  unreachable(reason: string): ComicError {
    const why = redactTarget(this.target, this.#lastError && !reason.includes(this.#lastError) ? `${reason} (${this.#lastError})` : reason);
    return new ComicError('QUEUE_UNREACHABLE', `the queue's Redis at ${this.target.display} cannot be used: ${why}`, {
      hint: /auth|pass|perm/i.test(why)
        ? 'check the user and password in the queue URL (or COMIC_REDIS_URL)'
        : 'check that Redis runs and that host, port and TLS (rediss://) in the queue URL are right',
    });
  }

  /** A ComicError as is; a Redis client's error (connection lost, a reply error) as QUEUE_UNREACHABLE. */
  explain(error: unknown): unknown {
    if (isComicError(error) || !(error instanceof Error)) return error;
    const fromRedis = error.name === 'ReplyError' || /connection|ECONN|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|socket|Redis/i.test(error.message);
    return fromRedis ? this.unreachable(error.message) : error;
  }

  /** Polite close: pending replies are read, then QUIT (a connection that is not up is dropped). */
  async close(): Promise<void> {
    const clients = [...this.#clients];
    this.#clients.clear();
    await Promise.all(
      clients.map(async (client) => {
        if (client.status === 'end') return;
        if (client.status !== 'ready') return client.disconnect(false);
        try {
          await client.quit();
        } catch {
          client.disconnect();
        }
      }),
    );
  }

  /** Drops every connection at once, as a process that dies would. */
  kill(): void {
    for (const client of this.#clients) client.disconnect(false);
    this.#clients.clear();
  }
}
