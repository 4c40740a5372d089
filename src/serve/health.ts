/**
 * What GET /api/health reports, folded from the run events every job and the backend emit:
 * each server up or down (and why), its last VRAM reading, whether the SD API fallback has
 * taken over, and the queue.
 */
import type { BackendKind } from '../config/index.js';
import type { ServerState } from '../backends/types.js';
import type { RunEvent } from '../progress/events.js';

export interface ServerHealth {
  readonly name: string;
  /** `unknown` until the server has been tried. */
  readonly state: ServerState | 'unknown';
  readonly reason: string | null;
  readonly since: string | null;
  readonly vram: { readonly used: number; readonly total: number } | null;
}

export interface HealthView {
  /** `ok`: renders can run; `degraded`: on the fallback, or some servers down; `down`: nothing to render on. */
  readonly status: 'ok' | 'degraded' | 'down';
  /** Why the status is `down`. */
  readonly reason: string | null;
  readonly backend: BackendKind;
  readonly servers: readonly ServerHealth[];
  readonly fallback: { readonly configured: boolean; readonly active: boolean; readonly reason: string | null };
  readonly queue: { readonly queued: number; readonly running: number };
}

export class HealthTracker {
  readonly #servers = new Map<string, ServerHealth>();
  #fallback: { active: boolean; reason: string | null } = { active: false, reason: null };
  /** Set when the backend could not be made ready at all (NO_BACKEND). */
  #unavailable: string | null = null;

  constructor(
    private readonly backend: BackendKind,
    private readonly fallbackConfigured: boolean,
    serverNames: readonly string[],
  ) {
    for (const name of serverNames) this.#servers.set(name, { name, state: 'unknown', reason: null, since: null, vram: null });
  }

  observe(event: RunEvent): void {
    if (event.type === 'server') {
      const known = this.#servers.get(event.server);
      this.#servers.set(event.server, {
        name: event.server,
        state: event.state,
        reason: event.state === 'up' ? null : event.reason,
        since: known?.state === event.state ? known.since : new Date().toISOString(),
        vram: known?.vram ?? null,
      });
    } else if (event.type === 'vram') {
      const known = this.#servers.get(event.server);
      if (known) this.#servers.set(event.server, { ...known, vram: { used: event.used, total: event.total } });
    } else if ((event.type === 'job-queued' || event.type === 'job-started' || event.type === 'job-node') && event.server !== null) {
      // A server that takes our prompt is up, whether or not its `up` event reached us.
      const known = this.#servers.get(event.server);
      if (known && known.state !== 'up') this.#servers.set(event.server, { ...known, state: 'up', reason: null, since: new Date().toISOString() });
    } else if (event.type === 'fallback') {
      this.#fallback = { active: true, reason: event.reason };
    }
  }

  /** The backend's readiness: null when it can render, else why not. */
  setUnavailable(reason: string | null): void {
    this.#unavailable = reason;
  }

  view(queue: { queued: number; running: number }): HealthView {
    const servers = [...this.#servers.values()];
    const status =
      this.#unavailable !== null
        ? 'down'
        : this.#fallback.active || servers.some((s) => s.state === 'down' || s.state === 'reconnecting')
          ? 'degraded'
          : 'ok';
    return {
      status,
      reason: this.#unavailable,
      backend: this.backend,
      servers: this.backend === 'comfyui' ? servers : [],
      fallback: { configured: this.fallbackConfigured, active: this.#fallback.active, reason: this.#fallback.reason },
      queue: { queued: queue.queued, running: queue.running },
    };
  }
}
