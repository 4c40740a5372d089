/**
 * Fault knobs a test flips at run time. A plain mutable object: change a field and the next
 * request, socket message or node sees it. Routes are matched on the path without the `/api`
 * prefix, so "/prompt" covers both /prompt and /api/prompt; "POST /prompt" limits a rule to one
 * method, a trailing "*" makes a prefix ("/history*"), and a RegExp is tested on the path.
 * "/ws" names the WebSocket (its upgrade for httpError/stall, its text frames for malformedJson).
 */

export type RoutePattern = string | RegExp;

export interface HttpErrorRule {
  readonly route: RoutePattern;
  readonly status: 500 | 503;
  /** Fail only this many matching requests, then pass them through again. Unlimited when absent. */
  times?: number;
}

export interface StallRule {
  readonly route: RoutePattern;
  /** Hold each matching request this long before answering, or until the emulator closes. */
  readonly delayMs: number | 'forever';
}

/**
 * Output file names reported in `executed`, history and jobs (the files themselves are written
 * under their real names): `traversal` → "../../x.png", `absolute` → "/abs/x.png",
 * `subfolder` → a real name in subfolder "../../escape".
 */
export type HostileFilenameMode = 'traversal' | 'absolute' | 'subfolder';

/**
 * Hostile answers (issue 16), each switched on by pushing it onto `faults.hostile`:
 *
 * - `oversized-view`: GET /view streams `bytes` bytes (a PNG signature, then zeros), with a
 *   Content-Length when `declared`, else chunked, as fast as the client reads.
 * - `dripping-view`: GET /view sends the real file one byte every `everyMs` (its full
 *   Content-Length declared at once, so the answer looks healthy, just slow).
 * - `silent-view`: GET /view never answers, not even its status line.
 * - `silent-history`: GET /history and /history/{id} never answer (the socket stays lively).
 * - `silent-jobs`: GET /api/jobs/{id} never answers (0.8.0 and later ask it before /history).
 * - `huge-object-info`: GET /object_info streams the real catalogue padded to `bytes` bytes of
 *   valid JSON, declared or chunked.
 * - `truncated-png`: GET /view sends only the first half of the real file, with a matching
 *   Content-Length: a clean answer carrying a PNG with a good header and half its data.
 *
 * Each answer may carry `times`: it takes that many matching requests, then lets them through
 * (a server that hangs once, then recovers).
 *
 * What the hostile streams managed to hand to the kernel is counted in `hostileBytesSent`
 * (a client that stops reading stops them: TCP backpressure), their requests in `hostileHits`.
 */
export type HostileAnswer =
  | { readonly kind: 'oversized-view'; readonly bytes: number; readonly declared?: boolean }
  | { readonly kind: 'dripping-view'; readonly everyMs: number }
  | { readonly kind: 'silent-view'; times?: number }
  | { readonly kind: 'silent-history'; times?: number }
  | { readonly kind: 'silent-jobs'; times?: number }
  | { readonly kind: 'huge-object-info'; readonly bytes: number; readonly declared?: boolean }
  | { readonly kind: 'truncated-png' };

export type HostileKind = HostileAnswer['kind'];

/** The routes each hostile answer takes over. */
const HOSTILE_ROUTES: Readonly<Record<HostileKind, RoutePattern>> = {
  'oversized-view': 'GET /view',
  'dripping-view': 'GET /view',
  'silent-view': 'GET /view',
  'silent-history': 'GET /history*',
  'silent-jobs': 'GET /jobs/*',
  'huge-object-info': 'GET /object_info',
  'truncated-png': 'GET /view',
};

type RefuseHandler = (refuse: boolean) => Promise<void>;

/** Strips the /api alias so one pattern covers both spellings of a route. */
export function routePath(pathname: string): string {
  return pathname === '/api' ? '/' : pathname.startsWith('/api/') ? pathname.slice(4) : pathname;
}

export function routeMatches(pattern: RoutePattern, method: string, pathname: string): boolean {
  const path = routePath(pathname);
  if (pattern instanceof RegExp) return pattern.test(path);
  const spaced = pattern.indexOf(' ');
  const wantedMethod = spaced > 0 ? pattern.slice(0, spaced).toUpperCase() : undefined;
  if (wantedMethod !== undefined && wantedMethod !== method.toUpperCase()) return false;
  const wanted = routePath(spaced > 0 ? pattern.slice(spaced + 1) : pattern);
  return wanted.endsWith('*') ? path.startsWith(wanted.slice(0, -1)) : path === wanted;
}

export class Faults {
  /** Milliseconds per sampler step (every node with a `steps` input, SlowProgress included). */
  stepMs: number;
  /** A class_type or node id whose execution raises a RuntimeError (an `execution_error`). */
  failNode: string | null = null;
  /** Answer matching HTTP requests with this status instead of serving them. */
  readonly httpError: HttpErrorRule[] = [];
  /** Delay (or hold forever) matching HTTP requests. */
  readonly stall: StallRule[] = [];
  /** Matching JSON answers (and, for "/ws", text frames) are cut short so they no longer parse. */
  readonly malformedJson: RoutePattern[] = [];
  /** Every WebSocket is dropped without a close frame right after it has been sent this many messages. */
  dropWsAfterMessages: number | null = null;
  /**
   * WebSockets stay open but hear nothing — no messages, no pongs — like a half-open
   * connection; what would have been sent meanwhile is lost.
   */
  silentWs = false;
  hostileFilenames: HostileFilenameMode | null = null;
  /** POST /free no longer gives back the memory of unloaded models. */
  leakVram = false;
  /** Hostile answers in force (the first that matches a request wins). */
  readonly hostile: HostileAnswer[] = [];
  /** Bytes the hostile streams handed to the kernel, all requests together. */
  hostileBytesSent = 0;
  /** Requests answered (or held) by a hostile answer, by kind. */
  readonly hostileHits: Partial<Record<HostileKind, number>> = {};

  private refusing = false;
  private refuseHandler: RefuseHandler | undefined;
  private refuseChange: Promise<void> = Promise.resolve();

  constructor(stepMs: number) {
    this.stepMs = stepMs;
  }

  /**
   * While true the port is closed (connections are refused) and every open socket is destroyed.
   * Setting it starts the change; `setRefuseConnections` resolves once it is in effect.
   */
  get refuseConnections(): boolean {
    return this.refusing;
  }

  set refuseConnections(refuse: boolean) {
    this.setRefuseConnections(refuse).catch((error: unknown) => {
      console.error(`ComfyUI emulator: could not ${refuse ? 'close' : 'reopen'} the port`, error);
    });
  }

  /** Changes apply in order; a failed reopen (port taken meanwhile) rejects this call only. */
  setRefuseConnections(refuse: boolean): Promise<void> {
    this.refusing = refuse;
    const handler = this.refuseHandler;
    if (handler !== undefined) this.refuseChange = this.refuseChange.catch(() => undefined).then(() => handler(refuse));
    return this.refuseChange;
  }

  /** Wires the refuse switch to the server (called once by the emulator). */
  bindRefuseHandler(handler: RefuseHandler): void {
    this.refuseHandler = handler;
  }

  /** Clears every fault except stepMs (and re-opens the port if it was refusing). */
  async reset(): Promise<void> {
    this.failNode = null;
    this.httpError.length = 0;
    this.stall.length = 0;
    this.malformedJson.length = 0;
    this.dropWsAfterMessages = null;
    this.silentWs = false;
    this.hostileFilenames = null;
    this.leakVram = false;
    this.hostile.length = 0;
    if (this.refusing) await this.setRefuseConnections(false);
  }

  /** The status to fail this request with, counting down a limited rule. */
  takeHttpError(method: string, pathname: string): number | undefined {
    const index = this.httpError.findIndex((rule) => routeMatches(rule.route, method, pathname) && (rule.times ?? 1) > 0);
    const rule = this.httpError[index];
    if (rule === undefined) return undefined;
    if (rule.times !== undefined) rule.times -= 1;
    return rule.status;
  }

  stallFor(method: string, pathname: string): number | 'forever' | undefined {
    return this.stall.find((rule) => routeMatches(rule.route, method, pathname))?.delayMs;
  }

  isMalformed(method: string, pathname: string): boolean {
    return this.malformedJson.some((pattern) => routeMatches(pattern, method, pathname));
  }

  /** The hostile answer for this request, counted as a hit, or undefined. */
  takeHostile(method: string, pathname: string): HostileAnswer | undefined {
    const answer = this.hostile.find((h) => routeMatches(HOSTILE_ROUTES[h.kind], method, pathname) && (!('times' in h) || h.times === undefined || h.times > 0));
    if (answer === undefined) return undefined;
    if ('times' in answer && answer.times !== undefined) answer.times -= 1;
    this.hostileHits[answer.kind] = (this.hostileHits[answer.kind] ?? 0) + 1;
    return answer;
  }
}

/** Cuts a JSON text so that no parser accepts it (keeps the first half, never valid JSON). */
export function breakJson(text: string): string {
  return `${text.slice(0, Math.max(1, Math.floor(text.length / 2)))}\u0000`;
}
