/**
 * An AUTOMATIC1111-compatible Stable Diffusion API emulator for tests and development:
 * the /sdapi/v1 routes the fallback backend uses, with the webui's field names, defaults,
 * global lock, global progress, error shapes and HTTP Basic auth, plus fault knobs.
 * What it does and does not model: docs/testing.md, "Stable Diffusion API emulator".
 */
import { DEFAULT_MODELS } from './catalog.js';
import type { SdFaults } from './faults.js';
import type { SdJobEvent } from './generation.js';
import { SdApiServer, type SeenRequest } from './server.js';

export type { HttpErrorFault, SdFaults, SdRoute } from './faults.js';
export { SD_ROUTES } from './faults.js';
export type { SdJobEvent } from './generation.js';
export type { SeenRequest } from './server.js';
export { DEFAULT_MODELS } from './catalog.js';

export interface SdApiEmulatorOptions {
  /** 0 = an ephemeral port (the default). */
  port?: number;
  /** Wall time per sampling step (default 10). */
  stepMs?: number;
  /** Like --api-auth: HTTP Basic auth on every /sdapi/v1 route. */
  apiAuth?: { user: string; password: string };
  /** Checkpoint file names in models/Stable-diffusion; the first is loaded. Default: DEFAULT_MODELS. */
  models?: string[];
}

export interface SdApiEmulator {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** Mutable fault knobs, read afresh by every request and every sampling step. */
  readonly faults: SdFaults;
  /** Every POST to txt2img/img2img received, in arrival order, whatever became of it. */
  readonly requests: readonly SeenRequest[];
  /** received / started / finished per generation job, in the order they happened. */
  readonly events: readonly SdJobEvent[];
  /** Dies at once, mid-request: connections reset, no answers, port closed. */
  kill(): Promise<void>;
  /** Graceful and idempotent: the running job answers with what it has, then everything closes. */
  close(): Promise<void>;
}

export async function startSdApiEmulator(options: SdApiEmulatorOptions = {}): Promise<SdApiEmulator> {
  const server = new SdApiServer({
    port: options.port ?? 0,
    stepMs: options.stepMs ?? 10,
    apiAuth: options.apiAuth ?? null,
    models: options.models ?? [...DEFAULT_MODELS],
  });
  await server.listen();
  return {
    url: server.url,
    faults: server.faults,
    requests: server.requests,
    events: server.events,
    kill: () => server.kill(),
    close: () => server.close(),
  };
}
