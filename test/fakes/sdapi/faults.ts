/**
 * Fault knobs: a plain mutable object tests change at any moment; every request reads it
 * afresh, and the running job reads `stepMs` and `killAtStep` at every sampling step.
 */

/** The emulated routes, by their last path segment under /sdapi/v1 (GET and POST /options share one). */
export const SD_ROUTES = [
  'txt2img',
  'img2img',
  'progress',
  'interrupt',
  'skip',
  'options',
  'sd-models',
  'samplers',
  'schedulers',
] as const;
export type SdRoute = (typeof SD_ROUTES)[number];

export interface HttpErrorFault {
  /** Status to answer with, in the webui's error shape, before the route runs (no side effects). */
  readonly status: number;
  /** Fail only this many requests, then the fault clears itself; absent = every request. */
  times?: number;
}

export interface SdFaults {
  /** Wall time per sampling step. */
  stepMs: number;
  /** Answer a route with an HTTP error instead of running it. */
  httpError: Partial<Record<SdRoute, HttpErrorFault>>;
  /** Hold a route's requests this many ms before handling them; Infinity = never answer. */
  stall: Partial<Record<SdRoute, number>>;
  /** Run the route, then send a truncated, unparsable JSON body with status 200. */
  malformedJson: Partial<Record<SdRoute, boolean>>;
  /** While true the port is closed: new connections get ECONNREFUSED. Open connections stay. */
  refuseConnections: boolean;
  /** Die (as kill() does) when the running job completes this sampling step (1-based). */
  killAtStep: number | null;
}

/** Takes one use of a route's httpError fault, if one is set; returns the status to answer with. */
export function takeHttpError(faults: SdFaults, route: SdRoute): number | null {
  const fault = faults.httpError[route];
  if (fault === undefined) return null;
  if (fault.times !== undefined) {
    if (fault.times <= 0) {
      delete faults.httpError[route];
      return null;
    }
    fault.times -= 1;
    if (fault.times === 0) delete faults.httpError[route];
  }
  return fault.status;
}

/** Fresh knobs; `refuseConnections` reads and writes through to the server, which opens or closes its port. */
export function createFaults(stepMs: number, refuse: { get(): boolean; set(value: boolean): void }): SdFaults {
  return {
    stepMs,
    httpError: {},
    stall: {},
    malformedJson: {},
    killAtStep: null,
    get refuseConnections(): boolean {
      return refuse.get();
    },
    set refuseConnections(value: boolean) {
      refuse.set(value);
    },
  };
}
