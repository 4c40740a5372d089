/**
 * Test helpers for the ComfyUI emulator: a recording WebSocket client, small HTTP calls that
 * keep status/content type/raw text, the trace workflows, and waiting without timed asserts.
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { afterEach } from 'vitest';
import { WebSocket } from 'ws';
import { startComfyEmulator, type ComfyEmulator, type ComfyEmulatorOptions } from '../fakes/comfyui/index.js';

export type JsonObject = Record<string, unknown>;

export type Received =
  | { readonly kind: 'json'; readonly type: string; readonly data: JsonObject }
  | { readonly kind: 'binary'; readonly eventType: number; readonly bytes: Buffer; readonly imageFormat?: number; readonly metadata?: JsonObject; readonly image: Buffer }
  | { readonly kind: 'closed'; readonly code: number };

const WAIT_MS = 15_000;

function decode(raw: Buffer, isBinary: boolean): Received {
  if (!isBinary) {
    const parsed = JSON.parse(raw.toString('utf8')) as { type: string; data: JsonObject };
    return { kind: 'json', type: parsed.type, data: parsed.data };
  }
  const eventType = raw.readUInt32BE(0);
  if (eventType === 4) {
    const length = raw.readUInt32BE(4);
    const metadata = JSON.parse(raw.subarray(8, 8 + length).toString('utf8')) as JsonObject;
    return { kind: 'binary', eventType, bytes: raw, metadata, image: raw.subarray(8 + length) };
  }
  return { kind: 'binary', eventType, bytes: raw, imageFormat: raw.readUInt32BE(4), image: raw.subarray(8) };
}

/** Records every frame a socket receives; `waitFor` looks at what arrived so far, then waits. */
export class WsRecorder {
  readonly messages: Received[] = [];
  private readonly listeners = new Set<() => void>();
  closed = false;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (raw: Buffer, isBinary) => this.push(decode(raw, isBinary)));
    socket.on('close', (code) => {
      this.closed = true;
      this.push({ kind: 'closed', code });
    });
    socket.on('error', () => undefined);
  }

  static async open(
    baseUrl: string,
    options: { clientId?: string | null; featureFlags?: JsonObject; headers?: Record<string, string>; query?: string } = {},
  ): Promise<WsRecorder> {
    const clientId = options.clientId === undefined ? randomUUID() : options.clientId;
    const params = [clientId === null ? '' : `clientId=${encodeURIComponent(clientId)}`, options.query ?? ''].filter((p) => p !== '').join('&');
    const url = `${baseUrl.replace(/^http/, 'ws')}/ws${params === '' ? '' : `?${params}`}`;
    const socket = new WebSocket(url, { headers: options.headers ?? {} });
    const recorder = new WsRecorder(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused with ${res.statusCode}`)));
      socket.once('error', reject);
    });
    await recorder.waitFor((m) => m.kind === 'json' && m.type === 'status');
    if (options.featureFlags !== undefined) {
      socket.send(JSON.stringify({ type: 'feature_flags', data: options.featureFlags }));
      await recorder.waitFor((m) => m.kind === 'json' && m.type === 'feature_flags');
    }
    return recorder;
  }

  get sid(): string {
    const first = this.messages[0];
    return first?.kind === 'json' ? String(first.data.sid) : '';
  }

  json(): Array<{ type: string; data: JsonObject }> {
    return this.messages.flatMap((m) => (m.kind === 'json' ? [{ type: m.type, data: m.data }] : []));
  }

  /** Messages after the connect greeting, for comparing with a trace's run. */
  since(index: number): Received[] {
    return this.messages.slice(index);
  }

  async waitFor(predicate: (m: Received) => boolean, from = 0): Promise<Received> {
    const found = (): Received | undefined => this.messages.slice(from).find(predicate);
    return (
      found() ??
      new Promise<Received>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.listeners.delete(check);
          reject(new Error(`no matching WebSocket message within ${WAIT_MS} ms; got ${this.messages.map(describe).join(', ')}`));
        }, WAIT_MS);
        const check = (): void => {
          const match = found();
          if (match === undefined) return;
          clearTimeout(timer);
          this.listeners.delete(check);
          resolve(match);
        };
        this.listeners.add(check);
      })
    );
  }

  /** Waits for `executing {node: null, prompt_id}`: the prompt is over and its history written. */
  done(promptId: string): Promise<Received> {
    return this.waitFor((m) => m.kind === 'json' && m.type === 'executing' && m.data.node === null && m.data.prompt_id === promptId);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const closed = new Promise<void>((resolve) => this.socket.once('close', () => resolve()));
    this.socket.close();
    await closed;
  }

  private push(message: Received): void {
    this.messages.push(message);
    for (const listener of [...this.listeners]) listener();
  }
}

export function describe(m: Received): string {
  if (m.kind === 'json') return m.type;
  if (m.kind === 'binary') return `binary:${m.eventType}`;
  return 'closed';
}

export interface HttpAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
  readonly bytes: Buffer;
  /** Parsed JSON, or undefined when the body is not JSON. */
  readonly json: unknown;
  /** Response headers, names lower-cased. */
  readonly headers: Record<string, string>;
}

export async function http(baseUrl: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body instanceof FormData) init.body = body;
  else if (typeof body === 'string') init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  const res = await fetch(`${baseUrl}${path}`, init);
  const bytes = Buffer.from(await res.arrayBuffer());
  const text = bytes.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text, bytes, json, headers: Object.fromEntries(res.headers.entries()) };
}

export function getJson<T = JsonObject>(emu: ComfyEmulator, path: string): Promise<T> {
  return http(emu.url, 'GET', path).then((a) => {
    if (a.status !== 200) throw new Error(`GET ${path} answered ${a.status}: ${a.text}`);
    return a.json as T;
  });
}

/** POST /prompt; fails the test unless the prompt is accepted. */
export async function queuePrompt(emu: ComfyEmulator, body: JsonObject): Promise<{ prompt_id: string; number: number; node_errors: JsonObject }> {
  const answer = await http(emu.url, 'POST', '/prompt', body);
  if (answer.status !== 200) throw new Error(`POST /prompt answered ${answer.status}: ${answer.text}`);
  return answer.json as { prompt_id: string; number: number; node_errors: JsonObject };
}

/** POST /upload/image with form fields; a file field is [blob, file name]. */
export function upload(emu: ComfyEmulator, fields: Record<string, string | [Blob, string]>): Promise<HttpAnswer> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value === 'string') form.append(name, value);
    else form.append(name, value[0], value[1]);
  }
  return http(emu.url, 'POST', '/upload/image', form);
}

/** Waits until the prompt has a history entry (it finished, whether anyone watched or not). */
export function historyEntry(emu: ComfyEmulator, promptId: string): Promise<JsonObject> {
  return eventually(async () => (await getJson<Record<string, JsonObject>>(emu, `/history/${promptId}`))[promptId], `history of ${promptId}`);
}

/** The traces' workflow: EmptyImage → SlowProgress → SaveImage (or PreviewImage). */
export function slowWorkflow(options: { steps: number; seed?: number; prefix?: string; preview?: boolean; output?: 'SaveImage' | 'PreviewImage'; size?: number }): JsonObject {
  const size = options.size ?? 64;
  const output = options.output ?? 'SaveImage';
  return {
    '1': { class_type: 'EmptyImage', inputs: { width: size, height: size, batch_size: 1, color: 16744448 } },
    '2': { class_type: 'SlowProgress', inputs: { image: ['1', 0], steps: options.steps, delay: 0.1, send_preview: options.preview ?? false, seed: options.seed ?? 0 } },
    '3':
      output === 'SaveImage'
        ? { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: options.prefix ?? 'trace' } }
        : { class_type: 'PreviewImage', inputs: { images: ['2', 0] } },
  };
}

/** A text-to-image graph of core nodes, as the built-in templates use them. */
export function txt2imgWorkflow(options: { text: string; seed: number; width?: number; height?: number; steps?: number; ckpt?: string; prefix?: string; batch?: number }): JsonObject {
  return {
    '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: options.ckpt ?? 'sd_xl_base_1.0.safetensors' } },
    '5': { class_type: 'EmptyLatentImage', inputs: { width: options.width ?? 64, height: options.height ?? 64, batch_size: options.batch ?? 1 } },
    '6': { class_type: 'CLIPTextEncode', inputs: { text: options.text, clip: ['4', 1] } },
    '7': { class_type: 'CLIPTextEncode', inputs: { text: 'blurry', clip: ['4', 1] } },
    '3': {
      class_type: 'KSampler',
      inputs: {
        model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0], seed: options.seed,
        steps: options.steps ?? 3, cfg: 6.5, sampler_name: 'dpmpp_2m', scheduler: 'karras', denoise: 1.0,
      },
    },
    '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
    '9': { class_type: 'SaveImage', inputs: { images: ['8', 0], filename_prefix: options.prefix ?? 'comic/panel' } },
  };
}

const TRACE_DIR = new URL('../fixtures/comfyui/traces/', import.meta.url);

/** A trace file: `name.json` is a 0.8.0 trace, `0.28/name.json` a 0.28.0 one. */
export function loadTrace<T = JsonObject>(name: string): T {
  return JSON.parse(readFileSync(new URL(name, TRACE_DIR), 'utf8')) as T;
}

/** Polls until `check` returns a value (for state that changes without a message). */
export async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Emulators and sockets for one test file, all closed after each test (so nothing leaks even
 * when a test fails half-way).
 */
export function emulatorHarness(defaults: ComfyEmulatorOptions = {}): {
  start(options?: ComfyEmulatorOptions): Promise<ComfyEmulator>;
  connect(emu: ComfyEmulator, options?: Parameters<typeof WsRecorder.open>[1]): Promise<WsRecorder>;
} {
  let emulators: ComfyEmulator[] = [];
  let sockets: WsRecorder[] = [];
  afterEach(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    await Promise.all(emulators.map((e) => e.close()));
    sockets = [];
    emulators = [];
  });
  return {
    async start(options = {}) {
      const emu = await startComfyEmulator({ ...defaults, ...options });
      emulators.push(emu);
      return emu;
    },
    async connect(emu, options = {}) {
      const ws = await WsRecorder.open(emu.url, options);
      sockets.push(ws);
      return ws;
    },
  };
}
