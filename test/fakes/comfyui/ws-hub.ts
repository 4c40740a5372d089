/**
 * The WebSocket side of the server: one registry entry per client id (sid), the connect
 * greeting, feature-flag negotiation on the first text message, targeted and broadcast sends,
 * and the real registry bug — a second socket with the same clientId replaces the first in
 * the registry, and when the first one closes its cleanup removes the *new* socket, which then
 * silently receives nothing (../../../shared/traces/i_reconnect.json).
 */
import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { JsonObject } from './catalogue.js';
import { breakJson, type Faults } from './faults.js';
import { PROFILES } from './profile.js';
import { pyJson } from './python.js';
import { isPlainObject } from './validate.js';

export { MAX_UPLOAD_SIZE } from './profile.js';

/** GET /features and the WebSocket feature_flags reply of ComfyUI 0.8.0 (each profile has its own). */
export const SERVER_FEATURES: JsonObject = PROFILES['0.8'].features;

/** Binary frame kinds (protocol.py BinaryEventTypes). */
export const PREVIEW_IMAGE = 1;
export const PREVIEW_IMAGE_WITH_METADATA = 4;

function textOf(data: Buffer | ArrayBuffer | Buffer[]): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
}

export interface HubDeps {
  readonly faults: Faults;
  queueRemaining(): number;
  /** The profile's feature flags (default: 0.8.0's). */
  readonly features?: JsonObject;
}

export class SocketHub {
  /** sid → socket, with the real server's replace-and-pop semantics. */
  private readonly registry = new Map<string, WebSocket>();
  private readonly clientFlags = new Map<string, JsonObject>();
  private readonly open = new Set<WebSocket>();
  private readonly sentCount = new WeakMap<WebSocket, number>();
  /** Sockets that reached dropWsAfterMessages: they get nothing more and die once the last frame is out. */
  private readonly dropping = new WeakSet<WebSocket>();
  /** server.client_id: the client of the prompt being (or last) executed. */
  executingClient: string | null = null;
  /** server.last_node_id: the node running now, for the resumed `executing` on reconnect. */
  lastNodeId: string | null = null;

  constructor(private readonly deps: HubDeps) {}

  get socketCount(): number {
    return this.open.size;
  }

  attach(ws: WebSocket, clientIdParam: string | null): void {
    const sid = clientIdParam !== null && clientIdParam !== '' ? clientIdParam : randomUUID().replace(/-/g, '');
    this.open.add(ws);
    this.sentCount.set(ws, 0);
    this.registry.set(sid, ws);
    this.clientFlags.set(sid, {});
    ws.on('close', () => {
      this.open.delete(ws);
      // The real cleanup pops by sid, whichever socket is registered under it now.
      this.registry.delete(sid);
      this.clientFlags.delete(sid);
    });
    ws.on('error', () => undefined);
    // Pongs by hand (the server runs with autoPong off) so a silent socket can stop answering.
    ws.on('ping', (data) => {
      if (!this.deps.faults.silentWs) ws.pong(data);
    });
    let firstMessage = true;
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(textOf(data));
      } catch {
        return; // logged as a warning by the real server
      }
      if (!isPlainObject(parsed)) return; // data.get() raises; the flag stays unset
      if (firstMessage && parsed.type === 'feature_flags') {
        const flags = this.clientFlags.get(sid);
        if (flags !== undefined) this.clientFlags.set(sid, isPlainObject(parsed.data) ? parsed.data : {});
        this.send('feature_flags', this.deps.features ?? SERVER_FEATURES, sid);
      }
      firstMessage = false;
    });

    this.send('status', { status: this.queueInfo(), sid }, sid);
    if (this.executingClient === sid && this.lastNodeId !== null) this.send('executing', { node: this.lastNodeId }, sid);
  }

  queueInfo(): JsonObject {
    return { exec_info: { queue_remaining: this.deps.queueRemaining() } };
  }

  /** server.send_sync: to one sid if it is registered, to every registered socket when sid is null. */
  send(type: string, data: JsonObject, sid: string | null): void {
    let text = pyJson({ type, data });
    if (this.deps.faults.isMalformed('GET', '/ws')) text = breakJson(text);
    for (const ws of this.targets(sid)) this.deliver(ws, text);
  }

  sendBinary(frame: Buffer, sid: string | null): void {
    for (const ws of this.targets(sid)) this.deliver(ws, frame);
  }

  broadcastStatus(): void {
    this.send('status', { status: this.queueInfo() }, null);
  }

  /** feature_flags.supports_feature(sockets_metadata, sid, name). */
  supports(sid: string | null, feature: string): boolean {
    if (sid === null) return false;
    return this.clientFlags.get(sid)?.[feature] === true;
  }

  /** Every socket, abruptly (no close frame): clients see a dropped connection. */
  dropAll(): void {
    for (const ws of this.open) ws.terminate();
  }

  closeAll(code: number, reason: string): void {
    for (const ws of this.open) ws.close(code, reason);
  }

  private targets(sid: string | null): WebSocket[] {
    if (sid === null) return [...this.registry.values()];
    const ws = this.registry.get(sid);
    return ws === undefined ? [] : [ws];
  }

  private deliver(ws: WebSocket, payload: string | Buffer): void {
    if (ws.readyState !== ws.OPEN || this.dropping.has(ws) || this.deps.faults.silentWs) return;
    const count = (this.sentCount.get(ws) ?? 0) + 1;
    this.sentCount.set(ws, count);
    const dropAfter = this.deps.faults.dropWsAfterMessages;
    if (dropAfter === null || count < dropAfter) {
      ws.send(payload);
      return;
    }
    this.dropping.add(ws);
    ws.send(payload, () => ws.terminate());
  }
}
