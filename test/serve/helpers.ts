/**
 * Test helpers for `comic serve`: a real server on 127.0.0.1 (port 0) in a temporary
 * folder, an HTTP helper, and a WebSocket client that records messages and waits for one.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import WebSocket from 'ws';
import { loadConfig, type ConfigFlags } from '../../src/config/index.js';
import type { ServeLimits } from '../../src/serve/app.js';
import { startServe, type RunningServer } from '../../src/serve/server.js';

export const KEY = 'test-key-6f1d2c9a8b7e';
export const OTHER_KEY = 'test-key-other-31a4b5';

export interface TestServer {
  readonly server: RunningServer;
  readonly url: string;
  readonly dir: string;
  /** Everything the server logged so far. */
  log(): string;
  close(): Promise<void>;
}

export interface TestServerOptions {
  /** COMIC_API_KEYS; default both test keys. Empty: no key. */
  readonly keys?: readonly string[];
  readonly flags?: ConfigFlags;
  /** A comic.config.yaml written into the folder first. */
  readonly configYaml?: string;
  /** Script text written to cast.yaml and given as --script. */
  readonly castScript?: string;
  readonly limits?: Partial<ServeLimits>;
  readonly concurrency?: number;
  readonly env?: Record<string, string>;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'comic-serve-'));
  if (options.configYaml !== undefined) await writeFile(join(dir, 'comic.config.yaml'), options.configYaml);
  if (options.castScript !== undefined) await writeFile(join(dir, 'cast.yaml'), options.castScript);
  const keys = options.keys ?? [KEY, OTHER_KEY];
  const env: Record<string, string> = { ...(keys.length > 0 ? { COMIC_API_KEYS: keys.join(',') } : {}), ...options.env };
  const config = await loadConfig({
    cwd: dir,
    env,
    flags: { port: 0, output: join(dir, 'out'), cache: join(dir, 'cache'), backend: 'draft', ...options.flags },
  });
  const chunks: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const server = await startServe({
    config,
    cwd: dir,
    script: options.castScript === undefined ? null : 'cast.yaml',
    logStream,
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
  });
  return {
    server,
    url: server.url,
    dir,
    log: () => chunks.join(''),
    close: async () => {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface ApiAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
  /** The body as JSON (throws when it is not). */
  json<T = any>(): T;
  text(): string;
}

export async function api(
  base: string,
  path: string,
  options: { method?: string; key?: string | null; json?: unknown; body?: string | Buffer; contentType?: string; headers?: Record<string, string> } = {},
): Promise<ApiAnswer> {
  const headers: Record<string, string> = { ...options.headers };
  const key = options.key === undefined ? KEY : options.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  let body: string | Buffer | undefined = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['content-type'] = 'application/json';
  }
  if (options.contentType) headers['content-type'] = options.contentType;
  const response = await fetch(base + path, { method: options.method ?? (body === undefined ? 'GET' : 'POST'), headers, ...(body === undefined ? {} : { body }) });
  const bytes = Buffer.from(await response.arrayBuffer());
  return {
    status: response.status,
    headers: response.headers,
    body: bytes,
    json: () => JSON.parse(bytes.toString('utf8')),
    text: () => bytes.toString('utf8'),
  };
}

/** A WebSocket client that keeps every message and can wait for one. */
export class WsClient {
  readonly messages: any[] = [];
  readonly #waiters = new Set<() => void>();

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.messages.push(JSON.parse(String(data)));
      for (const waiter of this.#waiters) waiter();
    });
  }

  static open(url: string, options: { token?: string; job?: string; headers?: Record<string, string> } = {}): Promise<WsClient> {
    const query = new URLSearchParams();
    if (options.token !== undefined) query.set('token', options.token);
    if (options.job !== undefined) query.set('job', options.job);
    const target = `${url.replace(/^http/, 'ws')}/api/ws${query.size > 0 ? `?${query}` : ''}`;
    const socket = new WebSocket(target, { headers: options.headers ?? {} });
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new WsClient(socket)));
      socket.once('unexpected-response', (request, response) => {
        request.destroy();
        reject(new Error(`refused: ${response.statusCode}`));
      });
      socket.once('error', reject);
    });
  }

  send(message: unknown): void {
    this.socket.send(JSON.stringify(message));
  }

  /** Resolves with the first message (already received or to come) that matches. */
  waitFor(match: (message: any) => boolean, what = 'a message'): Promise<any> {
    const found = this.messages.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = this.messages.find(match);
        if (!hit) return;
        this.#waiters.delete(check);
        this.socket.off('close', onClose);
        resolve(hit);
      };
      const onClose = () => {
        this.#waiters.delete(check);
        reject(new Error(`the socket closed before ${what}; got ${JSON.stringify(this.messages.map((m) => m.type))}`));
      };
      this.#waiters.add(check);
      this.socket.once('close', onClose);
    });
  }

  close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close();
    });
  }
}

/** The message types a job went through, in order, without repeats in a row. */
export function lifecycle(messages: readonly any[], job: string): string[] {
  // Previews are pictures sent while processing, not states of the job.
  const types = messages.filter((m) => m.job === job && m.type !== 'preview').map((m) => m.type as string);
  return types.filter((type, i) => type !== types[i - 1]);
}
