/**
 * The HTTP side of the emulator: routing, HTTP Basic auth (--api-auth), fault injection,
 * response encoding (FastAPI's compact JSON, uvicorn headers, GZip over 1000 bytes) and the
 * server's lifecycle (refuse connections, die at once, shut down gracefully).
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import {
  ApiError,
  httpException,
  methodNotAllowed,
  pythonException,
  requestValidationError,
  routeNotFound,
} from './api-error.js';
import { CheckpointList, SAMPLERS, SCHEDULERS, defaultOptions, type Checkpoint } from './catalog.js';
import { EmulatorStopped, SdEngine } from './engine.js';
import { createFaults, takeHttpError, type SdFaults, type SdRoute } from './faults.js';
import { IMG2IMG_FIELDS, TXT2IMG_FIELDS } from './fields.js';
import { runGeneration, type GenerationContext, type SdJobEvent } from './generation.js';
import { bodyObject, parseRequestBody, queryBool, validateBody, type BodyParse } from './validation.js';

export interface SdServerConfig {
  readonly port: number;
  readonly stepMs: number;
  readonly apiAuth: { readonly user: string; readonly password: string } | null;
  readonly models: readonly string[];
}

export interface SeenRequest {
  readonly path: string;
  /** The parsed JSON body; the raw text when it was not JSON; undefined when empty. */
  readonly body: unknown;
}

interface Incoming {
  readonly method: string;
  readonly url: URL;
  readonly headers: IncomingMessage['headers'];
  readonly body: BodyParse;
}

type Handler = (request: Incoming) => Promise<unknown>;

const PREFIX = '/sdapi/v1/';
/** Routes that take a JSON body: FastAPI parses it (and may answer 422) before auth runs. */
const BODY_ROUTES = new Set<SdRoute>(['txt2img', 'img2img', 'options']);
const GZIP_MIN_BYTES = 1000;

export class SdApiServer {
  readonly faults: SdFaults;
  readonly requests: SeenRequest[] = [];
  readonly events: SdJobEvent[] = [];
  private readonly server: Server;
  private readonly engine: SdEngine;
  private readonly checkpoints: CheckpointList;
  private readonly options: Record<string, unknown>;
  private readonly sockets = new Set<Socket>();
  /** Aborted on kill/close: wakes stalled requests so they can be dropped. */
  private readonly life = new AbortController();
  private readonly routes: Map<string, { route: SdRoute; methods: Map<string, Handler> }>;
  private inFlight = 0;
  private drained: (() => void) | null = null;
  private port = 0;
  private refusing = false;
  private stopping: Promise<void> | null = null;

  constructor(private readonly config: SdServerConfig) {
    this.checkpoints = new CheckpointList(config.models);
    this.options = defaultOptions(this.checkpoints.default);
    this.faults = createFaults(config.stepMs, {
      get: () => this.refusing,
      set: (value) => this.setRefusing(value),
    });
    this.engine = new SdEngine(this.faults, () => void this.kill());
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.routes = this.createRoutes();
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.config.port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    // Reopening the port after refuseConnections can fail (someone took it): say so, keep running.
    this.server.on('error', (error) => process.emitWarning(`SD API emulator could not reopen ${this.url}: ${error.message}`));
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('SD API emulator: no TCP address');
    this.port = address.port;
  }

  private setRefusing(value: boolean): void {
    if (this.stopping || value === this.refusing) return;
    this.refusing = value;
    // Closing the listening socket makes the kernel refuse new connections (ECONNREFUSED).
    if (value) this.server.close();
    else this.server.listen(this.port, '127.0.0.1');
  }

  /** Dies at once: connections reset, running and waiting jobs dropped, no answers sent. */
  kill(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.engine.kill();
    this.life.abort();
    this.stopListening();
    for (const socket of this.sockets) socket.destroy();
    this.stopping = this.socketsClosed();
    return this.stopping;
  }

  /** Stops accepting, lets the running job answer with what it has, then closes every connection. */
  close(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopListening();
    this.engine.shutDown();
    this.life.abort();
    this.stopping = (async () => {
      if (this.inFlight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
      for (const socket of this.sockets) socket.destroy();
      await this.socketsClosed();
    })();
    return this.stopping;
  }

  private stopListening(): void {
    if (this.server.listening) this.server.close();
  }

  /** Resolves once every tracked socket has emitted 'close' (they leave the set when they do). */
  private async socketsClosed(): Promise<void> {
    await Promise.all([...this.sockets].map((socket) => new Promise((resolve) => socket.once('close', resolve))));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.inFlight += 1;
    const started = performance.now();
    try {
      const raw = await readBody(req);
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const incoming: Incoming = {
        method: req.method ?? 'GET',
        url,
        headers: req.headers,
        body: parseRequestBody(raw, req.headers['content-type']),
      };
      const entry = this.routes.get(url.pathname);
      if (entry?.route === 'txt2img' || entry?.route === 'img2img') {
        this.requests.push({ path: url.pathname, body: seenBody(incoming.body, raw) });
      }
      const result = await this.dispatch(incoming, entry);
      send(req, res, 200, result, entry && this.faults.malformedJson[entry.route] === true, started);
    } catch (error) {
      if (error instanceof ApiError) send(req, res, error.status, error.body, false, started);
      else if (error instanceof EmulatorStopped || this.life.signal.aborted) res.destroy();
      else send(req, res, 500, pythonException('EmulatorBug', String(error)).body, false, started);
    } finally {
      this.inFlight -= 1;
      if (this.inFlight === 0) this.drained?.();
    }
  }

  private async dispatch(
    request: Incoming,
    entry: { route: SdRoute; methods: Map<string, Handler> } | undefined,
  ): Promise<unknown> {
    if (entry === undefined) throw routeNotFound();
    const handler = entry.methods.get(request.method);
    if (handler === undefined) throw methodNotAllowed();
    const stallMs = this.faults.stall[entry.route];
    if (stallMs !== undefined && stallMs > 0) await this.stall(stallMs);
    const status = takeHttpError(this.faults, entry.route);
    if (status !== null) throw httpException(status, STATUS_CODES[status] ?? 'Error');
    if (BODY_ROUTES.has(entry.route) && request.method === 'POST' && request.body.kind === 'invalid') {
      throw requestValidationError([request.body.issue]);
    }
    this.checkAuth(request.headers.authorization);
    return handler(request);
  }

  private async stall(ms: number): Promise<void> {
    const signal = this.life.signal;
    if (Number.isFinite(ms)) {
      await delay(ms, undefined, { signal }).catch(() => undefined);
    } else {
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    }
    if (signal.aborted) throw new EmulatorStopped('stalled request dropped');
  }

  /** FastAPI's HTTPBasic dependency, then the webui's credential check. */
  private checkAuth(header: string | undefined): void {
    const auth = this.config.apiAuth;
    if (auth === null) return;
    const [scheme, param] = (header ?? '').split(' ', 2);
    if (!header || scheme?.toLowerCase() !== 'basic') throw httpException(401, 'Not authenticated');
    const decoded = Buffer.from(param ?? '', 'base64').toString('latin1');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw httpException(401, 'Invalid authentication credentials');
    if (decoded.slice(0, colon) !== auth.user || decoded.slice(colon + 1) !== auth.password) {
      throw httpException(401, 'Incorrect username or password');
    }
  }

  private generationContext(): GenerationContext {
    return {
      engine: this.engine,
      checkpoints: this.checkpoints,
      options: this.options,
      onEvent: (event) => this.events.push(event),
    };
  }

  private createRoutes(): Map<string, { route: SdRoute; methods: Map<string, Handler> }> {
    const generate =
      (route: 'txt2img' | 'img2img'): Handler =>
      async (request) => {
        const validated = validateBody(request.body, route === 'txt2img' ? TXT2IMG_FIELDS : IMG2IMG_FIELDS);
        if (!validated.ok) throw requestValidationError(validated.detail);
        return runGeneration(route, validated.values, this.generationContext());
      };
    const table: Record<SdRoute, Record<string, Handler>> = {
      txt2img: { POST: generate('txt2img') },
      img2img: { POST: generate('img2img') },
      progress: { GET: async (request) => this.progress(request) },
      interrupt: {
        POST: async () => {
          this.engine.interrupt();
          return {};
        },
      },
      skip: {
        POST: async () => {
          this.engine.skip();
          return null;
        },
      },
      options: { GET: async () => ({ ...this.options }), POST: async (request) => this.setOptions(request.body) },
      'sd-models': {
        GET: async () =>
          this.checkpoints.all.map(({ title, model_name, hash, sha256, filename, config }) => ({
            title,
            model_name,
            hash,
            sha256,
            filename,
            config,
          })),
      },
      samplers: { GET: async () => SAMPLERS.map(({ name, aliases, options }) => ({ name, aliases, options })) },
      schedulers: { GET: async () => SCHEDULERS },
    };
    return new Map(
      Object.entries(table).map(([route, methods]) => [
        `${PREFIX}${route}`,
        { route: route as SdRoute, methods: new Map(Object.entries(methods)) },
      ]),
    );
  }

  private async progress(request: Incoming): Promise<unknown> {
    const skip = queryBool('skip_current_image', request.url.searchParams.get('skip_current_image'));
    if (!skip.ok) throw requestValidationError(skip.detail);
    return this.engine.progress(skip.value === true, {
      enabled: this.options['live_previews_enable'] === true,
      everyNSteps: typeof this.options['show_progress_every_n_steps'] === 'number' ? this.options['show_progress_every_n_steps'] : 10,
    });
  }

  /** set_config: an unknown checkpoint is a RuntimeError, an unknown key a KeyError (both 500). */
  private setOptions(body: BodyParse): null {
    const parsed = bodyObject(body);
    if (!parsed.ok) throw requestValidationError(parsed.detail);
    const changes = parsed.value;
    const checkpointName = changes['sd_model_checkpoint'];
    let checkpoint: Checkpoint | undefined;
    if (checkpointName !== undefined && checkpointName !== null) {
      checkpoint = this.checkpoints.find(String(checkpointName));
      if (checkpoint === undefined) throw pythonException('RuntimeError', `model '${String(checkpointName)}' not found`);
    }
    for (const [key, value] of Object.entries(changes)) {
      if (key === 'sd_model_checkpoint' && value === null) continue;
      if (!(key in this.options)) throw pythonException('KeyError', `'${key}'`);
      this.options[key] = value;
    }
    if (checkpoint !== undefined) {
      // Loading the model stores its title, whichever alias the request used.
      this.options['sd_model_checkpoint'] = checkpoint.title;
      this.options['sd_checkpoint_hash'] = checkpoint.sha256;
    }
    return null;
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function seenBody(body: BodyParse, raw: Buffer): unknown {
  if (body.kind === 'json') return body.value;
  return raw.length === 0 ? undefined : raw.toString('utf8');
}

/** FastAPI's JSONResponse (compact, non-ASCII kept) behind uvicorn and Starlette's GZipMiddleware. */
function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: unknown,
  malformed: boolean | undefined,
  started: number,
): void {
  if (res.destroyed || res.headersSent) return;
  let text = JSON.stringify(body ?? null);
  // Cut the text mid-way and leave an unterminated string: no JSON parser accepts it.
  if (malformed) text = `${text.slice(0, Math.max(1, Math.floor(text.length / 2)))}"<truncated`;
  let payload = Buffer.from(text, 'utf8');
  const headers: Record<string, string> = {
    server: 'uvicorn',
    'content-type': 'application/json',
    'x-process-time': ((performance.now() - started) / 1000).toFixed(4),
  };
  if (payload.length >= GZIP_MIN_BYTES && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
    payload = gzipSync(payload);
    headers['content-encoding'] = 'gzip';
    headers['vary'] = 'Accept-Encoding';
  }
  headers['content-length'] = String(payload.length);
  res.writeHead(status, headers);
  res.end(payload);
}
