/**
 * The HTTP and WebSocket API of `comic serve`, on fastify: routes, API-key checks, rate
 * limits, body limits, and one error shape. Request handling only: what a job does is the
 * pipeline's, how jobs wait and run is the queue's.
 *
 * Order of checks on every request: failed authentications of the address (429), the API
 * key (401), the per-key rate limit (429), the body size (413) and shape (400), then the
 * per-key cap on unfinished jobs (429).
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ComicError, isComicError } from '../errors.js';
import { listingJson } from '../templates/describe.js';
import type { TemplateRegistry } from '../templates/index.js';
import { safeJoin } from '../util/fs.js';
import { AuthFailures, bearerToken, type ApiKeys, type Caller } from './auth.js';
import { contentType, isServedAsText, outputUrl, resolveOutputFile, SERVED_TEXT_BYTES, servedText } from './files.js';
import type { HealthView } from './health.js';
import { errorBody, HttpError, statusOf } from './http-error.js';
import type { SocketHub } from './hub.js';
import type { JobQueue, JobSpec, JobView } from './jobs.js';
import type { Clean, ServeLog } from './log.js';
import type { ServePipeline } from './pipeline.js';
import { isLoopback } from './loopback.js';
import type { Cast } from './cast.js';
import { castView } from './cast-view.js';
import { registerStudio, STUDIO_PATHS } from './studio/routes.js';
import { protocolKey, selectProtocol } from './ws-token.js';

export interface ServeLimits {
  /** Requests per minute per API key, every route counted. */
  readonly requestsPerMinute: number;
  /** Failed authentications per minute per client address; past it, 429 until the minute is over. */
  readonly authFailuresPerMinute: number;
  /** Jobs of one key queued or running at once. */
  readonly pendingJobsPerKey: number;
  /** Bytes of a panel request. */
  readonly panelBodyBytes: number;
  /** Bytes of a posted script. */
  readonly scriptBodyBytes: number;
}

export const DEFAULT_LIMITS: ServeLimits = {
  requestsPerMinute: 600,
  authFailuresPerMinute: 30,
  pendingJobsPerKey: 20,
  panelBodyBytes: 64 * 1024,
  scriptBodyBytes: 1024 * 1024,
};

/** Seconds a client is told to wait when its key has too many unfinished jobs. */
const PENDING_RETRY_AFTER_SECONDS = 5;

export interface ServeAppOptions {
  readonly keys: ApiKeys;
  readonly queue: JobQueue;
  readonly pipeline: ServePipeline;
  readonly hub: SocketHub;
  readonly health: () => HealthView;
  readonly templates: TemplateRegistry;
  /** The characters and backgrounds of `--script` (GET /api/cast). */
  readonly cast: Cast;
  /** Every job's folder is made here. */
  readonly jobsDir: string;
  readonly clean: Clean;
  readonly log: ServeLog;
  readonly limits: ServeLimits;
}

const SCRIPT_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml', 'text/plain', 'application/json'];
const waitQuery = z.object({ wait: z.enum(['true', 'false', '1', '0']).optional() });
const wsQuery = z.object({ job: z.string().min(1).max(100).optional(), token: z.string().optional() });

export async function buildServeApp(options: ServeAppOptions): Promise<FastifyInstance> {
  const { keys, queue, pipeline, hub, limits, log, clean } = options;
  const app = Fastify({ logger: false, bodyLimit: limits.panelBodyBytes, forceCloseConnections: true, return503OnClosing: true });
  const callers = new WeakMap<FastifyRequest, Caller>();
  const authFailures = new AuthFailures(limits.authFailuresPerMinute, (message) => log.warn(message));
  app.addHook('onClose', async () => authFailures.close());
  const callerOf = (request: FastifyRequest): Caller => {
    const caller = callers.get(request);
    if (!caller) throw new ComicError('INTERNAL', `no caller for ${request.method} ${pathOf(request)}`);
    return caller;
  };

  // First, so its hooks know an upgrade request as one (and close its socket after a 401).
  // A client that offers the key as a subprotocol gets `comic` back, never the key.
  await app.register(fastifyWebsocket, { options: { maxPayload: 4096, handleProtocols: (protocols) => selectProtocol(protocols) } });
  app.addHook('onRequest', async (request) => {
    // The studio page and its assets are static and hold no secret: served to anyone this
    // server answers (without keys, that is still only loopback names and origins).
    if (STUDIO_PATHS.has(request.routeOptions.url ?? '')) {
      if (!keys.enabled) refuseForeignOrigin(request);
      return;
    }
    // Browsers cannot set headers on a WebSocket, so /api/ws also takes the key as a
    // subprotocol (`comic-key.<key>`, see ws-token.ts) or as ?token=; nothing else takes a
    // query token, since URLs end up in histories and proxy logs.
    const isSocket = request.routeOptions.url === '/api/ws';
    const query = isSocket ? wsQuery.safeParse(request.query) : null;
    const token =
      bearerToken(request.headers.authorization) ??
      (isSocket ? protocolKey(request.headers['sec-websocket-protocol']) : null) ??
      (query?.success ? (query.data.token ?? null) : null);
    // An address that failed too often is refused before any key is checked, a valid one too.
    const wait = authFailures.retryAfter(request.ip);
    if (wait > 0) {
      throw new HttpError(429, 'RATE_LIMITED', `more than ${limits.authFailuresPerMinute} failed authentications a minute from this address`, {
        hint: `retry after ${wait} s, with a valid key`,
        retryAfterSeconds: wait,
      });
    }
    if (!keys.enabled) {
      try {
        refuseForeignOrigin(request);
      } catch (error) {
        authFailures.fail(request.ip);
        throw error;
      }
    }
    const caller = keys.identify(token);
    if (!caller) {
      authFailures.fail(request.ip);
      throw new HttpError(401, 'UNAUTHORIZED', token === null ? 'an API key is required' : 'the API key is not valid', {
        hint: 'send Authorization: Bearer <key> (on /api/ws: the subprotocol comic-key.<key>, or ?token=<key>); keys come from serve.apiKeys or COMIC_API_KEYS',
      });
    }
    callers.set(request, caller);
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    return typeof payload === 'string' ? clean(payload) : payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    const isStudio = STUDIO_PATHS.has(request.routeOptions.url ?? '') && reply.statusCode < 400;
    const who = callers.get(request)?.label ?? (isStudio ? 'studio page, no key needed' : 'unauthenticated');
    // A flood of wrong keys: the first few lines of an address, then one summary a minute.
    if (who === 'unauthenticated' && !authFailures.logLine(request.ip)) return;
    log.info(`${request.method} ${pathOf(request)} ${reply.statusCode} ${Math.round(reply.elapsedTime)}ms (${who})`);
  });
  app.setErrorHandler((error: FastifyError | ComicError, request, reply) => {
    const comic = asComicError(error);
    const status = statusOf(comic);
    if (status >= 500) log.warn(`${request.method} ${pathOf(request)}: ${error.stack ?? error.message}`);
    if (comic instanceof HttpError && comic.retryAfterSeconds !== null) reply.header('retry-after', String(comic.retryAfterSeconds));
    void reply.code(status).send(errorBody(comic, clean));
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send(errorBody(new HttpError(404, 'NOT_FOUND', `no route ${request.method} ${pathOf(request)}`), clean));
  });

  await app.register(fastifyRateLimit, {
    global: true,
    max: limits.requestsPerMinute,
    timeWindow: 60_000,
    // The studio's static files are counted per address: they are the only routes without a caller.
    keyGenerator: (request) => callers.get(request)?.label ?? `address ${request.ip}`,
    errorResponseBuilder: (_request, context) =>
      new HttpError(429, 'RATE_LIMITED', `more than ${context.max} requests a minute for this API key`, {
        hint: `retry after ${context.after}`,
        retryAfterSeconds: Math.max(1, Math.ceil(context.ttl / 1000)),
      }),
  });
  const submit = async (request: FastifyRequest, reply: FastifyReply, build: (job: { id: string; owner: string; dir: string }) => Promise<JobSpec>) => {
    const caller = callerOf(request);
    const wait = parseWait(request.query);
    const id = randomUUID();
    const spec = await build({ id, owner: caller.label, dir: safeJoin(options.jobsDir, id) });
    // Counted right before the job joins the queue, with no await in between: the cap holds under concurrent requests.
    const pending = queue.pendingFor(caller.label);
    if (pending >= limits.pendingJobsPerKey) {
      throw new HttpError(429, 'RATE_LIMITED', `this API key has ${pending} jobs queued or running; at most ${limits.pendingJobsPerKey} at once`, {
        hint: 'wait for a job to finish (watch /api/ws), or cancel one with DELETE /api/jobs/<id>',
        retryAfterSeconds: PENDING_RETRY_AFTER_SECONDS,
      });
    }
    queue.submit(spec);
    log.info(`job ${id} (${spec.kind}) accepted from ${caller.label}`);
    const links = {
      job: `/api/jobs/${id}`,
      ws: `/api/ws?job=${id}`,
      files: spec.expected.map((path) => outputUrl(id, spec.dir, path)),
    };
    if (!wait) return reply.code(202).send({ job: queue.get(id, caller.label), links });
    const done = (await queue.settled(id, caller.label))!;
    return reply.code(waitStatus(done)).send({ job: done, links, ...(done.error ? { error: done.error } : {}) });
  };

  registerStudio(app);

  await app.register(async (api) => {
    api.post('/api/comic/generate-panel', (request, reply) => submit(request, reply, (job) => pipeline.panelJob(request.body, job)));

    // A script is read as text, whatever its type, so problems come with line and column.
    await api.register(async (scripts) => {
      scripts.removeAllContentTypeParsers();
      scripts.addContentTypeParser(SCRIPT_TYPES, { parseAs: 'string', bodyLimit: limits.scriptBodyBytes }, (_request, body, done) => done(null, body));
      scripts.post('/api/comic/generate', { bodyLimit: limits.scriptBodyBytes }, (request, reply) =>
        submit(request, reply, (job) => pipeline.scriptJob(String(request.body ?? ''), job)),
      );
    });

    api.get('/api/jobs', async (request) => ({ jobs: queue.list(callerOf(request).label) }));
    api.get('/api/cast', async () => castView(options.cast, options.templates));
    api.get<{ Params: { id: string } }>('/api/jobs/:id', async (request) => ({ job: found(queue.get(request.params.id, callerOf(request).label), request.params.id) }));
    api.delete<{ Params: { id: string } }>('/api/jobs/:id', async (request, reply) => {
      const view = found(queue.cancel(request.params.id, callerOf(request).label), request.params.id);
      if (view.state === 'processing') log.info(`job ${view.id}: cancelling (interrupting its prompts)`);
      // 202: a running job stops when its prompts have been interrupted; watch it to see it end.
      return reply.code(view.state === 'processing' ? 202 : 200).send({ job: view });
    });

    api.get<{ Params: { job: string; '*': string } }>('/api/files/:job/*', async (request, reply) => {
      const dir = queue.dirOf(request.params.job, callerOf(request).label);
      const file = dir === null ? null : await resolveOutputFile(dir, request.params['*']);
      if (!file) throw new HttpError(404, 'NOT_FOUND', `no file ${pathOf(request)}`);
      if (isServedAsText(file.path)) {
        // Reports may quote a server's answer: masked and made relative like every other answer.
        if (file.bytes > SERVED_TEXT_BYTES) throw new HttpError(413, 'REQUEST_TOO_LARGE', `${pathOf(request)} is too large to be served`);
        return reply.type(contentType(file.path)).send(await servedText(file.path, dir!, clean));
      }
      return reply.type(contentType(file.path)).header('content-length', String(file.bytes)).send(createReadStream(file.path));
    });

    api.get('/api/templates', async () => ({
      // Folders on this machine are not the client's business.
      templates: listingJson(options.templates.list()).map((t) => {
        const { dir: _dir, shadowedBy: _by, ...rest } = t as Record<string, unknown>;
        return rest;
      }),
    }));
    api.get('/api/health', async () => options.health());

    api.get('/api/ws', { websocket: true }, (socket, request) => {
      const query = wsQuery.safeParse(request.query);
      const caller = callerOf(request);
      log.info(`GET /api/ws: WebSocket opened (${caller.label})`);
      hub.accept(socket, caller.label, query.success ? (query.data.job ?? null) : null);
    });
  });
  return app;
}

/**
 * Without API keys the server trusts the machine it runs on, and only that: a request must
 * be addressed to a loopback name (a DNS-rebound name is not), and a browser page may only
 * call it from a loopback origin.
 */
function refuseForeignOrigin(request: FastifyRequest): void {
  const host = hostName(request.headers.host);
  const origin = request.headers.origin;
  const originHost = origin === undefined ? null : hostName(URL.canParse(origin) ? new URL(origin).host : '');
  if (host !== null && isLoopback(host) && (originHost === null || isLoopback(originHost))) return;
  throw new HttpError(401, 'UNAUTHORIZED', 'this server has no API key, so it only answers requests addressed to localhost from this machine', {
    hint: 'configure serve.apiKeys (or COMIC_API_KEYS) to use it from elsewhere',
  });
}

/** `127.0.0.1` of `127.0.0.1:8787`, `::1` of `[::1]:8787`. */
function hostName(header: string | undefined): string | null {
  if (header === undefined || header === '') return null;
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(header);
  if (bracketed) return bracketed[1]!;
  return header.replace(/:\d+$/, '');
}

function parseWait(query: unknown): boolean {
  const parsed = waitQuery.safeParse(query ?? {});
  if (!parsed.success) throw new HttpError(400, 'REQUEST_INVALID', 'wait must be true or false', { issues: [{ path: 'wait', message: 'expected true or false' }] });
  return parsed.data.wait === 'true' || parsed.data.wait === '1';
}

function found(view: JobView | null, id: string): JobView {
  if (!view) throw new HttpError(404, 'NOT_FOUND', `no job ${id}`, { hint: 'job ids are per API key; finished jobs are forgotten after a while (their files stay)' });
  return view;
}

/** `?wait=true`: 200 with the image, or the failure's status. */
function waitStatus(view: JobView): number {
  if (view.state === 'completed') return 200;
  if (view.state === 'cancelled') return 409;
  if (view.error?.code === 'NO_BACKEND' || view.error?.code === 'SERVER_UNREACHABLE') return 503;
  return 502;
}

/** Fastify's own errors (body too large, bad JSON, wrong content type) in our shape. */
function asComicError(error: FastifyError | ComicError): ComicError {
  if (isComicError(error)) return error;
  const status = error.statusCode ?? 500;
  if (status === 413) return new HttpError(413, 'REQUEST_TOO_LARGE', 'the request body is too large', { hint: 'see docs/serve.md for the limits' });
  if (status === 415) return new HttpError(415, 'REQUEST_INVALID', `unsupported content type`, { hint: 'send application/json (a script may also be YAML: application/yaml or text/plain)' });
  if (status >= 400 && status < 500) return new HttpError(status, 'REQUEST_INVALID', error.message);
  return new HttpError(500, 'INTERNAL', 'an internal error happened; it is in the server log');
}

function pathOf(request: FastifyRequest): string {
  return request.url.split('?')[0] ?? request.url;
}
