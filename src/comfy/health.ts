/**
 * One pool member: its client, whether it can take work, what it is doing, and how fast it
 * is. Health: connection loss is decided by the client (it reconnects on its own and
 * reports up/down); repeated errors while connected bench the server for a while, after
 * which it is probed over HTTP and rejoins.
 */
import type { ComfyClient } from './client.js';
import { backoffDelay } from '../util/signals.js';
import type { ObjectInfo, ServerOptions } from './types.js';

export type Health =
  | { readonly kind: 'connecting' }
  | { readonly kind: 'up' }
  /** `probe`: benched for errors while still connected; we probe it ourselves. Otherwise the client is reconnecting. */
  | { readonly kind: 'down'; readonly reason: string; readonly probe: boolean };

/** An attempt running on a member, so a member going down can hand it back to the pool. */
export interface ActiveAttempt {
  readonly controller: AbortController;
  evicted: boolean;
}

const PROBE_MAX_MS = 120_000;
/** Weight of the newest run time in the running average. */
const EWMA = 0.3;

export class Member {
  health: Health = { kind: 'connecting' };
  objectInfo: ObjectInfo | null = null;
  /** Prompts of ours between dispatch and the server finishing them. */
  inFlight = 0;
  /** Model files of the last prompt sent here: what is probably loaded. */
  loadedModels: ReadonlySet<string> = new Set();
  lastDispatch = 0;
  completedSinceFree = 0;
  readonly attempts = new Set<ActiveAttempt>();
  #avgRunMs: number | null = null;
  #consecutiveFailures = 0;
  #probes = 0;

  constructor(
    readonly client: ComfyClient,
    private readonly failuresBeforeDown: number,
    private readonly probeBaseMs: number,
  ) {}

  get name(): string {
    return this.client.name;
  }

  get options(): ServerOptions {
    return this.client.server;
  }

  get available(): boolean {
    return this.health.kind === 'up' && this.objectInfo !== null;
  }

  get hasFreeSlot(): boolean {
    return this.inFlight < Math.max(1, this.options.maxConcurrent);
  }

  /** The time (ms) until a newly sent prompt would start here, from what we know. */
  expectedStartMs(models: ReadonlySet<string>): number {
    const run = this.#avgRunMs ?? 0;
    const switching = models.size > 0 && ![...models].every((m) => this.loadedModels.has(m));
    // A model switch costs about one job's time: enough to prefer a server that has it loaded.
    return this.inFlight * run + (switching ? run : 0);
  }

  recordSuccess(runMs: number): void {
    this.#consecutiveFailures = 0;
    this.#probes = 0;
    this.#avgRunMs = this.#avgRunMs === null ? runMs : this.#avgRunMs * (1 - EWMA) + runMs * EWMA;
  }

  /** Returns true when this failure should take the server out of rotation. */
  recordFailure(): boolean {
    return ++this.#consecutiveFailures >= this.failuresBeforeDown;
  }

  /** How long to wait before the next probe of a benched server (grows while probes fail). */
  nextProbeDelay(): number {
    return backoffDelay(this.#probes++, this.probeBaseMs, Math.max(this.probeBaseMs, PROBE_MAX_MS));
  }

  resetFailures(): void {
    this.#consecutiveFailures = 0;
  }
}
