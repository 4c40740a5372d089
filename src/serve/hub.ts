/**
 * The WebSocket side of `comic serve` (/api/ws): each client subscribes to jobs of its own
 * API key, one by one or all of them ("*"), and gets their messages as JSON; server-wide
 * messages (fallback, servers up and down) go to every client. A subscription to a job
 * starts with where the job stands, so a client that connects late misses nothing that
 * matters. Previews are dropped for a client that is not keeping up.
 *
 * Client → server: `{ "type": "subscribe", "job": "<id>" | "*" }`, `{ "type": "unsubscribe", "job": … }`.
 */
import type { WebSocket } from 'ws';
import { z } from 'zod';
import type { JobQueue, JobView } from './jobs.js';
import { messageJob, type ServeMessage } from './messages.js';
import type { Clean } from './log.js';

/** Beyond this many unsent bytes a client gets no more previews until it catches up. */
const PREVIEW_BACKLOG_BYTES = 1 << 20;
const ALL = '*';
const CLOSE_GRACE_MS = 1000;

const clientMessage = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('subscribe'), job: z.string().min(1).max(100) }),
  z.strictObject({ type: z.literal('unsubscribe'), job: z.string().min(1).max(100) }),
]);

/** What the server answers to a client's own messages. */
type ControlMessage =
  | { readonly type: 'subscribed'; readonly job: string }
  | { readonly type: 'unsubscribed'; readonly job: string }
  | { readonly type: 'error'; readonly error: { readonly code: 'REQUEST_INVALID' | 'NOT_FOUND'; readonly message: string } };

interface Client {
  readonly socket: WebSocket;
  readonly owner: string;
  readonly jobs: Set<string>;
}

export class SocketHub {
  readonly #clients = new Set<Client>();

  constructor(
    private readonly queue: JobQueue,
    private readonly clean: Clean,
  ) {
    queue.on((message) => this.publish(message));
  }

  get size(): number {
    return this.#clients.size;
  }

  /** A new connection of `owner`, optionally subscribed at once (`?job=`). */
  accept(socket: WebSocket, owner: string, initial: string | null): void {
    const client: Client = { socket, owner, jobs: new Set() };
    this.#clients.add(client);
    socket.on('close', () => this.#clients.delete(client));
    socket.on('error', () => socket.terminate());
    socket.on('message', (data, isBinary) => this.#onMessage(client, isBinary ? null : data.toString()));
    if (initial !== null) this.#subscribe(client, initial);
  }

  /** Sends a message to everyone it concerns. */
  publish(message: ServeMessage): void {
    const job = messageJob(message);
    for (const client of this.#clients) {
      if (job !== null && !client.jobs.has(job) && !(client.jobs.has(ALL) && this.queue.get(job, client.owner))) continue;
      if (message.type === 'preview' && client.socket.bufferedAmount > PREVIEW_BACKLOG_BYTES) continue;
      this.#send(client, message);
    }
  }

  /** Closes every connection (server shutdown). */
  closeAll(): void {
    for (const { socket } of this.#clients) {
      socket.close(1001, 'the server is shutting down');
      // A client that never answers the close handshake does not hold the shutdown up.
      setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
    }
    this.#clients.clear();
  }

  #onMessage(client: Client, text: string | null): void {
    let parsed: unknown;
    try {
      parsed = text === null ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const result = clientMessage.safeParse(parsed);
    if (!result.success) {
      this.#send(client, { type: 'error', error: { code: 'REQUEST_INVALID', message: 'expected JSON {"type":"subscribe"|"unsubscribe","job":"<job id>"|"*"}' } });
      return;
    }
    if (result.data.type === 'subscribe') this.#subscribe(client, result.data.job);
    else {
      client.jobs.delete(result.data.job);
      this.#send(client, { type: 'unsubscribed', job: result.data.job });
    }
  }

  #subscribe(client: Client, job: string): void {
    if (job === ALL) {
      client.jobs.add(ALL);
      this.#send(client, { type: 'subscribed', job });
      return;
    }
    const view = this.queue.get(job, client.owner);
    if (!view) {
      this.#send(client, { type: 'error', error: { code: 'NOT_FOUND', message: `no job ${job} (job ids are per API key)` } });
      return;
    }
    client.jobs.add(job);
    this.#send(client, { type: 'subscribed', job });
    this.#send(client, snapshot(view));
  }

  #send(client: Client, message: ServeMessage | ControlMessage): void {
    if (client.socket.readyState !== client.socket.OPEN) return;
    client.socket.send(this.clean(JSON.stringify(message)));
  }
}

/** Where a job stands, as the message that would have told it. */
export function snapshot(view: JobView): ServeMessage {
  switch (view.state) {
    case 'queued':
      return { type: 'queued', job: view.id, position: view.position ?? 0, server: null };
    case 'processing':
      return { type: 'processing', job: view.id, progress: view.progress };
    case 'completed':
      return { type: 'completed', job: view.id, outputs: view.outputs };
    case 'failed':
      return { type: 'failed', job: view.id, error: view.error! };
    case 'cancelled':
      return { type: 'cancelled', job: view.id };
  }
}
