/**
 * What coordinators and workers say to each other through Redis: the job payload, the
 * result record, progress messages and failures, each with a zod schema checked where it is
 * read (a worker of another version, or a stray publisher, is caught at the edge), plus the
 * names of every Redis key and channel. Bump WIRE_VERSION when a shape changes.
 */
import { z } from 'zod';
import type { BackendName, RenderEvent, Shot } from '../backends/types.js';
import { ComicError, ErrorCodes, type ErrorCode } from '../errors.js';

export const WIRE_VERSION = 1;

/** BullMQ's key prefix: its keys are `comic-queue:<queue>:…`. */
export const BULLMQ_PREFIX = 'comic-queue';

/** Our own keys and channels, apart from BullMQ's. */
export const names = {
  blob: (queue: string, kind: string, name: string) => `comic-store:${queue}:${kind}:${name}`,
  cancelMark: (queue: string, key: string) => `comic-store:${queue}:cancel:${key}`,
  /** A list of the ComfyUI prompts workers sent for a key (JSON {server, promptId}), so a worker taking over a stalled job adopts them. */
  prompts: (queue: string, key: string) => `comic-store:${queue}:prompts:${key}`,
  events: (queue: string) => `comic-events:${queue}`,
  cancel: (queue: string) => `comic-cancel:${queue}`,
};

const Hex64 = z.string().regex(/^[0-9a-f]{64}$/);
/** The backends a worker renders with. */
export const WORKER_BACKENDS = ['comfyui', 'sdapi', 'draft'] as const satisfies readonly BackendName[];
export type WorkerBackend = (typeof WORKER_BACKENDS)[number];
export const isWorkerBackend = (name: string): name is WorkerBackend => (WORKER_BACKENDS as readonly string[]).includes(name);
const Backend = z.enum(WORKER_BACKENDS);

/** One render on the queue; the BullMQ job id is the content key. */
export const QueuedRender = z.object({
  v: z.literal(WIRE_VERSION),
  /** The coordinator's job id (e.g. "panel:2-3"), for the worker's log. */
  jobId: z.string(),
  template: z.object({ id: z.string(), version: z.string(), digest: z.string() }),
  params: z.record(z.string(), z.unknown()),
  inputs: z.array(z.object({ param: z.string(), sha256: Hex64, ext: z.string().regex(/^(\.[A-Za-z0-9]{1,8})?$/) })),
  shot: z.object({
    title: z.string(),
    summary: z.string(),
    subjects: z.array(z.string()),
    camera: z.string().nullable(),
    pose: z.string().nullable(),
    dialogue: z.string().nullable(),
  }) satisfies z.ZodType<Shot>,
});
export type QueuedRender = z.output<typeof QueuedRender>;

/** Stored beside each result image, and the BullMQ job's return value. */
export const ResultMeta = z.object({
  v: z.literal(WIRE_VERSION),
  key: Hex64,
  backend: Backend,
  /** The worker's server (e.g. "127.0.0.1:8188"), or null for the draft backend. */
  server: z.string().nullable(),
  worker: z.string(),
  dropped: z.array(z.string()),
  timings: z.object({ queuedMs: z.number(), runMs: z.number() }),
  /** Where the worker put the image, so a coordinator reading another store can say so. */
  store: z.string(),
});
export type ResultMeta = z.output<typeof ResultMeta>;

/** How a participant is named in events: "worker/server", or the worker alone. */
export function serverLabel(worker: string, server: string | null): string {
  return server === null || server === 'local' ? worker : `${worker}/${server}`;
}

// --- Progress: RenderEvents published by workers, with preview bytes as base64 ------------

const Base = { jobId: z.string(), server: z.string() };
const WireEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('queued'), ...Base, position: z.number() }),
  z.object({ type: z.literal('started'), ...Base }),
  z.object({ type: z.literal('node'), ...Base, node: z.string(), title: z.string(), classType: z.string() }),
  z.object({ type: z.literal('progress'), ...Base, node: z.string(), value: z.number(), max: z.number() }),
  z.object({ type: z.literal('preview'), ...Base, mime: z.string(), base64: z.string() }),
  z.object({ type: z.literal('cached'), ...Base, nodes: z.array(z.string()) }),
  z.object({ type: z.literal('retry'), ...Base, attempt: z.number(), reason: z.string() }),
  z.object({ type: z.literal('server'), server: z.string(), state: z.enum(['up', 'down']), reason: z.string() }),
  z.object({ type: z.literal('vram'), server: z.string(), used: z.number(), total: z.number() }),
]);

export const WorkerMessage = z.object({ v: z.literal(WIRE_VERSION), key: Hex64, worker: z.string(), backend: Backend, event: WireEvent });
export type WorkerMessage = z.output<typeof WorkerMessage>;

export function encodeMessage(key: string, worker: string, backend: BackendName, event: RenderEvent): string {
  const wire = event.type === 'preview' ? { ...event, bytes: undefined, base64: Buffer.from(event.bytes).toString('base64') } : event;
  return JSON.stringify({ v: WIRE_VERSION, key, worker, backend, event: wire });
}

/** A worker's event as the coordinator forwards it: servers named after their worker. */
export function decodeMessage(text: string): { key: string; backend: BackendName; event: RenderEvent } | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = WorkerMessage.safeParse(json);
  if (!parsed.success) return null;
  const { key, worker, backend, event } = parsed.data;
  const server = serverLabel(worker, event.server);
  if (event.type === 'preview') {
    const { base64, ...rest } = event;
    return { key, backend, event: { ...rest, server, bytes: new Uint8Array(Buffer.from(base64, 'base64')) } };
  }
  return { key, backend, event: { ...event, server } };
}

// --- Failures: a job's failedReason carries the ComicError across ----------------------

export function encodeFailure(error: ComicError): string {
  return JSON.stringify({ code: error.code, message: error.message, ...(error.hint !== undefined && { hint: error.hint }) });
}

const Failure = z.object({ code: z.string(), message: z.string(), hint: z.string().optional() });

/** The ComicError a failed job stands for; BullMQ's own reasons (too many stalls) become JOB_LOST. */
export function decodeFailure(reason: string | undefined, where: string): ComicError {
  let json: unknown = null;
  try {
    json = JSON.parse(reason ?? '');
  } catch {
    // not one of ours: BullMQ's own text
  }
  const parsed = Failure.safeParse(json);
  if (parsed.success && parsed.data.code in ErrorCodes) {
    const { code, message, hint } = parsed.data;
    return new ComicError(code as ErrorCode, message, hint === undefined ? {} : { hint });
  }
  return new ComicError('JOB_LOST', `the job failed on ${where}: ${reason ?? 'no reason given'}`, {
    hint: 'a worker kept dying while rendering it (see `comic queue status`); run again to queue it anew',
  });
}
