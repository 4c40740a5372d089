/** Shared pieces of the ComfyUI client and pool tests: server options, fast budgets, a small workflow. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApiWorkflow, ServerOptions, Timeouts } from '../../src/comfy/types.js';
import type { ComfyEmulator } from '../fakes/comfyui/index.js';

/** Budgets small enough for tests, large enough never to fire by accident on a loaded CI machine. */
export const FAST: Partial<Timeouts> = {
  connect: 5_000,
  request: 10_000,
  poll: 150,
  reconnect: 5_000,
  cancel: 5_000,
  ping: 2_000,
  pong: 2_000,
};

export function serverOf(emulator: ComfyEmulator, name: string, extra: Partial<ServerOptions> = {}): ServerOptions {
  return { url: emulator.url, name, maxConcurrent: 2, headers: {}, auth: { kind: 'none' }, ...extra };
}

/** EmptyImage → SlowProgress → SaveImage, titled; `seed` defeats ComfyUI's cache, `color` tells outputs apart. */
export function slowWorkflow(options: { steps?: number; seed?: number; color?: number; prefix?: string } = {}): ApiWorkflow {
  return {
    '1': { class_type: 'EmptyImage', inputs: { width: 32, height: 32, batch_size: 1, color: options.color ?? 0xff8000 }, _meta: { title: 'Canvas' } },
    '2': {
      class_type: 'SlowProgress',
      inputs: { image: ['1', 0], steps: options.steps ?? 3, delay: 0, send_preview: true, seed: options.seed ?? 0 },
      _meta: { title: 'Slow sampler' },
    },
    '3': { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: options.prefix ?? 'comic_test' }, _meta: { title: 'Save panel' } },
  };
}

export async function tempDir(): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'comic-comfy-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Records events pushed by the code under test; `seen` resolves on the first match, past or future. */
export function recorder<E>(): { readonly events: E[]; onEvent: (event: E) => void; seen: (match: (event: E) => boolean) => Promise<E> } {
  const events: E[] = [];
  const waiters: { match: (event: E) => boolean; resolve: (event: E) => void }[] = [];
  return {
    events,
    onEvent: (event) => {
      events.push(event);
      for (const waiter of [...waiters]) {
        if (waiter.match(event)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(event);
        }
      }
    },
    seen: (match) => {
      const found = events.find(match);
      return found !== undefined ? Promise.resolve(found) : new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
}
