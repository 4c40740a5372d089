/**
 * HTTP and WebSocket plumbing on one 127.0.0.1 port: the request log, the loopback origin
 * check, optional auth (as a reverse proxy or ComfyUI-Login would add), fault injection
 * (errors, stalls, malformed JSON, refused connections), route dispatch and the /ws upgrade.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocketServer } from 'ws';
import type { EmulatorCore } from './core.js';
import { breakJson, routePath } from './faults.js';
import { holds, serveHostile } from './hostile.js';
import { PyError, pyJson } from './python.js';
import { INTERNAL_ERROR_TEXT, buildRoutes, matchRoute, type Reply, type RouteRequest } from './routes.js';
import { MAX_UPLOAD_SIZE } from './ws-hub.js';

export interface Credentials {
  readonly token?: string;
  readonly basicAuth?: { readonly user: string; readonly password: string };
}

export interface LogEntry {
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Request Entity Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

class BodyTooLarge extends Error {}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The request path as logged: the query is kept, a `token` value never is. */
function loggedPath(rawUrl: string): string {
  return rawUrl.replace(/([?&]token=)[^&]*/g, '$1***');
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_UPLOAD_SIZE) {
        reject(new BodyTooLarge(`Maximum request body size ${MAX_UPLOAD_SIZE} exceeded, actual body size ${size}`));
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export class EmulatorServer {
  readonly log: LogEntry[] = [];
  private readonly http: Server;
  // aiohttp negotiates permessage-deflate and answers pings; pongs are sent by the hub.
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: true, autoPong: false });
  private readonly sockets = new Set<Socket | Duplex>();
  private readonly routes = buildRoutes(() => this.port);
  /** Aborts stalled requests when the emulator goes away. */
  private readonly lifetime = new AbortController();
  private listening = false;
  port = 0;

  constructor(
    private readonly core: EmulatorCore,
    private readonly credentials: Credentials,
  ) {
    this.http = createServer((req, res) => {
      this.onRequest(req, res).catch((error: unknown) => {
        console.error('ComfyUI emulator: request failed', error);
        res.destroy();
      });
    });
    this.http.keepAliveTimeout = 75_000; // aiohttp's keep-alive
    this.http.on('connection', (socket) => this.track(socket));
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.onUpgrade(req, socket, head).catch((error: unknown) => {
        console.error('ComfyUI emulator: WebSocket upgrade failed', error);
        socket.destroy();
      });
    });
  }

  async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(port, '127.0.0.1', () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    const address = this.http.address();
    if (address === null || typeof address === 'string') throw new Error('ComfyUI emulator: no TCP address after listen');
    this.port = address.port;
    this.listening = true;
  }

  /** Stops accepting (connections are refused) and destroys every open socket. */
  async stopListening(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.destroySockets();
    await closed;
  }

  /** Shuts down: WebSockets get a 1001 close (abruptly when `graceful` is false), stalled requests end. */
  async shutdown(graceful: boolean): Promise<void> {
    this.lifetime.abort();
    if (graceful) await this.closeWebSockets();
    await this.stopListening();
    this.destroySockets();
    this.wss.close();
  }

  private track(socket: Socket | Duplex): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  private destroySockets(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  private async closeWebSockets(): Promise<void> {
    if (this.core.hub.socketCount === 0) return;
    const drained = new Promise<void>((resolve) => {
      const check = (): void => {
        if (this.core.hub.socketCount === 0) resolve();
      };
      for (const ws of this.wss.clients) ws.once('close', check);
    });
    this.core.hub.closeAll(1001, 'server shutting down');
    const timeout = new AbortController();
    await Promise.race([drained, sleep(500, undefined, { signal: timeout.signal }).catch(() => undefined)]);
    timeout.abort();
  }

  private authorized(req: IncomingMessage, url: URL): boolean {
    const { token, basicAuth } = this.credentials;
    if (token === undefined && basicAuth === undefined) return true;
    const header = req.headers.authorization ?? '';
    if (token !== undefined) {
      if (sameSecret(header, `Bearer ${token}`)) return true;
      const queryToken = url.searchParams.get('token');
      if (queryToken !== null && sameSecret(queryToken, token)) return true;
    }
    if (basicAuth !== undefined) {
      const expected = `Basic ${Buffer.from(`${basicAuth.user}:${basicAuth.password}`).toString('base64')}`;
      if (sameSecret(header, expected)) return true;
    }
    return false;
  }

  /** The origin-only middleware: a loopback Host with a different Origin gets an empty 403. */
  private crossOrigin(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    const host = req.headers.host;
    if (origin === undefined || host === undefined) return false;
    try {
      return new URL(origin).host !== host;
    } catch {
      return true;
    }
  }

  private challenge(): Record<string, string> {
    return { 'WWW-Authenticate': this.credentials.basicAuth !== undefined ? 'Basic realm="ComfyUI"' : 'Bearer' };
  }

  /** A gate every request and upgrade passes: origin, auth, injected errors and stalls. */
  private async gate(req: IncomingMessage, url: URL): Promise<Reply | 'hold' | undefined> {
    if (this.crossOrigin(req)) return { kind: 'empty', status: 403 };
    if (!this.authorized(req, url)) return { kind: 'text', status: 401, text: '401: Unauthorized' };
    const method = req.method ?? 'GET';
    const injected = this.core.faults.takeHttpError(method, url.pathname);
    if (injected !== undefined) {
      return { kind: 'text', status: injected, text: injected === 500 ? INTERNAL_ERROR_TEXT : `${injected}: ${STATUS_TEXT[injected] ?? ''}` };
    }
    const stall = this.core.faults.stallFor(method, url.pathname);
    if (stall === 'forever') return 'hold';
    if (stall !== undefined) {
      try {
        await sleep(stall, undefined, { signal: this.lifetime.signal });
      } catch {
        return 'hold';
      }
    }
    return undefined;
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/';
    const method = req.method ?? 'GET';
    res.once('finish', () => this.log.push({ method, path: loggedPath(rawUrl), status: res.statusCode }));
    const url = new URL(rawUrl, 'http://127.0.0.1');
    const gated = await this.gate(req, url);
    if (gated === 'hold') return; // answered never; the socket dies with the emulator
    if (gated !== undefined) return this.send(res, gated, method, url);
    const hostile = this.core.faults.takeHostile(method, url.pathname);
    if (holds(hostile)) return; // a hostile silence: never answered
    const match = matchRoute(this.routes, method, url.pathname);
    if (match === 'not_found') return this.send(res, { kind: 'text', status: 404, text: '404: Not Found' }, method, url);
    if (match === 'method_not_allowed') return this.send(res, { kind: 'text', status: 405, text: '405: Method Not Allowed' }, method, url);
    let body: Promise<Buffer> | undefined;
    const request: RouteRequest = { method, url, headers: req.headers, body: () => (body ??= readBody(req)) };
    let reply: Reply;
    try {
      reply = await match.route.handler(this.core, request, match.params);
    } catch (error) {
      if (error instanceof BodyTooLarge) reply = { kind: 'text', status: 413, text: error.message };
      else {
        if (!(error instanceof PyError)) console.error('ComfyUI emulator: handler failed', error);
        reply = { kind: 'text', status: 500, text: INTERNAL_ERROR_TEXT };
      }
    }
    if (hostile !== undefined && reply.status === 200 && (await serveHostile(hostile, res, realBody(reply), this.core.faults, this.lifetime.signal))) return;
    this.send(res, reply, method, url);
  }

  private send(res: ServerResponse, reply: Reply, method: string, url: URL): void {
    if (res.destroyed) return;
    const headers: Record<string, string> = reply.status === 401 ? this.challenge() : {};
    let contentType: string;
    let body: Buffer;
    switch (reply.kind) {
      case 'json':
      case 'jsonText': {
        contentType = 'application/json; charset=utf-8';
        const text = reply.kind === 'json' ? pyJson(reply.body) : reply.text;
        body = Buffer.from(this.core.faults.isMalformed(method, url.pathname) ? breakJson(text) : text);
        break;
      }
      case 'empty':
        contentType = 'application/octet-stream';
        body = Buffer.alloc(0);
        break;
      case 'text':
        contentType = 'text/plain; charset=utf-8';
        body = Buffer.from(reply.text);
        break;
      case 'bytes':
        contentType = reply.contentType;
        body = reply.body;
        Object.assign(headers, reply.headers);
        break;
    }
    res.writeHead(reply.status, { ...headers, 'Content-Type': contentType, 'Content-Length': String(body.length) });
    res.end(method === 'HEAD' ? undefined : body);
  }

  private async onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    this.track(socket);
    socket.on('error', () => socket.destroy());
    const rawUrl = req.url ?? '/';
    const url = new URL(rawUrl, 'http://127.0.0.1');
    const refuse = (status: number, text: string, extra: Record<string, string> = {}): void => {
      this.log.push({ method: 'GET', path: loggedPath(rawUrl), status });
      const headerLines = Object.entries({ ...extra, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text)), Connection: 'close' })
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('');
      socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? ''}\r\n${headerLines}\r\n${text}`);
    };
    if (routePath(url.pathname) !== '/ws') return refuse(404, '404: Not Found');
    const gated = await this.gate(req, url);
    if (gated === 'hold') return;
    if (gated !== undefined) {
      const text = gated.kind === 'text' ? gated.text : '';
      return refuse(gated.status, text, gated.status === 401 ? this.challenge() : {});
    }
    if (socket.destroyed) return;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.log.push({ method: 'GET', path: loggedPath(rawUrl), status: 101 });
      this.core.hub.attach(ws, url.searchParams.get('clientId'));
    });
  }
}

/** What a reply would have sent, for hostile answers that mangle the real thing. */
function realBody(reply: Reply): { body: Buffer; contentType: string } | null {
  switch (reply.kind) {
    case 'bytes':
      return { body: reply.body, contentType: reply.contentType };
    case 'jsonText':
      return { body: Buffer.from(reply.text), contentType: 'application/json; charset=utf-8' };
    case 'json':
      return { body: Buffer.from(pyJson(reply.body)), contentType: 'application/json; charset=utf-8' };
    default:
      return null;
  }
}
