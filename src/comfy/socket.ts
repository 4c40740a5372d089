/**
 * The one WebSocket per server, kept alive: auth on the handshake, feature-flag
 * negotiation, ping/pong liveness (ComfyUI sends nothing while idle), and reconnects with
 * bounded exponential backoff and jitter after an HTTP check, so a dead or warming-up
 * server is never stormed. The old socket is always closed, and its close event awaited,
 * before a new one opens: two sockets with one clientId deafen each other (§4.6).
 */
import WebSocket from 'ws';
import { ComicError } from '../errors.js';
import { authHeaders, socketUrl } from './endpoint.js';
import { decodeBinary, parseMessage, type BinaryFrame, type ComfyMessage } from './messages.js';
import type { Routes } from './routes.js';
import { backoffDelay, deadline, sleep } from '../util/signals.js';
import type { Timeouts } from './types.js';

export type SocketState =
  | { readonly kind: 'open'; readonly reconnected: boolean }
  | { readonly kind: 'closed'; readonly reason: string }
  /** A connection attempt failed; `attempts` counts consecutive failures. */
  | { readonly kind: 'failed'; readonly reason: string; readonly attempts: number; readonly error: unknown };

export interface SocketHandlers {
  onMessage(message: ComfyMessage): void;
  onBinary(frame: BinaryFrame): void;
  onState(state: SocketState): void;
}

/** What we tell the server we understand (§4.2). */
const CLIENT_FLAGS = { supports_preview_metadata: true, supports_progress_text_metadata: true };
const BACKOFF_BASE_MS = 250;
const BACKOFF_MAX_MS = 15_000;
const CLOSE_WAIT_MS = 2_000;

export class ComfySocket {
  #ws: WebSocket | null = null;
  #serverFlags: Readonly<Record<string, unknown>> = {};
  readonly #stop = new AbortController();
  #loop: Promise<void> | null = null;
  #open = false;
  /** Failed connection attempts since the last success (reported with each failure). */
  #failures = 0;

  constructor(
    private readonly routes: Routes,
    private readonly clientId: string,
    private readonly timeouts: Pick<Timeouts, 'connect' | 'ping' | 'pong'>,
    private readonly handlers: SocketHandlers,
  ) {}

  get isOpen(): boolean {
    return this.#open;
  }

  get serverFlags(): Readonly<Record<string, unknown>> {
    return this.#serverFlags;
  }

  /** Starts the connect/reconnect loop (idempotent). */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Closes the current socket; the loop opens a fresh one (used when a socket seems deaf). */
  recycle(): void {
    this.#ws?.terminate();
  }

  async close(): Promise<void> {
    this.#stop.abort();
    const ws = this.#ws;
    if (ws !== null && ws.readyState !== WebSocket.CLOSED) {
      const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
      ws.close(1000);
      const timer = setTimeout(() => ws.terminate(), CLOSE_WAIT_MS);
      await closed;
      clearTimeout(timer);
    }
    await this.#loop;
  }

  async #run(): Promise<void> {
    let everOpened = false;
    while (!this.#stop.signal.aborted) {
      try {
        await this.#connectOnce();
        this.#failures = 0;
        this.#open = true;
        this.handlers.onState({ kind: 'open', reconnected: everOpened });
        everOpened = true;
        const reason = await this.#closed();
        this.#open = false;
        if (this.#stop.signal.aborted) return;
        this.handlers.onState({ kind: 'closed', reason });
      } catch (error) {
        this.#open = false;
        if (this.#stop.signal.aborted) return;
        this.#failures++;
        const reason = error instanceof Error ? error.message : String(error);
        this.handlers.onState({ kind: 'failed', reason, attempts: this.#failures, error });
      }
      try {
        await sleep(backoffDelay(this.#failures, BACKOFF_BASE_MS, BACKOFF_MAX_MS), this.#stop.signal);
      } catch {
        return;
      }
    }
  }

  /** HTTP check first (a clear error, and no socket storm on a server that is not answering), then the handshake. */
  async #connectOnce(): Promise<void> {
    const budget = deadline(this.#stop.signal, this.timeouts.connect);
    try {
      await this.routes.systemStats(budget.signal);
      await this.#openSocket(budget.signal);
    } finally {
      budget.dispose();
    }
  }

  #openSocket(signal: AbortSignal): Promise<void> {
    const transport = this.routes.transport;
    const ws = new WebSocket(socketUrl(transport.endpoint, transport.server, this.clientId), {
      headers: authHeaders(transport.server),
      handshakeTimeout: this.timeouts.connect,
      followRedirects: false,
      perMessageDeflate: false,
    });
    this.#ws = ws;
    this.#serverFlags = {};
    return new Promise<void>((resolve, reject) => {
      const fail = (error: ComicError): void => {
        signal.removeEventListener('abort', onAbort);
        ws.terminate();
        reject(error);
      };
      const onAbort = (): void => fail(new ComicError('SERVER_UNREACHABLE', `server ${transport.label}: the WebSocket did not open in time`));
      signal.addEventListener('abort', onAbort, { once: true });
      ws.once('unexpected-response', (_request, response) => {
        const status = response.statusCode ?? 0;
        response.resume();
        const code = status === 401 || status === 403 ? 'SERVER_AUTH' : 'SERVER_ERROR';
        fail(new ComicError(code, `server ${transport.label} refused the WebSocket with HTTP ${status}`));
      });
      // `on`, not `once`: ws may emit several errors, and an unhandled one would throw.
      ws.on('error', (error) => fail(new ComicError('SERVER_UNREACHABLE', `server ${transport.label}: WebSocket error (${error.message})`)));
      ws.once('open', () => {
        signal.removeEventListener('abort', onAbort);
        ws.removeAllListeners('error');
        ws.on('error', () => undefined); // a close event always follows
        ws.send(JSON.stringify({ type: 'feature_flags', data: CLIENT_FLAGS }));
        ws.on('message', (data, isBinary) => this.#receive(data, isBinary));
        resolve();
      });
    });
  }

  #receive(data: WebSocket.RawData, isBinary: boolean): void {
    const bytes = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data;
    if (isBinary) {
      this.handlers.onBinary(decodeBinary(bytes, this.#serverFlags['supports_progress_text_metadata'] === true));
      return;
    }
    const message = parseMessage(bytes.toString());
    if (message.type === 'feature_flags') this.#serverFlags = message.flags;
    this.handlers.onMessage(message);
  }

  /** Resolves with a reason when the current socket closes; pings it meanwhile. */
  #closed(): Promise<string> {
    const ws = this.#ws;
    if (ws === null) return Promise.resolve('no socket');
    return new Promise<string>((resolve) => {
      let pongTimer: NodeJS.Timeout | undefined;
      let reason: string | null = null;
      const pinger = setInterval(() => {
        if (pongTimer !== undefined) return;
        pongTimer = setTimeout(() => {
          reason = 'no pong: the connection is dead';
          ws.terminate();
        }, this.timeouts.pong);
        pongTimer.unref();
        ws.ping();
      }, this.timeouts.ping);
      pinger.unref();
      ws.on('pong', () => {
        clearTimeout(pongTimer);
        pongTimer = undefined;
      });
      ws.once('close', (code, why) => {
        clearInterval(pinger);
        clearTimeout(pongTimer);
        ws.removeAllListeners();
        if (this.#ws === ws) this.#ws = null;
        resolve(reason ?? `closed (${code}${why.length > 0 ? ` ${why.toString()}` : ''})`);
      });
    });
  }
}
