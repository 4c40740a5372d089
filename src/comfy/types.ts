/**
 * The types the ComfyUI client, the pool and their users share. Shapes of server answers
 * follow ../shared/comfyui-protocol.md (ComfyUI 0.8.0).
 */

/**
 * A credential: a plain string, or anything with `reveal()` (config's `Secret`, which prints
 * as "***" everywhere). Only the transport calls `reveal()`, where the value is sent.
 */
export type Credential = string | { reveal(): string };

/** How we authenticate to a server (or the proxy in front of it); applied to HTTP and the WebSocket handshake. */
export type ServerAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'bearer'; readonly token: Credential }
  | { readonly kind: 'basic'; readonly user: string; readonly password: Credential }
  | { readonly kind: 'query'; readonly name: string; readonly value: Credential };

export interface ServerOptions {
  /** http(s) origin plus an optional base path (e.g. https://gpu.example/comfy); `/api` is added unless it ends the path. */
  readonly url: string;
  /** Unique among the servers; used in events, reports and errors. */
  readonly name: string;
  /** Prompts in flight on this server, counting its own queue (2 = one running, one waiting). */
  readonly maxConcurrent: number;
  /** Extra headers for HTTP requests and the WebSocket handshake. */
  readonly headers: Readonly<Record<string, Credential>>;
  readonly auth: ServerAuth;
}

/** Wall-clock silence budgets and intervals, all in milliseconds. */
export interface Timeouts {
  /** One connection attempt: HTTP check plus WebSocket handshake. */
  readonly connect: number;
  /** One HTTP request until its whole answer is read (a total deadline, never restarted by bytes). */
  readonly request: number;
  /** One output download (GET /view), retries included, from the request to the last byte. */
  readonly download: number;
  /** A prompt waiting in the server queue with no sign of the queue moving. */
  readonly queue: number;
  /** From execution_start to the first node event (model loads happen here). */
  readonly start: number;
  /** Between two events of a running prompt. */
  readonly nodeSilence: number;
  /**
   * The reconnect grace: how long a server may stay unreachable (the socket retrying with
   * backoff) before it counts as down and its jobs are given up there.
   */
  readonly reconnect: number;
  /** The /history poll that runs beside the socket. */
  readonly poll: number;
  /** WebSocket ping interval, and how long a pong may take. */
  readonly ping: number;
  readonly pong: number;
  /** How long a cancel waits for our prompt to leave the server's queue. */
  readonly cancel: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = {
  connect: 30_000,
  request: 120_000,
  download: 120_000,
  queue: 30 * 60_000,
  start: 10 * 60_000,
  nodeSilence: 10 * 60_000,
  reconnect: 10_000,
  poll: 3_000,
  ping: 20_000,
  pong: 10_000,
  cancel: 15_000,
};

/** Byte caps on what a server may send us; a longer answer is cut off with a clear error. */
export interface Limits {
  /** One output file from GET /view (and one image from the SD API). */
  readonly imageBytes: number;
  /** One JSON answer (/object_info, /history, …), read as a stream that stops at the cap. */
  readonly jsonBytes: number;
}

export const DEFAULT_LIMITS: Limits = {
  imageBytes: 256 * 1024 * 1024,
  jsonBytes: 64 * 1024 * 1024,
};

/** `/free` policy (same shape as config's FreeMemoryPolicy). */
export type FreeMemoryPolicy =
  | { readonly kind: 'never' }
  | { readonly kind: 'between-scripts' }
  | { readonly kind: 'every-n-jobs'; readonly every: number };

/**
 * A prompt's `extra_data.preview_method`: whether ComfyUI sends sampler previews for it, and
 * how it makes them (`none` turns them off even on a server started with `--preview-method`).
 * Not sending one leaves it to the server's own `--preview-method` (off by default).
 */
export type PreviewMethod = 'auto' | 'latent2rgb' | 'taesd' | 'none';

/** One node of an API-format workflow (what POST /prompt takes). */
export interface ApiNode {
  readonly class_type: string;
  readonly inputs: Readonly<Record<string, unknown>>;
  readonly _meta?: { readonly title?: string };
}

export type ApiWorkflow = Readonly<Record<string, ApiNode>>;

/** A file a node wrote on the server, as `/history` and `executed` report it. */
export interface FileRef {
  readonly filename: string;
  readonly subfolder: string;
  readonly type: string;
}

/** A downloadable output: which node made it and under which ui key (images, gifs, audio, …). */
export interface OutputFile extends FileRef {
  readonly node: string;
  readonly key: string;
}

/** `/object_info`: node definitions by class name (loosely typed: only input specs are read). */
export type ObjectInfo = Readonly<Record<string, NodeDef>>;

export interface NodeDef {
  readonly input?: {
    readonly required?: Readonly<Record<string, unknown>>;
    readonly optional?: Readonly<Record<string, unknown>>;
  };
  readonly output_node?: boolean;
  readonly display_name?: string | null;
}

export interface VramReading {
  readonly server: string;
  /** Bytes. */
  readonly used: number;
  readonly total: number;
}

/** Where a prompt spent its time, from the server's own timestamps in history when it has them. */
export interface PromptTimings {
  /** From submission to execution_start. */
  readonly queuedMs: number;
  /** From execution_start to the end. */
  readonly runMs: number;
  /** Server clock, epoch ms (null when history has no timestamps). */
  readonly startedAt: number | null;
  readonly endedAt: number | null;
}
