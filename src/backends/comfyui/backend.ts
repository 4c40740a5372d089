/**
 * The ComfyUI backend: the Backend contract on top of the server pool. For each request it
 * builds the template's workflow per server (model names resolved against that server's
 * lists, uploaded reference images by the names that server gave them), preflights it
 * there, and downloads the result to the path the scheduler chose.
 */
import { ComicError } from '../../errors.js';
import {
  ComfyPool,
  type ApiWorkflow,
  type CompletedPrompt,
  type OutputFile,
  type PoolEvent,
  type PoolOptions,
  type PrepareTarget,
  type ServerOptions,
  type VramReading,
} from '../../comfy/index.js';
import { imageProblem } from '../../util/image-check.js';
import { buildWorkflow, preflight, preflightError, type ObjectInfo as TemplateObjectInfo } from '../../templates/index.js';
import type { Backend, RenderEvent, RenderOptions, RenderRequest, RenderResult } from '../types.js';

export interface ComfyBackendOptions {
  readonly servers: readonly ServerOptions[];
  readonly pool?: PoolOptions;
  /**
   * Events that belong to no single render (servers going up or down, VRAM readings). When
   * absent they go to the most recent render still in progress, if any.
   */
  readonly onEvent?: (event: RenderEvent) => void;
}

const IMAGE_FILE = /\.(png|jpe?g|webp)$/i;

export function createComfyBackend(options: ComfyBackendOptions): ComfyBackend {
  return new ComfyBackend(options);
}

export class ComfyBackend implements Backend {
  readonly name = 'comfyui' as const;
  readonly pool: ComfyPool;
  /** onEvent of renders in progress, newest last: a home for pool-wide events when no listener was given. */
  readonly #active: ((event: RenderEvent) => void)[] = [];

  constructor(private readonly options: ComfyBackendOptions) {
    this.pool = new ComfyPool(options.servers, options.pool);
    this.pool.on((event) => this.#poolEvent(event));
  }

  /**
   * Resolves once a server can take work (the others join as they answer; each one's VRAM
   * is read as it joins, the "before" of the batch). Rejects with NO_BACKEND when none answers.
   */
  ready(signal: AbortSignal): Promise<void> {
    return this.pool.start(signal);
  }

  async render(request: RenderRequest, options: RenderOptions): Promise<RenderResult> {
    const { signal, onEvent } = options;
    this.#active.push(onEvent);
    try {
      const done = await this.pool.run(
        {
          id: request.jobId,
          inputs: request.inputs,
          prepare: (target) => prepareWorkflow(request, target),
          collect: (completed, collectSignal) => collectImage(request, completed, collectSignal),
          // The last prompt an earlier run sent to each server.
          prior: new Map((request.prior ?? []).map((sent) => [sent.server, sent.promptId])),
          ...(options.onSubmit && { beforeSubmit: options.onSubmit }),
        },
        { signal, onEvent: (event) => forward(request.jobId, event, onEvent) },
      );
      return {
        jobId: request.jobId,
        backend: 'comfyui',
        server: done.server,
        outputPath: request.outputPath,
        dropped: [],
        timings: { queuedMs: done.timings.queuedMs, runMs: done.timings.runMs },
      };
    } finally {
      this.#active.splice(this.#active.lastIndexOf(onEvent), 1);
    }
  }

  /** VRAM of every reachable server, also emitted as `vram` events. */
  vram(signal: AbortSignal): Promise<VramReading[]> {
    return this.pool.vram(signal);
  }

  /** Call between two scripts of one run: applies `freeMemory: between-scripts`, then reads VRAM. */
  endScript(signal: AbortSignal): Promise<VramReading[]> {
    return this.pool.endScript(signal);
  }

  async endBatch(signal: AbortSignal): Promise<void> {
    await this.pool.endScript(signal);
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  #poolEvent(event: PoolEvent): void {
    if (event.type !== 'server' && event.type !== 'vram') return;
    const sink = this.options.onEvent ?? this.#active.at(-1);
    sink?.(event);
  }
}

/** The template's workflow for one server: inputs by their uploaded names, models resolved there, preflighted. */
function prepareWorkflow(request: RenderRequest, target: PrepareTarget): ApiWorkflow {
  const params: Record<string, unknown> = { ...request.params };
  for (const input of request.inputs) params[input.param] = target.uploads[input.param];
  const server = target.server.url;
  // The pool checked the shape of /object_info at the edge; the template layer reads the same JSON.
  const objectInfo = target.objectInfo as TemplateObjectInfo;
  const workflow = buildWorkflow(request.template, params, { objectInfo, server });
  const problems = preflight(workflow, objectInfo, { server });
  if (problems.length > 0) throw preflightError(problems, server);
  return workflow;
}

/** Downloads the template's result image to the scheduler's path and checks that it decodes to the last pixel. */
async function collectImage(request: RenderRequest, done: CompletedPrompt, signal: AbortSignal): Promise<void> {
  const output = pickOutput(done.result.outputs, request.template.targets.outputs);
  if (output === undefined) {
    throw new ComicError('JOB_FAILED', `job ${request.jobId}: the workflow of template ${request.template.id} finished on server ${done.client.label} without an image`, {
      hint: `check the template's outputs (${request.template.targets.outputs.join(', ')}): they must be SaveImage or PreviewImage nodes`,
    });
  }
  await done.client.download(output, request.outputPath, signal);
  // Decoded whole, not only its header: a PNG cut off halfway has a good one.
  const problem = await imageProblem(request.outputPath);
  if (problem !== null) {
    throw new ComicError('SERVER_PROTOCOL', `server ${done.client.label} sent ${JSON.stringify(output.filename)} for job ${request.jobId}, which is not a readable image: ${problem}`);
  }
}

/** The first image of the template's output nodes (in their order), else the first image at all. */
export function pickOutput(outputs: readonly OutputFile[], outputNodes: readonly string[]): OutputFile | undefined {
  const images = outputs.filter((o) => IMAGE_FILE.test(o.filename));
  for (const node of outputNodes) {
    const found = images.find((o) => o.node === node);
    if (found !== undefined) return found;
  }
  return images[0];
}

function forward(jobId: string, event: PoolEvent, onEvent: (event: RenderEvent) => void): void {
  switch (event.type) {
    case 'retry':
      onEvent({ type: 'retry', jobId, server: event.server, attempt: event.attempt, reason: event.reason });
      return;
    case 'server':
    case 'vram':
      return; // pool-wide: delivered through #poolEvent, never per run
    case 'job': {
      const server = event.server;
      const e = event.event;
      switch (e.type) {
        case 'queued':
          onEvent({ type: 'queued', jobId, server, position: e.position });
          return;
        case 'started':
          onEvent({ type: 'started', jobId, server });
          return;
        case 'node':
          onEvent({ type: 'node', jobId, server, node: e.node, title: e.title, classType: e.classType });
          return;
        case 'progress':
          onEvent({ type: 'progress', jobId, server, node: e.node, value: e.value, max: e.max });
          return;
        case 'preview':
          onEvent({ type: 'preview', jobId, server, mime: e.mime, bytes: e.bytes });
          return;
        case 'cached':
          onEvent({ type: 'cached', jobId, server, nodes: e.nodes });
          return;
        case 'completed':
        case 'failed':
        case 'interrupted':
          // The render's promise reports the outcome; a failed attempt that is retried shows up as `retry`.
          return;
      }
    }
  }
}
