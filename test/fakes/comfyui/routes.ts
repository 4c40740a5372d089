/**
 * The HTTP routes of ComfyUI's server.py (0.8.0, and 0.28.0 where the core's profile says so) that a headless client uses, with the real
 * status codes, content types and body shapes (JSON via Python's json.dumps; empty 200s as
 * application/octet-stream; crashes as aiohttp's text/plain 500).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import path from 'node:path';
import { MODEL_FOLDERS, type JsonObject } from './catalogue.js';
import type { EmulatorCore } from './core.js';
import { recode, type ViewChannel } from './images.js';
import { findJob, listJobs, parseJobQuery, type JobSources } from './jobs.js';
import { PyError, pyBool, pyInt, pyTypeName } from './python.js';
import { toWire } from './queue.js';
import { isPlainObject } from './validate.js';
import { isInside } from './workspace.js';
import { CANONICAL_UUID } from './profile.js';

export type Reply =
  | { readonly kind: 'json'; readonly status: number; readonly body: unknown }
  /** JSON already serialised (Python style). */
  | { readonly kind: 'jsonText'; readonly status: number; readonly text: string }
  | { readonly kind: 'empty'; readonly status: number }
  | { readonly kind: 'text'; readonly status: number; readonly text: string }
  | { readonly kind: 'bytes'; readonly status: number; readonly body: Buffer; readonly contentType: string; readonly headers?: Record<string, string> };

export interface RouteRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: IncomingHttpHeaders;
  body(): Promise<Buffer>;
}

type Handler = (core: EmulatorCore, req: RouteRequest, params: Record<string, string>) => Reply | Promise<Reply>;

interface Route {
  readonly method: 'GET' | 'POST';
  readonly pattern: RegExp;
  readonly handler: Handler;
}

/** aiohttp's answer when a handler raises. */
export const INTERNAL_ERROR_TEXT = '500 Internal Server Error\n\nServer got itself in trouble';

/** aiohttp's answer for a path no route has. */
const NO_ROUTE: Reply = { kind: 'text', status: 404, text: '404: Not Found' };
const json = (body: unknown, status = 200): Reply => ({ kind: 'json', status, body });
const empty = (status = 200): Reply => ({ kind: 'empty', status });

/** await request.json(): a body that does not parse is a JSONDecodeError, i.e. a 500. */
async function bodyJson(req: RouteRequest): Promise<unknown> {
  const text = (await req.body()).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new PyError('JSONDecodeError', 'Expecting value: line 1 column 1 (char 0)');
  }
}

function objectBody(value: unknown): JsonObject {
  if (isPlainObject(value)) return value;
  throw new PyError('AttributeError', `'${pyTypeName(value)}' object has no attribute 'get'`);
}

function iterate(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (typeof value === 'string') return [...value];
  if (isPlainObject(value)) return Object.keys(value);
  throw new PyError('TypeError', `'${pyTypeName(value)}' object is not iterable`);
}

const MIME: Readonly<Record<string, string>> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.bmp': 'image/bmp',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.mp3': 'audio/mpeg',
  '.wav': 'audio/x-wav',
  '.flac': 'audio/flac',
  '.json': 'application/json',
  '.txt': 'text/plain',
};

function view(core: EmulatorCore, req: RouteRequest): Promise<Reply> | Reply {
  const query = req.url.searchParams;
  const requested = query.get('filename');
  if (requested === null) return empty(404);
  const annotated = core.workspace.annotated(requested);
  if (annotated.name === '') return empty(400);
  if (annotated.name.startsWith('/') || annotated.name.includes('..')) return empty(400);
  let dir = annotated.dir ?? core.workspace.dirFor(query.get('type') ?? 'output');
  if (dir === undefined) return empty(400);
  const subfolder = query.get('subfolder');
  if (subfolder !== null) {
    const full = path.resolve(dir, subfolder);
    if (!isInside(dir, full)) return empty(403);
    dir = full;
  }
  const name = path.basename(annotated.name);
  const file = path.join(dir, name);
  if (!existsSync(file) || !statSync(file).isFile()) return empty(404);
  const headers: Record<string, string> = { 'Content-Disposition': `filename="${name}"` };
  const nosniff = core.profile.viewNosniff;
  const previewParam = query.get('preview');
  const channel = (query.get('channel') ?? 'rgba') as ViewChannel;
  return (async (): Promise<Reply> => {
    if (previewParam !== null) {
      const parts = previewParam.split(';');
      // Anything but jpeg, or any channel containing "a" (rgba included), gives webp.
      const format = parts[0] === 'jpeg' && !(query.get('channel') ?? '').includes('a') ? 'jpeg' : 'webp';
      const last = parts[parts.length - 1] ?? '';
      const quality = /^\d+$/.test(last) ? Number(last) : 90;
      const body = await recode(file, { format, quality: Math.min(100, Math.max(1, quality)) }, channel);
      return { kind: 'bytes', status: 200, body, contentType: `image/${format}`, headers };
    }
    if (channel === 'rgb' || channel === 'a') {
      return { kind: 'bytes', status: 200, body: await recode(file, undefined, channel), contentType: 'image/png', headers };
    }
    const ext = path.extname(name).toLowerCase();
    const active = ['.html', '.htm', '.js', '.css'].includes(ext) || (nosniff && ['.svg', '.xml', '.xhtml', '.mjs'].includes(ext));
    const contentType = active ? 'application/octet-stream' : MIME[ext] ?? 'application/octet-stream';
    // 0.28.0: the file as it is gets nosniff, and active content is served as a download.
    const fileHeaders = nosniff
      ? { 'Content-Disposition': active ? `attachment; filename="${name}"` : `filename="${name}"`, 'X-Content-Type-Options': 'nosniff' }
      : headers;
    return { kind: 'bytes', status: 200, body: await readFile(file), contentType, headers: fileHeaders };
  })();
}

async function uploadImage(core: EmulatorCore, req: RouteRequest): Promise<Reply> {
  const contentType = req.headers['content-type'] ?? '';
  if (!contentType.toLowerCase().startsWith('multipart/form-data')) return empty(400);
  let form: FormData;
  try {
    form = await new Response(await req.body(), { headers: { 'content-type': contentType } }).formData();
  } catch {
    throw new PyError('ValueError', 'malformed multipart body');
  }
  const type = form.get('type');
  const uploadType = typeof type === 'string' ? type : 'input';
  const dir = core.workspace.dirFor(uploadType);
  // An unknown type leaves the folder unset in the real handler: UnboundLocalError, a 500.
  if (dir === undefined) throw new PyError('UnboundLocalError', "cannot access local variable 'type_dir' where it is not associated with a value");
  const image = form.get('image');
  if (image === null) return empty(400);
  if (typeof image === 'string') throw new PyError('AttributeError', "'str' object has no attribute 'file'");
  let filename = image.name;
  if (filename === '') return empty(400);
  const subfolderField = form.get('subfolder');
  const subfolder = typeof subfolderField === 'string' ? subfolderField : '';
  const folder = path.resolve(dir, path.posix.normalize(subfolder === '' ? '.' : subfolder));
  let target = path.resolve(folder, filename);
  if (!isInside(dir, target)) return empty(400);
  mkdirSync(folder, { recursive: true });
  const bytes = Buffer.from(await image.arrayBuffer());
  const overwrite = form.get('overwrite');
  let duplicate = false;
  if (overwrite !== 'true' && overwrite !== '1') {
    const ext = path.extname(filename);
    const stem = filename.slice(0, filename.length - ext.length);
    const digest = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
    for (let i = 1; existsSync(target); i += 1) {
      if (digest(await readFile(target)) === digest(bytes)) {
        duplicate = true;
        break;
      }
      filename = `${stem} (${i})${ext}`;
      target = path.join(folder, filename);
    }
  }
  if (!duplicate) await writeFile(target, bytes);
  if (core.profile.assets) core.seedAssets();
  return json({ name: filename, subfolder, type: uploadType });
}

function systemStats(core: EmulatorCore, port: number): JsonObject {
  const total = core.vram.total;
  const used = core.vram.used();
  return {
    system: {
      os: 'linux',
      ram_total: 68_719_476_736,
      ram_free: 60_129_542_144,
      comfyui_version: core.profile.version,
      required_frontend_version: core.profile.system.frontend,
      installed_templates_version: null,
      required_templates_version: core.profile.system.templates,
      ...(core.profile.name === '0.8' ? {} : { comfy_package_versions: core.profile.system.extra.comfy_package_versions }),
      python_version: '3.11.2 (main, Apr 28 2025, 14:11:48) [GCC 12.2.0]',
      pytorch_version: '2.5.1+cu124',
      embedded_python: false,
      ...(core.profile.name === '0.8' ? {} : { deploy_environment: core.profile.system.extra.deploy_environment }),
      argv: ['main.py', '--listen', '127.0.0.1', '--port', String(port)],
    },
    devices: [
      {
        name: 'cuda:0 ComfyUI emulator (simulated GPU) : cudaMallocAsync',
        type: 'cuda',
        index: 0,
        vram_total: total,
        vram_free: total - used,
        torch_vram_total: used,
        torch_vram_free: 0,
      },
    ],
  };
}

const ROUTES_0_28 = new URL('../../fixtures/comfyui/traces/0.28/GET_routes.json', import.meta.url);
let replacements: unknown;
/** 0.28.0's GET /node_replacements: the deprecated core classes it rewrites (as recorded). */
function nodeReplacements(): unknown {
  replacements ??= (JSON.parse(readFileSync(ROUTES_0_28, 'utf8')) as Record<string, { json: unknown }>)['/node_replacements']?.json ?? {};
  return replacements;
}

function jobSources(core: EmulatorCore): JobSources {
  return { running: core.queue.running(), pending: core.queue.pending(), history: core.queue.history, interruptedStatus: core.profile.jobs.interruptedStatus };
}

function historyQuery(params: URLSearchParams): { maxItems: number | undefined; offset: number } {
  const maxItems = params.get('max_items');
  const offset = params.get('offset');
  return { maxItems: maxItems === null ? undefined : pyInt(maxItems), offset: offset === null ? -1 : pyInt(offset) };
}

function route(method: 'GET' | 'POST', template: string, handler: Handler): Route {
  const pattern = new RegExp(`^${template.replace(/\{(\w+)\}/g, '(?<$1>[^/]+)')}$`);
  return { method, pattern, handler };
}

export function buildRoutes(port: () => number): Route[] {
  return [
    route('GET', '/', () => ({ kind: 'bytes', status: 200, body: Buffer.from('<!doctype html><title>ComfyUI emulator</title>'), contentType: 'text/html' })),
    route('GET', '/ws', () => ({ kind: 'text', status: 400, text: 'No WebSocket UPGRADE hdr: None\n Can "Upgrade" only to "WebSocket".' })),
    route('GET', '/embeddings', (core) => json((core.models.embeddings ?? []).map((f) => f.replace(/\.[^.]+$/, '')))),
    route('GET', '/models', (core) => json([...new Set([...MODEL_FOLDERS, ...Object.keys(core.models)])])),
    route('GET', '/models/{folder}', (core, _req, { folder }) => {
      const files = folder === undefined ? undefined : core.models[decodeURIComponent(folder)];
      return files === undefined ? empty(404) : json(files);
    }),
    route('GET', '/extensions', () => json([])),
    route('GET', '/features', (core) => json(core.profile.features)),
    route('GET', '/system_stats', (core) => json(systemStats(core, port()))),
    route('GET', '/object_info', (core) => ({ kind: 'jsonText', status: 200, text: core.catalogue.objectInfoText() })),
    route('GET', '/object_info/{nodeClass}', (core, _req, { nodeClass }) => {
      const name = decodeURIComponent(nodeClass ?? '');
      const all = core.catalogue.objectInfo();
      return json(Object.hasOwn(all, name) ? { [name]: all[name] } : {});
    }),
    route('GET', '/prompt', (core) => json({ exec_info: { queue_remaining: core.queue.remaining() } })),
    route('POST', '/prompt', async (core, req) => {
      const answer = core.submit(await bodyJson(req));
      return json(answer.body, answer.status);
    }),
    route('GET', '/queue', (core) => {
      const running = core.queue.running();
      return json({ queue_running: running === undefined ? [] : [toWire(running)], queue_pending: core.queue.pending().map(toWire) });
    }),
    route('POST', '/queue', async (core, req) => {
      const body = objectBody(await bodyJson(req));
      if (Object.hasOwn(body, 'clear') && pyBool(body.clear)) core.queue.wipe();
      if (Object.hasOwn(body, 'delete')) for (const id of iterate(body.delete)) core.queue.delete(id);
      return empty();
    }),
    route('POST', '/interrupt', async (core, req) => {
      // Always a 200: a body that is not a JSON object counts as no body (a global interrupt).
      const body = await bodyJson(req).catch(() => undefined);
      core.interrupt(isPlainObject(body) ? body.prompt_id : undefined);
      return empty();
    }),
    route('POST', '/free', async (core, req) => {
      const body = objectBody(await bodyJson(req));
      core.queue.setFlags({ unloadModels: pyBool(body.unload_models), freeMemory: pyBool(body.free_memory) });
      return empty();
    }),
    route('GET', '/history', (core, req) => {
      const { maxItems, offset } = historyQuery(req.url.searchParams);
      return json(Object.fromEntries(core.queue.historySlice(maxItems, offset)));
    }),
    route('GET', '/history/{promptId}', (core, _req, { promptId }) => {
      const id = decodeURIComponent(promptId ?? '');
      const entry = core.queue.history.get(id);
      return json(entry === undefined ? {} : { [id]: entry });
    }),
    route('POST', '/history', async (core, req) => {
      const body = objectBody(await bodyJson(req));
      if (Object.hasOwn(body, 'clear') && pyBool(body.clear)) core.queue.clearHistory();
      if (Object.hasOwn(body, 'delete')) for (const id of iterate(body.delete)) core.queue.deleteHistory(id);
      return empty();
    }),
    route('GET', '/api/jobs', (core, req) => {
      if (!core.profile.jobsApi) return NO_ROUTE;
      const query = parseJobQuery(req.url.searchParams, core.profile);
      if (typeof query === 'string') return json({ error: query }, 400);
      const { jobs, total } = listJobs(jobSources(core), query);
      return json({ jobs, pagination: { offset: query.offset, limit: query.limit ?? null, total, has_more: query.offset + jobs.length < total } });
    }),
    route('GET', '/api/jobs/{jobId}', (core, _req, { jobId }) => {
      if (!core.profile.jobsApi) return NO_ROUTE;
      const job = findJob(jobSources(core), decodeURIComponent(jobId ?? ''));
      return job === undefined ? json({ error: 'Job not found' }, 404) : json(job);
    }),
    // 0.28.0 (comfy_api_nodes-free server.py): cancel one job or several; a pending job leaves the
    // queue (and never reaches history), the running one is interrupted and ends as "cancelled".
    route('POST', '/api/jobs/{jobId}/cancel', (core, _req, { jobId }) => {
      // 0.8.0 has no such route (its GET /api/jobs/{job_id} takes no second segment).
      if (!core.profile.jobs.cancelRoutes) return NO_ROUTE;
      return json({ cancelled: core.cancel(decodeURIComponent(jobId ?? '')) });
    }),
    route('POST', '/api/jobs/cancel', async (core, req) => {
      // 0.8.0: the path is its GET /api/jobs/{job_id}, so a POST is a 405.
      if (!core.profile.jobs.cancelRoutes) return core.profile.jobsApi ? { kind: 'text', status: 405, text: '405: Method Not Allowed' } : NO_ROUTE;
      let body: unknown;
      try {
        body = JSON.parse((await req.body()).toString('utf8'));
      } catch {
        return json({ error: 'Request body must be valid JSON' }, 400);
      }
      const ids = isPlainObject(body) ? body.job_ids : undefined;
      if (!Array.isArray(ids)) return json({ error: 'job_ids must be a list' }, 400);
      const invalid = ids.filter((id) => typeof id !== 'string' || !CANONICAL_UUID.test(id)).map((id) => (typeof id === 'string' ? id : JSON.stringify(id)));
      if (invalid.length > 0) return json({ error: 'job_ids contains invalid id(s)', invalid_ids: invalid }, 400);
      let cancelled = false;
      for (const id of ids as string[]) cancelled = core.cancel(id) || cancelled;
      return json({ cancelled });
    }),
    route('GET', '/node_replacements', (core) => (core.profile.nodeReplacements ? json(nodeReplacements()) : { kind: 'text', status: 404, text: '404: Not Found' })),
    route('GET', '/view', view),
    route('POST', '/upload/image', uploadImage),
  ];
}

export type RouteMatch = { readonly route: Route; readonly params: Record<string, string> } | 'not_found' | 'method_not_allowed';

/** Every route answers at /X and /api/X (jobs is declared as /api/jobs, so it needs the prefix). */
export function matchRoute(routes: readonly Route[], method: string, pathname: string): RouteMatch {
  const candidates = pathname.startsWith('/api/') ? [pathname, pathname.slice(4)] : [pathname];
  let pathKnown = false;
  for (const candidate of candidates) {
    for (const r of routes) {
      const m = r.pattern.exec(candidate);
      if (m === null) continue;
      pathKnown = true;
      if (r.method === method || (r.method === 'GET' && method === 'HEAD')) return { route: r, params: { ...m.groups } };
    }
  }
  return pathKnown ? 'method_not_allowed' : 'not_found';
}
