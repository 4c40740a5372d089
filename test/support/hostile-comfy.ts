/**
 * A hostile ComfyUI-like server for issue 16: the in-process ComfyUI emulator behind a small
 * loopback proxy that checks the credential itself (Bearer TOKEN, or Basic USER:PASSWORD),
 * answers the hostile routes with the credential echoed back (raw, URL-encoded, JSON-escaped,
 * the header as sent) and terminal escape sequences, and relays everything else, HTTP and
 * the WebSocket, with the emulator's own failure message (faults.failNode) made to carry the
 * same echo. Modes: an HTML login page on /object_info, an HTTP 500 on POST /prompt,
 * `node_errors` on POST /prompt, and (relayed) the `exception_message` of a failed node.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import WebSocket, { WebSocketServer } from 'ws';
import type { ComfyEmulator } from '../fakes/comfyui/index.js';

/** Characters that URL-encoding and JSON change, so every echoed form is a different string. */
export const TOKEN = 'tok3n/S3cr+t=9q"x';
export const USER = 'painter';
export const PASSWORD = 'pa55 w/rd+Z';
export const BASIC = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
export const ESC = '\u001b';
/** What a hostile server says back: the header it got, the token in three forms, and escape sequences. */
function echo(authorization: string): string {
  const secret = authorization.startsWith('Basic ') ? PASSWORD : TOKEN;
  return `denied for ${authorization} (${secret}, ${encodeURIComponent(secret)}, ${JSON.stringify(secret)}) ${ESC}[31m${ESC}]0;pwned${ESC}\\ ${ESC}[2J`;
}

/**
 * `catalogue-echo`: the server's own texts carry the echo, in healthy answers: /system_stats
 * names its ComfyUI version and device with it, and /object_info offers only checkpoints
 * named with it (so a template's missing model is reported with the server's list).
 */
export type HostileMode = 'object-info-html' | 'prompt-500' | 'node-errors' | 'exception-message' | 'catalogue-echo';

export interface HostileComfy {
  readonly url: string;
  mode: HostileMode;
  close(): Promise<void>;
}

/** The credential a request carries, or null when it is not the one configured. */
function authorized(request: IncomingMessage): string | null {
  const header = request.headers.authorization ?? '';
  return header === `Bearer ${TOKEN}` || header === `Basic ${BASIC}` ? header : null;
}

export async function startHostileComfy(emulator: ComfyEmulator): Promise<HostileComfy> {
  const upstream = new URL(emulator.url);
  const sockets = new WebSocketServer({ noServer: true });
  const state = { mode: 'prompt-500' as HostileMode };
  const send = (response: ServerResponse, status: number, type: string, body: string) => {
    response.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
    response.end(body);
  };
  const server: Server = createServer((request, response) => {
    const auth = authorized(request);
    const path = (request.url ?? '/').split('?')[0]!.replace(/^\/api(?=\/)/, '');
    if (auth === null || (state.mode === 'object-info-html' && path === '/object_info')) {
      // A login page, as an auth proxy in front of ComfyUI serves it.
      return send(response, 401, 'text/html', `<html><body><h1>Login</h1><p>${echo(request.headers.authorization ?? 'nothing')}</p></body></html>`);
    }
    if (request.method === 'POST' && path === '/prompt' && state.mode === 'prompt-500') {
      return send(response, 500, 'text/plain', `Internal Server Error: ${echo(auth)}`);
    }
    if (request.method === 'POST' && path === '/prompt' && state.mode === 'node-errors') {
      const message = echo(auth);
      return send(
        response,
        400,
        'application/json',
        JSON.stringify({
          error: { type: 'prompt_outputs_failed_validation', message, details: message, extra_info: {} },
          node_errors: { '3': { errors: [{ type: 'value_not_in_list', message, details: message, extra_info: { input_name: 'ckpt_name' } }], dependent_outputs: ['9'], class_type: 'KSampler' } },
        }),
      );
    }
    // Everything else is relayed; the emulator's failure message is made to echo the credential.
    const relay = httpRequest({ host: upstream.hostname, port: upstream.port, path: request.url, method: request.method, headers: { ...request.headers, host: upstream.host } }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.on('end', () => {
        let body: Buffer | string = Buffer.concat(chunks);
        const headers = { ...answer.headers };
        if (String(headers['content-type'] ?? '').includes('json')) {
          body = state.mode === 'catalogue-echo' && (path === '/system_stats' || path === '/object_info') ? echoCatalogue(body.toString('utf8'), auth, path === '/system_stats') : poison(body.toString('utf8'), auth);
          headers['content-length'] = String(Buffer.byteLength(body));
          delete headers['transfer-encoding'];
        }
        response.writeHead(answer.statusCode ?? 502, headers);
        response.end(body);
      });
    });
    relay.on('error', () => response.destroy());
    request.pipe(relay);
  });
  server.on('upgrade', (request, socket, head) => {
    const auth = authorized(request);
    if (auth === null) return void socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
    sockets.handleUpgrade(request, socket, head, (client) => {
      const far = new WebSocket(`ws://${upstream.host}${request.url ?? '/ws'}`);
      const pending: [WebSocket.RawData, boolean][] = [];
      far.on('open', () => pending.splice(0).forEach(([data, binary]) => far.send(data, { binary })));
      client.on('message', (data, binary) => (far.readyState === WebSocket.OPEN ? far.send(data, { binary }) : pending.push([data, binary])));
      far.on('message', (data, binary) => {
        if (client.readyState !== WebSocket.OPEN) return;
        client.send(binary ? data : poison(data.toString(), auth), { binary });
      });
      far.on('close', () => client.close());
      client.on('close', () => far.close());
      far.on('error', () => client.terminate());
      client.on('error', () => far.terminate());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    get mode() {
      return state.mode;
    },
    set mode(mode: HostileMode) {
      state.mode = mode;
    },
    close: async () => {
      for (const client of sockets.clients) client.terminate();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The emulator's own failure message (faults.failNode), with the echo inside, in a JSON text. */
function poison(json: string, auth: string): string {
  return json.replace(/failed on purpose/g, `failed on purpose: ${JSON.stringify(echo(auth)).slice(1, -1)}`);
}

/** System stats and object_info with the echo in the version, the device and every checkpoint name. */
function echoCatalogue(json: string, auth: string, stats: boolean): string {
  const said = echo(auth);
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) {
      if (value.length > 0 && value.every((v) => typeof v === 'string' && /\.(safetensors|ckpt|pt|pth|bin)$/.test(v))) return [`${said}.safetensors`];
      return value.map(walk);
    }
    if (typeof value === 'object' && value !== null) {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) out[key] = stats && (key === 'comfyui_version' || (key === 'name' && typeof item === 'string')) ? said : walk(item);
      return out;
    }
    return value;
  };
  return JSON.stringify(walk(JSON.parse(json)));
}

/** Every form of the credential a leak could take. */
export const FORMS = {
  bearer: [TOKEN, encodeURIComponent(TOKEN), JSON.stringify(TOKEN).slice(1, -1)],
  basic: [PASSWORD, encodeURIComponent(PASSWORD), JSON.stringify(PASSWORD).slice(1, -1), BASIC],
};

