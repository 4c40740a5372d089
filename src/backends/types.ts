/**
 * The contract between the scheduler and the image backends (comfyui, sdapi, draft).
 * A backend knows nothing of comics: it gets a template, parameter values and input files,
 * and writes one image to the path it is given.
 */

import type { Template } from '../templates/index.js';

export interface RenderInput {
  /** The template parameter this file feeds (e.g. "reference"). */
  readonly param: string;
  /** Absolute path of the image file on this machine. */
  readonly file: string;
  /** sha256 of the file's bytes: uploads are deduplicated per server by it. */
  readonly sha256: string;
  /** What the image shows, for reports: "character mara", "background harbour". */
  readonly what?: string;
}

export interface RenderRequest {
  /** The job id (e.g. "panel:2-3"); every event about this request carries it. */
  readonly jobId: string;
  /**
   * The job's content key: equal keys mean identical images, so a backend may use it to
   * deduplicate (a distributed queue never queues one key twice).
   */
  readonly key: string;
  /** The template to render: ComfyUI builds its workflow, the SD API follows its `sdapi` mapping. */
  readonly template: Template;
  /** Parameter values by name, already merged and checked (positive, negative, seed, width, height, …). */
  readonly params: Readonly<Record<string, unknown>>;
  readonly inputs: readonly RenderInput[];
  /** What the image shows, in words: for logs, and for the draft backend's storyboard. */
  readonly shot: Shot;
  /** Where the finished image goes; written atomically. The backend never chooses the name. */
  readonly outputPath: string;
  /**
   * Prompts an earlier run sent for this same key (it crashed or was killed): a backend with
   * server-side queues takes them over instead of rendering the image again.
   */
  readonly prior?: readonly SentPrompt[];
}

/** A prompt handed to a server, by the server's name and the prompt's id there. */
export interface SentPrompt {
  readonly server: string;
  readonly promptId: string;
}

/** A shot described for people: the draft backend draws it, logs name it. */
export interface Shot {
  /** E.g. "Panel 2-3" or "Sheet: Mara". */
  readonly title: string;
  /** The scene in one sentence (the script's own prompt, without the style boilerplate). */
  readonly summary: string;
  /** Who is in it, left to right. */
  readonly subjects: readonly string[];
  readonly camera: string | null;
  readonly pose: string | null;
  /** A one-line summary of what is said, if anything. */
  readonly dialogue: string | null;
}

export interface RenderResult {
  readonly jobId: string;
  /** Which backend and server made it, for the report. */
  readonly backend: BackendName;
  readonly server: string | null;
  readonly outputPath: string;
  /** Parameters the backend could not honour (e.g. a reference image on a txt2img-only fallback). */
  readonly dropped: readonly string[];
  readonly timings: { readonly queuedMs: number; readonly runMs: number };
}

/** 'cache' is `comic compose`: it renders nothing and only serves what is cached. */
export type BackendName = 'comfyui' | 'sdapi' | 'draft' | 'cache';

/** What a backend reports while it works: one closed union, matched with `switch (event.type)`. */
/** A server's reachability; `reconnecting`: its connection was lost and is retried within the reconnect grace. */
export type ServerState = 'up' | 'reconnecting' | 'down';

export type RenderEvent =
  | { readonly type: 'queued'; readonly jobId: string; readonly server: string; readonly position: number }
  | { readonly type: 'started'; readonly jobId: string; readonly server: string }
  | { readonly type: 'node'; readonly jobId: string; readonly server: string; readonly node: string; readonly title: string; readonly classType: string }
  | { readonly type: 'progress'; readonly jobId: string; readonly server: string; readonly node: string; readonly value: number; readonly max: number }
  | { readonly type: 'preview'; readonly jobId: string; readonly server: string; readonly mime: string; readonly bytes: Uint8Array }
  | { readonly type: 'cached'; readonly jobId: string; readonly server: string; readonly nodes: readonly string[] }
  | { readonly type: 'retry'; readonly jobId: string; readonly server: string; readonly attempt: number; readonly reason: string }
  | { readonly type: 'server'; readonly server: string; readonly state: ServerState; readonly reason: string }
  | { readonly type: 'vram'; readonly server: string; readonly used: number; readonly total: number };

export interface RenderOptions {
  readonly signal: AbortSignal;
  readonly onEvent: (event: RenderEvent) => void;
  /** Awaited before each prompt is sent, so the caller can record it durably first (see `prior`). */
  readonly onSubmit?: (sent: SentPrompt) => Promise<void>;
}

export interface Backend {
  readonly name: BackendName;
  /** Resolves when the backend can take work; rejects with a ComicError saying why not. */
  ready(signal: AbortSignal): Promise<void>;
  /** Renders one image. Rejects with a ComicError; aborting the signal cancels remote work. */
  render(request: RenderRequest, options: RenderOptions): Promise<RenderResult>;
  /**
   * The run's work is done: apply the `freeMemory: between-scripts` policy and take the
   * closing VRAM reading (as `vram` events). Backends with no GPU memory to manage omit it.
   */
  endBatch?(signal: AbortSignal): Promise<void>;
  /** Releases sockets and servers; idempotent. */
  close(): Promise<void>;
}
