/**
 * The draft backend: storyboard panels drawn locally with sharp, at the exact size a real
 * backend would be asked for, so layout and lettering can be worked on with no GPU and no
 * server. It is what a fresh machine renders with.
 */
import { cpus } from 'node:os';
import type { Backend, RenderOptions, RenderRequest, RenderResult } from '../types.js';
import { writeFileAtomic } from '../../util/fs.js';
import { renderDraftPanel } from './render.js';

export class DraftBackend implements Backend {
  readonly name = 'draft' as const;
  /** Drawing is CPU-bound: more at once than cores only adds memory. */
  readonly #slots = Math.max(1, cpus().length);
  #busy = 0;
  readonly #waiting: (() => void)[] = [];

  async ready(): Promise<void> {}

  async render(request: RenderRequest, { signal, onEvent }: RenderOptions): Promise<RenderResult> {
    const queuedAt = Date.now();
    await this.#acquire();
    try {
      signal.throwIfAborted();
      const startedAt = Date.now();
      onEvent({ type: 'started', jobId: request.jobId, server: 'local' });
      const { shot, params } = request;
      const png = await renderDraftPanel({
        width: Number(params.width),
        height: Number(params.height),
        title: shot.title,
        prompt: shot.summary,
        characters: shot.subjects,
        camera: shot.camera,
        pose: shot.pose,
        dialogue: shot.dialogue,
        seed: Number(params.seed ?? 0),
      });
      await writeFileAtomic(request.outputPath, png);
      return {
        jobId: request.jobId,
        backend: 'draft',
        server: null,
        outputPath: request.outputPath,
        // A storyboard honours no model parameter, and says so only once per run, not per image.
        dropped: [],
        timings: { queuedMs: startedAt - queuedAt, runMs: Date.now() - startedAt },
      };
    } finally {
      this.#release();
    }
  }

  async close(): Promise<void> {}

  async #acquire(): Promise<void> {
    if (this.#busy < this.#slots) {
      this.#busy++;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#busy--;
  }
}
