/**
 * Outputs come down from `/view` as a stream into a temp file that is renamed into place,
 * at a path we chose. The server's file name is only ever a query parameter: one that
 * tries to climb out of its folder is refused before any request is made.
 *
 * A download is bounded: at most `limits.imageBytes` (a declared length over it is refused
 * before the first byte, a stream is cut off there) and one total deadline,
 * `timeouts.download`, for all its attempts together, never restarted by a byte (a server
 * that drips cannot hold a job). A connection that breaks mid-body or a 5xx is retried, as a
 * download again: the prompt's outputs are in history, so nothing is rendered twice. When a
 * reachable server still does not deliver, the error is SERVER_PROTOCOL, so the pool does not
 * render the prompt on that server again; a server that cannot be reached at all stays
 * SERVER_UNREACHABLE, for the reconnect logic to decide. A failed attempt leaves no file.
 * A write of ours that fails (a read-only, full or missing folder: a file-system error naming a
 * path) is no server's fault and no retry mends it: it ends the download at once, as
 * FOLDER_NOT_WRITABLE (DISK_FULL for a full disk) naming the path.
 */
import { dirname, resolve } from 'node:path';
import { ComicError, isComicError } from '../errors.js';
import { BodyTooLarge, cappedChunks, formatBytes } from '../util/bounded-body.js';
import { writeStreamAtomic } from '../util/fs.js';
import { isFileSystemError, isNoSpace } from '../util/fs-errors.js';
import { backoffDelay, cancelledError, deadline, sleep, type Deadline } from '../util/signals.js';
import type { Routes } from './routes.js';
import type { FileRef } from './types.js';

const FOLDER_TYPES = new Set(['output', 'temp', 'input']);

/**
 * Downloads that failed for want of delivery (the deadline passed, or every attempt broke off
 * or got a 5xx), not because of what was sent (a cap, a refused name): worth downloading
 * again, and never a reason to render the prompt again (the pool re-downloads, see pool.ts).
 */
const incomplete = new WeakSet<object>();

export function isIncompleteDownload(error: unknown): boolean {
  return typeof error === 'object' && error !== null && incomplete.has(error);
}

function undelivered(error: ComicError): ComicError {
  incomplete.add(error);
  return error;
}

/** Attempts per download for connections that break mid-body and 5xx answers. */
export const DOWNLOAD_ATTEMPTS = 3;
const RETRY_BASE_MS = 200;
const RETRY_MAX_MS = 2_000;

/** Refuses names that a well-behaved ComfyUI never produces and a hostile one might. */
export function checkFileRef(ref: FileRef, serverLabel: string): void {
  const problem = fileRefProblem(ref);
  if (problem !== null) {
    throw new ComicError('SERVER_PROTOCOL', `server ${serverLabel} reported an output file we refuse to fetch: ${problem}`, {
      hint: 'a ComfyUI server only reports plain file names; this server (or a proxy) is misbehaving',
    });
  }
}

function fileRefProblem(ref: FileRef): string | null {
  const name = JSON.stringify(ref.filename);
  if (ref.filename === '' || ref.filename === '.' || ref.filename === '..') return `file name ${name}`;
  if (/[/\\\0]/.test(ref.filename) || /^[a-z]:/i.test(ref.filename)) return `file name ${name} is a path`;
  if (ref.subfolder !== '') {
    if (ref.subfolder.includes('\0') || /^([/\\]|[a-z]:)/i.test(ref.subfolder)) return `subfolder ${JSON.stringify(ref.subfolder)} is absolute`;
    if (ref.subfolder.split(/[/\\]/).some((part) => part === '..')) return `subfolder ${JSON.stringify(ref.subfolder)} climbs out of its folder`;
  }
  if (!FOLDER_TYPES.has(ref.type)) return `folder type ${JSON.stringify(ref.type)} for ${name}`;
  return null;
}

export interface DownloadOptions {
  /** Overrides the transport's `imageBytes` cap. */
  readonly maxBytes?: number;
  /** Overrides the transport's total download deadline. */
  readonly timeoutMs?: number;
}

type Attempt = { readonly kind: 'done' } | { readonly kind: 'retry'; readonly error: ComicError } | { readonly kind: 'final'; readonly error: unknown };

/** Streams `ref` to `destination` (a path the caller chose) atomically, within the caps above. */
export async function downloadFile(routes: Routes, ref: FileRef, destination: string, signal: AbortSignal, options: DownloadOptions = {}): Promise<void> {
  checkFileRef(ref, routes.label);
  const limits = routes.transport.limits;
  const maxBytes = options.maxBytes ?? limits.imageBytes;
  const totalMs = options.timeoutMs ?? limits.downloadMs;
  const name = JSON.stringify(ref.filename);
  const budget = deadline(signal, totalMs);
  const progress = { received: 0 };
  try {
    for (let attempt = 1; ; attempt++) {
      const outcome = await once(routes, ref, destination, budget, maxBytes, progress);
      if (outcome.kind === 'done') return;
      if (signal.aborted) throw cancelledError(`the download of ${ref.filename}`);
      if (budget.expired()) {
        throw undelivered(
          new ComicError(
            'SERVER_PROTOCOL',
            `server ${routes.label} did not deliver ${name} (GET /api/view) within ${seconds(totalMs)} (timeouts.download); ${formatBytes(progress.received)} had arrived`,
            { hint: 'the server is stuck or sends very slowly; raise timeouts.download in comic.config.yaml if it is just a slow link' },
          ),
        );
      }
      if (outcome.kind === 'final') throw outcome.error;
      if (attempt >= DOWNLOAD_ATTEMPTS) {
        throw undelivered(new ComicError('SERVER_PROTOCOL', `${outcome.error.message} (${DOWNLOAD_ATTEMPTS} attempts)`, { hint: outcome.error.hint, cause: outcome.error }));
      }
      try {
        await sleep(backoffDelay(attempt - 1, RETRY_BASE_MS, RETRY_MAX_MS), budget.signal);
      } catch {
        // The deadline or the caller: the loop says which.
      }
    }
  } finally {
    budget.dispose();
  }
}

/** One request: done, worth another try (a broken connection, a 5xx), or final. Leaves no file unless done. */
async function once(routes: Routes, ref: FileRef, destination: string, budget: Deadline, maxBytes: number, progress: { received: number }): Promise<Attempt> {
  const name = JSON.stringify(ref.filename);
  let response: Response;
  let inner: Deadline;
  try {
    ({ response, budget: inner } = await routes.view(ref, budget.signal));
  } catch (error) {
    if (!isComicError(error)) return { kind: 'final', error };
    // A server answering 5xx for a file its history lists may be busy writing it: try again.
    if (error.code === 'SERVER_ERROR' && /HTTP 5\d\d/.test(error.message)) return { kind: 'retry', error: protocol(error) };
    if (error.code === 'SERVER_ERROR') return { kind: 'final', error: protocol(error) };
    return { kind: 'final', error };
  }
  try {
    await writeStreamAtomic(destination, cappedChunks(response, maxBytes, (total) => (progress.received = total)));
    return { kind: 'done' };
  } catch (error) {
    if (error instanceof BodyTooLarge) {
      return { kind: 'final', error: routes.transport.tooLarge('GET', '/view', error, 'limits.imageBytes', `${name}, a file`) };
    }
    if (isComicError(error)) return { kind: 'final', error };
    // Our own write failed (a read-only or full disk, a folder in the way): no server's fault, and no retry helps.
    if (isLocalWriteError(error)) return { kind: 'final', error: localWriteError(error, destination, name) };
    if (budget.signal.aborted) return { kind: 'retry', error: cancelledError() }; // the loop turns this into the deadline or a cancel
    const why = error instanceof Error ? error.message : String(error);
    return { kind: 'retry', error: new ComicError('SERVER_PROTOCOL', `server ${routes.label}: the download of ${name} broke off (${why})`, { cause: error }) };
  } finally {
    inner.dispose();
  }
}

/**
 * A file-system error from our side of the download (creating the folder, writing or renaming
 * the staging file): it names a path and a system call. A connection that breaks has neither a
 * path nor (for undici's errors) a system call, so it stays a retry.
 */
function isLocalWriteError(error: unknown): error is NodeJS.ErrnoException & { code: string; path: string } {
  return isFileSystemError(error) && typeof error.path === 'string';
}

/** The error for a download we could not write at `destination`: the folder's problem, named, not the server's. */
function localWriteError(error: NodeJS.ErrnoException & { code: string; path: string }, destination: string, name: string): ComicError {
  const folder = dirname(resolve(destination));
  const at = resolve(error.path) === resolve(destination) ? '' : ` on ${error.path}`;
  if (isNoSpace(error.code)) {
    return new ComicError('DISK_FULL', `the download of ${name} could not be written to ${destination}: no space left in ${folder} (${error.code}${at})`, {
      hint: 'free some space on that disk (`comic cache prune` frees cached images), or choose another cache folder with --cache. This is not a server problem: the image is still on the server',
      cause: error,
    });
  }
  return new ComicError('FOLDER_NOT_WRITABLE', `the download of ${name} could not be written to ${destination}: the folder ${folder} is not writable (${error.code}${at})`, {
    hint: 'fix the folder\'s permissions, or choose another cache folder with --cache (`cache` in comic.config.yaml); `comic doctor` checks it. This is not a server problem: the image is still on the server',
    cause: error,
  });
}

/** An HTTP error for a file the server's own history lists: the server's fault, not a reason to render again. */
function protocol(error: ComicError): ComicError {
  return new ComicError('SERVER_PROTOCOL', error.message, { hint: 'the server listed this output in its history but would not serve it', cause: error });
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
